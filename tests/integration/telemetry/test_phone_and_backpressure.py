"""Phones over OsmAnd (as Traccar's apps send) with their own token; a busy server says 503 + Retry-After."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from openem.auth.service import issue_token
from openem.telemetry.tables import TelemetryMessageRow, TelemetryRejectionRow
from openem.telemetry.web import api


@pytest.fixture
def phone(world):
    with world.db.uow() as uow:
        token = issue_token(uow.session, actor="test", name="phone", device_scope="PHONE-1")
    c = world.client()
    c.headers["Authorization"] = f"Bearer {token}"
    return c


def test_a_phone_position_is_stored(world, phone):
    t = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    q = {
        "id": "PHONE-1",
        "lat": "53.8",
        "lon": "-1.55",
        "timestamp": str(int(t.timestamp())),
        "accuracy": "9",
    }
    r = phone.post("/api/telemetry/osmand", params=q)
    assert r.status_code == 200 and r.json()["accepted"] == 1
    with world.db.sessions() as s:
        row = s.scalars(select(TelemetryMessageRow).where(TelemetryMessageRow.device_id == "PHONE-1")).one()
        assert row.payload["accuracy_m"] == 9.0 and row.device_time == t


def test_a_phone_cannot_speak_for_another_device(world, phone):
    r = phone.post("/api/telemetry/osmand", params={"id": "PHONE-2", "lat": "53.8", "lon": "-1.55"})
    assert r.status_code in (400, 422)


def test_an_unreadable_phone_query_is_parked_visibly(world, phone):
    r = phone.post("/api/telemetry/osmand", params={"id": "PHONE-1", "lat": "north", "lon": "-1.55"})
    assert r.status_code == 200 and r.json()["rejected"] == 1
    with world.db.sessions() as s:
        assert "lat=north" in s.scalars(select(TelemetryRejectionRow.raw)).one()


def test_when_ingest_is_behind_a_batch_is_refused_unstored_with_retry_after(world, phone, monkeypatch):
    monkeypatch.setattr(api, "_in_flight", [api.MAX_IN_FLIGHT])
    r = phone.post("/api/telemetry/osmand", params={"id": "PHONE-1", "lat": "53.8", "lon": "-1.55"})
    assert r.status_code == 503 and r.headers["Retry-After"] == "1"
    with world.db.sessions() as s:
        assert s.scalars(select(TelemetryMessageRow)).all() == []
