"""Addresses get coordinates offline, the contract's rules as data, install at source, bookings and reminders,
order errors fed back, re-planning a day, and the stock forecast: as a user would notice them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from openem.core.errors import Conflict, Invalid
from openem.devices import service as ds
from openem.devices import stock
from openem.field import contract, planning
from openem.field import queries as fq
from openem.field import service as fs
from openem.field.geocode import CodePointOpen, Located, NotLocated, normalise_postcode

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def session(sqlite_url: str) -> Iterator[Session]:
    engine = sa.create_engine(sqlite_url)
    with Session(engine) as s:
        yield s
    engine.dispose()


def _uow(session: Session) -> Any:
    events: list[Any] = []
    return SimpleNamespace(session=session, events=events, add_event=events.append)


def _order(ref: str, postcode: str | None, **extra: Any) -> dict[str, Any]:
    addr: dict[str, Any] = {"type": "PRIMARY", "line1": "1 Test Street"}
    if postcode is not None:
        addr["postcode"] = postcode
    return {"order_ref": ref, "request_type": "NEW", "accepted_at": extra.pop("at", T0).isoformat(),
            "order": {"person_id": "P1", "addresses": [addr], **extra}}  # fmt: skip


def test_postcodes_are_located_offline_and_bad_ones_say_why() -> None:
    g = CodePointOpen()
    found = g.locate("sw1a1aa")
    assert isinstance(found, Located) and found.postcode == "SW1A 1AA"
    assert abs(found.lat - 51.501) < 0.001 and abs(found.lon + 0.1416) < 0.001
    unknown = g.locate("ZZ99 9ZZ")
    assert isinstance(unknown, NotLocated) and unknown.reason == "UNKNOWN"
    assert "ZZ99 9ZZ is not in the postcode list" in unknown.message
    for hostile in ("../../etc/passwd", "A" * 10_000, "SW1A 1AA; DROP TABLE", "", "١٢٣", "\x00SW1A1AA"):
        bad = g.locate(hostile)
        assert isinstance(bad, NotLocated) and bad.reason == "MALFORMED"
    assert normalise_postcode(" ec1a 1bb ") == "EC1A 1BB"


def test_an_order_entered_with_only_a_postcode_gets_coordinates(session: Session) -> None:
    uow = _uow(session)
    fs.on_order_accepted(_order("ORD-PC", "CF10 1AA"), uow)
    v = fq.visit(session, "FIT-ORD-PC")
    assert v is not None and v["address_check"] == "LOCATED" and not v["needs_address_check"]
    assert abs(v["lat"] - 51.479) < 0.001 and v["postcode"] == "CF10 1AA"
    assert [e.topic for e in uow.events] == ["field.AddressLocated"]


@pytest.mark.parametrize(
    "postcode,check", [("ZZ99 9ZZ", "UNKNOWN"), ("not-a-postcode", "MALFORMED"), (None, "NO_POSTCODE")]
)
def test_an_unknown_postcode_makes_a_visit_needing_an_address_check(session: Session, postcode: str | None,
                                                                    check: str) -> None:  # fmt: skip
    uow = _uow(session)
    fs.on_order_accepted(_order("ORD-X", postcode), uow)
    v = fq.visit(session, "FIT-ORD-X")
    assert v is not None and v["address_check"] == check and v["needs_address_check"] and v["lat"] is None
    assert "check the address before planning" in v["address_message"]
    assert uow.events[0].topic == "field.AddressCheckNeeded"
    assert [x["visit_id"] for x in fq.needing_address_check(session)] == ["FIT-ORD-X"]
    # the planner leaves it out and says why, rather than failing
    fs.on_order_accepted(_order("ORD-OK", "CF10 1AB"), uow)
    order, why = planning.replan_day(session, actor="t", officer="fo1", day="2026-12-01", now=T0, reason="test",
                                     add=["FIT-ORD-X", "FIT-ORD-OK"])  # fmt: skip
    assert order == ["FIT-ORD-OK"] and "address needs checking" in why["FIT-ORD-X"]


def test_contract_rules_adult_youth_special_and_london_deadlines() -> None:
    summer = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
    assert contract.deadline("ADULT", summer) == datetime(2026, 7, 2, 23, 0, tzinfo=UTC)  # midnight BST
    assert contract.deadline("ADULT", T0) == datetime(2026, 12, 3, 0, 0, tzinfo=UTC)
    assert contract.deadline("SPECIAL", T0) == datetime(2026, 12, 2, 0, 0, tzinfo=UTC)
    assert contract.rule_of({"monitoring": {"cohort": "SPECIALS"}}, T0) == "SPECIAL"
    assert contract.rule_of({"offence_risk": {"specials": True}}, T0) == "SPECIAL"
    assert contract.rule_of({"device_wearer": {"date_of_birth": "2010-01-01"}}, T0) == "YOUTH"
    assert contract.rule_of({"device_wearer": {"date_of_birth": "1990-01-01"}}, T0) == "ADULT"
    assert contract.rule_of({"device_wearer": {"date_of_birth": "not a date"}}, T0) == "ADULT"
    assert contract.rule_of({"monitoring": "garbage", "device_wearer": ["x"]}, T0) == "ADULT"


def test_fitted_within_two_visits_beside_two_attempts_made() -> None:
    due = contract.deadline("ADULT", T0)
    visits = [
        contract.FitVisit(
            "ADULT", T0, [(T0, "NOT_AT_HOME"), (T0 + timedelta(hours=3), "REFUSED")]
        ),  # attempts met
        contract.FitVisit("ADULT", T0, [(T0, "FITTED")]),
        contract.FitVisit("ADULT", T0, [(T0, "NOT_AT_HOME"), (due + timedelta(hours=1), "FITTED")]),  # late
        contract.FitVisit("YOUTH", T0, []),
    ]
    m = contract.contract_measure(visits)
    assert (m.fittings, m.fitted_within_standard, m.attempts_made_by_deadline, m.fitted_at_all) == (
        4,
        2,
        2,
        2,
    )
    assert m.by_rule["YOUTH"] == {"fittings": 1, "fitted_within_standard": 0, "attempts_met": 0}
    b = contract.backlog(
        [("FIT", T0 - timedelta(days=4)), ("FIT", T0), ("RECOVER", T0 - timedelta(days=10))], T0
    )
    assert (b.outstanding, b.older_than_limit, b.by_kind) == (3, 2, {"FIT": 1, "RECOVER": 1})


def test_install_at_prison_before_release_is_booked_at_the_gate(session: Session) -> None:
    uow = _uow(session)
    ev = _order("ORD-GATE", "CF10 1AA", installation={"location": "PRISON"},
                conditions={"curfew": {"release_date": "2026-12-04"}})  # fmt: skip
    ev["order"]["addresses"].append({"type": "INSTALLATION", "postcode": "CF24 0UG"})
    fs.on_order_accepted(ev, uow)
    v = fq.visit(session, "FIT-ORD-GATE")
    assert v is not None and v["location"] == "PRISON" and v["priority"] == 2
    assert v["appointment_at"] == datetime(2026, 12, 4, 7, 30, tzinfo=UTC)  # 07:30 GMT on release day
    assert fq.visit(session, "FIT-ORD-GATE")["due_by"] == datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # type: ignore[index]


def test_booking_and_reminders_once_each(session: Session) -> None:
    uow = _uow(session)
    fs.on_order_accepted(_order("ORD-B", "CF10 1AA"), uow)
    with pytest.raises(Invalid, match="future"):
        planning.book_appointment(
            session, actor="fo1", visit_id="FIT-ORD-B", at=T0 - timedelta(hours=1), now=T0
        )
    with pytest.raises(Invalid, match="between 7am and 9pm"):
        planning.book_appointment(session, actor="fo1", visit_id="FIT-ORD-B", at=T0.replace(hour=23), now=T0)
    with pytest.raises(Invalid, match="30 days"):
        planning.book_appointment(
            session, actor="fo1", visit_id="FIT-ORD-B", at=T0 + timedelta(days=60), now=T0
        )
    appt = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)
    assert planning.book_appointment(session, actor="fo1", visit_id="FIT-ORD-B", at=appt, now=T0) == ""
    out: list[Any] = []
    assert planning.due_reminders(session, now=T0, publish=out.append) == []
    assert planning.due_reminders(session, now=appt - timedelta(hours=23), publish=out.append) == [
        "FIT-ORD-B:24"
    ]
    assert planning.due_reminders(session, now=appt - timedelta(hours=22), publish=out.append) == []
    assert planning.due_reminders(session, now=appt - timedelta(hours=1), publish=out.append) == [
        "FIT-ORD-B:2"
    ]
    assert [(e.topic, e.hours_before) for e in out] == [
        ("field.VisitReminderDue", 24),
        ("field.VisitReminderDue", 2),
    ]
    late = planning.book_appointment(session, actor="fo1", visit_id="FIT-ORD-B", at=datetime(2026, 12, 5, 10,
                                     tzinfo=UTC), now=T0)  # fmt: skip
    assert late == "This is after the contract deadline"
    # booked an hour ahead: one reminder, not two
    planning.book_appointment(session, actor="fo1", visit_id="FIT-ORD-B", at=T0 + timedelta(hours=1), now=T0)
    assert planning.due_reminders(session, now=T0, publish=out.append) == ["FIT-ORD-B:2"]
    assert planning.due_reminders(session, now=T0 + timedelta(minutes=30), publish=out.append) == []


def test_order_error_is_fed_back_and_wrong_address_needs_a_check(session: Session) -> None:
    uow = _uow(session)
    fs.on_order_accepted(_order("ORD-E", "CF10 1AA"), uow)
    fs.on_order_accepted(_order("ORD-W", "CF10 1AB"), uow)
    uow.events.clear()
    fs.record_attempt(session, actor="fo1", visit_id="FIT-ORD-E", outcome="ORDER_ERROR", at=T0,
                      note="wrong person named", publish=uow.add_event)  # fmt: skip
    assert [(e.topic, e.order_ref, e.note) for e in uow.events] == [
        ("field.OrderErrorReported", "ORD-E", "wrong person named")]  # fmt: skip
    with pytest.raises(Conflict, match="already recorded"):  # a double tap on the phone
        fs.record_attempt(session, actor="fo1", visit_id="FIT-ORD-E", outcome="ORDER_ERROR", at=T0 + timedelta(
            seconds=5), publish=uow.add_event)  # fmt: skip
    fs.record_attempt(session, actor="fo1", visit_id="FIT-ORD-W", outcome="WRONG_ADDRESS", at=T0)
    w = fq.visit(session, "FIT-ORD-W")
    assert w is not None and w["needs_address_check"] and "wrong" in w["address_message"]


def test_a_failed_visit_is_tried_again_later_and_an_overfull_day_says_what_cannot_be_done(
    session: Session,
) -> None:
    uow = _uow(session)
    refs = [f"ORD-{i}" for i in range(30)]
    codes = ["CF10 1AA", "CF10 1AB", "CF10 1AD", "CF24 0UG", "CF11 9LJ", "CF14 3UZ"]
    for i, ref in enumerate(refs):
        fs.on_order_accepted(_order(ref, codes[i % len(codes)]), uow)
    morning = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    order, why = planning.replan_day(session, actor="t", officer="fo1", day="2026-12-01", now=morning,
                                     reason="start of day", add=[f"FIT-{r}" for r in refs], seconds=60, iterations=300)  # fmt: skip
    assert 10 <= len(order) < 30 and len(order) + len(why) == 30  # 12 hours of 30-minute visits: not all 30
    assert all(w == "It does not fit in the rest of the shift with the other visits" for w in why.values())
    first = order[0]
    at = morning + timedelta(minutes=20)
    fs.record_attempt(session, actor="fo1", visit_id=first, outcome="NOT_AT_HOME", at=at)
    again, _ = planning.replan_day(session, actor="t", officer="fo1", day="2026-12-01", now=at,
                                   reason=f"{first} failed", seconds=60, iterations=300)  # fmt: skip
    assert first in again and again.index(first) > 0  # tried again later in the day, not next
    last = planning.last_replan(session, "fo1", "2026-12-01")
    assert last is not None and last["reason"] == f"{first} failed"
    with pytest.raises(Invalid):
        planning.replan_day(session, actor="t", officer="fo1", day="31/12/2026", now=at, reason="x")
    late, why_late = planning.replan_day(session, actor="t", officer="fo1", day="2026-12-01",
                                         now=datetime(2026, 12, 1, 21, 0, tzinfo=UTC), reason="after the shift")  # fmt: skip
    assert late == [] and why_late


def test_stock_receive_allocate_and_forecast(session: Session) -> None:
    ds.receive_stock(session, actor="store", depot="cardiff", at=T0,
                     devices=[{"device_id": f"RF{i}", "device_kind": "RF_TAG"} for i in range(25)])  # fmt: skip
    with pytest.raises(Conflict, match="already in the inventory"):
        ds.receive_stock(session, actor="store", depot="CARDIFF", at=T0, devices=[{"device_id": "RF1",
                         "device_kind": "RF_TAG"}])  # fmt: skip
    with pytest.raises(Invalid, match="kind"):
        ds.receive_stock(
            session, actor="store", depot="CARDIFF", at=T0, devices=[{"device_id": "Z", "device_kind": "X"}]
        )
    with pytest.raises(Invalid, match="depot"):
        ds.receive_stock(session, actor="store", depot="  ", at=T0, devices=[])
    ds.allocate(session, actor="store", device_id="RF1", officer="fo2", at=T0)
    uow = _uow(session)
    fs.on_order_accepted(_order("ORD-S", "CF10 1AA"), uow)
    with pytest.raises(Conflict, match="another officer"):
        fs.record_attempt(
            session, actor="fo1", visit_id="FIT-ORD-S", outcome="FITTED", at=T0, device_id="RF1"
        )
    fs.record_attempt(session, actor="fo2", visit_id="FIT-ORD-S", outcome="FITTED", at=T0, device_id="RF1")
    rules = stock.load_stock_rules()
    weeks = stock.forecast(in_stock=24, weekly_fits=4, weekly_ends=2, start=date(2026, 12, 7), rules=rules,
                           threshold_level=20, weeks=8)  # fmt: skip
    assert weeks[0].stock == pytest.approx(24 - 4 + 1.2)
    assert stock.reorder_week(weeks) == date(2026, 12, 14)  # 21.2, then 18.4 < 20
    risen = stock.forecast(in_stock=100, weekly_fits=10, weekly_ends=0, start=date(2026, 12, 28), rules=rules,
                           threshold_level=0, weeks=2)  # fmt: skip
    assert risen[0].fits == 10 and risen[1].fits == pytest.approx(
        10 * (1 + stock.demand_rise(rules)), abs=0.1
    )
    assert 0.25 < stock.demand_rise(rules) < 0.3


def test_cli_replan_adds_urgent_work_and_refuses_bad_input(
    sqlite_url: str, monkeypatch: Any, capsys: Any
) -> None:
    from openem.cli import main
    from openem.store.db import Database

    monkeypatch.setenv("OPENEM_DATABASE_URL", sqlite_url)
    db = Database(sqlite_url)
    with db.uow() as uow:
        fs.on_order_accepted(_order("ORD-URG", "CF10 1AA"), SimpleNamespace(session=uow.session,
                             add_event=uow.add_event))  # fmt: skip
    db.dispose()
    day = date.today().isoformat()
    assert main(["field", "replan", "--officer", "fo1", "--day", day, "--add", "FIT-ORD-URG"]) == 0
    out = capsys.readouterr().out
    assert "FIT-ORD-URG" in out
    assert main(["field", "replan", "--officer", "fo1", "--day", day, "--add", "FIT-NOPE"]) == 2
    assert "No visit 'FIT-NOPE'" in capsys.readouterr().err
    assert main(["field", "replan", "--officer", "fo1", "--day", "yesterday"]) == 2
    assert main(["field", "geocode", "not a postcode"]) == 1
