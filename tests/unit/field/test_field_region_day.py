"""Issue 14: a region's day planned with its real officers (trainings, pairs) from the command and from the
supervisor's page; a two-officer visit is on both officers' day lists, each naming the partner; what cannot be
planned is said with why."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from openem.auth.tables import AuditRow, UserRow
from openem.core.errors import Invalid
from openem.core.time import local_date, utcnow
from openem.field import dayplan
from openem.field import queries as fq
from openem.field import service as fs

DAY = "2026-12-01"
T0 = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # before the shift: the whole day is planned


def _seed(session: Any, officers: list[str]) -> None:
    """Six Cardiff visits (one alcohol, one high-risk), one whose address needs checking, one in London."""
    for i in range(6):
        fs.create_visit(session, actor="t", kind="FIT", order_ref=f"CDF-{i}", at=T0 - timedelta(hours=3),
                        lat=51.47 + 0.01 * i, lon=-3.17 - 0.01 * i)  # fmt: skip
    session.get(fs.VisitRow, "FIT-CDF-1").needs_skill = "ALCOHOL"
    session.get(fs.VisitRow, "FIT-CDF-2").officers_needed = 2
    fs.create_visit(session, actor="t", kind="FIT", order_ref="CDF-CHECK", at=T0, lat=None, lon=None)
    session.get(fs.VisitRow, "FIT-CDF-CHECK").postcode, session.get(fs.VisitRow, "FIT-CDF-CHECK").address_check = (
        "CF10 9ZZ", "UNKNOWN")  # fmt: skip
    fs.create_visit(session, actor="t", kind="FIT", order_ref="LDN-1", at=T0, lat=51.5, lon=-0.12)
    for o in officers:
        dayplan.set_officer_region(session, actor="sup", officer=o, code="south_wales", at=T0)
    fs.set_officer_skills(session, actor="sup", officer=officers[0], skills=["ALCOHOL"], at=T0)


def test_the_region_day_is_planned_with_trainings_and_pairs(world: Any) -> None:
    with world.db.uow() as uow:
        s = uow.session
        _seed(s, ["fo-a", "fo-b", "fo-c"])
        plan = dayplan.plan_region_visits(s, actor="sup", code="SOUTH_WALES", day=DAY, now=T0, seconds=20,
                                          iterations=300)  # fmt: skip
        assert len(plan.crews) == 1  # one high-risk visit waiting: one pair for the day
        a, b = plan.crews[0]
        for officer in (a, b):  # the pair's visit on both days, the partner named
            mine = {v["visit_id"]: v for v in fq.todays_visits(s, officer, DAY)}
            assert "FIT-CDF-2" in mine and {mine["FIT-CDF-2"]["officer"], mine["FIT-CDF-2"]["partner"]} == {
                a,
                b,
            }
        alcohol = fq.visit(s, "FIT-CDF-1")
        assert "fo-a" in (alcohol["officer"], alcohol["partner"])  # type: ignore[index]  # only fo-a is trained
        planned = {v for r in plan.routes.values() for v in r}
        assert {f"FIT-CDF-{i}" for i in range(6)} <= planned
        assert ("FIT-CDF-CHECK", dayplan.WHY_ADDRESS) in plan.unplanned
        assert fq.visit(s, "FIT-LDN-1")["planned_for"] == ""  # type: ignore[index]  # another region's
        assert s.execute(
            select(AuditRow).where(AuditRow.action == f"field:plan:region:SOUTH_WALES:{DAY}")
        ).first()


def test_a_region_without_officers_or_an_unknown_region_is_said(world: Any) -> None:
    with world.db.uow() as uow:
        fs.create_visit(uow.session, actor="t", kind="FIT", order_ref="CDF-9", at=T0, lat=51.48, lon=-3.18)
        plan = dayplan.plan_region_visits(uow.session, actor="sup", code="SOUTH_WALES", day=DAY, now=T0,
                                          seconds=5, iterations=50)  # fmt: skip
        assert plan.unplanned == [("FIT-CDF-9", dayplan.WHY_NOBODY)]
        with pytest.raises(Invalid, match="Unknown region"):
            dayplan.plan_region_visits(uow.session, actor="sup", code="ATLANTIS", day=DAY, now=T0)
        with pytest.raises(Invalid, match="real date"):
            dayplan.plan_region_visits(uow.session, actor="sup", code="SOUTH_WALES", day="3 Dec", now=T0)


def test_the_plan_day_command_prints_routes_and_what_is_left(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from openem.cli import main
    from openem.field import planning
    from openem.store.db import Database

    monkeypatch.setenv("OPENEM_DATABASE_URL", sqlite_url)
    db = Database(sqlite_url)
    with db.uow() as uow:
        _seed(uow.session, ["fo-a", "fo-b", "fo-c"])
    db.dispose()
    real = planning.plan_region
    monkeypatch.setattr(dayplan, "plan_region", lambda *a, **k: real(*a, **{**k, "iterations": 300}))
    tomorrow = (local_date(utcnow()) + timedelta(days=1)).isoformat()  # the command plans from now
    assert main(["field", "plan-day", "--region", "SOUTH_WALES", "--date", tomorrow, "--seconds", "20"]) == 0
    out = capsys.readouterr().out
    assert f"South Wales (Cardiff depot), {tomorrow}: 3 officers, 6 visits planned" in out
    assert re.search(r"fo-\w \(with fo-\w\): \d+ visits", out)  # the pair, each naming the other
    assert "not planned: FIT-CDF-CHECK: the address needs checking" in out
    assert "FIT-LDN-1" not in out
    assert main(["field", "plan-day", "--region", "NOWHERE", "--date", DAY]) == 2
    assert "Unknown region" in capsys.readouterr().err
    assert main(["field", "officer", "--officer", "fo-z", "--region", "south_wales"]) == 0
    assert "fo-z: no trainings; region SOUTH_WALES" in capsys.readouterr().out
    assert main(["field", "officer", "--officer", "fo-z", "--region", "MORDOR"]) == 2


def test_a_supervisor_plans_the_day_on_the_page(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from openem.field.web import region, views

    monkeypatch.setattr(region, "PLAN_ITERATIONS", 300)
    monkeypatch.setattr(region, "utcnow", lambda: T0)
    with world.db.uow() as uow:
        users = {u.username: u for u in uow.session.execute(select(UserRow)).scalars()}
        sup = users["demo-field-officer"]
        sup.extra_permissions = ["visits:supervise"]
        others = [u for n, u in users.items() if n != "demo-field-officer"][:2]
        _seed(uow.session, [sup.id] + [u.id for u in others])
        uow.session.get(
            fs.VisitRow, "FIT-CDF-2"
        ).needs_skill = "ALCOHOL"  # the pair keeps the trained officer
        names = [sup.display_name] + [u.display_name for u in others]
    c = world.signed_in("demo-field-officer")
    page = c.get(f"/field/supervise/day?region=SOUTH_WALES&day={DAY}")
    assert page.status_code == 200 and "Plan the day" in page.text
    token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)  # type: ignore[union-attr]
    done = c.post("/field/supervise/day", data={"csrf_token": token, "region": "SOUTH_WALES", "day": DAY})
    assert done.status_code == 200
    assert all(n in done.text for n in names)
    assert done.text.count("FIT-CDF-2") == 2  # the two-officer visit on both officers' lists
    assert re.search(r"with (" + "|".join(map(re.escape, names)) + r")", done.text)
    assert "FIT-CDF-CHECK: the address needs checking" in done.text and 'id="region-map"' in done.text
    bad = c.post("/field/supervise/day", data={"csrf_token": token, "region": "SOUTH_WALES", "day": "soon"})
    assert "Enter a real date" in bad.text
    # the officer of the pair sees the visit on their own day with the partner named
    monkeypatch.setattr(views, "utcnow", lambda: T0)
    mine = c.get(f"/field/visits?day={DAY}")
    assert "order CDF-2" in mine.text and re.search(
        r"With (" + "|".join(map(re.escape, names[1:])) + r")", mine.text
    )


def test_without_the_permission_the_page_is_refused(world: Any) -> None:
    assert world.signed_in("demo-field-officer").get("/field/supervise/day").status_code == 403


def test_a_plan_during_the_day_starts_each_officer_where_they_are() -> None:
    from openem.field.planning import Officer, Stop, plan_region

    depot = (51.4816, -3.1791)  # Cardiff
    swansea = [Stop(f"SA{i}", 51.62 + 0.004 * i, -3.94 + 0.004 * i, 0, 400, 20_000) for i in range(4)]
    cardiff = [Stop(f"CF{i}", 51.48 + 0.004 * i, -3.18 - 0.004 * i, 0, 400, 20_000) for i in range(4)]
    officers = [Officer("ann"), Officer("bob"), Officer("cat")]
    # ann is in Swansea now and free; bob is busy until the shift is nearly over; cat is at the depot
    starts = {"ann": (51.62, -3.94, 0), "bob": (51.48, -3.18, 395)}
    plan = plan_region(depot, officers, swansea + cardiff, 420, 20, iterations=300, starts=starts)
    assert set(plan.routes["ann"]) >= {
        s.visit_id for s in swansea
    }  # she is there: the others would drive 2.6 h
    assert plan.routes["bob"] == []  # no time left before he must be back at the depot
    assert set(plan.routes["cat"]) | set(plan.routes["ann"]) >= {s.visit_id for s in cardiff}
