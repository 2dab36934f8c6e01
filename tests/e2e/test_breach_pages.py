"""A police officer's breach inbox, the breach with its pack and clocks, and the response form in a real
browser: axe-clean and nothing wider than the screen at 1280 and 390 px; a response recorded from the phone."""

import time

import pytest
from playwright.sync_api import expect
from tests.e2e.conftest import assert_accessible, click_and_wait, sign_in
from tests.integration.breaches.conftest import load, order_doc, tamper

from openem.store.db import Database

pytestmark = pytest.mark.e2e


def _breach_id(db) -> str:
    from openem.breaches.queries import breaches_where

    for _ in range(100):  # the server's dispatcher opens the breach from the escalation
        with db.uow() as uow:
            found = [b for b in breaches_where(uow.session) if b["order_ref"] == "ORD-E2EBAIL01"]
        if found:
            return found[0]["breach_id"]
        time.sleep(0.2)
    raise AssertionError("no breach was opened")


def test_police_officer_reads_the_breach_and_records_receipt_on_a_phone(page, server):
    db = Database(server.db_url)
    load(db, order_doc("ORD-E2EBAIL01", "PER-E2E-BR", "COURT_BAIL"))
    tamper(db, "ORD-E2EBAIL01", "PER-E2E-BR", alert_id="E2E-BR-1")
    bid = _breach_id(db)
    # an officer of our own: the admin pages test changes demo-police-officer's force and password
    from openem.auth.service import create_user

    with db.uow() as uow:
        create_user(uow.session, actor="e2e", username="e2e-breach-police", password="a-long-e2e-password",
                    roles=["police_officer"], police_area="WEST_YORKSHIRE")  # fmt: skip
    server.passwords["e2e-breach-police"] = "a-long-e2e-password"
    db.dispose()
    sign_in(page, server, "e2e-breach-police")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(server.base + "/breaches")
        expect(page.get_by_role("heading", name="Breaches", exact=True)).to_be_visible()
        expect(page.locator("#breaches-table")).to_contain_text(bid)
        assert_accessible(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.goto(server.base + f"/breaches/{bid}")
        expect(page.get_by_role("heading", name="Clocks")).to_be_visible()
        expect(page.locator("#clocks")).to_contain_text("Breach confirmed")
        assert_accessible(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    click_and_wait(page, page.get_by_role("button", name="Record received"))
    expect(page.get_by_role("heading", name="Record: Assessed")).to_be_visible()
    expect(page.locator("ol.govuk-list")).to_contain_text("Received")
    assert_accessible(page)
