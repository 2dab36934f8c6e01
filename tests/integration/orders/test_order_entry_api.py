"""Order entry over the JSON API (issue 11): thresholds bounded by policy, proximity-only orders, an HDC
an implausibly large zone."""

from datetime import UTC, datetime

import pytest

from openem.orders.samples import sample_order

from .test_orders_api import csrf


@pytest.fixture
def creator(world):
    c = world.signed_in("demo-order-creator-court")
    c.headers["X-CSRF-Token"] = csrf(c)
    return c


def valid_doc():
    doc = sample_order(datetime.now(UTC))
    doc.pop("ref", None)
    return doc


def _fields(r):
    return {e["field"]: e for e in r.json()["errors"]}


def test_thresholds_are_accepted_when_tightened_and_refused_when_loosened(world, creator):
    doc = valid_doc()
    doc["thresholds"] = {"curfew": {"grace_minutes": 2}}
    r = creator.post("/api/orders", json=doc)
    assert r.status_code in (200, 201), r.text
    ref = r.json()["ref"]
    assert creator.get(f"/api/orders/{ref}/validation").json()["valid"] is True
    r = creator.put(f"/api/orders/{ref}/sections/thresholds", json={"curfew": {"grace_minutes": 45}})
    assert r.status_code == 200, r.text
    errors = _fields(creator.get(f"/api/orders/{ref}/validation"))
    assert errors["thresholds.curfew.grace_minutes"]["code"] == "threshold_looser_than_policy"
    r = creator.post(f"/api/orders/{ref}/submit", json={})
    assert r.status_code == 422 and "stricter, not looser" in r.text
    creator.put(f"/api/orders/{ref}/sections/thresholds", json={"curfew": {"grace_minutes": 3}})
    assert creator.post(f"/api/orders/{ref}/submit", json={}).status_code == 200


def test_a_proximity_only_order_can_be_submitted(world, creator):
    doc = valid_doc()
    doc["conditions"] = {"proximity": {"victim_device_id": "VIC-77", "pre_alert_m": 1000, "alert_m": 500}}
    ref = creator.post("/api/orders", json=doc).json()["ref"]
    r = creator.post(f"/api/orders/{ref}/submit", json={})
    assert r.status_code == 200, r.text


def test_a_large_zone_needs_a_reason(world, creator):
    doc = valid_doc()
    big = [[-1.42, 53.76], [-0.74, 53.76], [-0.74, 54.16], [-1.42, 54.16], [-1.42, 53.76]]
    doc["conditions"]["exclusion_zones"] = [
        {"id": "Z1", "name": "County", "geometry": {"type": "Polygon", "coordinates": [big]}}
    ]
    ref = creator.post("/api/orders", json=doc).json()["ref"]
    errors = _fields(creator.get(f"/api/orders/{ref}/validation"))
    assert errors["conditions.exclusion_zones[0].geometry"]["code"] == "zone_implausibly_large"
    doc["conditions"]["exclusion_zones"][0]["size_override_reason"] = "The court excluded the whole county"
    creator.put(f"/api/orders/{ref}/sections/conditions", json=doc["conditions"])
    assert "conditions.exclusion_zones[0].geometry" not in _fields(
        creator.get(f"/api/orders/{ref}/validation")
    )


def test_the_zone_form_takes_a_reason_for_a_large_zone(world):
    import json

    from .pages_helpers import new_order, stored

    c = world.signed_in("demo-order-creator-court")
    c.token = csrf(c)
    ref = new_order(c)
    big = {"type": "Polygon", "coordinates": [[[-1.42, 53.76], [-0.74, 53.76], [-0.74, 54.16], [-1.42, 54.16],
                                                [-1.42, 53.76]]]}  # fmt: skip
    base = {
        "csrf_token": c.token,
        "kind": "exclusion_zones",
        "zone.name": "County",
        "geometry": json.dumps(big),
    }
    assert c.post(f"/orders/{ref}/zones", data=base).status_code == 200  # saved; flagged with the order
    codes = {e["code"] for e in c.get(f"/api/orders/{ref}/validation").json()["errors"]}
    assert "zone_implausibly_large" in codes
    c.post(f"/orders/{ref}/zones", data={"csrf_token": c.token, "action": "remove-exclusion_zones-0"})
    c.post(
        f"/orders/{ref}/zones", data={**base, "zone.size_override_reason": "The court excluded the county"}
    )
    zone = stored(world, ref)["conditions"]["exclusion_zones"][0]
    assert zone["size_override_reason"] == "The court excluded the county"
    codes = {e["code"] for e in c.get(f"/api/orders/{ref}/validation").json()["errors"]}
    assert "zone_implausibly_large" not in codes
