"""Order entry in a real browser: task list, an error fixed from the error summary, the curfew editor, a zone
drawn by clicking on the map (no tiles), check your answers, submit, and the operator accepts. axe on every
page visited."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import expect
from tests.e2e.conftest import assert_accessible, click_and_wait, sign_in

from openem.orders.samples import sample_order
from openem.orders.web.forms import display, get_path
from openem.orders.web.sections import BY_SLUG

pytestmark = pytest.mark.e2e


def form_for(slug: str, doc: dict[str, Any]) -> dict[str, str]:
    data: dict[str, str] = {}
    for f in BY_SLUG[slug].fields(doc):
        value = display(f, get_path(doc, f.path))
        if isinstance(value, dict):
            data.update({f"{f.path}-{p}": value[p] for p in ("day", "month", "year", "time")})
        elif isinstance(value, list):
            continue  # no multi-valued answers in the sample
        else:
            data[f.path] = value
    return data


def post_section(page: Any, server: Any, ref: str, slug: str, data: dict[str, str]) -> None:
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    r = page.request.post(f"{server.base}/orders/{ref}/{slug}", form={"csrf_token": token, **data})
    assert r.status == 200 and "There is a problem" not in r.text(), (slug, r.text()[:3000])


def test_an_order_is_entered_in_the_browser_and_accepted(page, server):
    doc = sample_order(datetime.now(UTC))
    start, end = doc["monitoring"]["start"], doc["monitoring"]["end"]
    doc["conditions"].update(exclusion_zones=[], trail={"start": start, "end": end}, attendance=[])
    doc["conditions"].pop("alcohol", None)
    doc["conditions"]["curfew"]["timetable"] = doc["conditions"]["curfew"]["timetable"][:1]  # Monday only
    sign_in(page, server, "demo-order-creator-court")
    page.goto(server.base + "/orders")
    page.wait_for_selector("#orders-table th button")  # the MOJ sortable table is enhanced
    assert_accessible(page)
    click_and_wait(page, page.get_by_role("button", name="Start a new order"))
    ref = re.search(r"/orders/(ORD-[A-Z0-9]+)", page.url).group(1)
    assert page.locator(".govuk-task-list").count() == 3
    assert_accessible(page)

    # device wearer: leave the last name out, then fix it from the error summary
    click_and_wait(page, page.get_by_role("link", name="About the device wearer"))
    wearer = form_for("device-wearer", doc)
    for path in ("device_wearer.first_name", "device_wearer.pnc"):
        page.locator(f"[id='{path}']").fill(wearer[path])
    for part in ("day", "month", "year"):
        page.locator(f"[name='device_wearer.date_of_birth-{part}']").fill(
            wearer[f"device_wearer.date_of_birth-{part}"]
        )
    page.locator("[id='device_wearer.is_adult']").check()
    page.locator("[id='device_wearer.sex']").check()
    page.locator("[id='device_wearer.gender']").check()
    page.locator("[name='device_wearer.interpreter_required'][value='no']").check()
    page.locator("[name='device_wearer.no_fixed_abode'][value='no']").check()
    click_and_wait(page, page.get_by_role("button", name="Save and continue"))
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Enter the device wearer's last name").click()
    focused = page.evaluate("document.activeElement.id")
    assert focused == "device_wearer.last_name"
    page.keyboard.type(doc["device_wearer"]["last_name"])
    click_and_wait(page, page.get_by_role("button", name="Save and continue"))
    assert page.locator(".govuk-task-list").count() == 3

    # the rest of the answers (identifiers the cohort needs too) posted by the same pages
    for slug in (
        "device-wearer",
        "contact",
        "addresses",
        "interested-parties",
        "offence-risk",
        "monitoring",
        "trail",
        "installation",
    ):
        post_section(page, server, ref, slug, form_for(slug, doc))
    post_section(page, server, ref, "curfew", {**form_for("curfew", doc), "slot_count": "1"})

    # curfew editor: copy Monday to every day, add a slot and remove it again
    page.goto(f"{server.base}/orders/{ref}/curfew")
    assert_accessible(page)
    rows = page.locator("#timetable tbody tr[data-slot]")
    assert rows.count() == 1
    click_and_wait(page, page.get_by_role("button", name="Copy Monday to all days"))
    assert rows.count() == 7
    click_and_wait(page, page.get_by_role("button", name="Add a slot"))
    assert rows.count() == 8
    click_and_wait(page, page.get_by_role("button", name="Remove slot 8"))
    assert rows.count() == 7
    click_and_wait(page, page.get_by_role("button", name="Save and continue"))

    # zone drawn by clicking four corners on the map (no base tiles configured)
    page.goto(f"{server.base}/orders/{ref}/zones")
    page.wait_for_selector("#map.leaflet-container")
    assert_accessible(page)
    page.get_by_label("Exclusion zone").check()
    page.locator("[id='zone.name']").fill("Shopping centre")
    for key, value in (("start", start), ("end", end)):
        parts = display(BY_SLUG["monitoring"].fields(doc)[-1], value)
        for part in ("day", "month", "year", "time"):
            page.locator(f"[name='zone.{key}-{part}']").fill(parts[part])
    page.locator("#map").scroll_into_view_if_needed()
    for _ in range(4):  # the new order's addresses have no coordinates: zoom in from England and Wales
        page.locator(".leaflet-control-zoom-in").click()
        page.wait_for_timeout(350)
    box = page.locator("#map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dx, dy in ((-60, -40), (60, -40), (60, 40), (-60, 40)):
        page.mouse.click(cx + dx + 40, cy + dy)
    assert page.locator("#map-status").inner_text().startswith("4 points")
    assert '"Polygon"' in page.locator("#geometry").input_value()
    click_and_wait(page, page.get_by_role("button", name="Add zone"))
    assert "Shopping centre" in page.locator("#zones").inner_text(), page.locator("main").inner_text()[:1500]

    page.goto(f"{server.base}/orders/{ref}")
    assert page.locator(".govuk-tag", has_text="Incomplete").count() == 0, page.locator(
        ".govuk-task-list"
    ).all_inner_texts()
    click_and_wait(page, page.get_by_role("link", name="Check your answers"))
    assert_accessible(page)
    click_and_wait(page, page.get_by_role("button", name="Submit order"))
    expect(page.locator(".govuk-panel--confirmation")).to_be_visible()
    assert_accessible(page)

    click_and_wait(page, page.get_by_role("button", name="Sign out"))
    sign_in(page, server, "demo-mc-operator")
    page.goto(f"{server.base}/orders?tab=submitted")
    click_and_wait(page, page.get_by_role("link", name=ref))
    assert_accessible(page)
    click_and_wait(page, page.get_by_role("button", name="Accept order"))
    expect(page.get_by_text("The order has been accepted")).to_be_visible()
    assert page.locator("h1 .govuk-tag").inner_text().strip() == "Accepted"
