"""Non-fitted check-ins, proximity to a victim's device, and the unmonitored test.

Check-ins: a `fail` or `missed` result from the device, or no check-in within interval + grace.
Proximity: evaluated whenever either party reports, against the other's latest fix if it is fresh
(`stale_s`); pre-alert ring and alert ring, re-armed once the pair is apart by `rearm_factor` × pre-alert.
With no fresh fix on one side the pair's state is `unknown` and nothing is raised.
"""

from __future__ import annotations

import math
from typing import Any


def checkin(state: dict[str, Any], t: float, result: str, msg: tuple[str, int]) -> list[dict[str, Any]]:
    state["last_checkin"] = max(t, state.get("last_checkin", t))
    if result in ("fail", "missed"):
        return [{"kind": f"checkin_{'failed' if result == 'fail' else 'missed'}", "start": t,
                 "evidence": [list(msg)], "details": {"result": result}}]  # fmt: skip
    return []


def checkin_overdue(state: dict[str, Any], since: float, now: float, th: dict[str, Any]) -> dict[str, Any] | None:
    last = state.get("last_checkin", since)
    due = last + (th["interval_h"] + th["grace_h"]) * 3600
    if now > due and state.get("overdue_from") != last:
        state["overdue_from"] = last
        return {"kind": "checkin_missed", "start": due, "evidence": [], "details": {"last_checkin_s": last}}
    return None


def proximity(state: dict[str, Any], side: str, t: float, x: float, y: float, acc: float, msg: tuple[str, int],
              spec: dict[str, Any], th: dict[str, Any]) -> list[dict[str, Any]]:  # fmt: skip
    """side 'w' (wearer) or 'v' (victim); returns alert drafts."""
    state[side] = [t, x, y, acc, msg[0], int(msg[1])]
    other = state.get("v" if side == "w" else "w")
    if other is None or abs(t - other[0]) > th["stale_s"]:
        state["unknown"] = True
        return []
    state["unknown"] = False
    d = math.hypot(x - other[1], y - other[2])
    level = 2 if d <= spec["alert_m"] else 1 if d <= spec["pre_alert_m"] else 0
    if d > spec["pre_alert_m"] * th["rearm_factor"]:
        state["level"] = 0
    if level > state.get("level", 0):
        state["level"] = level
        kind = "proximity" if level == 2 else "proximity_pre_alert"
        return [{"kind": kind, "start": t, "evidence": [list(msg), [other[4], other[5]]],
                 "details": {"distance_m": round(d, 1), "ring_m": spec["alert_m" if level == 2 else "pre_alert_m"]}}]  # fmt: skip
    return []


def unmonitored(order_start: float, now: float, fitted: bool, last_rx: float | None, th: dict[str, Any]
                ) -> dict[str, Any] | None:  # fmt: skip
    """An active order with no fitted device past the fitting grace, or its devices silent for 14+ days."""
    if not fitted:
        if now - order_start > th["unfitted_grace_h"] * 3600:
            return {"kind": "unmonitored_no_device", "start": order_start, "evidence": [], "details": {}}
        return None
    if last_rx is not None and now - last_rx >= th["silent_days"] * 86400:
        return {"kind": "unmonitored_silent", "start": last_rx, "evidence": [],
                "details": {"silent_days": round((now - last_rx) / 86400, 1)}}  # fmt: skip
    return None
