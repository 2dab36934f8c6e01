"""Every map shows openem's own context with no tiles at all: the order's addresses as markers with their
labels (the curfew address marked), zones with their names, drawn as text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from tests.e2e.conftest import assert_accessible, sign_in

from openem.alerts.service import store_alert
from openem.core.time import iso
from openem.orders.samples import sample_order
from openem.store.db import Database
from openem.telemetry.tables import TelemetryMessageRow

pytestmark = pytest.mark.e2e


def create_order(page: Any, server: Any) -> tuple[str, dict[str, Any]]:
    doc = sample_order(datetime.now(UTC))
    doc["addresses"][0]["line1"] = "12 Curfew Street"
    doc["conditions"]["exclusion_zones"][0]["name"] = "Victim's street"
    page.goto(server.base + "/orders")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    r = page.request.post(server.base + "/api/orders", data=doc, headers={"X-CSRF-Token": token})
    assert r.status == 201, r.text()[:2000]
    return r.json()["ref"], doc


def no_tiles_requested(seen: list[str]) -> bool:
    return not [u for u in seen if ".png" in u or ".pbf" in u or ".mvt" in u or "pmtiles" in u]


def test_the_zone_map_shows_the_curfew_address_and_zone_names_without_tiles(page, server):
    sign_in(page, server, "demo-order-creator-court")
    ref, doc = create_order(page, server)
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    page.goto(f"{server.base}/orders/{ref}/zones")
    page.wait_for_selector("#map .openem-map-label")
    labels = page.locator("#map .openem-map-label")
    postcode = doc["addresses"][0]["postcode"]
    expect(labels.filter(has_text="Curfew address: 12 Curfew Street")).to_have_text(
        f"Curfew address: 12 Curfew Street {postcode}"
    )
    expect(labels.filter(has_text="Victim's street")).to_have_count(1)
    assert page.locator("#map .openem-map-label img, #map .openem-map-label script").count() == 0
    assert page.locator("#map path.leaflet-interactive").count() == 2  # the address marker and the zone
    assert no_tiles_requested(seen)
    assert_accessible(page)
    page.set_viewport_size({"width": 390, "height": 844})
    assert_accessible(page)


def test_the_evidence_map_shows_the_orders_context_around_the_positions(page, server):
    sign_in(page, server, "demo-order-creator-court")
    ref, doc = create_order(page, server)
    home = doc["addresses"][0]
    db = Database(server.db_url)
    now = datetime.now(UTC).replace(microsecond=0)
    with db.uow() as uow:
        for i in range(2):
            uow.session.merge(
                TelemetryMessageRow(
                    device_id="GPS-CTX",
                    seq=i,
                    type="gps",
                    device_time=now - timedelta(minutes=2 - i),
                    receive_time=now,
                    payload={
                        "lat": home["lat"] + 0.001 * i,
                        "lon": home["lon"],
                        "accuracy_m": 8.0,
                        "source": "GPS",
                    },
                    flags=[],
                    activation_id=None,
                    person_id=None,
                    batch_id=0,
                )
            )
        store_alert(
            uow.session,
            {
                "alert_id": "ALR-CTX-1",
                "kind": "curfew_early_leave",
                "severity": "HIGH",
                "person_id": "",
                "order_ref": ref,
                "device_id": "GPS-CTX",
                "condition_id": "curfew",
                "start": iso(now - timedelta(minutes=2)),
                "end": None,
                "detected_at": iso(now),
                "late_detected": False,
                "evidence": [["GPS-CTX", 0], ["GPS-CTX", 1]],
                "details": {},
            },
        )
    db.dispose()
    page.context.clear_cookies()
    sign_in(page, server, "demo-mc-operator")
    page.goto(f"{server.base}/alerts/ALR-CTX-1")
    page.wait_for_selector("#evidence-map .openem-map-label")
    labels = page.locator("#evidence-map .openem-map-label")
    expect(labels.filter(has_text="Curfew address: 12 Curfew Street")).to_have_count(1)
    expect(labels.filter(has_text="Victim's street")).to_have_count(1)
    assert page.locator("#evidence-map path.leaflet-interactive").count() >= 5  # context + 2 circles + 2 dots
    assert_accessible(page)
