"""The officer's day as it changes: appointments booked with the wearer, reminders before a booked visit
(published as `field.VisitReminderDue` for notify/ to deliver), and re-planning the rest of a day when a visit
fails or an urgent one is added (PyVRP, prize-collecting: work that cannot fit the shift is left out and said
why, never an error)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openem.auth import audit
from openem.bus.loop import WakeableLoop
from openem.core.errors import Conflict, Invalid, NotFound
from openem.core.time import iso, local_date, local_to_utc, to_london, utcnow
from openem.field import contract
from openem.field.events import DayReplanned, VisitReminderDue
from openem.field.rules import NEEDS_ADDRESS_CHECK
from openem.field.tables import AttemptRow, OfficerRow, ReplanRow, VisitRow

ROAD_FACTOR = 1.3  # straight line to road distance
SPEED_KMH = 30.0
SERVICE_MINUTES = 30
APPOINTMENT_SLACK = 15  # arrive within a quarter of an hour of a booked time
RETRY_AFTER = 120  # a failed attempt is tried again no sooner than two hours later
SHIFT = (time(8, 0), time(20, 0))  # Europe/London
BOOKING_HOURS = (time(7, 0), time(21, 0))
BOOKING_DAYS_AHEAD = 30
PRIZE, PRIZE_PER_PRIORITY, PRIZE_DEADLINE = 20_000, 10_000, 5_000


def book_appointment(session: Session, *, actor: str, visit_id: str, at: datetime, now: datetime,
                     with_whom: str = "wearer") -> str:  # fmt: skip
    """Book the visit with the wearer for `at`. Refused in the past, outside 07:00-21:00 London, or more than
    30 days ahead. Returns a warning when the booking falls after the contract deadline ("" otherwise)."""
    v = session.get(VisitRow, visit_id)
    if v is None:
        raise NotFound(f"No visit {visit_id!r}")
    if v.status != "OPEN":
        raise Conflict(f"Visit {visit_id} is {v.status.lower()}: nothing to book")
    if at <= now:
        raise Invalid("The appointment must be in the future", field="appointment")
    if at > now + timedelta(days=BOOKING_DAYS_AHEAD):
        raise Invalid(f"Book no more than {BOOKING_DAYS_AHEAD} days ahead", field="appointment")
    wall = to_london(at).time()
    if not BOOKING_HOURS[0] <= wall <= BOOKING_HOURS[1]:
        raise Invalid("Book a time between 7am and 9pm", field="appointment")
    v.appointment_at, v.appointment_by, v.reminders_sent = at, actor[:80], ""
    session.flush()
    audit.record(session, actor=actor, action=f"field:{visit_id}:book", records=[v.order_ref, v.person_id],
                 purpose="book a field visit with the wearer", details={"at": iso(at), "with": with_whom[:40]})  # fmt: skip
    return "This is after the contract deadline" if at > v.due_by else ""


def due_reminders(session: Session, *, now: datetime, publish: Callable[[Any], None]) -> list[str]:
    """Publish a reminder for each booked open visit whose reminder time (24 h and 2 h before, from the
    contract data) has come; each reminder once. Returns "visit:hours" for each published."""
    hours = sorted(int(h) for h in contract.load_contract()["reminders_before_hours"])
    sent: list[str] = []
    rows = session.execute(
        select(VisitRow).where(
            VisitRow.status == "OPEN", VisitRow.appointment_at.is_not(None), VisitRow.appointment_at > now
        )  # fmt: skip
    ).scalars()
    for v in rows:
        assert v.appointment_at is not None
        done = {s for s in v.reminders_sent.split(",") if s}
        due = [h for h in hours if now >= v.appointment_at - timedelta(hours=h) and str(h) not in done]
        if not due:
            continue
        h = min(due)  # the nearest one: a booking made an hour ahead gets one reminder, not two
        publish(VisitReminderDue(visit_id=v.visit_id, order_ref=v.order_ref, person_id=v.person_id,
                                 appointment_at=iso(v.appointment_at), hours_before=h, location=v.location))  # fmt: skip
        v.reminders_sent = ",".join(sorted(done | {str(x) for x in hours if x >= h}))[:40]
        sent.append(f"{v.visit_id}:{h}")
    session.flush()
    if sent:
        audit.record(session, actor="field", action="field:reminders:due", records=sent)
    return sent


@dataclass(frozen=True)
class Stop:
    visit_id: str
    lat: float
    lon: float
    ready: int  # minutes from the plan's start
    due: int
    prize: int
    skill: str = ""  # a training the officer must have: "ALCOHOL" (an alcohol tag is fitted or checked)
    officers: int = 1  # 2: a high-risk address, visited by two officers together


@dataclass(frozen=True)
class Officer:
    """An officer on shift and their trainings (`field_officers.skills`, e.g. ["ALCOHOL"])."""

    name: str
    skills: frozenset[str] = frozenset()


@dataclass
class RegionPlan:
    """Each officer's visits in order (the two officers of a crew share one route, the same visits at the same
    times), the crews paired for the day, and what cannot be done today and why."""

    routes: dict[str, list[str]]
    crews: list[tuple[str, str]]
    unplanned: list[tuple[str, str]]


def _minutes_xy(lat: float, lon: float, lat0: float) -> tuple[float, float]:
    per_min = 60.0 / SPEED_KMH * ROAD_FACTOR  # minutes per straight-line km
    return lon * 111.32 * math.cos(math.radians(lat0)) * per_min, lat * 110.57 * per_min


def solve_day(start: tuple[float, float], stops: list[Stop], horizon: int, seconds: float,
              iterations: int | None = None) -> list[str]:  # fmt: skip
    """The visits in route order within the horizon (minutes); stops that do not fit are left out. PyVRP with
    optional clients and prizes (priority work carries a larger prize)."""
    if not stops or horizon <= 0:
        return []
    from pyvrp import Model
    from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria

    lat0 = start[0]
    pts = [_minutes_xy(*start, lat0)] + [_minutes_xy(s.lat, s.lon, lat0) for s in stops]
    m = Model()
    depot = m.add_depot(x=0, y=0)
    # duration costs too: waiting for a later window is worse than doing other work first
    m.add_vehicle_type(
        num_available=1, capacity=len(stops), tw_early=0, tw_late=horizon * 60, unit_duration_cost=1
    )
    locs: list[Any] = [depot]
    for k, s in enumerate(stops, 1):
        locs.append(m.add_client(x=round(pts[k][0] * 60), y=round(pts[k][1] * 60), delivery=1, service_duration=SERVICE_MINUTES * 60, tw_early=s.ready * 60,
                                 tw_late=max(s.ready, s.due) * 60, prize=s.prize, required=False))  # fmt: skip
    for i, a in enumerate(locs):
        for j, b in enumerate(locs):
            d = math.ceil(math.hypot(pts[i][0] - pts[j][0], pts[i][1] - pts[j][1]) * 60)  # seconds
            m.add_edge(a, b, distance=d, duration=d if j else 0)  # the officer ends where the last visit is
    # an iteration limit as well makes a plan repeatable whatever the machine's load (tests use it)
    stop = (
        MaxRuntime(seconds)
        if iterations is None
        else MultipleCriteria([MaxIterations(iterations), MaxRuntime(seconds)])
    )
    res = m.solve(stop=stop, display=False, seed=1)
    if not res.is_feasible():
        return []
    routes = res.best.routes()
    return [stops[c - 1].visit_id for r in routes[:1] for c in r.visits()]


def replan_day(session: Session, *, actor: str, officer: str, day: str, now: datetime, reason: str,
               publish: Callable[[Any], None] | None = None, add: list[str] | None = None,
               seconds: float = 1.0, iterations: int | None = None) -> tuple[list[str], dict[str, str]]:  # fmt: skip
    """Re-plan what is left of an officer's day from `now`: visits done or attempted stay where they were;
    the open ones (and any in `add`) are re-ordered from where the officer is, a failed one tried again no
    sooner than two hours later, booked ones within their slot. Returns (new order of open visits, visit ->
    why it could not be planned)."""
    try:
        the_day = date.fromisoformat(day)
    except ValueError as exc:
        raise Invalid("Enter a real day", field="day") from exc
    add = [a[:60] for a in (add or [])][:200]
    rows = list(session.execute(select(VisitRow).where(VisitRow.officer == officer, VisitRow.planned_for == day))
                .scalars())  # fmt: skip
    for vid in add:
        v = session.get(VisitRow, vid)
        if v is None:
            raise NotFound(f"No visit {vid!r}")
        if v.status != "OPEN":
            raise Conflict(f"Visit {vid} is {v.status.lower()}: it cannot be planned")
        if v not in rows:
            rows.append(v)
    start_of_day = local_to_utc(the_day, SHIFT[0])
    end_of_day = local_to_utc(the_day, SHIFT[1])
    t0 = max(now, start_of_day)
    horizon = int((end_of_day - t0).total_seconds() // 60)
    today_attempts = {a.visit_id: a for a in session.execute(
        select(AttemptRow).where(AttemptRow.visit_id.in_([r.visit_id for r in rows]), AttemptRow.at >= start_of_day)
        .order_by(AttemptRow.attempt_id)).scalars()}  # fmt: skip
    # a two-officer visit planned with the region's day stays on both officers' days (a single re-plan cannot pair)
    fixed = sorted((r for r in rows if r.status != "OPEN" or r.partner or (r.visit_id in today_attempts and
                    r.attempts >= allowed_attempts(r))), key=lambda r: r.sequence)  # fmt: skip
    here = _where_now(fixed, today_attempts, rows)
    why: dict[str, str] = {}
    stops: list[Stop] = []
    officer_row = session.get(OfficerRow, officer)
    skills = set(officer_row.skills) if officer_row else set()
    paired = (
        False  # a single officer's day: two-officer visits are planned with the region's day (plan_region)
    )
    for r in rows:
        if r in fixed:
            continue
        if r.address_check in NEEDS_ADDRESS_CHECK or r.lat is None or r.lon is None:
            why[r.visit_id] = "The address needs checking before the visit can be planned"
            continue
        if r.needs_skill and r.needs_skill not in skills:
            why[r.visit_id] = "It needs an alcohol-trained officer: give it to one"
            continue
        if r.officers_needed >= 2 and not paired:
            why[r.visit_id] = "It needs two officers (high-risk address): plan it for a pair of officers"
            continue
        timed = timed_stop(r, today_attempts.get(r.visit_id), t0, the_day, horizon, end_of_day)
        if isinstance(timed, str):
            why[r.visit_id] = timed
            continue
        stops.append(timed)
    order = solve_day(here, stops, horizon, seconds, iterations) if here is not None else []
    for s in stops:
        if s.visit_id not in order:
            why[s.visit_id] = "It does not fit in the rest of the shift with the other visits"
    seq = len(fixed)
    for vid in order:
        v = session.get(VisitRow, vid)
        assert v is not None
        seq += 1
        v.officer, v.planned_for, v.sequence = officer, day, seq
    for vid in why:  # left out of today: back to the unplanned pool, to be planned another day
        v = session.get(VisitRow, vid)
        if v is not None and v.status == "OPEN" and v.visit_id not in today_attempts:
            v.planned_for, v.sequence = "", 0
    session.add(ReplanRow(officer=officer, day=day, at=now, reason=reason[:200], visits=order,
                          unplanned=sorted([k, v] for k, v in why.items())))  # fmt: skip
    session.flush()
    audit.record(session, actor=actor, action=f"field:plan:{officer}:{day}:replan", records=order,
                 details={"reason": reason[:200], "unplanned": why})  # fmt: skip
    if publish is not None:
        publish(
            DayReplanned(officer=officer, day=day, reason=reason[:200], visits=order, unplanned=sorted(why))
        )
    return order, why


def timed_stop(r: VisitRow, last: AttemptRow | None, t0: datetime, the_day: date, horizon: int,
               end_of_day: datetime) -> Stop | str:  # fmt: skip
    """The visit as a stop of a plan starting at `t0` (minutes from then): a failed one no sooner than two hours
    after its attempt, a booked one within its slot, the prize by priority and deadline. Else why it cannot be
    planned today."""
    ready, due = 0, horizon
    if last is not None:
        ready = max(0, int((last.at - t0).total_seconds() // 60) + RETRY_AFTER)
    if r.appointment_at is not None and local_date(r.appointment_at) == the_day:
        mid = int((r.appointment_at - t0).total_seconds() // 60)
        ready, due = max(ready, mid - APPOINTMENT_SLACK), mid + APPOINTMENT_SLACK
    if due < 0 or ready > horizon:
        return "Its time today has passed" if due < 0 else "No time is left in the shift for it"
    # prizes near the cost scale (seconds): far larger ones leave PyVRP stuck in time-warped plans
    prize = PRIZE + PRIZE_PER_PRIORITY * r.priority + (PRIZE_DEADLINE if r.due_by <= end_of_day else 0)
    if last is not None and r.attempts < allowed_attempts(r):
        prize += PRIZE_DEADLINE  # the second attempt the contract asks for comes before fresh work
    return Stop(r.visit_id, float(r.lat or 0), float(r.lon or 0), max(0, ready), min(due, horizon), prize,
                skill=r.needs_skill, officers=max(1, r.officers_needed))  # fmt: skip


def allowed_attempts(r: VisitRow) -> int:
    rule = contract.load_contract()["rules"].get(r.rule) or contract.load_contract()["rules"]["ADULT"]
    return int(rule["standard_attempts"])


def _where_now(
    fixed: list[VisitRow], attempts: dict[str, Any], rows: list[VisitRow]
) -> tuple[float, float] | None:
    """Where the officer is: the last visit attempted today, else the middle of the day's work."""
    done = [r for r in rows if r.visit_id in attempts and r.lat is not None and r.lon is not None]
    if done:
        last = max(done, key=lambda r: attempts[r.visit_id].at)
        return float(last.lat or 0), float(last.lon or 0)
    placed = [r for r in rows if r.lat is not None and r.lon is not None]
    if not placed:
        return None
    return (
        sum(float(r.lat or 0) for r in placed) / len(placed),
        sum(float(r.lon or 0) for r in placed) / len(placed),
    )


