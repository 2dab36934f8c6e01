"""Pages as a newcomer finds them, in a real browser at 1,280 px and on a 390-px phone: axe on each page of a
seeded set (home, orders list, order overview, task list, check your answers, alerts list, alert detail), no
page wider than the phone, London times written by the live alerts list as the server writes them, and the
court or prison list as a type-ahead."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.e2e.conftest import assert_accessible, sign_in

from openem.alerts.service import store_alert
from openem.core.time import iso
from openem.orders.samples import sample_order
from openem.orders.web.context import order_service
from openem.store.db import Database
from openem.web.rendering import london_time

pytestmark = pytest.mark.e2e
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


def seeded(server: Any) -> dict[str, str]:
    """An active order with a device and an alert, and a draft of the court creator's (once per session)."""
    if getattr(server, "newcomer", None):
        return server.newcomer
    from openem.devices.tables import ActivationRow

    db = Database(server.db_url)
    now = datetime.now(UTC).replace(microsecond=0)
    with db.uow() as uow:
        svc = order_service(uow)
        doc = sample_order(now)
        doc.pop("ref", None)
        # nobody else's identifiers or birthday: the other tests' orders must not look like duplicates of it
        doc["device_wearer"].update(
            first_name="Newcomer",
            last_name="Example",
            pnc="2020/0000001X",
            crn="N000001",
            home_office_reference="HO-NEWCOMER",
            date_of_birth="1961-02-03",
        )
        active = svc.create_draft("seed", doc).record.ref
        svc.submit("seed", active)
        svc.accept("seed", active)
        svc.activate("seed", active)
        uow.session.add(
            ActivationRow(
                activation_id="ACT-NEWCOMER",
                device_id="GPS-NEWCOMER",
                device_kind="GPS_TAG",
                order_ref=active,
                person_id="P-NEWCOMER",
                role="WEARER",
                start=now - timedelta(days=2),
            )
        )
        store_alert(
            uow.session,
            {
                "alert_id": "ALR-NEWCOMER-1",
                "kind": "exclusion_entry",
                "severity": "HIGH",
                "person_id": "P-NEWCOMER",
                "order_ref": active,
                "device_id": "GPS-NEWCOMER",
                "condition_id": "Z1",
                "start": iso(now - timedelta(minutes=5)),
                "end": None,
                "detected_at": iso(now),
                "late_detected": False,
                "evidence": [],
                "details": {},
            },
        )
    db.dispose()
    server.newcomer = {"active": active}
    return server.newcomer


def browse(browser: Any, server: Any, width: str, username: str) -> Any:
    w, h = WIDTHS[width]
    context = browser.new_context(bypass_csp=True, viewport={"width": w, "height": h})
    page = context.new_page()
    sign_in(page, server, username)
    return page


def check_page(page: Any, url: str, width: str) -> None:
    page.goto(url, wait_until="load")
    assert page.url.split("?")[0].rstrip("/") == url.split("?")[0].rstrip("/"), page.url
    assert_accessible(page)
    if width == "phone":
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        wide = page.evaluate(
            "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth)"
            ".slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"
        )
        assert scroll <= inner, (url, scroll, inner, wide)


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_operators_pages_pass_axe_and_fit_the_screen(browser, server, width):
    refs = seeded(server)
    page = browse(browser, server, width, "demo-mc-operator")
    try:
        base = server.base
        for url in (
            f"{base}/",
            f"{base}/orders?tab=active",
            f"{base}/orders/{refs['active']}",
            f"{base}/alerts",
            f"{base}/alerts/ALR-NEWCOMER-1",
        ):
            check_page(page, url, width)
        check_page(page, f"{base}/orders/{refs['active']}/confirmation", width)
        reference, panel = page.evaluate(
            "['.openem-reference', '.govuk-panel'].map(s => document.querySelector(s).getBoundingClientRect().right)"
        )
        assert reference <= panel, (reference, panel)  # the whole reference is inside the panel
        page.goto(f"{base}/orders/{refs['active']}", wait_until="load")
        page.wait_for_selector(
            "#map.leaflet-container .leaflet-interactive", state="attached"
        )  # the zone map drew the context
        assert "GPS-NEWCOMER" in page.content()
    finally:
        page.context.close()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_order_entry_pages_pass_axe_and_fit_the_screen(browser, server, width):
    page = browse(browser, server, width, "demo-order-creator-court")
    try:
        page.goto(server.base + "/orders", wait_until="load")
        with page.expect_navigation(wait_until="load"):
            page.get_by_role("button", name="Start a new order").click()
        ref = re.search(r"/orders/(ORD-[A-Z0-9]+)", page.url).group(1)
        for url in (
            f"{server.base}/orders",
            f"{server.base}/orders/{ref}",
            f"{server.base}/orders/{ref}/check-answers",
            f"{server.base}/orders/{ref}/interested-parties",
            f"{server.base}/orders/{ref}/zones",
        ):
            check_page(page, url, width)
    finally:
        page.context.close()


