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


def _accepted_order(server, seed: int) -> str:
    """An order entered with postcodes only (as on the pages), accepted; field placed its addresses."""
    import dataclasses
    import json
    import random

    from openem.core.time import FrozenClock
    from openem.orders.repository import SqlOrderRepository
    from openem.orders.samples import sample_order
    from openem.orders.service import OrderService

    now = datetime.now(UTC)
    doc = sample_order(now, random.Random(seed), cohort="COURT_BAIL")
    doc["device_wearer"].update(
        pnc=f"2019/{seed:07d}A", date_of_birth=f"19{60 + seed % 30}-0{1 + seed % 9}-1{seed % 9}"
    )
    for a in doc["addresses"]:
        a.pop("lat", None), a.pop("lon", None)
    doc["addresses"][0].update(type="PRIMARY", postcode="CF10 1AA")
    db = Database(server.db_url)
    with db.uow() as uow:
        creator = uow.session.execute(
            select(UserRow).where(UserRow.username == "demo-order-creator-court")
        ).scalar_one()
        svc = OrderService(SqlOrderRepository(uow.session), FrozenClock(now), unit=uow)
        ref = svc.create_draft(creator.id, doc).record.ref
        svc.submit(creator.id, ref)
        accepted = svc.accept("operator", ref).events[0]
        fs.on_order_accepted(json.loads(json.dumps(dataclasses.asdict(accepted), default=str)), uow)
    db.dispose()
    return str(ref)


@pytest.mark.parametrize("width", [1280, 390])
def test_order_creator_corrects_a_pin_on_the_map(server, page, width) -> None:
    ref = _accepted_order(server, width)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, server, "demo-order-creator-court")
    page.goto(f"{server.base}/orders/{ref}")
    assert "From the postcode" in page.locator("#pins").inner_text()
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    click_and_wait(page, page.get_by_role("link", name="Correct the pin of the primary address"))
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    before = page.get_by_label("Latitude").input_value()
    box = page.locator("#pin-map").bounding_box()
    page.locator("#pin-map").click(
        position={"x": box["width"] * 0.3, "y": box["height"] * 0.7}
    )  # click-to-place
    page.wait_for_function(f"document.getElementById('lat').value !== '{before}'")
    lat = page.get_by_label("Latitude").input_value()
    click_and_wait(page, page.get_by_role("button", name="Save the pin"))
    main = page.locator("main").inner_text()
    assert "The pin was moved" in main and "Corrected by hand" in main and lat[:6] in main
    assert_accessible(page)


def _supervisor(session):
    """The demo field officer, made a field supervisor (granted explicitly)."""
    officer = session.execute(select(UserRow).where(UserRow.username == "demo-field-officer")).scalar_one()
    officer.extra_permissions = ["visits:supervise"]
    return officer


@pytest.mark.parametrize("width", [1280, 390])
def test_supervisor_urgent_visits_phone_and_desktop(server, page, width) -> None:
    from datetime import timedelta

    db = Database(server.db_url)
    with db.uow() as uow:
        _supervisor(uow.session)
        fs.create_visit(uow.session, actor="t", kind="FIT", order_ref=f"E2E-URGENT-{width}",
                        at=utcnow() - timedelta(days=3), lat=51.5, lon=-0.1)  # fmt: skip
    db.dispose()
    _seed(server)  # the officer has a plan today, so there is a day to add the visit to
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, server, "demo-field-officer")
    page.goto(server.base + "/field/supervise")
    assert f"order E2E-URGENT-{width}" in page.locator("#urgent").inner_text()
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_a_shift_offline_keeps_the_pages_and_sends_the_outcome_when_back(server, page) -> None:
    """The day's pages are kept on the phone (service worker); an outcome recorded offline waits on the phone and
    is sent when the network is back."""
    import time as _time

    from openem.field import queries as fq

    db = Database(server.db_url)
    with db.uow() as uow:
        officer = uow.session.execute(
            select(UserRow).where(UserRow.username == "demo-field-officer")
        ).scalar_one()
        fs.create_visit(
            uow.session, actor="t", kind="FIT", order_ref="E2E-OFFLINE", at=utcnow(), lat=51.5, lon=-0.1
        )
        fs.plan_day(uow.session, actor="t", officer=officer.id, day=utcnow().date().isoformat(),
                    visit_ids=["FIT-E2E-OFFLINE"])  # fmt: skip
        before = fq.visit(uow.session, "FIT-E2E-OFFLINE")["attempts"]  # type: ignore[index]
    page.set_viewport_size({"width": 390, "height": 900})
    sign_in(page, server, "demo-field-officer")
    page.goto(server.base + "/field/visits")
    page.wait_for_function("navigator.serviceWorker.controller !== null")  # clients.claim(): no reload
    page.goto(server.base + "/field/visits")  # controlled now: the visit pages are kept as they load
    page.goto(server.base + "/field/visits/FIT-E2E-OFFLINE")
    page.context.set_offline(True)
    page.goto(server.base + "/field/visits/FIT-E2E-OFFLINE")  # from the phone, without network
    assert "Fit tag" in page.locator("h1").inner_text()
    page.get_by_label("Not at home").check()
    page.get_by_role("button", name="Record outcome").click()
    page.wait_for_selector("#offline-saved:not([hidden])")
    assert "kept on this phone" in page.locator("#offline-queue").inner_text()
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    deadline = _time.monotonic() + 20
    attempts = before
    while attempts == before and _time.monotonic() < deadline:
        with db.uow() as uow:
            attempts = fq.visit(uow.session, "FIT-E2E-OFFLINE")["attempts"]  # type: ignore[index]
        _time.sleep(0.2)
    db.dispose()
    assert attempts == before + 1
    page.wait_for_selector("#offline-queue[hidden]", state="attached")  # the queue is empty


