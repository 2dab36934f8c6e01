"""The person view (issue 15): what a probation practitioner or police officer sees of a person on their
caseload — the order and its conditions, the trail for a window, curfew compliance night by night, visits to
zones, alerts and devices. Reads other capabilities only through their `queries.py`. Every look is allowed by
`auth.policy.can_view_case` over each of the person's orders (deny by default: a person is visible only when
at least one of their orders is, and only the visible orders are shown) and audited with its purpose by the
web layer."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from shapely.geometry import Point, shape
from sqlalchemy.orm import Session

from openem.alerts.queries import alerts_for_order
from openem.auth.policy import Principal, can_view_case
from openem.core.errors import Invalid
from openem.core.geo import haversine_m
from openem.core.time import local_date, local_to_utc, utcnow
from openem.devices.queries import activations_of_order
from openem.orders.queries import PersonOrder, find_person_orders, map_context_of, orders_of_person
from openem.telemetry.queries import trail_of_person

#: The longest window one request may ask for (the page and exports page through longer periods).
MAX_WINDOW = timedelta(days=92)
#: A position counts as away from the curfew address beyond this distance plus its own accuracy.
HOME_RADIUS_M = 100.0
DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")


def visible(who: Principal, orders: list[PersonOrder]) -> list[PersonOrder]:
    return [o for o in orders if can_view_case(who, o.scope).allowed]


def search(session: Session, who: Principal, text: str) -> list[dict[str, Any]]:
    """People the caller may see matching an order ref, person id or part of a name: one entry a person."""
    people: dict[str, dict[str, Any]] = {}
    for o in visible(who, find_person_orders(session, text)):
        if not o.person_id:
            continue
        p = people.setdefault(o.person_id, {"person_id": o.person_id, "name": o.wearer_name, "orders": []})
        p["orders"].append({"ref": o.ref, "status": o.status})
    return list(people.values())


def person_orders(session: Session, who: Principal, person_id: str) -> tuple[list[PersonOrder], int]:
    """(the person's orders the caller may see, how many orders the person has): none visible means refuse."""
    everything = orders_of_person(session, person_id)
    return visible(who, everything), len(everything)


def window(start: str | None, end: str | None, *, default_days: int = 7) -> tuple[datetime, datetime]:
    """A [from, to) window from ISO dates or instants; to defaults to now, from to a week before it."""
    now = utcnow()

    def parse(v: str, name: str) -> datetime:
        try:
            d = datetime.fromisoformat(v.strip()[:40].replace("Z", "+00:00"))
        except ValueError:
            raise Invalid(f"{name} is not a date or time (use e.g. 2026-11-01)") from None
        return d if d.tzinfo else d.replace(tzinfo=UTC)

    to = parse(end, "to") if end else now
    frm = parse(start, "from") if start else to - timedelta(days=default_days)
    if frm >= to:
        raise Invalid("from must be before to")
    if to - frm > MAX_WINDOW:
        raise Invalid(f"a window is at most {MAX_WINDOW.days} days: ask for it in parts")
    if frm > now:
        raise Invalid("the window starts in the future")
    return frm, min(to, now + timedelta(minutes=5))


def trail(session: Session, person_id: str, frm: datetime, to: datetime) -> list[dict[str, Any]]:
    return trail_of_person(session, person_id, frm, to)


@dataclasses.dataclass
class Night:
    day: date
    start: datetime
    end: datetime
    status: str  # complied, absent, no data
    positions: int
    away_minutes: int


def curfew_nights(
    order: PersonOrder, points: list[dict[str, Any]], frm: datetime, to: datetime
) -> list[Night]:
    """Each curfew slot of the order that starts in the window: complied (every position at home), absent
    (positions away from the curfew address for longer than the grace), or no data (no positions)."""
    conditions = order.document.get("conditions") or {}
    curfew = conditions.get("curfew") if isinstance(conditions, dict) else None
    if not isinstance(curfew, dict):
        return []
    home = next((a for a in map_context_of(order.document)["addresses"] if a["curfew"]), None)
    if home is None:
        return []
    grace = int(curfew.get("grace_minutes") or 0)
    slots = {s.get("day"): s for s in curfew.get("timetable") or [] if isinstance(s, dict)}
    nights: list[Night] = []
    day = local_date(frm) - timedelta(days=1)
    while day <= local_date(to):
        slot = slots.get(DAYS[day.weekday()])
        day_ = day
        day += timedelta(days=1)
        if slot is None:
            continue
        try:
            s_at = time.fromisoformat(str(slot["start"]))
            e_at = time.fromisoformat(str(slot["end"]))
        except (KeyError, ValueError):
            continue
        start = local_to_utc(day_, s_at)
        end = local_to_utc(day_ + timedelta(days=1) if e_at <= s_at else day_, e_at)
        if start < frm or start >= to:
            continue
        inside = [p for p in points if start <= p["time"] < end]
        away = [
            p
            for p in inside
            if haversine_m(p["lat"], p["lon"], home["lat"], home["lon"])
            > HOME_RADIUS_M + (p["accuracy_m"] or 0)
        ]
        away_minutes = _span_minutes(away)
        status = "no data" if not inside else ("absent" if away and away_minutes >= grace else "complied")
        nights.append(Night(day_, start, end, status, len(inside), away_minutes))
    return nights


def _span_minutes(points: list[dict[str, Any]]) -> int:
    """Minutes covered by positions roughly a minute apart (a run's gaps over 10 minutes are not counted)."""
    total = 0.0
    for a, b in zip(points, points[1:], strict=False):
        gap = (b["time"] - a["time"]).total_seconds()
        if gap <= 600:
            total += gap
    return int(total // 60) + (1 if points else 0)


def zone_visits(order: PersonOrder, points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Visits to each of the order's zones: a run of consecutive positions inside, with its start and end."""
    out: list[dict[str, Any]] = []
    for z in map_context_of(order.document)["zones"]:
        try:
            poly = shape(z["geometry"])
        except (TypeError, ValueError, KeyError, AttributeError):
            continue
        run: list[dict[str, Any]] = []
        for p in [*points, None]:
            if p is not None and poly.contains(Point(p["lon"], p["lat"])):
                run.append(p)
                continue
            if run:
                out.append(
                    {
                        "zone": z["name"] or "Unnamed zone",
                        "kind": "exclusion" if z["kind"] == "exclusion_zones" else "inclusion",
                        "start": run[0]["time"],
                        "end": run[-1]["time"],
                        "minutes": int((run[-1]["time"] - run[0]["time"]).total_seconds() // 60),
                        "positions": len(run),
                    }
                )
                run = []
    return sorted(out, key=lambda v: v["start"])


def devices_and_alerts(
    session: Session, orders: list[PersonOrder]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    devices: list[dict[str, Any]] = []
    alerts: list[dict[str, Any]] = []
    for o in orders:
        for a in activations_of_order(session, o.ref):
            devices.append({"order_ref": o.ref, **dict(a._mapping)})
        alerts.extend({"order_ref": o.ref, **a} for a in alerts_for_order(session, o.ref, limit=50))
    return devices, sorted(alerts, key=lambda a: a["detected_at"], reverse=True)


def conditions_summary(order: PersonOrder) -> list[tuple[str, str]]:
    """The order's conditions in plain words, for the summary list."""
    doc = order.document
    c, m = doc.get("conditions"), doc.get("monitoring")
    cond: dict[str, Any] = c if isinstance(c, dict) else {}
    mon: dict[str, Any] = m if isinstance(m, dict) else {}
    rows: list[tuple[str, str]] = [
        ("Order type", str(mon.get("order_type") or "—")),
        ("Monitoring", f"{str(mon.get('start') or '')[:10]} to {str(mon.get('end') or '')[:10]}"),
    ]
    curfew = cond.get("curfew")
    if isinstance(curfew, dict):
        slots = [s for s in curfew.get("timetable") or [] if isinstance(s, dict)]
        hours = sorted({f"{s.get('start')}–{s.get('end')}" for s in slots})
        rows.append(("Curfew", f"{len(slots)} nights a week, {', '.join(hours)}"))
    for kind, label in (("exclusion_zones", "Exclusion zones"), ("inclusion_zones", "Inclusion zones")):
        zones = cond.get(kind)
        if isinstance(zones, list) and zones:
            rows.append(
                (label, ", ".join(str(z.get("name") or "Unnamed") for z in zones if isinstance(z, dict)))
            )
    return rows
