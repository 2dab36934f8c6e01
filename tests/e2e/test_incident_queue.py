"""The operator queue in a real browser: most urgent first, filters, live updates without a reload, the
incident page (person, map without tiles, why it never reached a person), acting with the keyboard only;
axe-clean at 1280 and 390 px."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from tests.e2e.conftest import assert_accessible, click_and_wait, sign_in
from tests.integration.alerts.queue_world import add_order, alert

from openem.alerts.service import on_alert_for_triage
from openem.core.errors import Conflict
from openem.core.time import utcnow
from openem.store.db import Database
from openem.telemetry.tables import TelemetryMessageRow

pytestmark = pytest.mark.e2e


def _seed(server):
    db = Database(server.db_url)
    try:
        add_order(db, "EM-E2EQ", "PER-E2EQ")
    except Conflict:
        pass  # the server (and its database) is shared by the tests of the session
    now = datetime.now(UTC).replace(microsecond=0)
    with db.uow() as uow:
        for i in range(3):
            uow.session.merge(TelemetryMessageRow(
                device_id="GPS-E2EQ", seq=i, type="gps", device_time=now - timedelta(minutes=30 - i), receive_time=now,
                payload={"lat": 53.8 + i * 0.0005, "lon": -1.55, "accuracy_m": 8.0, "source": "GPS"}, flags=[],
                activation_id=None, person_id=None, batch_id=0))  # fmt: skip
        kw = {"person": "PER-E2EQ", "order": "EM-E2EQ", "device_id": "GPS-E2EQ"}
        on_alert_for_triage(alert("E2E-Q1", "curfew_absent", now - timedelta(hours=2), now - timedelta(minutes=20),
                                  evidence=[["GPS-E2EQ", 0], ["GPS-E2EQ", 1], ["GPS-E2EQ", 2]], **kw), uow)  # fmt: skip
        on_alert_for_triage(alert("E2E-Q2", "strap_tamper", now - timedelta(minutes=10), **kw), uow)
        on_alert_for_triage(
            alert(
                "E2E-Q3",
                "no_comms",
                now - timedelta(minutes=15),
                now - timedelta(minutes=5),
                severity="LOW",
                **kw,
            ),
            uow,
        )
    db.dispose()


def test_operator_works_the_queue(page, server):
    _seed(server)
    sign_in(page, server, "demo-mc-operator")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(server.base + "/incidents")
        expect(page.get_by_role("heading", name="Incidents needing a person")).to_be_visible()
        expect(page.locator("#incidents-body tr").first).to_contain_text("Tamper")
        expect(page.locator("#incidents-table th button").first).to_be_visible()  # sortable (MOJ) with JS
        assert_accessible(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    # live: a new proximity incident appears without a reload
    page.evaluate("window.__marker = 1")
    db = Database(server.db_url)
    with db.uow() as uow:
        on_alert_for_triage(alert("E2E-Q4", "proximity", utcnow(), person="PER-E2EQ", order="EM-E2EQ"), uow)
    db.dispose()
    expect(page.locator("#incidents-body")).to_contain_text("Victim proximity", timeout=15_000)
    assert page.evaluate("window.__marker") == 1  # the same page: no reload
    expect(page.locator("#queue-status")).to_contain_text("The queue was updated")
    # filter without JS semantics: a normal GET form
    page.select_option("#filter-kind", "curfew")
    click_and_wait(page, page.get_by_role("button", name="Apply filters"))
    rows = page.locator("#incidents-body tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Curfew night")
    click_and_wait(page, rows.first.get_by_role("link"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Alex Example")
    expect(page.locator("main")).to_contain_text("07700900123")
    expect(page.locator("#evidence-map .leaflet-interactive").first).to_be_attached()
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        assert_accessible(page)
    # keyboard only: choose a resolution and submit
    page.locator("#reason-resolve-authorised_absence").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    with page.expect_navigation(wait_until="load"):
        page.keyboard.press("Enter")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Incident resolved")
    expect(page.locator("main")).to_contain_text("Authorised absence")
    assert_accessible(page)


def test_a_held_back_incident_explains_itself_and_the_rules_pages_are_accessible(page, server):
    _seed(server)
    sign_in(page, server, "demo-mc-operator")
    page.goto(server.base + "/incidents?state=held_back")
    click_and_wait(page, page.locator("#incidents-body a", has_text="Device fault").first)
    why = page.locator("#why-not")
    expect(why).to_contain_text("route-device-fault")
    expect(why).to_contain_text("version 2")
    assert_accessible(page)
    for path in ("/incidents/rules", "/incidents/silences"):
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(server.base + path)
            assert_accessible(page)
    page.goto(server.base + "/incidents/rules")
    page.get_by_label("Rule name").fill("quiet-proximity")
    page.get_by_label("Match expression (JSON)").fill('{"kinds": ["proximity"]}')
    page.get_by_label("Reason for this change").fill("too many")
    click_and_wait(page, page.get_by_role("button", name="Save as a new version"))
    expect(page.locator(".govuk-error-summary")).to_contain_text("always reaches a person")
    assert_accessible(page)