def last_replan(session: Session, officer: str, day: str) -> dict[str, Any] | None:
    r = session.execute(select(ReplanRow).where(ReplanRow.officer == officer, ReplanRow.day == day)
                        .order_by(ReplanRow.replan_id.desc())).scalars().first()  # fmt: skip
    return (
        None if r is None else {"at": r.at, "reason": r.reason, "visits": r.visits, "unplanned": r.unplanned}
    )


def plan_region_day(depot: tuple[float, float], officers: int, stops: list[Stop], horizon: int, seconds: float,
                    return_to_depot: bool = True) -> list[list[str]]:  # fmt: skip
    """A region's day: `officers` routes from the depot (and back), within the shift (`horizon` minutes), as a
    prize-collecting VRPTW (PyVRP): a visit that cannot be fitted is left out, never an error. Each route is the
    visit ids in visiting order (an officer with no work gets an empty route). Officers without trainings: see
    `plan_region` for skills and two-officer visits."""
    names = [f"officer-{i}" for i in range(max(officers, 0))]
    plan = plan_region(depot, [Officer(n) for n in names], stops, horizon, seconds, return_to_depot)
    return [plan.routes[n] for n in names]


NEVER = 10**7  # seconds: an edge no vehicle of that profile can take within any shift

WHY_SKILL = "needs an alcohol-trained officer and none on shift today"
WHY_PAIR = "needs two officers (high-risk address) and fewer than two are on shift today"
WHY_PAIR_SKILL = "needs two officers, one of them alcohol-trained, and no such pair can be made today"
WHY_WINDOW = "its time window cannot be reached within the shift"
WHY_FULL = "did not fit in the shift: more work than officers today"


