"""A hub caseworker uploads a force's batch, reads the result with its refused row, opens the matches with the
purpose recorded and the evidence for the wearer at the scene, with the map drawn on the server (no tiles), in
a real browser at 1,280 px and on a 390-px phone: axe on every page, nothing wider than the phone."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from tests.crime_worlds import SCENE, crime_line
from tests.e2e.conftest import assert_accessible, click_and_wait, sign_in

from openem.devices.tables import ActivationRow
from openem.orders.samples import sample_order
from openem.orders.seeding import load_orders
from openem.store.db import Database
from openem.telemetry.tables import TrailPointRow

pytestmark = pytest.mark.e2e
NOW = datetime.now(UTC).replace(microsecond=0)
FROM = NOW - timedelta(hours=5)


def _scene(n: int) -> tuple[float, float]:
    return SCENE[0] + 0.05 * n, SCENE[1]  # each run its own scene: the server's database is shared


def _seed(server, n: int) -> None:
    scene = _scene(n)
    doc = sample_order(NOW, random.Random(40 + n))
    ref, person, dev = f"ORD-E2ECRM{n}", f"PER-E2E-CRM{n}", f"GPS-E2E-CRM{n}"
    doc["ref"], doc["person_id"] = ref, person
    doc["offence_risk"]["specials"] = False
    doc["conditions"]["trail"] = {
        "start": (NOW - timedelta(days=9)).isoformat(),
        "end": (NOW + timedelta(days=9)).isoformat(),
    }
    db = Database(server.db_url)
    with db.uow() as uow:
        load_orders(uow.session, [doc], actor="e2e", now=NOW)
        uow.session.merge(ActivationRow(activation_id=f"ACT-{dev}", device_id=dev, device_kind="GPS_TAG", order_ref=ref,
                                        person_id=person, role="WEARER", start=NOW - timedelta(days=5), end=None))  # fmt: skip
        for m in range(-30, 90):
            at_scene = 10 <= m <= 13
            lat = scene[0] + (0 if at_scene else 0.0004 * (m - 11))
            uow.session.merge(TrailPointRow(device_id=dev, seq=m + 100, person_id=person, activation_id=f"ACT-{dev}",
                                            device_time=FROM + timedelta(minutes=m), lat=lat, lon=scene[1], accuracy_m=9.0))  # fmt: skip
    db.dispose()


def _no_wider_than_the_phone(page, width):
    if width == 390:
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner, (scroll, inner)


@pytest.mark.parametrize("width,height", [(1280, 900), (390, 844)])
def test_caseworker_uploads_a_batch_and_reads_the_evidence(page, server, tmp_path, width, height):
    n = 1 if width == 1280 else 2
    _seed(server, n)
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, server, "demo-crime-matching-caseworker")
    page.goto(server.base + "/crime")
    assert_accessible(page)
    f = tmp_path / f"WMP-{n}.csv"
    f.write_text(crime_line(f"E2E/{n}", _scene(n), FROM, FROM + timedelta(hours=1)) + "\r\n"
                 + crime_line(f"E2E/{n}B", _scene(n), FROM, FROM - timedelta(hours=1)) + "\r\n")  # fmt: skip
    page.get_by_label("Upload a force's crime batch").set_input_files(str(f))
    click_and_wait(page, page.get_by_role("button", name="Upload and match"))
    expect(page.get_by_text("1 row was refused")).to_be_visible()
    assert "Make the date to the same as or later than the date from" in page.content()
    assert_accessible(page)
    _no_wider_than_the_phone(page, width)
    page.get_by_label("Why are you looking?").fill("ruling suspects in or out")
    click_and_wait(page, page.get_by_role("button", name="Show matches"))
    assert f"PER-E2E-CRM{n}" in page.content()
    assert_accessible(page)
    _no_wider_than_the_phone(page, width)
    click_and_wait(page, page.get_by_role("link", name=f"A1 evidence for E2E/{n}"))
    expect(page.get_by_role("heading", name=f"Pass A1: PER-E2E-CRM{n}")).to_be_visible()
    assert page.locator("svg[role=img] circle").count() >= 3
    assert_accessible(page)
    _no_wider_than_the_phone(page, width)


@pytest.mark.parametrize("width,height", [(1280, 900), (390, 844)])
def test_caseworker_searches_a_place_and_a_window(page, server, width, height):
    n = 3 if width == 1280 else 4
    _seed(server, n)
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, server, "demo-crime-matching-caseworker")
    page.goto(server.base + "/crime/search")
    assert_accessible(page)
    lat, lon = _scene(n)
    page.get_by_label("Latitude").fill(str(lat))
    page.get_by_label("Longitude").fill(str(lon))
    page.get_by_label("From").fill(FROM.isoformat())
    page.get_by_label("To", exact=True).fill((FROM + timedelta(hours=2)).isoformat())
    page.get_by_label("Why are you looking?").fill("who was near the shop")
    click_and_wait(page, page.get_by_role("button", name="Search"))
    assert f"PER-E2E-CRM{n}" in page.content()
    assert_accessible(page)
    _no_wider_than_the_phone(page, width)
