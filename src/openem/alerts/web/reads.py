"""Which alerts a signed-in browser session has already been recorded as seeing (decision 0018).

The alerts page polls the list every few seconds. Auditing every poll wrote 1,200 identical rows an hour per
open page and buried the reads that matter; auditing none would lose who saw a new alert. So a poll is audited
only when it shows the session alerts not yet recorded for it, and the row names just those. Kept in memory,
bounded: after a restart, or when a session's set is trimmed, an alert is recorded again (over-recording is
safe; missing a disclosure is not).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

MAX_SESSIONS = 10_000
MAX_PER_SESSION = 5_000


class AlertReads:
    def __init__(self) -> None:
        self._seen: OrderedDict[str, set[str]] = OrderedDict()
        self._lock = threading.Lock()

    def unrecorded(self, session_id: str, alert_ids: list[str]) -> list[str]:
        """The alerts among these not yet recorded for the session, which are now counted as recorded."""
        with self._lock:
            seen = self._seen.pop(session_id, set())
            new = [a for a in alert_ids if a not in seen]
            if len(seen) + len(new) > MAX_PER_SESSION:
                seen = set()  # start again: some alerts get recorded twice, none are missed
            seen.update(new)
            self._seen[session_id] = seen
            while len(self._seen) > MAX_SESSIONS:
                self._seen.popitem(last=False)
            return new


_made = threading.Lock()


def alert_reads(app_state: Any) -> AlertReads:
    """The app's tracker, made on first use."""
    with _made:
        reads = getattr(app_state, "alert_reads", None)
        if reads is None:
            reads = AlertReads()
            app_state.alert_reads = reads
        return reads


#: engine words an operator should not have to read, as plain labels
_LABELS = {"atv_minutes_total": "Minutes outside curfew, in total", "peak_tac": "Highest alcohol reading",
           "minutes_late": "Minutes late", "minutes_inside": "Minutes inside the zone",
           "minutes_outside": "Minutes outside the zone", "hours_unmonitored": "Hours unmonitored"}  # fmt: skip
_INTERNAL = ("_id", "_key", "_seq", "watermark", "checkpoint", "partition")


def plain_details(details: dict[str, Any]) -> list[tuple[str, str]]:
    """An alert's details for a person: labels in words, instants (ISO or epoch seconds) in London time the
    GOV.UK way, durations in seconds as minutes; engine internals left out."""
    from datetime import UTC, datetime

    from openem.web.rendering import london_time

    out: list[tuple[str, str]] = []
    for key, value in details.items():
        k = str(key)
        if any(part in k for part in _INTERNAL) or isinstance(value, dict | list):
            continue
        label = _LABELS.get(k) or k.replace("_", " ").capitalize()
        text: str
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if is_number and 1e9 < float(value) < 1e10:  # epoch seconds
            text = london_time(datetime.fromtimestamp(float(value), UTC))
            label = label.removesuffix(" s").removesuffix(" ts")
        elif isinstance(value, str) and value[:4].isdigit() and "T" in value:
            text = london_time(value)
        elif is_number and k.endswith("_s"):
            label, text = label[:-2], f"{round(float(value) / 60)} minutes"
        elif isinstance(value, bool):
            text = "Yes" if value else "No"
        else:
            text = str(value)
        out.append((label, text))
    return out


def zones_named_by_kind(context: dict[str, Any]) -> dict[str, Any]:
    """An order's map context (orders.queries.map_context_of) with each restriction zone's name saying it is one:
    its alerts are exclusion alerts (the engine judges it as an exclusion zone), so the map says which it is."""
    for z in context.get("zones") or []:
        if z.get("kind") == "restriction_zones":
            z["name"] = f"Restriction zone: {z.get('name') or 'unnamed'}"
    return context