def _crews(officers: list[Officer], stops: list[Stop]) -> list[tuple[Officer, Officer]]:
    """Two-officer visits cannot be synchronised across two routes in PyVRP (no such constraint), so the two
    officers are paired for the day and planned as one vehicle: the pair goes together to the high-risk visits and
    to ordinary ones in between. One pair a day when any high-risk visit is waiting (a second pair when there are
    more than six of them and officers to spare); the pair keeps an alcohol-trained officer if a high-risk visit
    needs one, and otherwise spares the trained officers for single routes."""
    risky = [s for s in stops if s.officers >= 2]
    if not risky or len(officers) < 2:
        return []
    want = 1 if len(risky) <= 6 or len(officers) < 5 else 2
    trained = [o for o in officers if "ALCOHOL" in o.skills]
    untrained = [o for o in officers if "ALCOHOL" not in o.skills]
    crews: list[tuple[Officer, Officer]] = []
    if any(s.skill == "ALCOHOL" for s in risky) and trained:
        first = trained.pop(0)
        second = untrained.pop(0) if untrained else trained.pop(0)
        crews.append((first, second))
    while len(crews) < want:
        pool = untrained + trained  # untrained first: keep trained officers for the single routes
        if len(pool) < 2:
            break
        a, b = pool[0], pool[1]
        crews.append((a, b))
        untrained = [o for o in untrained if o not in (a, b)]
        trained = [o for o in trained if o not in (a, b)]
    return crews


