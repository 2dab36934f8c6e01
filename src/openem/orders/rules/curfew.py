"""Curfew rules: slots with real wall-clock times, a curfew address that is one of the order's addresses,
no overlapping slots, hours per day and per week inside the bounds for the order type (policy data), measured
on the clock (a night the clocks change is lawfully an hour longer or shorter), no slot time in the hour the
clocks skip in March, and the curfew's maximum length."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from openem.core.time import LONDON, local_date, local_to_utc
from openem.orders.model import DAYS
from openem.orders.rules.base import (
    Context,
    ValidationError,
    instant,
    items,
    path,
    section,
    text,
    wall_minutes,
)
from openem.orders.rules.dates import add_months

WEEK = 7 * 1440


def regime(doc: Any) -> str | None:
    """Which set of curfew bounds applies (keys of policy `curfew_regimes`)."""
    m = section(doc, "monitoring")
    if m.get("hdc") is True:
        return "HDC"
    cohort = text(m, "cohort")
    if cohort == "COURT_SENTENCE":
        return "YRO" if text(m, "sentence_type") == "COMMUNITY_YRO" else "COMMUNITY_ORDER"
    if cohort == "POST_RELEASE":
        return "LICENCE"
    return cohort


def clock_changes(start: date, end: date) -> list[date]:
    """Europe/London clock-change days (last Sundays of March and October) between two dates."""
    out = []
    for year in range(start.year, min(end.year, start.year + 5) + 1):
        for month in (3, 10):
            d = date(year, month, 31)
            d -= timedelta(days=(d.weekday() + 1) % 7)
            if start <= d <= end:
                out.append(d)
    return out


def _hours(minutes: float) -> str:
    h = minutes / 60
    return f"{h:g} hours" if h != 1 else "1 hour"


def _real_minutes(on: date, start: int, end: int) -> float:
    """Elapsed minutes of a slot starting on local day `on` (overnight when end <= start)."""
    end_day = on if end > start else on + timedelta(days=1)
    a = local_to_utc(on, time(start // 60, start % 60))
    b = local_to_utc(end_day, time(end // 60, end % 60))
    return (b - a).total_seconds() / 60


def check_curfew(doc: Any, ctx: Context) -> list[ValidationError]:
    cond = section(doc, "conditions")
    curfew = section(cond, "curfew")
    if not curfew:
        return []
    out: list[ValidationError] = []
    base = "conditions.curfew"
    address_types = {text(a, "type") for _, a in items(doc, "addresses")} - {None}
    slots: list[tuple[int, int, int, int]] = []  # (index, weekday, start, end)
    timetable = items(curfew, "timetable")
    if not timetable:
        out.append(
            ValidationError("required", f"{base}.timetable", "Enter the curfew hours for at least one day")
        )
    for i, slot in timetable:
        sp = path(base, "timetable", i)
        weekday = text(slot, "day")
        if weekday is None:
            out.append(ValidationError("required", f"{sp}.day", "Select the day of the curfew"))
        s, e = _slot_times(slot, sp, out)
        if s is not None and e is not None and s == e:
            out.append(
                ValidationError(
                    "curfew_zero_length",
                    f"{sp}.end",
                    "The curfew end time must be different from the start time",
                )
            )
        elif s is not None and e is not None and weekday in DAYS:
            slots.append((i, DAYS.index(weekday), s, e))
        _check_address(slot, sp, address_types, out)
    release = section(curfew, "release_day")
    if release:
        _slot_times(release, f"{base}.release_day", out)
        _check_address(release, f"{base}.release_day", address_types, out)
    out.extend(_overlaps(slots, base))
    out.extend(_bounds(doc, curfew, slots, base, ctx))
    return out


def _slot_times(slot: dict[str, Any], sp: str, out: list[ValidationError]) -> tuple[int | None, int | None]:
    result: list[int | None] = []
    for key, word in (("start", "start"), ("end", "end")):
        raw = slot.get(key)
        minutes = wall_minutes(raw)
        if raw is None or raw == "":
            out.append(ValidationError("required", f"{sp}.{key}", f"Enter the curfew {word} time"))
        elif minutes is None:
            out.append(
                ValidationError(
                    "invalid_time", f"{sp}.{key}", f"The curfew {word} time must be a real time, like 19:00"
                )
            )
        result.append(minutes)
    return result[0], result[1]


def _check_address(
    slot: dict[str, Any], sp: str, address_types: set[str | None], out: list[ValidationError]
) -> None:
    kind = text(slot, "address_type")
    if kind is None:
        out.append(ValidationError("required", f"{sp}.address_type", "Select the curfew address"))
    elif kind not in address_types:
        out.append(
            ValidationError(
                "curfew_address_not_in_order",
                f"{sp}.address_type",
                "The curfew address must be one of the device wearer's addresses",
            )
        )
    further = slot.get("address_types")
    for j, extra in enumerate(further if isinstance(further, list) else []):
        if extra not in address_types or extra == kind:
            out.append(
                ValidationError(
                    "curfew_address_not_in_order",
                    f"{sp}.address_types[{j}]",
                    "Each further curfew address must be another of the device wearer's addresses",
                )
            )


def _overlaps(slots: list[tuple[int, int, int, int]], base: str) -> list[ValidationError]:
    spans = []
    for i, wd, s, e in slots:
        a = wd * 1440 + s
        spans.append((a, a + (e - s) % 1440, i))
    spans.sort()
    out = []
    for (_a1, b1, _), (a2, _, i2) in zip(spans, spans[1:], strict=False):
        if a2 < b1:
            out.append(
                ValidationError(
                    "curfew_slots_overlap", path(base, "timetable", i2), "Curfew times must not overlap"
                )
            )
    if len(spans) > 1 and spans[-1][1] - WEEK > spans[0][0]:
        out.append(
            ValidationError(
                "curfew_slots_overlap", path(base, "timetable", spans[0][2]), "Curfew times must not overlap"
            )
        )
    return out


def _bounds(
    doc: Any, curfew: dict[str, Any], slots: list[tuple[int, int, int, int]], base: str, ctx: Context
) -> list[ValidationError]:
    name = regime(doc)
    bounds = ctx.policy["curfew_regimes"].get(name or "")
    if not bounds:
        return []
    out: list[ValidationError] = []
    per_day = [0] * 7
    first_slot: dict[int, int] = {}
    for i, wd, s, e in slots:
        per_day[wd] += (e - s) % 1440
        first_slot.setdefault(wd, i)
    lo, hi, week = (
        bounds["min_hours_per_day"] * 60,
        bounds["max_hours_per_day"] * 60,
        bounds.get("max_hours_per_week"),
    )
    if slots:
        for wd, minutes in enumerate(per_day):
            field = path(base, "timetable", first_slot.get(wd, 0))
            day_name = DAYS[wd].capitalize()
            if minutes > hi:
                out.append(
                    ValidationError(
                        "curfew_too_many_hours",
                        field,
                        f"The curfew on {day_name} must be {_hours(hi)} or less. It is {_hours(minutes)}",
                    )
                )
            elif minutes < lo and (minutes > 0 or bounds.get("every_day")):
                out.append(
                    ValidationError(
                        "curfew_too_few_hours",
                        field,
                        f"The curfew on {day_name} must be at least {_hours(lo)}. It is {_hours(minutes)}",
                    )
                )
        total = sum(per_day)
        if week is not None and total > week * 60:
            out.append(
                ValidationError(
                    "curfew_too_many_hours_week",
                    f"{base}.timetable",
                    f"The curfew must be {week} hours a week or less. It is {_hours(total)}",
                )
            )
    m = section(doc, "monitoring")
    start = instant(curfew, "start") or instant(m, "start")
    end = instant(curfew, "end") or instant(m, "end")
    if start and end and end > start:
        out.extend(_dst_days(start, end, slots, base))
        out.extend(_length(start, end, bounds, base))
    return out


def _exists(on: date, minutes: int) -> bool:
    """The Europe/London wall-clock time exists on that day (not in the hour the clocks skip in spring)."""
    at = datetime.combine(on, time(minutes // 60, minutes % 60)).replace(tzinfo=LONDON)
    back = at.astimezone(UTC).astimezone(LONDON)
    return (back.hour, back.minute) == (at.hour, at.minute)


def _repeats(on: date, minutes: int) -> bool:
    """The wall-clock time happens twice that day (the hour the clocks go back in autumn)."""
    at = datetime.combine(on, time(minutes // 60, minutes % 60)).replace(tzinfo=LONDON)
    return at.utcoffset() != at.replace(fold=1).utcoffset()


def _slot_instants(slots: list[tuple[int, int, int, int]], change: date) -> list[tuple[int, str, int]]:
    """(slot index, "start"/"end", minutes) for each slot time that falls on the clock-change day."""
    out = []
    for i, wd, s, e in slots:
        if wd == change.weekday():
            out.append((i, "start", s))
            if e > s:
                out.append((i, "end", e))
        if wd == (change - timedelta(days=1)).weekday() and e <= s:
            out.append((i, "end", e))
    return out


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _dst_days(
    start: datetime,
    end: datetime,
    slots: list[tuple[int, int, int, int]],
    base: str,
) -> list[ValidationError]:
    """Clock changes inside the curfew. The daily bounds apply to the hours as the order sets them on the
    clock: a 19:00-07:00 night that the October change makes 13 hours long (or the March change 11) is the
    lawful length of that night, not a breach. A slot time in the hour the clocks skip in March does not
    exist that night and is refused; a time in the hour repeated in October is reported by `dst_notices`."""
    out = []
    s_day, e_day = local_date(start), local_date(end)
    for change in clock_changes(s_day, e_day):
        for i, key, minutes in _slot_instants(slots, change):
            if not _exists(change, minutes):
                out.append(
                    ValidationError(
                        "curfew_time_does_not_exist",
                        path(base, "timetable", i, key),
                        f"The curfew {key} time {_hhmm(minutes)} does not exist on "
                        f"{change.strftime('%A')} {change.day} {change.strftime('%B %Y')}: the clocks go "
                        f"forward from 1am to 2am. Choose a time before 1am or from 2am",
                    )
                )
    return out


def dst_notices(doc: Any) -> list[str]:
    """Plain-English notes (not errors) about clock changes inside the curfew: the curfew times that happen
    twice on an October night, and the nights that are an hour longer or shorter."""
    curfew = section(section(doc, "conditions"), "curfew")
    m = section(doc, "monitoring")
    start = instant(curfew, "start") or instant(m, "start")
    end = instant(curfew, "end") or instant(m, "end")
    if not curfew or not start or not end or end <= start:
        return []
    slots: list[tuple[int, int, int, int]] = []
    for i, slot in items(curfew, "timetable"):
        s, e, day_name = wall_minutes(slot.get("start")), wall_minutes(slot.get("end")), text(slot, "day")
        if s is not None and e is not None and s != e and day_name in DAYS:
            slots.append((i, DAYS.index(day_name), s, e))
    out = []
    for change in clock_changes(local_date(start), local_date(end)):
        when = f"{change.strftime('%A')} {change.day} {change.strftime('%B %Y')}"
        twice = sorted({mins for _, _, mins in _slot_instants(slots, change) if _repeats(change, mins)})
        if twice:
            out.append(
                f"On {when} the clocks go back and {', '.join(_hhmm(t) for t in twice)} happens twice: "
                "the curfew uses the first time it happens"
            )
        for on in (change - timedelta(days=1), change):
            for _, wd, s, e in slots:
                if wd != on.weekday():
                    continue
                real, wall = _real_minutes(on, s, e), (e - s) % 1440
                if real != wall:
                    out.append(
                        f"The curfew starting on {on.strftime('%A')} {on.day} {on.strftime('%B')} lasts "
                        f"{_hours(real)} because the clocks change that night"
                    )
    return out


def _length(start: datetime, end: datetime, bounds: dict[str, Any], base: str) -> list[ValidationError]:
    months, days = bounds.get("max_months"), bounds.get("max_days")
    if months and local_date(end) > add_months(local_date(start), months):
        return [
            ValidationError(
                "duration_too_long",
                f"{base}.end",
                f"A curfew for this kind of order must last {months} months or less",
            )
        ]
    if days and end - start > timedelta(days=days):
        return [
            ValidationError(
                "duration_too_long",
                f"{base}.end",
                f"A curfew for this kind of order must last {days} days or less",
            )
        ]
    return []
