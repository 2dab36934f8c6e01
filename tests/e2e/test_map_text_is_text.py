"""People's text on the maps stays text: a zone name and an address line written as HTML (an image whose error
handler would run script) show literally in the map tooltips, and the browser never asks for the image.

The page fixture bypasses the CSP, so this tests the client code itself, not the CSP's second line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from tests.e2e.conftest import sign_in

from openem.alerts.service import store_alert
from openem.core.time import iso
from openem.orders.samples import sample_order
from openem.store.db import Database
from openem.telemetry.tables import TelemetryMessageRow

pytestmark = pytest.mark.e2e

PROBE = "/xss-probe/"
ZONE_NAME = f'<img src="{PROBE}zone.png" onerror="window.__injected=1">'
ADDRESS_LINE = f'<img src="{PROBE}address.png" onerror="window.__injected=1">'
ALERT_ZONE = f'<img src="{PROBE}alert.png" onerror="window.__injected=1">'


def watch_requests(page: Any) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    return seen


def create_order_with_hostile_text(page: Any, server: Any) -> str:
    doc = sample_order(datetime.now(UTC))
    doc["addresses"][0]["line1"] = ADDRESS_LINE
    doc["conditions"]["exclusion_zones"][0]["name"] = ZONE_NAME
    page.goto(server.base + "/orders")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    r = page.request.post(server.base + "/api/orders", data=doc, headers={"X-CSRF-Token": token})
    assert r.status == 201, r.text()[:2000]
    return r.json()["ref"]


def tooltip_text(page: Any, target: Any) -> str:
    """Hover a map shape and read the tooltip it opens."""
    target.hover()
    tip = page.locator(".leaflet-tooltip").last
    expect(tip).to_be_visible()
    assert tip.locator("img").count() == 0
    return tip.inner_text()


def test_zone_names_and_address_labels_show_as_text_on_the_zone_map(page, server):
    sign_in(page, server, "demo-order-creator-court")
    ref = create_order_with_hostile_text(page, server)
    seen = watch_requests(page)
    page.goto(f"{server.base}/orders/{ref}/zones")
    page.wait_for_selector("#map path.leaflet-interactive")
    shapes = page.locator("#map path.leaflet-interactive")
    assert shapes.count() == 2  # the address marker and the zone
    texts = {tooltip_text(page, shapes.nth(i)) for i in range(shapes.count())}
    assert texts == {ZONE_NAME, f"{ADDRESS_LINE} PL1 2AA"}
    assert page.evaluate("window.__injected") is None
    assert not [u for u in seen if PROBE in u]
    expect(page.locator("#zones")).to_contain_text(ZONE_NAME)  # the table shows it literally too


def test_hostile_text_in_an_alert_shows_as_text_beside_the_evidence_map(page, server):
    db = Database(server.db_url)
    now = datetime.now(UTC).replace(microsecond=0)
    with db.uow() as uow:
        for i in range(2):
            uow.session.merge(
                TelemetryMessageRow(
                    device_id="GPS-XSS",
                    seq=i,
                    type="gps",
                    device_time=now - timedelta(minutes=2 - i),
                    receive_time=now,
                    payload={"lat": 53.8 + i * 0.0005, "lon": -1.55, "accuracy_m": 8.0, "source": "GPS"},
                    flags=[],
                    activation_id=None,
                    person_id=None,
                    batch_id=0,
                )
            )
        store_alert(
            uow.session,
            {
                "alert_id": "ALR-XSS-1",
                "kind": "exclusion_entry",
                "severity": "HIGH",
                "person_id": "",
                "order_ref": "",
                "device_id": "GPS-XSS",
                "condition_id": "Z1",
                "start": iso(now - timedelta(minutes=2)),
                "end": None,
                "detected_at": iso(now),
                "late_detected": False,
                "evidence": [["GPS-XSS", 0], ["GPS-XSS", 1]],
                "details": {"zone_name": ALERT_ZONE},
            },
        )
    db.dispose()
    sign_in(page, server, "demo-mc-operator")
    seen = watch_requests(page)
    page.goto(f"{server.base}/alerts/ALR-XSS-1")
    page.wait_for_selector("#evidence-map path.leaflet-interactive")
    markers = page.locator("#evidence-map path.leaflet-interactive")
    assert markers.count() >= 2
    expect(page.locator("main")).to_contain_text(ALERT_ZONE)
    assert page.evaluate("window.__injected") is None
    assert not [u for u in seen if PROBE in u]
