"""Reading an order document (docs/order-format.md) into the `OrderSpec` the engine works on.

The order validator (openem.orders.rules) is the contract: every document it accepts is read here. Its
models are lax, so a number may arrive as a numeric string, and every optional field may be null, blank or
missing; null means "not given" and takes the default. What cannot be read raises `OrderUnusable`, and the
engine quarantines that order version instead of failing (engine.apply_order).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely

from openem.core.geo import wgs84_to_bng
from openem.core.time import parse_instant
from openem.monitoring.model import (
    DAYS,
    FAR_FUTURE,
    OrderSpec,
    Zone,
    default_thresholds,
    merge_thresholds,
    place_keys,
)


class OrderUnusable(ValueError):
    """An order document monitoring cannot use; the message names the part and says why, in plain words."""


ATTENDANCE_RADIUS_M = 100.0  # an appointment's radius when the order leaves it blank (docs/order-format.md)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number(value: Any, default: Any, where: str) -> Any:
    """A finite number (a JSON number or a numeric string); null or blank is `default`."""
    if _blank(value):
        return default
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise OrderUnusable(f"{where} is not a number ({str(value)[:40]!r})") from None
    if not math.isfinite(out):
        raise OrderUnusable(f"{where} is not a finite number")
    return out


def _instant(value: Any, default: Any, where: str) -> Any:
    """UTC seconds of an ISO 8601 instant; null or blank is `default`."""
    if _blank(value):
        return default
    try:
        return parse_instant(str(value)).timestamp()
    except (ValueError, TypeError, OverflowError):
        raise OrderUnusable(f"{where} is not a date and time ({str(value)[:40]!r})") from None


def _section(d: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = d.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise OrderUnusable(f"{where} is not an object")
    return value


def _items(d: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    value = d.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise OrderUnusable(f"{where} is not a list of objects")
    return value


def _wall(value: Any, where: str) -> str:
    """An `HH:MM` wall-clock time, checked now: windows are built from it later, on the hot path."""
    ok = (
        isinstance(value, str) and len(value) == 5 and value[2] == ":" and value.replace(":", "", 1).isascii()
    )
    if ok and value[:2].isdigit() and value[3:].isdigit() and int(value[:2]) < 24 and int(value[3:]) < 60:
        return str(value)
    raise OrderUnusable(f"{where} is not a time like 19:00 ({str(value)[:20]!r})")


def _slot(raw: dict[str, Any], where: str) -> dict[str, Any]:
    """A timetable or schedule slot as the window code reads it: {day?, start, end}; no day is every day."""
    day = raw.get("day")
    if day is not None and day not in DAYS:
        raise OrderUnusable(f"{where}.day is not a day of the week ({str(day)[:20]!r})")
    slot = {"start": _wall(raw.get("start"), f"{where}.start"), "end": _wall(raw.get("end"), f"{where}.end")}
    return slot if day is None else {"day": day, **slot}


def _lonlat_xy(lat: Any, lon: Any, where: str) -> tuple[float, float] | None:
    la, lo = _number(lat, None, f"{where}.lat"), _number(lon, None, f"{where}.lon")
    if la is None or lo is None:
        return None
    x, y = wgs84_to_bng(lo, la)
    return float(x), float(y)


def _bng_ring(ring: Any) -> np.ndarray:
    pts = np.asarray([p[:2] for p in ring], dtype=float)  # [lon, lat] or [lon, lat, alt], even mixed
    x, y = wgs84_to_bng(pts[:, 0], pts[:, 1])
    return np.column_stack([x, y])


def _holes(rings: list[Any]) -> list[np.ndarray]:
    """The polygon's holes as order validation reads them: rings of [lon, lat] points; others are ignored."""
    return [_bng_ring(h) for h in rings[1:]
            if isinstance(h, list) and h and all(isinstance(q, list) and len(q) >= 2 for q in h)]  # fmt: skip


def _zone(raw: dict[str, Any], where: str, fallback_id: str, order_start: float, order_end: float) -> Zone:
    try:
        rings = raw["geometry"]["coordinates"]
        polygon = shapely.make_valid(shapely.Polygon(_bng_ring(rings[0]), _holes(rings)))
    except (KeyError, IndexError, TypeError, ValueError, shapely.errors.GEOSException):
        raise OrderUnusable(f"{where}.geometry is not a polygon of [longitude, latitude] points") from None
    shapely.prepare(polygon)
    schedule = [
        _slot(s, f"{where}.schedule[{j}]") for j, s in enumerate(_items(raw, "schedule", f"{where}.schedule"))
    ]
    zone_id = raw.get("id")
    return Zone(fallback_id if _blank(zone_id) else str(zone_id), polygon,
                _instant(raw.get("start"), order_start, f"{where}.start"),
                _instant(raw.get("end"), order_end, f"{where}.end"), schedule or None)  # fmt: skip