def plan_region(depot: tuple[float, float], officers: list[Officer], stops: list[Stop], horizon: int,
                seconds: float, return_to_depot: bool = True, iterations: int | None = None,
                starts: dict[str, tuple[float, float, int]] | None = None) -> RegionPlan:  # fmt: skip
    """A region's day for named officers with their trainings. An alcohol visit goes only to an alcohol-trained
    officer (or a pair with one); a high-risk visit only to a pair of officers planned as one vehicle (`_crews`).
    PyVRP profiles carry the restriction: a vehicle lacking what a visit needs has no usable edge into it
    (`NEVER`), and the routes are checked again after solving. What cannot be done is returned with why.
    `starts` re-plans during the day: officer -> (lat, lon, minute) where and when they are free (a pair starts
    where its first officer is); the others start from the depot at the start of the horizon."""
    routes: dict[str, list[str]] = {o.name: [] for o in officers}
    unplanned: list[tuple[str, str]] = []
    if horizon <= 0 or not officers:
        return RegionPlan(routes, [], [(s.visit_id, WHY_FULL) for s in stops])
    crews = _crews(officers, stops)
    paired = {o.name for c in crews for o in c}
    # vehicles: (names, can alcohol, can high-risk)
    vehicles: list[Vehicle] = [
        ([a.name, b.name], "ALCOHOL" in a.skills | b.skills, True) for a, b in crews
    ] + [([o.name], "ALCOHOL" in o.skills, False) for o in officers if o.name not in paired]
    can_alcohol = any(v[1] for v in vehicles)
    can_pair = any(v[2] for v in vehicles)
    can_both = any(v[1] and v[2] for v in vehicles)
    todo: list[Stop] = []
    for s in stops:
        if s.officers >= 2 and not can_pair:
            unplanned.append((s.visit_id, WHY_PAIR))
        elif s.officers >= 2 and s.skill == "ALCOHOL" and not can_both:
            unplanned.append((s.visit_id, WHY_PAIR_SKILL))
        elif s.skill == "ALCOHOL" and not can_alcohol:
            unplanned.append((s.visit_id, WHY_SKILL))
        elif s.ready > horizon:
            unplanned.append((s.visit_id, WHY_WINDOW))
        else:
            todo.append(s)
    if not todo:
        return RegionPlan(routes, [(a.name, b.name) for a, b in crews], unplanned)
    done = _solve_region(
        depot, vehicles, todo, horizon, seconds, return_to_depot, iterations, starts or {}, routes
    )
    for s in todo:
        if s.visit_id not in done:
            unplanned.append((s.visit_id, WHY_FULL))
    return RegionPlan(routes, [(a.name, b.name) for a, b in crews], unplanned)


