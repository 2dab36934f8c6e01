"""Skills and two-officer visits in the region's day: alcohol visits only to trained officers, a high-risk
address visited by a pair at the same time, and a day with more work than officers says what is left and why."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from openem.auth.audit import AuditRow
from openem.core.errors import Invalid
from openem.field import contract, planning
from openem.field import service as fs
from openem.field.planning import Officer, Stop, plan_region

DEPOT = (51.48, -3.18)
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
TRAINED = frozenset({"ALCOHOL"})


def _stops(
    n: int, *, alcohol: set[int] = frozenset(), risky: set[int] = frozenset(), seed: int = 3
) -> list[Stop]:  # type: ignore[assignment]
    r = random.Random(seed)
    return [Stop(f"V{i}", DEPOT[0] + r.uniform(-0.04, 0.04), DEPOT[1] + r.uniform(-0.06, 0.06), 0, 600, 20_000,
                 skill="ALCOHOL" if i in alcohol else "", officers=2 if i in risky else 1) for i in range(n)]  # fmt: skip


def _where(plan: planning.RegionPlan, vid: str) -> list[str]:
    return [name for name, route in plan.routes.items() if vid in route]


def test_alcohol_visits_go_only_to_trained_officers() -> None:
    alcohol = {0, 3, 6, 9, 12, 15}
    officers = [Officer("ann"), Officer("bob", TRAINED), Officer("cat")]
    plan = plan_region(DEPOT, officers, _stops(18, alcohol=alcohol), 600, 30, iterations=400)
    assert plan.unplanned == []  # a light day: everything fits
    for i in alcohol:
        assert _where(plan, f"V{i}") == ["bob"]
    assert plan.routes["ann"] or plan.routes["cat"]  # the untrained still work, on the other visits


def test_alcohol_visit_with_no_trained_officer_is_said_not_planned() -> None:
    plan = plan_region(
        DEPOT, [Officer("ann"), Officer("cat")], _stops(5, alcohol={2}), 600, 30, iterations=200
    )
    assert ("V2", planning.WHY_SKILL) in plan.unplanned
    assert not _where(plan, "V2") and sum(map(len, plan.routes.values())) == 4


def test_high_risk_visit_is_given_two_officers_at_the_same_time() -> None:
    officers = [Officer("ann"), Officer("bob", TRAINED), Officer("cat"), Officer("dan")]
    plan = plan_region(DEPOT, officers, _stops(16, risky={4, 11}, alcohol={1}), 600, 30, iterations=400)
    assert plan.unplanned == []
    assert len(plan.crews) == 1
    a, b = plan.crews[0]
    for vid in ("V4", "V11"):
        assert sorted(_where(plan, vid)) == sorted([a, b])
    # one route for the pair: same visits in the same order, so the same arrival times
    assert plan.routes[a] == plan.routes[b]
    with_v1 = _where(plan, "V1")  # the alcohol visit: bob alone, or the pair bob is in
    assert with_v1 and all(n == "bob" or ("bob" in (a, b) and n in (a, b)) for n in with_v1)


def test_high_risk_alcohol_visit_gets_a_pair_with_a_trained_officer() -> None:
    officers = [Officer("ann"), Officer("cat"), Officer("bob", TRAINED)]
    plan = plan_region(DEPOT, officers, _stops(6, risky={2}, alcohol={2}), 600, 30, iterations=200)
    assert "bob" in plan.crews[0] and "bob" in _where(plan, "V2") and len(_where(plan, "V2")) == 2


def test_high_risk_visit_with_one_officer_on_shift_is_refused_with_why() -> None:
    plan = plan_region(DEPOT, [Officer("ann", TRAINED)], _stops(4, risky={1}), 600, 30, iterations=200)
    assert plan.unplanned == [("V1", planning.WHY_PAIR)]
    assert plan.crews == [] and len(plan.routes["ann"]) == 3


def test_more_work_than_officers_says_what_cannot_be_done() -> None:
    stops = _stops(40, alcohol={0, 1})
    plan = plan_region(DEPOT, [Officer("ann")], stops, 180, 30, iterations=300)  # three hours for 40 visits
    done = plan.routes["ann"]
    left = dict(plan.unplanned)
    assert 0 < len(done) < 40 and len(done) + len(left) == 40  # every visit either planned or said why
    assert {left.get("V0"), left.get("V1")} == {planning.WHY_SKILL}
    assert set(left.values()) == {planning.WHY_SKILL, planning.WHY_FULL}
    assert plan_region(DEPOT, [], stops[:3], 600, 1).unplanned == [
        (s.visit_id, planning.WHY_FULL) for s in stops[:3]
    ]


@pytest.fixture
def session(sqlite_url: str) -> Iterator[Session]:
    engine = sa.create_engine(sqlite_url)
    with Session(engine) as s:
        yield s
    engine.dispose()


def test_skills_on_the_officer_record_audited_and_used_by_replanning(session: Session) -> None:
    with pytest.raises(Invalid, match="Unknown training"):
        fs.set_officer_skills(session, actor="sup", officer="fo1", skills=["FORKLIFT"], at=T0)
    fs.set_officer_skills(session, actor="sup", officer="fo2", skills=["ALCOHOL"], at=T0)
    assert fs.officer_skills(session, "fo2") == TRAINED and fs.officer_skills(session, "fo1") == frozenset()
    rows = (
        session.execute(sa.select(AuditRow).where(AuditRow.action == "field:officer:fo2:skills"))
        .scalars()
        .all()
    )
    assert len(rows) == 1
    uow = SimpleNamespace(session=session, events=[], add_event=lambda e: None)
    alcohol_order = {"person_id": "P1", "addresses": [{"type": "PRIMARY", "lat": 51.48, "lon": -3.18}],
                     "conditions": {"alcohol": {"mode": "ABSTINENCE"}}}  # fmt: skip
    risky_order = {"person_id": "P2", "addresses": [{"type": "PRIMARY", "lat": 51.49, "lon": -3.17}],
                   "offence_risk": {"mappa_level": 3, "risk_categories": []}}  # fmt: skip
    for ref, order in (("ORD-ALC", alcohol_order), ("ORD-RISK", risky_order)):
        fs.on_order_accepted({"order_ref": ref, "request_type": "NEW", "accepted_at": T0.isoformat(),
                              "order": order}, uow)  # fmt: skip
    assert contract.needs_of(alcohol_order) == ("ALCOHOL", 1) and contract.needs_of(risky_order) == ("", 2)
    order, why = planning.replan_day(session, actor="t", officer="fo1", day="2026-12-01", now=T0, reason="start",
                                     add=["FIT-ORD-ALC", "FIT-ORD-RISK"], seconds=10, iterations=100)  # fmt: skip
    assert order == [] and "alcohol-trained" in why["FIT-ORD-ALC"] and "two officers" in why["FIT-ORD-RISK"]
    order2, _ = planning.replan_day(session, actor="t", officer="fo2", day="2026-12-01", now=T0, reason="start",
                                    add=["FIT-ORD-ALC"], seconds=10, iterations=100)  # fmt: skip
    assert order2 == ["FIT-ORD-ALC"]


def test_the_one_officer_route_keeps_alcohol_and_two_officer_visits_for_those_who_can(
    session: Session,
) -> None:
    for ref, lat in (("ORD-1", 51.48), ("ORD-2", 51.49), ("ORD-3", 51.50)):
        fs.create_visit(session, actor="t", kind="FIT", order_ref=ref, at=T0, lat=lat, lon=-3.18)
    session.get(fs.VisitRow, "FIT-ORD-2").needs_skill = "ALCOHOL"  # type: ignore[union-attr]
    session.get(fs.VisitRow, "FIT-ORD-3").officers_needed = 2  # type: ignore[union-attr]
    assert sorted(fs.plan_route(session, actor="t", officer="fo1", day="2026-12-01", seconds=0.2)) == [
        "FIT-ORD-1"
    ]
    fs.set_officer_skills(session, actor="sup", officer="fo2", skills=["ALCOHOL"], at=T0)
    assert "FIT-ORD-2" in fs.plan_route(session, actor="t", officer="fo2", day="2026-12-01", seconds=0.2)


def test_the_skills_command_sets_and_refuses(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from openem.cli import main

    monkeypatch.setenv("OPENEM_DATABASE_URL", sqlite_url)  # already migrated (the sqlite_url fixture)
    assert main(["field", "skills", "--officer", "fo9", "--skill", "alcohol"]) == 0
    assert "fo9: ALCOHOL" in capsys.readouterr().out
    assert main(["field", "skills", "--officer", "fo9", "--skill", "forklift"]) == 2
    assert "Unknown training" in capsys.readouterr().err
