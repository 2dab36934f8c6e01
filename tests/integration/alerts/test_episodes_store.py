"""An episode stored from its events: the highest revision wins whatever the delivery order, a repeat
changes nothing, a bad record is refused, and the alert's page says in plain words how it ended."""

from __future__ import annotations

import html

import pytest

from openem.alerts.queries import episodes_for_order
from openem.alerts.service import store_alert, store_episode

ALERT = {"alert_id": "ALR-EP-1", "kind": "exclusion_entry", "severity": "HIGH", "person_id": "", "order_ref": "",
         "device_id": "GPS-1", "condition_id": "Z1", "start": "2026-11-23T12:00:00Z", "end": None,
         "detected_at": "2026-11-23T12:01:01Z", "late_detected": False, "evidence": [], "details": {}}  # fmt: skip


def episode(revision: int, **kw: object) -> dict:
    base = {"episode_id": "ALR-EP-1", "kind": "exclusion_entry", "severity": "HIGH", "person_id": "",
            "order_ref": "ORD-EP", "device_id": "GPS-1", "condition_id": "Z1", "start": "2026-11-23T12:00:00Z",
            "end": None, "state": "open", "revision": revision, "closed_reason": None, "measure": {},
            "evidence": [], "details": {}, "detected_at": "2026-11-23T12:01:01Z",
            "updated_at": "2026-11-23T12:01:01Z", "confidence": "confirmed"}  # fmt: skip
    return {**base, **kw}


@pytest.fixture
def stored(world):
    closed = episode(1, state="closed", end="2026-11-23T12:05:00Z", closed_reason="ended",
                     measure={"minutes_inside": 5.0}, order_ref="")  # fmt: skip
    with world.db.uow() as uow:
        store_alert(uow.session, ALERT)
        assert store_episode(uow.session, closed) is True
        assert store_episode(uow.session, episode(0, order_ref="")) is False  # older, delivered late
        assert store_episode(uow.session, closed) is False  # a repeat
        with pytest.raises(ValueError):
            store_episode(uow.session, {"kind": "x"})
    return world


def test_the_closed_episode_is_kept_and_the_page_says_how_long_the_visit_lasted(stored):
    with stored.db.uow() as uow:
        assert episodes_for_order(uow.session, "")[0]["state"] == "closed"
    client = stored.signed_in("demo-mc-operator")
    text = html.unescape(client.get("/alerts/ALR-EP-1").text)
    assert "Closed (ended): 5 minutes inside the zone" in text
    api = client.get("/api/alerts/ALR-EP-1").json()
    assert api["episode"] == "Closed (ended): 5 minutes inside the zone"
