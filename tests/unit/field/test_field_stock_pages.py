"""The officer's visit page shows the home on the map (or why not), bookings from the phone, re-planning, and
the stock pages with their forecast chart; bad input answered on the page, never a 500."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from openem.auth.tables import UserRow
from openem.core.time import local_date, utcnow
from openem.devices import service as ds
from openem.field import service as fs


def _token(page: Any) -> str:
    return re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)  # type: ignore[union-attr]


def _setup(world: Any) -> str:
    with world.db.uow() as uow:
        officer = uow.session.execute(
            select(UserRow).where(UserRow.username == "demo-field-officer")
        ).scalar_one()
        fake = SimpleNamespace(session=uow.session, add_event=uow.add_event)
        now = utcnow()
        for ref, pc in (("ORD-HOME", "CF10 1AA"), ("ORD-NOWHERE", "ZZ99 9ZZ")):
            fs.on_order_accepted({"order_ref": ref, "request_type": "NEW", "accepted_at": now.isoformat(),
                                  "order": {"person_id": "P9", "addresses": [{"type": "PRIMARY", "postcode": pc}]}},
                                 fake)  # fmt: skip
        fs.plan_day(uow.session, actor="t", officer=officer.id, day=local_date(now).isoformat(),
                    visit_ids=["FIT-ORD-HOME", "FIT-ORD-NOWHERE"])  # fmt: skip
        ds.receive_stock(uow.session, actor="store", depot="CARDIFF", at=now,
                         devices=[{"device_id": f"RF{i}", "device_kind": "RF_TAG"} for i in range(3)])  # fmt: skip
        return str(officer.id)


def test_visit_page_shows_the_home_and_an_address_check(world: Any) -> None:
    _setup(world)
    c = world.signed_in("demo-field-officer")
    home = c.get("/field/visits/FIT-ORD-HOME")
    assert home.status_code == 200 and 'id="route-map"' in home.text and "51.47" in home.text
    assert "the centre of postcode CF10 1AA" in home.text
    nowhere = c.get("/field/visits/FIT-ORD-NOWHERE")
    assert (
        "This visit needs an address check" in nowhere.text
        and "ZZ99 9ZZ is not in the postcode list" in nowhere.text
    )
    assert 'id="route-map"' not in nowhere.text
    day = c.get("/field/visits")
    assert "Check address" in day.text and "1. Fit tag ORD-HOME" in day.text.replace("&#34;", '"')


def test_booking_from_the_phone_with_bad_input(world: Any) -> None:
    _setup(world)
    c = world.signed_in("demo-field-officer")
    token = _token(c.get("/field/visits/FIT-ORD-HOME"))
    for day, at, message in (("not-a-day", "10:00", "Enter a real day"), ("2020-01-01", "10:00", "in the future"),
                             ((utcnow() + timedelta(days=1)).date().isoformat(), "23:30", "between 7am and 9pm"),
                             ("2026-13-45", "99:99", "Enter a real day")):  # fmt: skip
        bad = c.post("/field/visits/FIT-ORD-HOME/appointment",
                     data={"csrf_token": token, "appointment_day": day, "appointment_time": at})  # fmt: skip
        assert bad.status_code == 422 and message in bad.text
    tomorrow = (local_date(utcnow()) + timedelta(days=1)).isoformat()
    ok = c.post("/field/visits/FIT-ORD-HOME/appointment",
                data={"csrf_token": token, "appointment_day": tomorrow, "appointment_time": "14:30"})  # fmt: skip
    assert ok.status_code == 200 and "Visit booked for" in ok.text and "2:30pm" in ok.text
    assert c.post("/field/visits/FIT-OTHER/appointment", data={"csrf_token": token}).status_code == 404


def test_replan_from_the_page_and_after_a_failed_attempt(world: Any) -> None:
    _setup(world)
    c = world.signed_in("demo-field-officer")
    token = _token(c.get("/field/visits"))
    page = c.post("/field/visits/replan", data={"csrf_token": token, "day": "garbage"})
    assert page.status_code == 200 and "Your day was re-planned" in page.text
    assert "FIT-ORD-NOWHERE: The address needs checking" in page.text


def test_stock_pages_forecast_and_moves(world: Any) -> None:
    _setup(world)
    c = world.signed_in("demo-field-officer")
    stock = c.get("/devices/stock")
    assert stock.status_code == 200 and "CARDIFF" in stock.text and "Reorder" in stock.text  # 3 < 20
    fc = c.get("/devices/stock/CARDIFF/forecast")
    assert fc.status_code == 200 and "<svg" in fc.text and "reorder before then" in fc.text
    assert c.get("/devices/stock/NOWHERE/forecast").status_code == 404
    dev = c.get("/devices/RF0")
    token = _token(dev)
    bad = c.post("/devices/RF0", data={"csrf_token": token, "to": "FITTED", "reason": "x"})
    assert bad.status_code == 422 and "fittings are recorded on a visit" in bad.text
    bad = c.post("/devices/RF0", data={"csrf_token": token, "to": "RETIRED", "reason": "worn out"})
    assert bad.status_code == 422 and "cannot go from IN_STOCK to RETIRED" in bad.text
    bad = c.post("/devices/RF0", data={"csrf_token": token, "to": "ALLOCATED", "reason": "x" * 500})
    assert bad.status_code == 422 and "200 characters" in bad.text and "Enter the officer" in bad.text
    ok = c.post("/devices/RF0", data={"csrf_token": token, "to": "FAULTY", "reason": "strap broken"})
    assert ok.status_code == 200 and "Faulty" in ok.text and "strap broken" in ok.text
    assert c.get("/devices/NO-SUCH").status_code == 404
    mc = world.signed_in("demo-mc-operator")
    assert mc.get("/devices/stock").status_code == 200
    assert mc.post("/devices/RF1", data={"csrf_token": _token(mc.get("/devices/RF1")), "to": "LOST",
                                         "reason": "x"}).status_code == 403  # fmt: skip


def test_measures_page_sets_success_beside_attempts(world: Any) -> None:
    _setup(world)
    with world.db.uow() as uow:
        fs.record_attempt(
            uow.session, actor="fo", visit_id="FIT-ORD-HOME", outcome="NOT_AT_HOME", at=utcnow()
        )
    analyst = world.signed_in("demo-analyst")
    page = analyst.get("/field/measures")
    assert page.status_code == 200
    assert "0.0% (0 of 2)" in page.text  # nobody fitted yet: success is nil whatever the attempts
    assert "1 open visits need an address check" in page.text
    assert world.signed_in("demo-field-officer").get("/field/measures").status_code == 403


def test_an_address_check_is_resolved_on_the_page(world: Any) -> None:
    _setup(world)
    c = world.signed_in("demo-field-officer")
    token = _token(c.get("/field/visits/FIT-ORD-NOWHERE"))
    for data, message in (({"postcode": "ZZ99 9ZZ"}, "is not in the postcode list"),
                          ({"postcode": "<b>x</b>"}, "is not a UK postcode"),
                          ({"postcode": ""}, "Enter the postcode, or place the pin"),
                          ({"lat": "north", "lon": "-3"}, "two numbers"),
                          ({"lat": "0", "lon": "0"}, "in Great Britain"),
                          ({"lat": "nan", "lon": "nan"}, "in Great Britain")):  # fmt: skip
        bad = c.post("/field/visits/FIT-ORD-NOWHERE/address", data={"csrf_token": token, **data})
        assert bad.status_code == 422 and message in bad.text, data
        assert "&lt;b&gt;" in bad.text or "<b>x</b>" not in bad.text
    ok = c.post("/field/visits/FIT-ORD-NOWHERE/address", data={"csrf_token": token, "postcode": "cf10 1ab"})
    assert ok.status_code == 200 and "needs an address check" not in ok.text and 'id="route-map"' in ok.text
    assert "postcode CF10 1AB" in ok.text
