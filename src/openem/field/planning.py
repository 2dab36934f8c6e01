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
from openem.field.tables import AttemptRow, ReplanRow, VisitRow

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
    fixed = sorted((r for r in rows if r.status != "OPEN" or (r.visit_id in today_attempts and
                    r.attempts >= _allowed(r))), key=lambda r: r.sequence)  # fmt: skip
    here = _where_now(fixed, today_attempts, rows)
    why: dict[str, str] = {}
    stops: list[Stop] = []
    for r in rows:
        if r in fixed:
            continue
        if r.address_check in NEEDS_ADDRESS_CHECK or r.lat is None or r.lon is None:
            why[r.visit_id] = "The address needs checking before the visit can be planned"
            continue
        ready, due = 0, horizon
        last = today_attempts.get(r.visit_id)
        if last is not None:
            ready = max(0, int((last.at - t0).total_seconds() // 60) + RETRY_AFTER)
        if r.appointment_at is not None and local_date(r.appointment_at) == the_day:
            mid = int((r.appointment_at - t0).total_seconds() // 60)
            ready, due = max(ready, mid - APPOINTMENT_SLACK), mid + APPOINTMENT_SLACK
        if due < 0 or ready > horizon:
            why[r.visit_id] = (
                "Its time today has passed" if due < 0 else "No time is left in the shift for it"
            )
            continue
        # prizes near the cost scale (seconds): far larger ones leave PyVRP stuck in time-warped plans
        prize = PRIZE + PRIZE_PER_PRIORITY * r.priority + (PRIZE_DEADLINE if r.due_by <= end_of_day else 0)
        if last is not None and r.attempts < _allowed(r):
            prize += PRIZE_DEADLINE  # the second attempt the contract asks for comes before fresh work
        stops.append(Stop(r.visit_id, float(r.lat), float(r.lon), max(0, ready), min(due, horizon), prize))
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


def _allowed(r: VisitRow) -> int:
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
    visit ids in visiting order (an officer with no work gets an empty route)."""
    if not stops or horizon <= 0 or officers <= 0:
        return [[] for _ in range(max(officers, 0))]
    from pyvrp import Model
    from pyvrp.stop import MaxRuntime

    lat0 = depot[0]
    pts = [_minutes_xy(*depot, lat0)] + [_minutes_xy(s.lat, s.lon, lat0) for s in stops]
    m = Model()
    d0 = m.add_depot(x=0, y=0)
    m.add_vehicle_type(num_available=officers, capacity=len(stops), tw_early=0, tw_late=horizon * 60,
                       unit_duration_cost=1)  # fmt: skip
    locs: list[Any] = [d0]
    for k, s in enumerate(stops, 1):
        locs.append(m.add_client(x=round(pts[k][0] * 60), y=round(pts[k][1] * 60), delivery=1,
                                 service_duration=SERVICE_MINUTES * 60, tw_early=s.ready * 60,
                                 tw_late=max(s.ready, s.due) * 60, prize=s.prize, required=False))  # fmt: skip
    for i, a in enumerate(locs):
        for j, b in enumerate(locs):
            d = math.ceil(math.hypot(pts[i][0] - pts[j][0], pts[i][1] - pts[j][1]) * 60)
            m.add_edge(a, b, distance=d, duration=d if (j or return_to_depot) else 0)
    res = m.solve(stop=MaxRuntime(seconds), display=False, seed=1)
    routes: list[list[str]] = [[] for _ in range(officers)]
    if res.is_feasible():
        for i, r in enumerate(res.best.routes()[:officers]):
            routes[i] = [stops[c - 1].visit_id for c in r.visits()]
    return routes


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
