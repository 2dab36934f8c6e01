"""Phones on a port of their own (OPENEM_OSMAND_PORT, decision 0033): Traccar Client's request to the enrolled
URL on that port is stored like one to the main server; nothing else is served there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.conftest import make_settings

from openem.devices.service import enrol_phone
from openem.server import create_app
from openem.telemetry.tables import TelemetryMessageRow
from openem.telemetry.web import api


@pytest.fixture
def served(db, db_url, tmp_path):
    api._buckets.clear()
    app = create_app(make_settings(tmp_path, db_url, OPENEM_OSMAND_PORT=0), db, start_dispatcher=False)
    with TestClient(app) as client:  # the lifespan starts the second listener on the server's loop
        yield app, client
    api._buckets.clear()


def test_a_phone_on_its_own_port_is_stored_and_nothing_else_is_served_there(served, db):
    app, client = served
    with db.uow() as uow:
        token = enrol_phone(uow.session, actor="test", device_id="PHONE-7", kind="NFD", at=datetime.now(UTC))
    port = app.state.tracker_ports["osmand"]
    t = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    fix = {
        "id": "PHONE-7",
        "lat": "53.8",
        "lon": "-1.55",
        "timestamp": str(int(t.timestamp())),
        "accuracy": "9",
    }
    base = f"http://127.0.0.1:{port}"
    r = httpx.get(f"{base}/ingest/osmand/{token}", params=fix, timeout=10)
    assert r.status_code == 200 and r.json()["accepted"] == 1
    r = httpx.post(
        f"{base}/ingest/osmand/{token}", data={**fix, "timestamp": str(int(t.timestamp()) + 5)}, timeout=10
    )
    assert r.status_code == 200 and r.json()["accepted"] == 1
    with db.sessions() as s:
        stored = s.scalars(
            select(TelemetryMessageRow).where(TelemetryMessageRow.device_id == "PHONE-7")
        ).all()
    assert len(stored) == 2
    wrong = httpx.get(f"{base}/ingest/osmand/not-a-token", params=fix, timeout=10)
    assert wrong.status_code == 404 and "unknown_token" in wrong.text  # the same refusal, with its reason
    other = httpx.get(f"{base}/api/me", timeout=10)
    assert other.status_code == 404 and "phones" in other.text  # the rest of the server is not on this port
    assert client.get(f"/ingest/osmand/{token}", params={**fix, "timestamp": str(int(t.timestamp()) + 9)}
                      ).json()["accepted"] == 1  # and the main server still takes the same URL  # fmt: skip
