"""Curfew nights laid out for the page: a calendar (weeks of nights, Monday first) and the home / not-home chart
as server-drawn SVG bars (the night table beside it is the text alternative)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from openem.insights.service import Night

TAGS = {
    "complied": "govuk-tag--green",
    "late": "govuk-tag--yellow",
    "left early": "govuk-tag--orange",
    "absent": "govuk-tag--red",
    "no data": "govuk-tag--grey",
}


def weeks(nights: list[Night]) -> list[list[tuple[date, list[Night]]]]:
    """Weeks (Monday to Sunday) spanning the nights; each day with the nights that start on it."""
    if not nights:
        return []
    by_day: dict[date, list[Night]] = {}
    for n in nights:
        by_day.setdefault(n.day, []).append(n)
    first = min(by_day) - timedelta(days=min(by_day).weekday())
    last = max(by_day)
    out = []
    day = first
    while day <= last:
        out.append([(day + timedelta(days=i), by_day.get(day + timedelta(days=i), [])) for i in range(7)])
        day += timedelta(days=7)
    return out


def chart_rows(nights: list[Night], width: int = 600) -> list[dict[str, Any]]:
    """One bar a night: segments at home (green) and not at home (red) across the curfew hours, with gaps left
    blank where no positions came in."""
    rows = []
    for n in nights:
        span = (n.end - n.start).total_seconds() or 1
        segs = []
        for a, b, home in n.intervals:
            x = max(0.0, (a - n.start).total_seconds() / span * width)
            w = max(1.0, (min(b, n.end) - a).total_seconds() / span * width)
            segs.append({"x": round(x, 1), "w": round(min(w, width - x), 1), "home": home})
        rows.append({"night": n, "segments": segs})
    return rows
