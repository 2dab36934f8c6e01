"""Order-entry form plumbing (pure): document paths, GOV.UK field values <-> order document values.

A form field is named by its document path (`conditions.curfew.timetable[2].end`), which is also the HTML id,
so the rules' field paths link straight to the input that holds the value. Dates are GOV.UK date inputs
(`<path>-day`, `-month`, `-year`) and instants add `<path>-time`, read as Europe/London wall-clock time.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from typing import Any

from openem.core.time import iso, local_to_utc, parse_instant, to_london
from openem.web.rendering import london_time

MAX_FIELD = 10_000  # longer values are cut here; the order model then reports "must be N characters or fewer"
_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d{1,3})\])?$")
_TIME = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*$")


@dataclasses.dataclass(frozen=True)
class Field:
    """One question. `kind`: text, email, tel, textarea, lines (one item per line), yesno, radios, select,
    checkboxes, date, instant, time, int, number, hidden."""

    path: str
    label: str
    kind: str = "text"
    options: Callable[[], Mapping[str, str]] | None = None
    hint: str = ""
    width: str = ""
    cast: str = ""  # "int": a select whose codes are whole numbers


def _steps(path: str) -> list[str | int]:
    steps: list[str | int] = []
    for part in path.split("."):
        m = _TOKEN.match(part)
        if m is None:
            raise ValueError(f"bad path {path!r}")
        steps.append(m.group(1))
        if m.group(2) is not None:
            steps.append(int(m.group(2)))
    return steps


def get_path(doc: Any, path: str) -> Any:
    value = doc
    for step in _steps(path):
        if isinstance(step, int):
            value = value[step] if isinstance(value, list) and step < len(value) else None
        else:
            value = value.get(step) if isinstance(value, dict) else None
        if value is None:
            return None
    return value


def set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    steps = _steps(path)
    target: Any = doc
    for step, nxt in zip(steps, steps[1:], strict=False):
        empty: Any = [] if isinstance(nxt, int) else {}
        if isinstance(step, int):
            while len(target) <= step:
                target.append(None)
            if not isinstance(target[step], dict | list):
                target[step] = empty
            target = target[step]
        else:
            if not isinstance(target.get(step), dict | list):
                target[step] = empty
            target = target[step]
    last = steps[-1]
    if isinstance(last, int):
        while len(target) <= last:
            target.append(None)
    target[last] = value


def prune(value: Any) -> Any:
    """Dicts whose values are all empty become None; None items are dropped from lists."""
    if isinstance(value, dict):
        out = {k: prune(v) for k, v in value.items()}
        return out if any(v not in (None, [], "") for v in out.values()) else None
    if isinstance(value, list):
        return [p for p in (prune(v) for v in value) if p is not None]
    return value


def field_matches(field: str, prefix: str) -> bool:
    return field == prefix or field.startswith((prefix + ".", prefix + "["))


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value[:MAX_FIELD] if isinstance(value, str) else ""


def parse_time(raw: str) -> str | None:
    """ "19:00" / "7.30" -> "HH:MM", or None if it is not a real time of day."""
    m = _TIME.match(raw)
    if m is None or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        return None
    return f"{int(m.group(1)):02d}:{m.group(2)}"


def _parse_date(form: Mapping[str, Any], path: str) -> tuple[date | None, bool, str | None]:
    """(date, anything entered, problem)."""
    parts = [_text(form, f"{path}-{p}").strip() for p in ("day", "month", "year")]
    if not any(parts):
        return None, False, None
    if not all(parts):
        return None, True, "must include a day, month and year"
    if not all(p.isdigit() and len(p) <= 4 for p in parts) or len(parts[2]) != 4:
        return None, True, "must be a real date"
    try:
        return date(int(parts[2]), int(parts[1]), int(parts[0])), True, None
    except ValueError:
        return None, True, "must be a real date"


def parse_field(f: Field, form: Any) -> tuple[Any, str | None]:
    """The document value of one field from the submitted form, or (None, problem)."""
    name = f.path
    if f.kind == "date":
        day, _, problem = _parse_date(form, name)
        return (day.isoformat() if day else None), (f"{f.label} {problem}" if problem else None)
    if f.kind == "instant":
        day, entered, problem = _parse_date(form, name)
        raw_time = _text(form, f"{name}-time").strip()
        if problem:
            return None, f"{f.label} {problem}"
        if not entered and not raw_time:
            return None, None
        if day is None:
            return None, f"{f.label} must include a date"
        at = parse_time(raw_time) if raw_time else "00:00"
        if at is None:
            return None, f"{f.label} must include a real time, like 19:00"
        instant = local_to_utc(day, time(int(at[:2]), int(at[3:])))
        if to_london(instant).strftime("%H:%M") != at:
            return None, f"{f.label} does not exist: the clocks go forward at that time. Choose another time"
        return iso(instant), None
    if f.kind == "checkboxes":
        values = form.getlist(name) if hasattr(form, "getlist") else []
        return [str(v)[:200] for v in values if isinstance(v, str)][:50], None
    raw = _text(form, name)
    if f.kind == "lines":
        return [line.strip() for line in raw.splitlines() if line.strip()][:50], None
    if f.kind == "textarea":
        return (raw if raw.strip() else None), None
    value = raw.strip()
    if not value:
        return None, None
    if f.kind == "yesno":
        if value not in ("yes", "no"):
            return None, f"Select yes or no for {f.label.lower()}"
        return value == "yes", None
    if f.kind == "time":
        parsed = parse_time(value)
        return (parsed, None) if parsed else (None, f"{f.label} must be a real time, like 19:00")
    if f.kind == "int" or f.cast == "int":
        try:
            return int(value), None
        except ValueError:
            return None, f"{f.label} must be a whole number"
    if f.kind == "number":
        try:
            number = float(value)
        except ValueError:
            return None, f"{f.label} must be a number"
        if number != number or number in (float("inf"), float("-inf")):
            return None, f"{f.label} must be a number"
        return number, None
    return value, None


def apply_form(
    doc: dict[str, Any], fields: list[Field], form: Any
) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """Write every field's value into (a copy of) `doc`; returns (field errors, the raw values to re-show)."""
    errors: list[tuple[str, str]] = []
    raw: dict[str, Any] = {}
    for f in fields:
        existing = get_path(doc, f.path)
        if f.kind == "instant" and existing is not None and display(f, existing) == form_values(f, form):
            continue  # unchanged: keep the exact instant (the form cannot tell the two 01:30s of October apart)
        value, problem = parse_field(f, form)
        if problem:
            errors.append((f.path, problem))
            raw[f.path] = form_values(f, form)
            continue
        set_path(doc, f.path, value)
    return errors, raw


