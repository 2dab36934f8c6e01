"""Suspending an active order in a real browser at 1,280 px and 390 px: the form, its errors, the suspended
order page and the resume action pass axe and fit the screen (issue 13)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from tests.e2e.conftest import assert_accessible

from openem.orders.samples import sample_order
from openem.orders.web.context import order_service
from openem.store.db import Database

from .test_newcomer_pages import WIDTHS, browse, check_page


def active_order(server: Any, n: int) -> str:
    db = Database(server.db_url)
    with db.uow() as uow:
        svc = order_service(uow)
        doc = sample_order(datetime.now(UTC).replace(microsecond=0))
        doc.pop("ref", None)
        doc["device_wearer"].update(first_name="Suspend", last_name=f"Example{'ab'[n]}", pnc=f"2020/000010{n}X",
                                    crn=f"S00000{n}", home_office_reference=f"HO-SUSPEND-{n}",
                                    date_of_birth=f"1962-03-0{n + 1}")  # fmt: skip
        ref = svc.create_draft("seed", doc).record.ref
        svc.submit("seed", ref)
        svc.accept("seed", ref)
        svc.activate("seed", ref)
    db.dispose()
    return ref


@pytest.mark.parametrize("width", list(WIDTHS))
def test_suspend_and_resume_pages_pass_axe_and_fit_the_screen(browser, server, width):
    ref = active_order(server, list(WIDTHS).index(width))
    page = browse(browser, server, width, "demo-mc-operator")
    try:
        url = f"{server.base}/orders/{ref}/suspend"
        check_page(page, url, width)
        with page.expect_navigation(wait_until="load"):
            page.get_by_role("button", name="Suspend monitoring").click()
        assert "Enter why monitoring is being suspended" in page.content()
        assert_accessible(page)
        page.fill("#reason", "In hospital")
        page.fill("#until-day", "10")
        page.fill("#until-month", "12")
        page.fill("#until-year", "2099")
        page.check("#confirm")
        with page.expect_navigation(wait_until="load"):
            page.get_by_role("button", name="Suspend monitoring").click()
        assert "Monitoring is suspended" in page.content()
        check_page(page, f"{server.base}/orders/{ref}?decided=suspended", width)
        check_page(page, f"{server.base}/orders?tab=suspended", width)
        page.goto(f"{server.base}/orders/{ref}", wait_until="load")
        with page.expect_navigation(wait_until="load"):
            page.get_by_role("button", name="Resume monitoring").click()
        assert "Monitoring has resumed" in page.content()
    finally:
        page.context.close()
