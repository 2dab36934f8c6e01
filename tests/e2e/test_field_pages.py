"""A field officer's day on a phone and a desktop: today's visits and the outcome form pass axe at 1280 and
390 px with nothing wider than the screen; recording a failed attempt comes back to the day's list."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from tests.e2e.conftest import assert_accessible, click_and_wait, sign_in

from openem.auth.tables import UserRow
from openem.core.time import utcnow
from openem.field import service as fs
from openem.store.db import Database

pytestmark = pytest.mark.e2e


def _seed(server) -> None:
    db = Database(server.db_url)
    with db.uow() as uow:
        officer = uow.session.execute(
            select(UserRow).where(UserRow.username == "demo-field-officer")
        ).scalar_one()
        fs.create_visit(uow.session, actor="t", kind="FIT", order_ref="E2E-FIELD-1",
                        at=datetime(2026, 12, 1, tzinfo=UTC), lat=51.5, lon=-0.1)  # fmt: skip
        fs.plan_day(uow.session, actor="t", officer=officer.id, day=utcnow().date().isoformat(),
                    visit_ids=["FIT-E2E-FIELD-1"])  # fmt: skip
    db.dispose()


@pytest.mark.parametrize("width", [1280, 390])
def test_field_officer_pages_phone_and_desktop(server, page, width) -> None:
    _seed(server)  # idempotent: the same visit, planned for today
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, server, "demo-field-officer")
    page.goto(server.base + "/field/visits")
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    click_and_wait(page, page.get_by_role("link", name="Fit tag: order E2E-FIELD-1"))
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    if width == 390:
        page.get_by_label("Not at home").check()
        click_and_wait(page, page.get_by_role("button", name="Record outcome"))
        assert "Outcome recorded for visit FIT-E2E-FIELD-1" in page.locator("main").inner_text()
        assert_accessible(page)


@pytest.mark.parametrize("width", [1280, 390])
def test_route_map_and_stock_forecast_phone_and_desktop(server, page, width) -> None:
    from openem.devices import queries as dq
    from openem.devices import service as ds

    _seed(server)
    db = Database(server.db_url)
    with db.uow() as uow:
        if not dq.device(uow.session, "E2E-RF-0"):
            ds.receive_stock(uow.session, actor="store", depot="E2E", at=utcnow(),
                             devices=[{"device_id": f"E2E-RF-{i}", "device_kind": "RF_TAG"} for i in range(5)])  # fmt: skip
    db.dispose()
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, server, "demo-field-officer")
    page.goto(server.base + "/field/visits")
    page.wait_for_selector("#route-map .openem-map-label")
    assert "Fit tag E2E-FIELD-1" in page.locator("#route-map").inner_text()  # drawn without tiles
    assert_accessible(page)
    page.goto(server.base + "/devices/stock")
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    click_and_wait(page, page.get_by_role("link", name="E2E forecast"))
    assert page.locator("svg.openem-chart").count() == 1
    assert "reorder before then" in page.locator("main").inner_text()
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
