"""A region's day planned with its real officers: the officers on record for the region (`field_officers.region`)
with their trainings, the region's open visits, one PyVRP plan from the region's depot (`planning.plan_region`),
written onto the visits. A two-officer visit is on both officers' days (`field_visits.partner`); what cannot be
planned is kept with why (a `field_replans` row for the region), audited and published, never an error."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openem.auth import audit
from openem.core.errors import Invalid
from openem.core.time import local_to_utc
from openem.field.events import RegionDayPlanned
from openem.field.planning import SERVICE_MINUTES, SHIFT, Officer, allowed_attempts, plan_region, timed_stop
from openem.field.rules import NEEDS_ADDRESS_CHECK
from openem.field.tables import AttemptRow, OfficerRow, ReplanRow, VisitRow

REGIONS_FILE = Path(__file__).parent / "data" / "regions.json"
WHY_ADDRESS = "the address needs checking before the visit can be planned"
WHY_NOBODY = "no officer of the region is on record (openem field officer --region)"


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    depot_name: str
    depot: tuple[float, float]
    postcode_areas: frozenset[str]


@dataclass
class DayPlan:
    """Each officer's visits in order, the pairs of officers working together, and what was not planned and why."""

    region: Region
    day: str
    routes: dict[str, list[str]]
    crews: list[tuple[str, str]]
    unplanned: list[tuple[str, str]]

    def partner_of(self, officer: str) -> str:
        for a, b in self.crews:
            if officer in (a, b):
                return b if officer == a else a
        return ""


@lru_cache(maxsize=2)
def regions(path: str = str(REGIONS_FILE)) -> dict[str, Region]:
    data = json.loads(Path(path).read_text())["regions"]
    return {
        code: Region(
            code,
            r["name"],
            r["depot"]["name"],
            (float(r["depot"]["lat"]), float(r["depot"]["lon"])),
            frozenset(r["postcode_areas"]),
        )  # fmt: skip
        for code, r in data.items()
    }


def region(code: str) -> Region:
    found = regions().get(code.strip().upper())
    if found is None:
        raise Invalid(
            f"Unknown region {code!r}: known regions are {', '.join(sorted(regions()))}", field="region"
        )
    return found


def _area(postcode: str) -> str:
    head = postcode.strip().upper().split(" ")[0]
    return "".join(c for c in head[:2] if c.isalpha()) if head[:1].isalpha() else ""


def region_of(postcode: str, lat: float | None, lon: float | None) -> str:
    """The region covering the postcode's area, else the region whose depot is nearest ("" with neither)."""
    area = _area(postcode)
    for code, r in regions().items():
        if area and area in r.postcode_areas:
            return code
    if lat is None or lon is None:
        return ""
    return min(regions().values(), key=lambda r: math.hypot(r.depot[0] - lat, (r.depot[1] - lon) * 0.62)).code


def officers_of(session: Session, code: str) -> list[Officer]:
    rows = session.execute(select(OfficerRow).where(OfficerRow.region == code).order_by(OfficerRow.officer))
    return [Officer(r.officer, frozenset(r.skills)) for r in rows.scalars()]


def set_officer_region(session: Session, *, actor: str, officer: str, code: str, at: datetime) -> OfficerRow:
    """Put the officer in a region (the depot they start the day from), audited before/after."""
    the_region = region(code) if code else None
    if not officer.strip():
        raise Invalid("Say which officer", field="officer")
    row = session.get(OfficerRow, officer)
    if row is None:
        row = OfficerRow(officer=officer, skills=[], region="", updated_at=at, updated_by=actor)
        session.add(row)
    before = row.region
    row.region, row.updated_at, row.updated_by = (the_region.code if the_region else ""), at, actor
    session.flush()
    audit.record(session, actor=actor, action=f"field:officer:{officer}:region", records=[officer],
                 details={"before": before, "after": row.region})  # fmt: skip
    return row


