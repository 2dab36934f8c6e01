"""The person view (issue 15): what a probation practitioner or police officer sees of a person on their
caseload — the order and its conditions, the trail for a window, curfew compliance night by night, visits to
zones, alerts and devices. Reads other capabilities only through their `queries.py`. Every look is allowed by
`auth.policy.can_view_case` over each of the person's orders (deny by default: a person is visible only when
at least one of their orders is, and only the visible orders are shown) and audited with its purpose by the
web layer."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from shapely import contains_xy
from shapely.errors import GEOSException
from shapely.geometry import shape
from sqlalchemy.orm import Session

from openem.alerts.queries import alerts_for_order, incidents_of_orders
from openem.auth.policy import Principal, can_view_case
from openem.breaches.queries import breaches_of_orders
from openem.core.errors import Invalid
from openem.core.geo import haversine_m
from openem.core.time import local_date, local_to_utc, utcnow
from openem.devices.queries import activations_of_order
from openem.field.queries import visits_of_orders
from openem.insights import rules
from openem.insights.repository import NOTE_MAX, lake_trail, notes_of
from openem.insights.repository import add_note as repo_add_note
from openem.insights.rules import Points, to_us
from openem.orders.queries import (
    PersonOrder,
    find_orders_by_identifier,
    find_person_orders,
    map_context_of,
    orders_of_person,
    versions_of_orders,
)
from openem.store.lake import day_bounds
from openem.telemetry.queries import position_sources, trail_columns

#: The longest window one request may ask for: two years (the page thins it, the API pages it).
MAX_WINDOW = timedelta(days=731)
#: A position counts as away from the curfew address beyond this distance plus its own accuracy.
HOME_RADIUS_M = 100.0
DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")


def visible(who: Principal, orders: list[PersonOrder]) -> list[PersonOrder]:
    return [o for o in orders if can_view_case(who, o.scope).allowed]


def search(session: Session, who: Principal, text: str) -> list[dict[str, Any]]:
    """People the caller may see matching an order ref, person id, part of a name, or a wearer identifier
    (PNC in any usual spelling, CRN, NOMIS number, prison number, Home Office reference): one entry a person.
    Restricted ("specials") orders appear only for users cleared for them (`can_view_case`)."""
    text = rules.printable(text, 100)
    found = find_person_orders(session, text) + find_orders_by_identifier(
        session, rules.identifier_keys(text)
    )
    people: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    for o in visible(who, found):
        if not o.person_id or o.ref in seen:
            continue
        seen.add(o.ref)
        p = people.setdefault(o.person_id, {"person_id": o.person_id, "name": o.wearer_name, "orders": []})
        p["orders"].append({"ref": o.ref, "status": o.status})
    return list(people.values())


def person_orders(session: Session, who: Principal, person_id: str) -> tuple[list[PersonOrder], int]:
    """(the person's orders the caller may see, how many orders the person has): none visible means refuse."""
    if rules.printable(person_id, 40) != person_id:
        return [], 0
    everything = orders_of_person(session, person_id)
    return visible(who, everything), len(everything)


#: No monitoring data is older than this: a window starting earlier is a typing mistake (and near year 1 the
#: London-day arithmetic of curfew nights would overflow).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def window(start: str | None, end: str | None, *, default_days: int = 7) -> tuple[datetime, datetime]:
    """A [from, to) window from ISO dates or instants; to defaults to now, from to a week before it. Every
    refusal is an `Invalid` naming its field ("from" or "to"), never an overflow."""
    now = utcnow()

    def parse(v: str, name: str) -> datetime:
        try:
            d = datetime.fromisoformat(v.strip()[:40].replace("Z", "+00:00"))
            d = d.replace(tzinfo=UTC) if d.tzinfo is None else d.astimezone(UTC)
        except ValueError:
            raise Invalid(f"{name} is not a date or time (use e.g. 2026-11-01)", field=name) from None
        except OverflowError:
            raise Invalid(f"{name} is not a date this service can show", field=name) from None
        if d < EARLIEST:
            raise Invalid(
                f"{name} is before {EARLIEST.year}: there is no monitoring data that old", field=name
            )
        return d

    given = parse(start, "from") if start else None
    to = parse(end, "to") if end else now
    frm = given or max(EARLIEST, to - timedelta(days=default_days))
    if frm > now:
        raise Invalid("the window starts in the future", field="from")
    if frm >= to:
        raise Invalid("from must be before to", field="from")
    if to - frm > MAX_WINDOW:
        raise Invalid(f"a window is at most {MAX_WINDOW.days} days: ask for it in parts", field="to")
    return frm, min(to, now + timedelta(minutes=5))


@dataclasses.dataclass
class Trail:
    """A person's positions for a window, recent store and lake merged (one copy of each position), and
    which lake days could not be read."""

    points: Points  # reads as a list of position dicts, built only for what is shown
    from_lake: int = 0
    unreadable_days: list[date] = dataclasses.field(default_factory=list)
    #: days the lake has no partition for, between days it has, and with no position in the recent store either
    missing_days: list[date] = dataclasses.field(default_factory=list)


def _empty_days(points: Points, days: list[date]) -> list[date]:
    """Those London days on which the trail has no position."""
    out = []
    for day in days:
        start, end = day_bounds(day)
        lo, hi = np.searchsorted(points.t_us, [to_us(start), to_us(end)], "left").tolist()
        if lo == hi:
            out.append(day)
    return out


def trail(
    session: Session, person_id: str, frm: datetime, to: datetime, lake_dir: Path | None = None
) -> Trail:
    """Positions in [frm, to) from the relational store, merged with the lake's older days when a lake is given;
    a position in both is kept once (same device and sequence number)."""
    recent = Points(trail_columns(session, person_id, frm, to))
    lake = lake_trail(lake_dir, person_id, frm, to)
    if lake.columns is None:
        return Trail(recent, 0, lake.unreadable, _empty_days(recent, lake.absent))
    older = Points(lake.columns)
    if len(recent) and len(older):
        have = set(zip(recent.device_id, recent.seq.tolist(), strict=True))
        new = np.fromiter(
            ((d, s) not in have for d, s in zip(older.device_id, older.seq.tolist(), strict=True)),
            bool,
            len(older),
        )
        if not new.all():
            older = older.take(new)
    if not len(older):
        merged = recent
    else:
        both = Points(
            {k: (older.device_id + recent.device_id) if k == "device_id"
                else np.concatenate([getattr(older, k), getattr(recent, k)])
             for k in ("t_us", "lat", "lon", "accuracy_m", "seq", "device_id")}
        )  # fmt: skip
        if not len(recent) or older.t_us[-1] <= recent.t_us[0]:  # the usual case: the lake holds older days
            merged = both
        else:  # by (time, seq), stable as `sorted` is
            merged = both.take(np.lexsort((both.seq, both.t_us)))
    return Trail(merged, len(older), lake.unreadable, _empty_days(merged, lake.absent))


@dataclasses.dataclass
class Night:
    day: date
    start: datetime
    end: datetime
    status: str  # rules.STATUSES
    positions: int
    away_minutes: int
    intervals: list[tuple[datetime, datetime, bool]] = dataclasses.field(default_factory=list)


def curfew_home(order: PersonOrder) -> dict[str, Any] | None:
    return next((a for a in map_context_of(order.document)["addresses"] if a["curfew"]), None)


def curfew_slots(order: PersonOrder, frm: datetime, to: datetime) -> list[tuple[date, datetime, datetime]]:
    """(night of, start, end) of each curfew slot of the order that starts in the window."""
    conditions = order.document.get("conditions") or {}
    curfew = conditions.get("curfew") if isinstance(conditions, dict) else None
    if not isinstance(curfew, dict):
        return []
    slots = {s.get("day"): s for s in curfew.get("timetable") or [] if isinstance(s, dict)}
    out = []
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
        if frm <= start < to:
            out.append((day_, start, end))
    return out


def curfew_nights(order: PersonOrder, points: Points, frm: datetime, to: datetime) -> list[Night]:
    """Each curfew slot of the order that starts in the window, classed by `rules.classify_night` from the
    positions in it (at home: within 100 m plus the fix's accuracy of the curfew address)."""
    home = curfew_home(order)
    if home is None:
        return []
    conditions = order.document.get("conditions") or {}
    curfew = conditions.get("curfew") if isinstance(conditions, dict) else {}
    grace = timedelta(minutes=int((curfew or {}).get("grace_minutes") or 0))
    t_us = points.t_us
    nights: list[Night] = []
    for day, start, end in curfew_slots(order, frm, to):
        lo = int(np.searchsorted(t_us, to_us(start), "left"))
        hi = max(lo, int(np.searchsorted(t_us, to_us(end), "left")))
        fixes = [
            (t, haversine_m(la, lo_, home["lat"], home["lon"]) <= HOME_RADIUS_M + (a or 0))
            for t, la, lo_, a in zip(points.times(lo, hi), points.lat[lo:hi].tolist(), points.lon[lo:hi].tolist(),
                                     points.accuracy_m[lo:hi].tolist(), strict=True)
        ]  # fmt: skip
        status, minutes = rules.classify_night(start, end, fixes, grace)
        nights.append(Night(day, start, end, status, hi - lo, minutes, rules.home_intervals(fixes, end)))
    return nights


def zones_of(orders: list[PersonOrder]) -> list[dict[str, Any]]:
    """The orders' zones with their shapes and schedules in words (for the map, the key and visits)."""
    out = []
    for o in orders:
        cond = o.document.get("conditions") if isinstance(o.document.get("conditions"), dict) else {}
        for kind in ("exclusion_zones", "inclusion_zones", "restriction_zones"):  # restriction: CEMO's
            for z in (cond or {}).get(kind) or []:
                if not isinstance(z, dict):
                    continue
                try:
                    poly = shape(z["geometry"])
                except (TypeError, ValueError, KeyError, AttributeError, GEOSException):
                    continue
                sched = [s for s in z.get("schedule") or [] if isinstance(s, dict)]
                words = (
                    "; ".join(
                        f"{str(s.get('day') or '').title()} {s.get('start')}–{s.get('end')}" for s in sched
                    )
                    if sched
                    else "At all times"
                )
                out.append({"order_ref": o.ref, "name": str(z.get("name") or "Unnamed zone")[:120],
                            "kind": kind.removesuffix("_zones"),
                            "geometry": z["geometry"], "schedule": words, "shape": poly})  # fmt: skip
    return out


def inside_zones(zones: list[dict[str, Any]], points: Points) -> list[frozenset[str]]:
    """For each position, the names of the zones it is inside (vectorised)."""
    if not len(points):
        return []
    lon, lat = points.lon, points.lat
    masks = [(z["name"], contains_xy(z["shape"], lon, lat)) for z in zones]
    empty: frozenset[str] = frozenset()
    out = [empty] * len(points)
    for name, mask in masks:
        for i in np.flatnonzero(mask):
            out[i] = out[i] | {name}
    return out


def zone_visits(
    zones: list[dict[str, Any]], points: Points, inside: list[frozenset[str]] | None = None
) -> list[dict[str, Any]]:
    """Visits to each zone: a run of consecutive positions inside, with its start, end and duration."""
    inside = inside_zones(zones, points) if inside is None else inside
    out: list[dict[str, Any]] = []
    n = len(points)
    for z in zones:
        name = z["name"]
        isin = np.fromiter((name in s for s in inside), bool, n).astype(np.int8)
        edges = np.diff(np.concatenate([[0], isin, [0]]))
        for first, stop in zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(),
                               strict=True):  # fmt: skip
            a, b = points.time(first), points.time(stop - 1)
            out.append({"zone": name, "kind": z["kind"], "start": a, "end": b,
                        "minutes": int((b - a).total_seconds() // 60), "positions": stop - first})  # fmt: skip
    return sorted(out, key=lambda v: v["start"])


def zone_totals(visits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    for v in visits:
        t = totals.setdefault((v["zone"], v["kind"]), {"zone": v["zone"], "kind": v["kind"], "visits": 0,
                                                        "minutes": 0})  # fmt: skip
        t["visits"] += 1
        t["minutes"] += v["minutes"]
    return list(totals.values())


def appointments(orders: list[PersonOrder], points: Points, now: datetime) -> list[dict[str, Any]]:
    """Each attendance appointment of the orders: attended (a position within its radius plus accuracy during
    it), missed (none, though positions came in), no data, or upcoming."""
    out = []
    for o in orders:
        cond = o.document.get("conditions") if isinstance(o.document.get("conditions"), dict) else {}
        for a in (cond or {}).get("attendance") or []:
            if not isinstance(a, dict):
                continue
            try:
                start = datetime.fromisoformat(str(a["start"]).replace("Z", "+00:00"))
                end = datetime.fromisoformat(str(a["end"]).replace("Z", "+00:00"))
                lat, lon, radius = float(a["lat"]), float(a["lon"]), float(a.get("radius_m") or 100)
            except (KeyError, TypeError, ValueError):
                continue
            i0 = int(np.searchsorted(points.t_us, to_us(start), "left"))
            i1 = max(i0, int(np.searchsorted(points.t_us, to_us(end), "left")))
            if start > now:
                status = "upcoming"
            elif i1 == i0:
                status = "no data"
            elif any(
                haversine_m(la, lo, lat, lon) <= radius + (ac or 0)
                for la, lo, ac in zip(points.lat[i0:i1].tolist(), points.lon[i0:i1].tolist(),
                                      points.accuracy_m[i0:i1].tolist(), strict=True)
            ):  # fmt: skip
                status = "attended"
            else:
                status = "missed"
            out.append({"order_ref": o.ref, "name": str(a.get("name") or "Appointment")[:120], "start": start,
                        "end": end, "status": status})  # fmt: skip
    return sorted(out, key=lambda x: x["start"])


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
    for kind, label in (("exclusion_zones", "Exclusion zones"), ("inclusion_zones", "Inclusion zones"),
                        ("restriction_zones", "Restriction zones")):  # fmt: skip
        zones = cond.get(kind)
        if isinstance(zones, list) and zones:
            rows.append(
                (label, ", ".join(str(z.get("name") or "Unnamed") for z in zones if isinstance(z, dict)))
            )
    return rows


# --- the map: thinned without losing what matters ------------------------------------------------------------

#: Positions drawn on the page's map at most (the table pages through every one, the exports carry all).
MAP_POINTS = 2_000


def map_points(
    session: Session, orders: list[PersonOrder], points: Points, frm: datetime, to: datetime,
    inside: list[frozenset[str]], budget: int = MAP_POINTS,
) -> list[dict[str, Any]]:  # fmt: skip
    """The positions to draw: every zone entry and exit, each side of a curfew start or end and of a gap, the
    first and last, and evenly spaced others up to the budget; each keeps its number in the whole trail, its
    speed from the fix before, its source and why it was kept."""
    boundaries = [t for o in orders for _, s, e in curfew_slots(o, frm, to) for t in (s, e)]
    keep = rules.key_points(points, inside, boundaries)
    idx = rules.thin(len(points), keep, budget)
    return describe(session, points, idx, keep)


def describe(
    session: Session, points: Points, idx: list[int], keep: set[int] | None = None
) -> list[dict[str, Any]]:
    """These positions (by index) with their number (1-based in the trail), speed (reported, else from the fix
    before), source (GPS, LBS, WIFI; RF home unit readings carry none) and whether they are key points."""
    rows = points.take(np.asarray(idx, np.int64)).rows()  # dicts only for the positions shown
    details = position_sources(session, [(p["device_id"], p["seq"]) for p in rows])
    out = []
    for i, p in zip(idx, rows, strict=True):
        d = details.get((p["device_id"], p["seq"]), {})
        speed = d.get("speed_mps")
        if speed is not None:
            kmh: float | None = round(speed * 3.6, 1)
        elif i > 0:
            kmh = rules.speeds_kmh([points[i - 1], p])[1]
        else:
            kmh = None
        out.append({**p, "n": i + 1, "speed_kmh": kmh, "source": d.get("source") or "",
                    "key": keep is not None and i in keep})  # fmt: skip
    return out


# --- the timeline --------------------------------------------------------------------------------------------


def timeline(session: Session, orders: list[PersonOrder], person_id: str) -> list[dict[str, Any]]:
    """Everything known about the person, newest first, each entry {kind, at, title, detail, order_ref}:
    order versions, device fittings and removals, visits and their attempts, alerts, incidents, breaches and
    their responses (through `breaches.queries`), notes."""
    refs = [o.ref for o in orders]
    out: list[dict[str, Any]] = []

    def add(kind: str, at: datetime | None, title: str, detail: str = "", ref: str = "") -> None:
        if at is not None:
            out.append({"kind": kind, "at": at, "title": title, "detail": detail, "order_ref": ref})

    for v in versions_of_orders(session, refs):
        what = str(v["request_type"] or "order").replace("_", " ").lower()
        add("order", v["created_at"], f"Order {v['ref']} version {v['version']} created ({what})",
            f"By {v['created_by']}", v["ref"])  # fmt: skip
        if v["decided_at"]:
            add("order", v["decided_at"], f"Order {v['ref']} version {v['version']} {str(v['status']).lower()}",
                "", v["ref"])  # fmt: skip
    for o in orders:
        for a in activations_of_order(session, o.ref, limit=200):
            m = a._mapping
            add(
                "device",
                m["start"],
                f"{m['device_kind']} device {m['device_id']} fitted",
                f"Role: {m['role']}",
                o.ref,
            )
            if m["end"]:
                add("device", m["end"], f"Device {m['device_id']} removed", "", o.ref)
        for al in alerts_for_order(session, o.ref, limit=1000):
            kind = str(al["kind"]).replace("_", " ").capitalize()
            add("alert", al["detected_at"], f"Alert: {kind}", f"Severity {str(al['severity']).lower()}, "
                f"status {str(al['status']).lower()}", o.ref)  # fmt: skip
    for v in visits_of_orders(session, refs):
        kind = str(v["kind"]).lower()
        add(
            "visit",
            v["created_at"],
            f"Visit booked: {kind}",
            f"Status {str(v['status']).lower()}",
            v["order_ref"],
        )
        for att in v["attempt_log"]:
            add("visit", att["at"], f"Visit attempt ({kind}): {str(att['outcome']).replace('_', ' ').lower()}",
                f"By {att['officer']}", v["order_ref"])  # fmt: skip
    for i in incidents_of_orders(session, refs):
        add("incident", i["opened_at"], f"Incident opened: {i['situation'] or 'incident'}",
            f"Severity {str(i['severity']).lower()}, {i['episode_count']} episode(s), now {i['state']}",
            i["order_ref"])  # fmt: skip
        if i["closed_at"]:
            add(
                "incident",
                i["closed_at"],
                f"Incident closed: {i['resolution'] or i['state']}",
                "",
                i["order_ref"],
            )
    for b in breaches_of_orders(session, refs):
        what = ", ".join(str(k).replace("_", " ") for k in b["kinds"]) or b["situation"] or "breach"
        add("breach", b["confirmed_at"], f"Breach {b['breach_id']} confirmed: {what}",
            f"By {b['confirmed_by']}, now {b['state']}", b["order_ref"])  # fmt: skip
        for r in b["responses"]:
            step = str(r["step"]).replace("_", " ")
            value = f": {str(r['value']).replace('_', ' ')}" if r["value"] else ""
            add("breach", r["at"], f"Breach {b['breach_id']} response ({r['agency']}) {step}{value}",
                f"By {r['by']}", b["order_ref"])  # fmt: skip
    for n in notes_of(session, person_id):
        add("note", n["written_at"], f"Note by {n['author_name'] or n['author']}", n["text"], n["order_ref"])
    return rules.filter_timeline(out, ())


def add_note(
    session: Session, who: Principal, orders: list[PersonOrder], person_id: str, text: str, order_ref: str,
    author_name: str,
) -> dict[str, Any]:  # fmt: skip
    """A practitioner's note about the person, under one of the orders they may see (the first by default)."""
    text = "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n")).strip()
    if not text:
        raise Invalid("Write the note")
    if len(text) > NOTE_MAX:
        raise Invalid(f"A note is at most {NOTE_MAX} characters")
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise Invalid("The note has characters that cannot be shown")
    refs = [o.ref for o in orders]
    ref = order_ref if order_ref in refs else refs[0]
    row = repo_add_note(session, person_id=person_id, order_ref=ref, author=who.user_id,
                        author_name=author_name, text=text, at=utcnow())  # fmt: skip
    return {"note_id": row.note_id, "order_ref": ref, "written_at": row.written_at, "text": row.text}
