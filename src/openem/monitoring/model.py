"""Plain data the engine works on: the parts of an order document it needs, activations, alerts, thresholds.

Times inside the engine are float seconds since the Unix epoch (UTC); they become ISO 8601 only at the
edges (alerts, snapshots). Geometry is in British National Grid metres.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from importlib.resources import files
from typing import Any

from openem.core.time import LONDON, iso, local_to_utc, parse_instant
from openem.monitoring.catalogue import severity_of

FAR_FUTURE = 4_102_444_800.0  # 2100-01-01
DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")


@lru_cache(maxsize=1)
def default_thresholds() -> dict[str, Any]:
    """The versioned defaults (rules/defaults.json). Treat as read-only; `thresholds_for` copies."""
    text = files("openem.monitoring.rules").joinpath("defaults.json").read_text(encoding="utf-8")
    result: dict[str, Any] = json.loads(text)
    return result


def merge_thresholds(base: dict[str, Any], override: dict[str, Any] | None) -> dict[str, Any]:
    """Override merged over base, key by key. With no override the base itself is returned (read-only)."""
    if not override:
        return base
    out = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_thresholds(out[key], value)
        else:
            out[key] = value
    return out


def ts(text: str | None, default: float | None = None) -> float | None:
    if not text:
        return default
    return parse_instant(text).timestamp()


def to_iso(seconds: float) -> str:
    return iso(datetime.fromtimestamp(seconds, UTC))


def alert_id(*parts: Any) -> str:
    """Deterministic alert id from what identifies the episode, so a re-raise is idempotent."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()
    return "ALR-" + digest[:24].upper()


