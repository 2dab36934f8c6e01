"""A probation practitioner finds a person on their caseload and opens the person view, in a real browser at
1,280 px and on a 390-px phone: axe on the search and the person page, the trail drawn without tiles, and the
page no wider than the phone."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from tests.e2e.conftest import assert_accessible, click_and_wait, sign_in

from openem.orders.samples import _square, sample_order
from openem.orders.seeding import load_orders
from openem.store.db import Database
from openem.telemetry.tables import TrailPointRow

pytestmark = pytest.mark.e2e
PERSON = "PER-E2E-INS"


def _seed(server):
    now = datetime.now(UTC).replace(microsecond=0)
    doc = sample_order(now, random.Random(7))
    doc["ref"], doc["person_id"] = "ORD-E2EINS01", PERSON
    doc["device_wearer"] |= {"first_name": "Robin", "last_name": "Insight", "pnc": "2004/0123456A"}
    doc["interested_parties"] |= {"responsible_officer_email": "probation.demo@openem.example"}
    doc["offence_risk"]["specials"] = False
    doc["monitoring"]["cohort"] = "COURT_SENTENCE"
    lat, lon = doc["addresses"][0]["lat"], doc["addresses"][0]["lon"]
    doc["conditions"]["exclusion_zones"] = [{"name": "Market", "geometry": _square(lat + 0.01, lon, 0.003)}]
    db = Database(server.db_url)
    with db.uow() as uow:
        load_orders(uow.session, [doc], actor="e2e", now=now)
        for i in range(30):
            uow.session.merge(
                TrailPointRow(device_id="GPS-E2E-INS", seq=i, person_id=PERSON, activation_id="ACT-E2E",
                              device_time=now - timedelta(hours=30 - i), lat=lat + i * 0.0004, lon=lon,
                              accuracy_m=12.0)
            )  # fmt: skip
    db.dispose()


@pytest.mark.parametrize("width,height", [(1280, 900), (390, 844)])
def test_practitioner_finds_a_person_and_reads_the_trail_and_curfew(page, server, width, height):
    _seed(server)
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, server, "demo-probation-practitioner")
    page.goto(server.base + "/people")
    assert_accessible(page)
    page.get_by_label("Name, PNC, CRN, NOMIS number, order reference or person ID").fill("robin insight")
    page.get_by_label("Why are you looking?").fill("risk review before home visit")
    click_and_wait(page, page.get_by_role("button", name="Search"))
    assert_accessible(page)
    click_and_wait(page, page.get_by_role("link", name="Robin Insight"))
    expect(page.get_by_role("heading", name="Robin Insight")).to_be_visible()
    page.wait_for_selector(".leaflet-interactive")
    assert "Positions (30)" in page.content() and "Curfew, night by night" in page.content()
    markers = page.locator("#trail-map path.leaflet-interactive")  # the context's shapes, then each position
    assert markers.count() >= 30
    markers.last.hover()
    expect(page.locator(".leaflet-tooltip").last).to_contain_text("30: ")  # numbered in the whole trail
    assert_accessible(page)
    if width == 390:
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner, (scroll, inner)


@pytest.mark.parametrize("width,height", [(1280, 900), (390, 844)])
def test_practitioner_finds_a_person_by_pnc_reads_the_timeline_and_writes_a_note(page, server, width, height):
    _seed(server)
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, server, "demo-probation-practitioner")
    page.goto(server.base + "/people")
    page.get_by_label("Name, PNC, CRN, NOMIS number, order reference or person ID").fill("04/123456a")
    page.get_by_label("Why are you looking?").fill("case conference preparation")
    click_and_wait(page, page.get_by_role("button", name="Search"))
    click_and_wait(page, page.get_by_role("link", name="Robin Insight"))
    assert "Calendar of curfew nights" in page.content() or "No curfew nights" in page.content()
    click_and_wait(page, page.get_by_role("link", name="Timeline and notes"))
    expect(page.get_by_role("heading", name="Robin Insight")).to_be_visible()
    assert "Order ORD-E2EINS01 version 1 created" in page.content()
    assert_accessible(page)
    page.get_by_label("Your note").fill(f"Seen at {width} px: agreed to attend.\nSecond line.")
    click_and_wait(page, page.get_by_role("button", name="Save note"))
    expect(page.get_by_text(f"Seen at {width} px: agreed to attend.", exact=False)).to_be_visible()
    expect(page.get_by_role("heading", name="Note by demo-probation-practitioner").first).to_be_visible()
    assert_accessible(page)
    if width == 390:
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner, (scroll, inner)


def test_a_wrong_id_and_a_reversed_window_are_plain_accessible_pages(page, server):
    _seed(server)
    sign_in(page, server, "demo-probation-practitioner")
    answer = page.goto(server.base + "/people/PER-E2E-NOSUCH?purpose=risk+review+before+visit")
    assert answer is not None and answer.status == 403
    expect(page.get_by_role("heading", name="You do not have permission")).to_be_visible()
    assert "There is no person with this id that you may see" in page.content()
    assert_accessible(page)
    page.goto(server.base + f"/people/{PERSON}")
    page.get_by_label("Why are you looking?").fill("risk review before home visit")
    page.get_by_label("From (date)").fill("2026-11-10")
    page.get_by_label("To (date, blank for now)").fill("2026-11-01")
    click_and_wait(page, page.get_by_role("button", name="Show"))
    expect(page.get_by_role("link", name="from must be before to")).to_be_visible()  # the error summary
    assert "Positions (" not in page.content()
    assert_accessible(page)