def _solve(m: Any, stop: Any, top_prize: int) -> Any:
    """`Model.solve` with the time-warp penalty starting high enough that no visit's prize pays for arriving
    late: PyVRP 0.9.1 starts it at the average edge cost per second (~2 here), so with prizes worth a trip to
    the region's far end its search stayed in late (infeasible) plans and returned none."""
    import pyvrp.search as search
    from pyvrp import (
        GeneticAlgorithm,
        PenaltyManager,
        Population,
        RandomNumberGenerator,
        Solution,
        SolveParams,
    )
    from pyvrp.crossover import selective_route_exchange as srex
    from pyvrp.diversity import broken_pairs_distance as bpd

    data, params = m.data(), SolveParams()
    rng = RandomNumberGenerator(seed=1)
    ls = search.LocalSearch(data, rng, search.compute_neighbours(data, params.neighbourhood))
    for node_op in params.node_ops:
        ls.add_node_operator(node_op(data))
    for route_op in params.route_ops:
        ls.add_route_operator(route_op(data))
    base = PenaltyManager.init_from(data, params.penalty)  # pyvrp 0.9.1 (pinned) keeps them in `_penalties`
    load, tw, dist = (int(x) for x in base._penalties)
    pm = PenaltyManager(params.penalty, (load, max(tw, math.ceil(top_prize / (SERVICE_MINUTES * 60))), dist))
    pop = Population(bpd, params.population)
    init = [Solution.make_random(data, rng) for _ in range(params.population.min_pop_size)]
    return GeneticAlgorithm(data, pm, rng, pop, ls, srex, init, params.genetic).run(stop, False, False)