def local_day(t: float) -> date:
    """The Europe/London calendar day of a UTC instant. Cached per UTC hour: London's offset is a whole number
    of hours and changes on the hour (01:00 UTC), so every instant of a UTC hour falls on the same local day."""
    return _local_day_of_hour(int(t // 3600))


@lru_cache(maxsize=8192)
def _local_day_of_hour(hour: int) -> date:
    return datetime.fromtimestamp(hour * 3600, UTC).astimezone(LONDON).date()


@lru_cache(maxsize=1024)
def _hhmm(text: str) -> time:
    h, m = text.split(":")
    return time(int(h), int(m))


def slots_key(slots: list[dict[str, Any]]) -> tuple[tuple[str | None, str, str], ...]:
    """A hashable form of a timetable, for `windows_for_slots_cached`."""
    return tuple((s.get("day"), s["start"], s["end"]) for s in slots)


def place_keys(slots: list[dict[str, Any]], slot_place: list[int] | None = None
               ) -> tuple[tuple[tuple[str | None, str, str], ...], ...]:  # fmt: skip
    """A timetable split by curfew address (`slot_place[i]`: slot i's place; none given: one address), each
    part in `slots_key` form."""
    where = slot_place or [0] * len(slots)
    return tuple(slots_key([s for s, p in zip(slots, where, strict=True) if p == place])
                 for place in range(max(where, default=0) + 1))  # fmt: skip


@lru_cache(maxsize=65536)
def windows_for_slots_cached(
    key: tuple[tuple[str | None, str, str], ...], day: date
) -> tuple[tuple[float, float], ...]:
    """`windows_for_slots` for a timetable in `slots_key` form, cached: most orders share a few timetables."""
    slots = [{"start": a, "end": b} if d is None else {"day": d, "start": a, "end": b} for d, a, b in key]
    return tuple(windows_for_slots(slots, day))


def windows_for_slots(slots: list[dict[str, Any]], day: date) -> list[tuple[float, float]]:
    """UTC (start, end) of the slots whose start falls on a local day; an end before the start is next day."""
    out = []
    name = DAYS[day.weekday()]
    for slot in slots:
        if slot.get("day", name) != name:
            continue
        start, end = _hhmm(slot["start"]), _hhmm(slot["end"])
        if start == end:
            continue  # a zero-length (or 24-hour) slot cannot be monitored: order validation reports it
        end_day = day + timedelta(days=1) if end <= start else day
        out.append((local_to_utc(day, start).timestamp(), local_to_utc(end_day, end).timestamp()))
    return out


def schedule_active(schedule: list[dict[str, Any]] | None, t: float) -> bool:
    """Is a zone schedule (null = always; else [{day,start,end}] Europe/London) active at t?"""
    if not schedule:
        return True
    local = local_day(t)
    for day in (local - timedelta(days=1), local):
        for start, end in windows_for_slots(schedule, day):
            if start <= t < end:
                return True
    return False


@dataclass
class Zone:
    zone_id: str
    polygon: Any  # shapely Polygon in BNG metres (prepared)
    start: float
    end: float
    schedule: list[dict[str, Any]] | None


@dataclass
class OrderSpec:
    ref: str
    person_id: str
    start: float
    end: float
    thresholds: dict[str, Any]
    # {start, end, slots, release_day, grace_s, home_xy, places, place_xy, slot_place, release_place}
    curfew: dict[str, Any] | None = None
    exclusion: list[Zone] = field(default_factory=list)
    inclusion: list[Zone] = field(default_factory=list)
    attendance: list[dict[str, Any]] = field(default_factory=list)  # {id, x, y, radius_m, start, end}
    alcohol: dict[str, Any] | None = None
    proximity: dict[str, Any] | None = None
    trail: dict[str, Any] | None = None
    doc: dict[str, Any] = field(default_factory=dict)

    def active(self, t: float) -> bool:
        return self.start <= t < self.end


@dataclass(frozen=True)
class Activation:
    activation_id: str
    device_id: str
    device_kind: str
    order_ref: str
    person_id: str
    role: str
    start: float
    end: float
    address_type: str = ""  # a home unit's address (PRIMARY, SECONDARY...); blank: the curfew's main address

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Activation:
        def t(v: Any, default: float) -> float:
            if v is None or (isinstance(v, float) and v != v):
                return default
            if isinstance(v, int | float):
                return float(v)
            if isinstance(v, datetime):
                return v.timestamp()
            return ts(str(v), default) or default

        return cls(str(d["activation_id"]), str(d["device_id"]), str(d.get("device_kind") or ""),
                   str(d["order_ref"]), str(d.get("person_id") or ""), str(d.get("role") or "WEARER"),
                   t(d.get("start"), 0.0), t(d.get("end"), FAR_FUTURE), str(d.get("address_type") or ""))  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        out = {"activation_id": self.activation_id, "device_id": self.device_id, "device_kind": self.device_kind,
               "order_ref": self.order_ref, "person_id": self.person_id, "role": self.role,
               "start": to_iso(self.start), "end": None if self.end >= FAR_FUTURE else to_iso(self.end)}  # fmt: skip
        if self.address_type:
            out["address_type"] = self.address_type
        return out


# Severity, label and description of every kind live in one place: openem.monitoring.catalogue.


def make_alert(kind: str, *, order: OrderSpec | None, device_id: str, condition_id: str, start: float,
               end: float | None, evidence: list[tuple[str, int]], details: dict[str, Any] | None = None,
               person_id: str = "") -> dict[str, Any]:  # fmt: skip
    """An alert draft (detected_at and late_detected are stamped by the engine). JSON-safe."""
    order_ref = order.ref if order else ""
    return {
        "id": alert_id(kind, order_ref, device_id, condition_id, round(start, 3)),
        "kind": kind,
        "severity": severity_of(kind),  # an uncatalogued kind is refused
        "person_id": order.person_id if order else person_id,
        "order_ref": order_ref,
        "device_id": device_id,
        "condition_id": condition_id,
        "start": to_iso(start),
        "end": to_iso(end) if end is not None else None,
        "detected_at": None,
        "late_detected": False,
        "evidence": [[d, int(s)] for d, s in evidence],
        "details": details or {},
    }


def kind_condition(kind: str) -> str:
    """The condition an alert kind belongs to (device-level kinds use the kind itself)."""
    for prefix in ("curfew", "alcohol", "checkin", "proximity", "attendance", "exclusion", "inclusion"):
        if kind.startswith(prefix):
            return prefix
    return kind


def __getattr__(name: str) -> Any:
    """The order-document reader lives in `order_document`; older imports from here keep working."""
    if name in ("parse_order", "OrderUnusable", "ATTENDANCE_RADIUS_M"):
        from openem.monitoring import order_document

        return getattr(order_document, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
