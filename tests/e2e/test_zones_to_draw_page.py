"""A CEMO zone that came as a map file, drawn on the zones page in a browser: the page says which zones await a
shape (accessible), "Draw the shape" opens its form with its type chosen, and the shape pasted as GeoJSON (the
way that needs no pointer) turns it into an exclusion zone in the order's zones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.e2e.conftest import assert_accessible, click_and_wait, sign_in

pytestmark = pytest.mark.e2e
SCENARIO = (
    Path(__file__).resolve().parents[1] / "unit" / "orders" / "cemo" / "scenarios" / "cemo014" / "order.json"
)
SQUARE = {"type": "Polygon", "coordinates": [[[-1.55, 53.80], [-1.54, 53.80], [-1.54, 53.81], [-1.55, 53.81],
                                              [-1.55, 53.80]]]}  # fmt: skip


def test_a_map_file_zone_is_drawn_from_the_zones_page(page, server):
    sign_in(page, server, "demo-order-creator-court")
    page.goto(server.base + "/orders")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    r = page.request.post(server.base + "/api/orders/import/cemo", data=json.loads(SCENARIO.read_text()),
                          headers={"X-CSRF-Token": token})  # fmt: skip
    assert r.status == 201, r.text()[:2000]
    ref = r.json()["ref"]
    page.goto(f"{server.base}/orders/{ref}/zones")
    waiting = page.locator("#zones-to-draw")
    assert "Zones awaiting a shape" in waiting.inner_text() and "Exclusion zone" in waiting.inner_text()
    assert_accessible(page)
    click_and_wait(page, waiting.get_by_role("link", name="Draw the shape of Exclusion zone 1"))
    assert page.get_by_label("Exclusion zone").is_checked()
    page.locator("#geojson").fill(json.dumps(SQUARE))
    click_and_wait(page, page.get_by_role("button", name="Save zone"))
    assert "Exclusion zone 1" in page.locator("#zones").inner_text(), page.locator("main").inner_text()[:1500]
    assert page.locator("#zones-to-draw").count() == 0
    assert_accessible(page)
