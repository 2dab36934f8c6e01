"""The operator queue in a real browser: most urgent first, axe-clean at 1280 and 390 px."""

import pytest
from playwright.sync_api import expect
from tests.e2e.conftest import assert_accessible, sign_in

from openem.alerts.service import on_alert_for_triage
from openem.core.time import iso, utcnow
from openem.store.db import Database

pytestmark = pytest.mark.e2e


def test_operator_sees_the_queue_most_urgent_first(page, server):
    db = Database(server.db_url)
    with db.uow() as uow:
        for aid, kind in (("E2E-Q1", "curfew_absent"), ("E2E-Q2", "strap_tamper")):
            on_alert_for_triage({"alert_id": aid, "kind": kind, "severity": "HIGH", "person_id": "", "order_ref": "",
                                 "device_id": "D1", "condition_id": "", "start": iso(utcnow()), "end": None}, uow)  # fmt: skip
    db.dispose()
    sign_in(page, server, "demo-mc-operator")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(server.base + "/incidents")
        expect(page.get_by_role("heading", name="Incidents needing a person")).to_be_visible()
        first = page.locator("#incidents-body tr").first
        expect(first).to_contain_text("Tamper")
        assert_accessible(page)