def _restriction_zones(conditions: dict[str, Any], taken: set[str], start: float, end: float) -> list[Zone]:
    """CEMO's restriction zones are places the wearer must not be, judged as exclusion zones with their own
    dates and weekly `schedule` (CEMO's free-text `duration` is for people, docs/order-validation.md). A
    zone keeps its id unless an exclusion zone has it; then, and without one, it is `restriction_zones[i]`."""
    where = "conditions.restriction_zones"
    out = []
    for i, raw in enumerate(_items(conditions, "restriction_zones", where)):
        zone = _zone(raw, f"{where}[{i}]", f"restriction_zones[{i}]", start, end)
        if zone.zone_id in taken:
            zone.zone_id = f"restriction_zones[{i}]"
        taken.add(zone.zone_id)
        out.append(zone)
    return out


def _suspended(doc: dict[str, Any], start: float, end: float) -> tuple[float, float]:
    """A suspension (orders `suspensions`, set by the platform): while the last one is open nothing is judged
    from its `from`; once resumed, nothing before `resumed_at` (what came before was judged live)."""
    entries = doc.get("suspensions")
    if not isinstance(entries, list) or not entries or not isinstance(entries[-1], dict):
        return start, end
    last = entries[-1]
    if last.get("resumed_at"):
        return max(start, _instant(last.get("resumed_at"), start, "suspensions.resumed_at")), end
    return start, min(end, _instant(last.get("from"), end, "suspensions.from"))


def parse_order(doc: dict[str, Any], defaults: dict[str, Any] | None = None) -> OrderSpec:
    """Read the parts of an order document (docs/order-format.md) that monitoring needs. Raises
    `OrderUnusable` for a document it cannot use."""
    if not isinstance(doc, dict):
        raise OrderUnusable("the order is not a JSON object")
    monitoring = _section(doc, "monitoring", "monitoring")
    start = _instant(monitoring.get("start"), 0.0, "monitoring.start")
    end = _instant(monitoring.get("end"), FAR_FUTURE, "monitoring.end")
    if doc.get("request_type") in {"REVOCATION", "END_MONITORING"}:
        end = min(end, start)
    start, end = _suspended(doc, start, end)
    override = doc.get("thresholds")
    if override is not None and not isinstance(override, dict):
        raise OrderUnusable("thresholds is not an object")
    thresholds = merge_thresholds(defaults or default_thresholds(), override)
    spec = OrderSpec(
        str(doc.get("ref") or ""), str(doc.get("person_id") or ""), start, end, thresholds, doc=doc
    )
    conditions = _section(doc, "conditions", "conditions")
    curfew = _section(conditions, "curfew", "conditions.curfew")
    if curfew:
        spec.curfew = _curfew(doc, curfew, start, end, thresholds)
    for kind in ("exclusion_zones", "inclusion_zones"):
        where = f"conditions.{kind}"
        zones = [_zone(r, f"{where}[{i}]", f"{kind}[{i}]", start, end)
                 for i, r in enumerate(_items(conditions, kind, where))]  # fmt: skip
        setattr(spec, kind.split("_")[0], zones)
    spec.exclusion += _restriction_zones(conditions, {z.zone_id for z in spec.exclusion}, start, end)
    spec.attendance = [
        _appointment(a, i) for i, a in enumerate(_items(conditions, "attendance", "conditions.attendance"))
    ]
    alcohol = _section(conditions, "alcohol", "conditions.alcohol")
    if alcohol:
        mode = alcohol.get("mode") or "ABSTINENCE"
        if mode not in ("ABSTINENCE", "LIMIT"):
            raise OrderUnusable(f"conditions.alcohol.mode is not ABSTINENCE or LIMIT ({str(mode)[:20]!r})")
        limit = _number(alcohol.get("limit_gdl"), None, "conditions.alcohol.limit_gdl")
        limit = (
            limit if limit is None or limit > 0 else None
        )  # a limit of 0: any confirmed drinking, not every reading
        spec.alcohol = {"mode": mode, "limit_gdl": limit,
                        "start": _instant(alcohol.get("start"), start, "conditions.alcohol.start"),
                        "end": _instant(alcohol.get("end"), end, "conditions.alcohol.end")}  # fmt: skip
    proximity = _section(conditions, "proximity", "conditions.proximity")
    if proximity:
        victim, th = proximity.get("victim_device_id"), thresholds["proximity"]
        spec.proximity = {"victim_device_id": None if _blank(victim) else str(victim),
                          "pre_alert_m": _number(proximity.get("pre_alert_m"), None, "conditions.proximity.pre_alert_m") or float(th["pre_alert_m"]),
                          "alert_m": _number(proximity.get("alert_m"), None, "conditions.proximity.alert_m") or float(th["alert_m"])}  # fmt: skip
    trail = _section(conditions, "trail", "conditions.trail")
    if trail:
        spec.trail = {"start": _instant(trail.get("start"), start, "conditions.trail.start"),
                      "end": _instant(trail.get("end"), end, "conditions.trail.end")}  # fmt: skip
    if doc.get("suspensions"):
        _clamp(spec, start, end)
    return spec