def _prize_floor(pts: list[tuple[float, float]], return_to_depot: bool) -> int:
    """A visit is worth at least an officer's trip to the farthest one and back on its own (its edge costs
    count distance and duration), so the search opens a route to a far town one visit at a time instead of
    leaving officers idle; the callers' prizes (priority, deadline) come on top."""
    trips = [
        math.hypot(x - pts[0][0], y - pts[0][1]) * 60 * (2 if return_to_depot else 1) for x, y in pts[1:]
    ]
    return math.ceil(2 * max(trips, default=0) + SERVICE_MINUTES * 60)


Vehicle = tuple[list[str], bool, bool]  # the officers (one, or a pair), can alcohol, can high-risk


def _allowed_on(v: Vehicle, s: Stop) -> bool:
    return (s.skill != "ALCOHOL" or v[1]) and (s.officers < 2 or v[2])


def _solve_region(depot: tuple[float, float], vehicles: list[Vehicle], todo: list[Stop], horizon: int,
                  seconds: float, return_to_depot: bool, iterations: int | None,
                  starts: dict[str, tuple[float, float, int]], routes: dict[str, list[str]]) -> set[str]:  # fmt: skip
    """PyVRP on the region's day: vehicles of one kind from the depot share a vehicle type; a vehicle starting
    elsewhere (`starts`, a re-plan during the day) has its own type and start. Writes `routes`; returns the
    visits planned."""
    from pyvrp import Model
    from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria

    lat0 = depot[0]
    kinds = sorted({(v[1], v[2]) for v in vehicles})
    types: list[tuple[tuple[bool, bool], list[Vehicle], tuple[float, float, int] | None]] = []
    for kind in kinds:
        group = [v for v in vehicles if (v[1], v[2]) == kind and v[0][0] not in starts]
        if group:
            types.append((kind, group, None))
        types += [
            (kind, [v], starts[v[0][0]]) for v in vehicles if (v[1], v[2]) == kind and v[0][0] in starts
        ]
    m = Model()
    d0 = m.add_depot(x=0, y=0)
    own = {t: m.add_depot(x=round(_minutes_xy(st[0], st[1], lat0)[0] * 60 - _minutes_xy(*depot, lat0)[0] * 60),
                          y=round(_minutes_xy(st[0], st[1], lat0)[1] * 60 - _minutes_xy(*depot, lat0)[1] * 60))
           for t, (_, _, st) in enumerate(types) if st is not None}  # fmt: skip
    pts = [_minutes_xy(*depot, lat0)]
    pts += [_minutes_xy(st[0], st[1], lat0) for _, _, st in types if st is not None]
    n_depots = len(pts)
    pts += [_minutes_xy(s.lat, s.lon, lat0) for s in todo]
    restricted = any(s.skill or s.officers >= 2 for s in todo)
    profiles = {k: m.add_profile() for k in kinds} if restricted else {}
    for t, (kind, group, st) in enumerate(types):
        m.add_vehicle_type(num_available=len(group), capacity=len(todo), start_depot=own.get(t, d0), end_depot=d0,
                           tw_early=(st[2] if st else 0) * 60, tw_late=horizon * 60, unit_duration_cost=1,
                           profile=profiles.get(kind))  # fmt: skip
    floor = _prize_floor(pts[:1] + pts[n_depots:], return_to_depot)
    locs: list[Any] = [d0, *own.values()]
    for k, s in enumerate(todo, n_depots):
        locs.append(m.add_client(x=round((pts[k][0] - pts[0][0]) * 60), y=round((pts[k][1] - pts[0][1]) * 60),
                                 delivery=1, service_duration=SERVICE_MINUTES * 60, tw_early=s.ready * 60,
                                 tw_late=max(s.ready, s.due) * 60, prize=s.prize + floor, required=False))  # fmt: skip
    for i, a in enumerate(locs):
        for j, b in enumerate(locs):
            d = math.ceil(math.hypot(pts[i][0] - pts[j][0], pts[i][1] - pts[j][1]) * 60)
            dur = d if (j or return_to_depot) else 0
            if not profiles:
                m.add_edge(a, b, distance=d, duration=dur)
                continue
            for kind, prof in profiles.items():
                ok = j < n_depots or i == j or _allowed_on(([], kind[0], kind[1]), todo[j - n_depots])
                m.add_edge(a, b, distance=d if ok else NEVER, duration=dur if ok else NEVER, profile=prof)
    stop = (
        MaxRuntime(seconds)
        if iterations is None
        else MultipleCriteria([MaxIterations(iterations), MaxRuntime(seconds)])
    )
    res = _solve(m, stop, max((s.prize for s in todo), default=0) + floor)
    done: set[str] = set()
    if res.is_feasible():
        # routes come back per vehicle type; hand them to that type's vehicles in turn
        by_type: dict[int, list[list[int]]] = {}
        for r in res.best.routes():
            by_type.setdefault(r.vehicle_type(), []).append(r.visits())
        for t, (_, group, _) in enumerate(types):
            for v, visits in zip(group, by_type.get(t, []), strict=False):
                ids = [todo[c - n_depots].visit_id for c in visits if _allowed_on(v, todo[c - n_depots])]
                for name in v[0]:
                    routes[name] = list(ids)
                done.update(ids)
    return done


class VisitReminderLoop(WakeableLoop):
    """Runs `due_reminders` in the server every `interval_s` (the same as `openem field remind`, without cron):
    each reminder is published once, through the outbox, for notify/ to deliver."""

    loop_name = "field-reminders"

    def __init__(self, db: Any, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__()
        self.db = db
        self.clock = clock or utcnow

    def step(self) -> None:
        with self.db.uow() as uow:
            due_reminders(uow.session, now=self.clock(), publish=uow.add_event)