def plan_region_visits(session: Session, *, actor: str, code: str, day: str, now: datetime, seconds: float = 10.0,
                       iterations: int | None = None, publish: Callable[[Any], None] | None = None) -> DayPlan:  # fmt: skip
    """Plan the region's open visits for `day` with its officers from the depot: visits already attempted as
    often as allowed today, or planned for another day, are left where they are; the rest are re-planned."""
    the_region = region(code)
    try:
        the_day = date.fromisoformat(day)
    except ValueError as exc:
        raise Invalid("Enter a real date, for example 2026-12-03", field="date") from exc
    start, end = local_to_utc(the_day, SHIFT[0]), local_to_utc(the_day, SHIFT[1])
    t0 = max(now, start)
    horizon = int((end - t0).total_seconds() // 60)
    officers = officers_of(session, the_region.code)
    names = {o.name for o in officers}
    rows = [
        v
        for v in session.execute(select(VisitRow).where(VisitRow.status == "OPEN").order_by(VisitRow.due_by)).scalars()
        if region_of(v.postcode, v.lat, v.lon) == the_region.code
        and (v.planned_for in ("", day) or (v.planned_for < day and v.officer in ("", *names)))
    ]  # fmt: skip
    ids = [v.visit_id for v in rows]
    last: dict[str, AttemptRow] = {}
    for i in range(0, len(ids), 500):
        for a in session.execute(select(AttemptRow).where(AttemptRow.visit_id.in_(ids[i : i + 500]),
                                 AttemptRow.at >= start).order_by(AttemptRow.attempt_id)).scalars():  # fmt: skip
            last[a.visit_id] = a
    unplanned: list[tuple[str, str]] = []
    stops = []
    for v in rows:
        if v.address_check in NEEDS_ADDRESS_CHECK or v.lat is None or v.lon is None:
            unplanned.append((v.visit_id, WHY_ADDRESS))
        elif v.visit_id in last and v.attempts >= allowed_attempts(v):
            continue  # tried as often as the contract asks today: it stays where it is
        elif not officers:
            unplanned.append((v.visit_id, WHY_NOBODY))
        else:
            timed = timed_stop(v, last.get(v.visit_id), t0, the_day, horizon, end)
            if isinstance(timed, str):
                unplanned.append((v.visit_id, timed[0].lower() + timed[1:]))
            else:
                stops.append(timed)
    starts = _where_officers_are(session, names, start, t0)
    plan = plan_region(
        the_region.depot, officers, stops, horizon, seconds, iterations=iterations, starts=starts
    )
    result = DayPlan(the_region, day, plan.routes, plan.crews, unplanned + plan.unplanned)
    _write(session, rows, result, last)
    session.add(ReplanRow(officer=f"region:{the_region.code}"[:80], day=day, at=now, reason="region's day planned",
                          visits=[v for r in result.routes.values() for v in r],
                          unplanned=sorted([k, w] for k, w in result.unplanned)))  # fmt: skip
    session.flush()
    planned = sorted({v for r in result.routes.values() for v in r})
    audit.record(session, actor=actor, action=f"field:plan:region:{the_region.code}:{day}", records=planned,
                 purpose="plan a region's field visits",
                 details={"officers": sorted(names), "crews": [list(c) for c in result.crews],
                          "unplanned": dict(result.unplanned)})  # fmt: skip
    if publish is not None:
        publish(RegionDayPlanned(region=the_region.code, day=day, routes=result.routes,
                                 crews=[list(c) for c in result.crews],
                                 unplanned=sorted(v for v, _ in result.unplanned)))  # fmt: skip
    return result


def _where_officers_are(session: Session, names: set[str], start: datetime, t0: datetime
                        ) -> dict[str, tuple[float, float, int]]:  # fmt: skip
    """A plan made during the shift starts each officer where their last attempt today was, when it ends
    (minutes from `t0`); an officer with no attempt yet starts from the depot."""
    if not names:
        return {}
    out: dict[str, tuple[float, float, int]] = {}
    attempts = session.execute(select(AttemptRow).where(AttemptRow.officer.in_(sorted(names)),
                               AttemptRow.at >= start).order_by(AttemptRow.at)).scalars()  # fmt: skip
    for a in attempts:
        v = session.get(VisitRow, a.visit_id)
        if v is not None and v.lat is not None and v.lon is not None:
            free = max(0, int((a.at - t0).total_seconds() // 60) + SERVICE_MINUTES)
            out[a.officer] = (float(v.lat), float(v.lon), free)
    return out


def _write(session: Session, rows: list[VisitRow], plan: DayPlan, last: dict[str, AttemptRow]) -> None:
    placed: dict[str, tuple[str, str, int]] = {}
    firsts = {a for a, _ in plan.crews}
    for officer, route in plan.routes.items():
        partner = plan.partner_of(officer)
        if partner and officer not in firsts:
            continue  # a pair's route is written once, on the first officer, with the partner beside it
        for seq, vid in enumerate(route, 1):
            placed[vid] = (officer, partner, seq)
    for v in rows:
        if v.visit_id in placed:
            v.officer, v.partner, v.sequence = placed[v.visit_id]
            v.planned_for = plan.day
        elif v.planned_for == plan.day and v.visit_id not in last:  # off today's plan: back to the pool
            v.officer, v.partner, v.planned_for, v.sequence = "", "", "", 0
    session.flush()


def last_region_plan(session: Session, code: str, day: str) -> dict[str, Any] | None:
    r = session.execute(select(ReplanRow).where(ReplanRow.officer == f"region:{code}", ReplanRow.day == day)
                        .order_by(ReplanRow.replan_id.desc())).scalars().first()  # fmt: skip
    return (
        None if r is None else {"at": r.at, "visits": r.visits, "unplanned": [tuple(p) for p in r.unplanned]}
    )