def test_a_photo_of_the_fitted_equipment_on_the_phone(server, page, tmp_path) -> None:
    from openem.devices import service as ds

    db = Database(server.db_url)
    with db.uow() as uow:
        officer = uow.session.execute(
            select(UserRow).where(UserRow.username == "demo-field-officer")
        ).scalar_one()
        ds.register_devices(uow.session, actor="stock",
                            devices=[{"device_id": "E2E-PHOTO-TAG", "device_kind": "RF_TAG"}])  # fmt: skip
        fs.create_visit(uow.session, actor="t", kind="FIT", order_ref="E2E-PHOTO",
                        at=datetime(2026, 12, 1, tzinfo=UTC), lat=51.5, lon=-0.1)  # fmt: skip
        fs.plan_day(uow.session, actor="t", officer=officer.id, day=utcnow().date().isoformat(),
                    visit_ids=["FIT-E2E-PHOTO"])  # fmt: skip
    db.dispose()
    fake = tmp_path / "fitted.jpg"
    fake.write_bytes(b"GIF89a" + b"\x00" * 64)  # not a JPEG, whatever its name
    real = tmp_path / "IMG_0001.jpg"
    import io

    from PIL import Image

    shot = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(shot, "JPEG")  # a real JPEG: it is decoded and re-written
    real.write_bytes(shot.getvalue())
    page.set_viewport_size({"width": 390, "height": 900})
    sign_in(page, server, "demo-field-officer")
    page.goto(server.base + "/field/visits/FIT-E2E-PHOTO")
    page.get_by_role("radio", name="Fitted").check()
    page.get_by_label("Device serial").fill("E2E-PHOTO-TAG")
    page.get_by_label("Photo of the fitted equipment (optional)").set_input_files(str(fake))
    click_and_wait(page, page.get_by_role("button", name="Record outcome"))
    assert "must be a JPEG or PNG" in page.locator("main").inner_text()
    assert_accessible(page)
    page.get_by_role("radio", name="Fitted").check()
    page.get_by_label("Device serial").fill("E2E-PHOTO-TAG")
    page.get_by_label("Photo of the fitted equipment (optional)").set_input_files(str(real))
    click_and_wait(page, page.get_by_role("button", name="Record outcome"))
    assert "Outcome recorded for visit FIT-E2E-PHOTO" in page.locator("main").inner_text()


@pytest.mark.parametrize("width", [1280, 390])
def test_supervisor_plans_the_region_day_phone_and_desktop(server, page, width) -> None:
    from datetime import timedelta

    from openem.core.time import local_date
    from openem.field import dayplan

    db = Database(server.db_url)
    with db.uow() as uow:
        officer = _supervisor(uow.session)
        dayplan.set_officer_region(
            uow.session, actor="t", officer=officer.id, code="SOUTH_WALES", at=utcnow()
        )
        for i in range(3):
            fs.create_visit(uow.session, actor="t", kind="FIT", order_ref=f"E2E-CDF-{width}-{i}",
                            at=utcnow(), lat=51.48 + 0.01 * i, lon=-3.18)  # fmt: skip
    db.dispose()
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, server, "demo-field-officer")
    page.goto(server.base + "/field/supervise/day?region=SOUTH_WALES")
    page.get_by_label("Date").fill(
        (local_date(utcnow()) + timedelta(days=1)).isoformat()
    )  # a whole shift ahead
    click_and_wait(page, page.get_by_role("button", name="Plan the day"))  # a 10 s solve
    main = page.locator("main").inner_text()
    assert all(f"E2E-CDF-{width}-{i}" in main for i in range(3))
    page.wait_for_selector("#region-map .leaflet-pane", state="attached")
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [1280, 390])
def test_stock_moves_between_depots_phone_and_desktop(server, page, width) -> None:
    from openem.devices import service as ds

    db = Database(server.db_url)
    with db.uow() as uow:
        ds.receive_stock(uow.session, actor="store", depot="CARDIFF", at=utcnow(),
                         devices=[{"device_id": f"E2E-TR-{width}-{i}", "device_kind": "RF_TAG"} for i in range(2)])  # fmt: skip
    db.dispose()
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, server, "demo-field-officer")
    page.goto(server.base + "/devices/stock/transfers")
    page.get_by_label("From depot").select_option("CARDIFF")
    page.get_by_label("To depot").fill("SWANSEA")
    page.get_by_label("Serials").fill(f"E2E-TR-{width}-0\nE2E-TR-{width}-1")
    click_and_wait(page, page.get_by_role("button", name="Send the devices"))
    assert "its devices are in transit" in page.locator("main").inner_text()
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.locator("#moving tr", has_text=f"E2E-TR-{width}-0").get_by_role("button").click()
    page.wait_for_selector("text=its devices are in stock")
    assert_accessible(page)