def form_values(f: Field, form: Any) -> Any:
    if f.kind in ("date", "instant"):
        return {p: _text(form, f"{f.path}-{p}")[:20] for p in ("day", "month", "year", "time")}
    return _text(form, f.path)[:MAX_FIELD]


def display(f: Field, value: Any) -> Any:
    """The value of a field as the form shows it (dates split into parts, booleans as yes/no)."""
    if f.kind == "date":
        try:
            d = date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            d = None
        if d is None:
            return {"day": "", "month": "", "year": "", "time": ""}
        return {"day": str(d.day), "month": str(d.month), "year": str(d.year), "time": ""}
    if f.kind == "instant":
        try:
            dt = to_london(parse_instant(value)) if isinstance(value, str) else None
        except ValueError:
            dt = None
        if dt is None:
            return {"day": "", "month": "", "year": "", "time": ""}
        return {
            "day": str(dt.day),
            "month": str(dt.month),
            "year": str(dt.year),
            "time": dt.strftime("%H:%M"),
        }
    if f.kind == "yesno":
        return "yes" if value is True else "no" if value is False else ""
    if f.kind == "checkboxes":
        return list(value) if isinstance(value, list) else []
    if f.kind == "lines":
        return "\n".join(str(v) for v in value) if isinstance(value, list) else ""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def summary(f: Field, value: Any) -> str:
    """Plain text of a value for "check your answers"."""
    if value in (None, "", []):
        return "Not entered"
    if f.kind == "instant" and isinstance(value, str):
        try:
            return london_time(parse_instant(value))
        except ValueError:
            return value
    if f.kind == "date" and isinstance(value, str):
        try:
            return date.fromisoformat(value).strftime("%-d %B %Y")
        except ValueError:
            return value
    if isinstance(value, bool):
        return "Yes" if value else "No"
    options = f.options() if f.options else {}
    if isinstance(value, list):
        return ", ".join(str(options.get(v, v)) for v in value)
    return str(options.get(value, value) if isinstance(value, str) else value)


def london_now_label(now: datetime) -> str:
    return london_time(now)


def zone_points(zone: dict[str, Any]) -> int:
    """Distinct corners of a zone's outer ring: a closed ring repeats its first point, which is not a corner.
    Every page counts them this way (the zones table, check your answers, the receipt)."""
    ring = get_path(zone, "geometry.coordinates")
    ring = ring[0] if isinstance(ring, list) and ring else []
    if not isinstance(ring, list):
        return 0
    if len(ring) > 1 and ring[0] == ring[-1]:
        ring = ring[:-1]
    return len(ring)


def zone_when(zone: dict[str, Any]) -> str:
    """When a zone applies: its dates, its weekly times, or all the time when neither is set."""
    parts = []
    start, end = zone.get("start"), zone.get("end")
    if start and end:
        parts.append(f"From {london_time(start)} to {london_time(end)}")
    elif start:
        parts.append(f"From {london_time(start)}")
    elif end:
        parts.append(f"Until {london_time(end)}")
    slots = [s for s in zone.get("schedule") or [] if isinstance(s, dict)]
    if slots:
        parts.append(
            ", ".join(
                f"{str(s.get('day', '')).capitalize()} {s.get('start', '')}–{s.get('end', '')}" for s in slots
            )
        )
    return "; ".join(parts) or "All the time"