def test_the_live_alerts_list_writes_london_times_as_the_server_does(browser, server):
    seeded(server)
    page = browse(browser, server, "desktop", "demo-mc-operator")
    try:
        page.goto(server.base + "/alerts", wait_until="load")
        server_written = page.locator("#alerts-body tr").first.locator("td").first.inner_text()
        assert re.fullmatch(r"\d{1,2} [A-Z][a-z]+ \d{4} at .+", server_written), server_written
        # an alert arriving while the page is open, in summer time (an hour ahead of UTC) and at midday
        summer, noon = "2026-07-01T19:31:00Z", "2026-12-01T12:00:00Z"
        db = Database(server.db_url)
        with db.uow() as uow:
            store_alert(
                uow.session,
                {
                    "alert_id": "ALR-NEWCOMER-JS",
                    "kind": "low_battery",
                    "severity": "LOW",
                    "person_id": "",
                    "order_ref": "",
                    "device_id": "GPS-JS",
                    "condition_id": "",
                    "start": noon,
                    "end": None,
                    "detected_at": iso(datetime.now(UTC)),
                    "late_detected": False,
                    "evidence": [],
                    "details": {},
                },
            )
            store_alert(
                uow.session,
                {
                    "alert_id": "ALR-NEWCOMER-JS2",
                    "kind": "low_battery",
                    "severity": "LOW",
                    "person_id": "",
                    "order_ref": "",
                    "device_id": "GPS-JS",
                    "condition_id": "",
                    "start": summer,
                    "end": None,
                    "detected_at": iso(datetime.now(UTC)),
                    "late_detected": False,
                    "evidence": [],
                    "details": {},
                },
            )
        db.dispose()
        for alert_id, start in (("ALR-NEWCOMER-JS", noon), ("ALR-NEWCOMER-JS2", summer)):
            row = page.locator(f"#alerts-body tr:has(a[href='/alerts/{alert_id}'])")
            row.wait_for(timeout=15_000)
            cells = row.locator("td")
            assert cells.nth(4).inner_text() == london_time(start)
            assert cells.nth(0).get_attribute("data-label") == "Detected"
        assert (
            london_time(summer) == "1 July 2026 at 8:31pm"
            and london_time(noon) == "1 December 2026 at midday"
        )
    finally:
        page.context.close()


def test_the_court_or_prison_list_is_a_type_ahead_that_saves_the_choice(browser, server):
    page = browse(browser, server, "desktop", "demo-order-creator-court")
    try:
        page.goto(server.base + "/orders", wait_until="load")
        with page.expect_navigation(wait_until="load"):
            page.get_by_role("button", name="Start a new order").click()
        ref = re.search(r"/orders/(ORD-[A-Z0-9]+)", page.url).group(1)
        page.goto(f"{server.base}/orders/{ref}/interested-parties", wait_until="load")
        box = page.locator("input#interested_parties\\.notifying_organisation_name")
        box.wait_for()
        box.fill("Leeds")
        option = page.locator(".autocomplete__option").first
        option.wait_for()
        chosen = option.inner_text()
        option.click()
        assert_accessible(page)
        with page.expect_navigation(wait_until="load"):
            page.get_by_role("button", name="Save and continue").click()
        page.goto(f"{server.base}/orders/{ref}/check-answers", wait_until="load")
        assert chosen in page.content()
    finally:
        page.context.close()