def _clamp(spec: OrderSpec, start: float, end: float) -> None:
    """A suspended or resumed order: every condition's own dates inside the judged period."""
    for part in (spec.curfew, spec.alcohol, spec.trail):
        if part:
            part["start"], part["end"] = max(part["start"], start), min(part["end"], end)
    for zone in (*spec.exclusion, *spec.inclusion):
        zone.start, zone.end = max(zone.start, start), min(zone.end, end)


def _appointment(raw: dict[str, Any], i: int) -> dict[str, Any]:
    where = f"conditions.attendance[{i}]"
    xy = _lonlat_xy(raw.get("lat"), raw.get("lon"), where)
    start, end = (
        _instant(raw.get("start"), None, f"{where}.start"),
        _instant(raw.get("end"), None, f"{where}.end"),
    )
    if xy is None or start is None or end is None:
        raise OrderUnusable(f"{where} needs a location, a start and an end")
    appt_id = raw.get("id")
    return {"id": f"attendance[{i}]" if _blank(appt_id) else str(appt_id), "x": xy[0], "y": xy[1],
            "radius_m": _number(raw.get("radius_m"), ATTENDANCE_RADIUS_M, f"{where}.radius_m"),
            "start": start, "end": end}  # fmt: skip


def _curfew(doc: dict[str, Any], raw: dict[str, Any], start: float, end: float, thresholds: dict[str, Any]
            ) -> dict[str, Any]:  # fmt: skip
    """The curfew with its addresses ("places"): each timetable slot, and the release day, is judged at the
    address it names. Place 0 is the main address: PRIMARY when a slot is there, else the release day's.
    A slot naming further addresses (`address_types`) is judged at a place of its own made of them all
    (`place_members`): the wearer is home when at any of them (rules/curfew.py `timelines`)."""
    where = "conditions.curfew"
    timetable = _items(raw, "timetable", f"{where}.timetable")
    slots = [_slot(s, f"{where}.timetable[{i}]") for i, s in enumerate(timetable)]
    release_raw = _section(raw, "release_day", f"{where}.release_day")
    release = _slot({**release_raw, "day": None}, f"{where}.release_day") if release_raw else None
    named = [None if _blank(s.get("address_type")) else str(s["address_type"]) for s in timetable]
    further = [_further(s, f"{where}.timetable[{i}].address_types") for i, s in enumerate(timetable)]
    release_type = None if _blank(release_raw.get("address_type")) else str(release_raw["address_type"])
    main = (
        "PRIMARY"
        if "PRIMARY" in (*named, release_type)
        else release_type or next((t for t in named if t), "PRIMARY")
    )
    extra = (t for types in further for t in types)
    places = [main, *dict.fromkeys(t for t in (*named, release_type, *extra) if t and t != main)]
    addresses: dict[Any, dict[str, Any]] = {}
    for a in _items(doc, "addresses", "addresses"):
        addresses.setdefault(a.get("type"), a)
    place_xy: list[tuple[float, float] | None] = [_place_xy(addresses, t) for t in places]
    grace = _number(raw.get("grace_minutes"), thresholds["curfew"]["grace_minutes"], f"{where}.grace_minutes")
    slot_place = [places.index(t or main) for t in named]
    members: list[tuple[int, ...]] = [(i,) for i in range(len(places))]
    for i, types in enumerate(further):
        group = tuple(sorted({slot_place[i], *(places.index(t) for t in types)}))
        if len(group) > 1:  # a place of its own, after the single addresses, fed by its members
            if group not in members:
                members.append(group)
                places.append("+".join(places[m] for m in group))
                place_xy.append(None)
            slot_place[i] = members.index(group)
    several = {"place_members": members} if len(members[-1]) > 1 else {}  # ordinary orders: as before
    return {
        "start": _instant(raw.get("start"), start, f"{where}.start"),
        "end": _instant(raw.get("end"), end, f"{where}.end"),
        "slots": slots,
        "release_day": release,
        "grace_s": float(grace) * 60.0,
        "home_xy": place_xy[0],
        "places": places,
        "place_xy": place_xy,
        "slot_place": slot_place,
        "release_place": places.index(release_type or main),
        "_place_keys": place_keys(slots, slot_place),
        **several,
    }  # the timetable by address, hashable (rules/curfew.py)


def _further(slot: dict[str, Any], where: str) -> list[str]:
    """A slot's further curfew addresses (`address_types`), without blanks or its own address."""
    value = slot.get("address_types")
    if value is None:
        return []
    if not isinstance(value, list):
        raise OrderUnusable(f"{where} is not a list of address types")
    own = slot.get("address_type")
    return [str(t) for t in value if not _blank(t) and t != own]


def _place_xy(addresses: dict[Any, dict[str, Any]], address_type: str) -> tuple[float, float] | None:
    """BNG of a curfew address; a type the order does not list falls back to the PRIMARY address (order
    validation reports it), and an address without coordinates cannot be judged by GPS."""
    address = addresses.get(address_type) or addresses.get("PRIMARY")
    return _lonlat_xy(address.get("lat"), address.get("lon"), "addresses") if address else None
