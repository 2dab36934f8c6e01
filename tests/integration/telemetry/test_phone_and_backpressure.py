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


def test_a_phone_json_body_as_newer_traccar_clients_send_it(world, phone):
    t = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    body = {"device_id": "PHONE-1", "location": {"timestamp": t.isoformat(), "is_moving": True,
            "coords": {"latitude": 53.8, "longitude": -1.55, "accuracy": 6, "speed": 2.0, "heading": 10},
            "battery": {"level": 0.5, "is_charging": False}}}  # fmt: skip
    r = phone.post("/api/telemetry/osmand", json=body)
    assert r.status_code == 200 and r.json()["accepted"] == 2, r.text
    wrong = phone.post("/api/telemetry/osmand", json={**body, "device_id": "PHONE-2"})
    assert wrong.status_code in (400, 422)
    assert phone.post(
        "/api/telemetry/osmand", content=b"{not json", headers={"Content-Type": "application/json"}
    ).status_code in (400, 422)
    huge = phone.post("/api/telemetry/osmand", content=b"{" + b" " * 70_000 + b"}")
    assert huge.status_code in (400, 413, 422)
    with world.db.sessions() as s:
        types = sorted(s.scalars(select(TelemetryMessageRow.type)).all())
    assert types == ["battery", "gps"]  # nothing stored from the refused ones


def test_a_flooding_phone_is_told_to_wait_and_nothing_of_the_flood_is_stored(world, phone, monkeypatch):
    monkeypatch.setattr(api, "PHONE_BURST", 3.0)
    monkeypatch.setattr(api, "PHONE_RATE_PER_S", 0.001)
    api._buckets.clear()
    base = int(datetime.now(UTC).timestamp()) - 300
    answers = [
        phone.post(
            "/api/telemetry/osmand",
            params={"id": "PHONE-1", "lat": "53.8", "lon": "-1.55", "timestamp": str(base + i)},
        ).status_code  # fmt: skip
        for i in range(6)
    ]
    assert answers == [200, 200, 200, 429, 429, 429]
    r = phone.post("/api/telemetry/osmand", params={"id": "PHONE-1", "lat": "53.8", "lon": "-1.55"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1 and "faster" in r.json()["detail"]
    with world.db.sessions() as s:
        assert len(s.scalars(select(TelemetryMessageRow)).all()) == 3
    api._buckets.clear()
