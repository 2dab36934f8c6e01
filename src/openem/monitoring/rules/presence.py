"""Non-fitted check-ins, proximity to a victim's device, and the unmonitored test.

Proximity: `boxes_within` over the bounding boxes of each party's fixes (`group_bounds`) is the engine's
pre-filter; it never rules out a pair `proximity` would judge within its ring (property-tested).
Unmonitored: `unmonitored` decides one order; `unmonitored_due` is its vectorised kernel over every order,
run once an hour (property-tested against it).

Check-ins: a `fail` or `missed` result from the device, or no report at all for a scheduled check-in.
Proximity: evaluated whenever either party reports, against the other's latest fix if it is fresh
(`stale_s`); pre-alert ring and alert ring, re-armed once the pair is apart by `rearm_factor` × pre-alert.
When one party is silent (its fix older than `stale_s`, up to `one_party_max_s`) the reporting party is judged
against the other's last position grown at walking pace (`walk_mps`), marked "based on a position N minutes
old"; older than that, or never seen, the pair is `unknown` and nothing is raised. When the silent party is
the victim, the offender must also have come closer to the victim's last position than when first judged
against it, by `one_party_approach_m` (250 m) and twice the fixes' accuracy (a walk, not GPS jitter): the age
of a victim's fix alone raises nothing.
Re-armed once apart beyond `rearm_factor` × pre-alert for `clear_s` (the encounter is over: `parted` in the
state says since when, and the engine closes the episode there); `near` in the state is the nearest the other
party can be (the episode's closest approach).
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from openem.monitoring.model import local_day, windows_for_slots_cached


def checkin(state: dict[str, Any], t: float, result: str, msg: tuple[str, int], received: float | None = None
            ) -> list[dict[str, Any]]:  # fmt: skip
    """A check-in report: `fail` and `missed` (reported by the device) raise; any report counts as made
    (`received`, when it reached us, decides whether it was in time to count: see `checkin_overdue`)."""
    state["ci_rx"] = sorted([*_reports(state), [t, t if received is None else received]])[-16:]
    if result in ("fail", "missed"):
        return [{"kind": "checkin_failed" if result == "fail" else "checkin_missed", "start": t,
                 "evidence": [list(msg)], "details": {"result": result}}]  # fmt: skip
    return []


def checkin_overdue(
    state: dict[str, Any], since: float, now: float, th: dict[str, Any]
) -> list[dict[str, Any]]:
    """Scheduled check-ins (`times`, Europe/London, each open `window_min`) with no report received by the
    window's end + `grace_min`: a dead or switched-off device cannot report its own missed check-in, and a
    report stored on the device and forwarded later did not reach anyone in time (it is still kept). The
    receive time decides, not when the engine happened to look, so a replay in any batch size agrees."""
    grace = th["grace_min"] * 60
    if now < state.get("ci_next", 0.0):
        return []  # nothing can be overdue before the next window closes
    key = tuple((None, hhmm, _add_minutes(hhmm, th["window_min"])) for hhmm in th["times"])  # every day
    done = max(state.get("ci_done", since), since)
    out: list[dict[str, Any]] = []
    day = local_day(done)
    last = local_day(now)
    while day <= last:
        for start, end in windows_for_slots_cached(key, day):
            if end <= done or end + grace > now:
                continue
            state["ci_done"] = max(state.get("ci_done", since), end)
            if not any(start - grace <= c <= end + grace and rx <= end + grace for c, rx in _reports(state)):
                out.append({"kind": "checkin_missed", "start": start, "end": end, "evidence": [],
                            "details": {"reported": False}})  # fmt: skip
        day += timedelta(days=1)
    upcoming = [
        end
        for d in (last, last + timedelta(days=1))
        for _, end in windows_for_slots_cached(key, d)
        if end + grace > now
    ]
    state["ci_next"] = min(upcoming) + grace if upcoming else now + 3600
    return out


def _reports(state: dict[str, Any]) -> list[list[float]]:
    """[event time, receive time] of the recent reports (older checkpoints kept event times only)."""
    if "ci_rx" in state:
        reports: list[list[float]] = state["ci_rx"]
        return reports
    return [[c, c] for c in state.get("ci_times", [])]


def _add_minutes(hhmm: str, minutes: int) -> str:
    h, m = (int(v) for v in hhmm.split(":"))
    total = (h * 60 + m + minutes) % (24 * 60)
    return f"{total // 60:02d}:{total % 60:02d}"


def grown_m(acc: float, age_s: float, th: dict[str, Any]) -> float:
    """How far from its last known position a silent party may be now: its fix's uncertainty plus walking
    speed (`walk_mps`) times the fix's age."""
    return float(acc) + max(float(age_s), 0.0) * float(th.get("walk_mps", 1.4))


def proximity(state: dict[str, Any], side: str, t: float, x: float, y: float, acc: float, msg: tuple[str, int],
              spec: dict[str, Any], th: dict[str, Any]) -> list[dict[str, Any]]:  # fmt: skip
    """side 'w' (wearer) or 'v' (victim); returns alert drafts. With the other party's fix fresh (within
    `stale_s`) the distance is judged as it is. With it older (up to `one_party_max_s`), the reporting party is
    judged against the other's last known position grown by walking speed since: the nearest the other could
    now be (`distance - grown`), the ring that reaches is raised, marked as based on a position N minutes
    old. Older still, or never seen, the pair is `unknown`."""
    state[side] = [t, x, y, acc, msg[0], int(msg[1])]
    other = state.get("v" if side == "w" else "w")
    age = t - other[0] if other is not None else float("inf")
    one_party = th["stale_s"] < age <= th.get("one_party_max_s", 0)
    if other is None or (abs(age) > th["stale_s"] and not one_party):
        state["unknown"] = True
        return []
    state["unknown"] = False
    d = math.hypot(x - other[1], y - other[2])
    grown = grown_m(other[3], age, th) if one_party else 0.0
    near = max(d - grown, 0.0)  # the nearest the other party can be now
    state["near"], state["apart"] = near, near > spec["pre_alert_m"] * th["rearm_factor"]
    level = 2 if near <= spec["alert_m"] else 1 if near <= spec["pre_alert_m"] else 0
    if side == "w":  # the offender's distance from the victim's latest fix when first judged against it
        ref = state.get("ref")
        if ref is None or ref[0] != other[0]:
            state["ref"] = ref = [other[0], d]
        if one_party and ref[1] - d < max(float(th.get("one_party_approach_m", 0.0)), 2 * max(acc, other[3])):
            # The victim's device is the silent one and the offender has not come closer to where it last
            # was: only the victim's own possible walk would close the gap (a phone without a fix indoors,
            # an offender asleep at home): not a warning about the offender.
            level = 0
    # Re-armed once the pair has been apart (beyond the re-arm ring, fresh or from the other's grown last
    # position) for `clear_s`: the encounter is over (`parted`: since when; the engine closes its episode
    # there). Apart for a moment and back is the same encounter: no second alert.
    if state["apart"]:
        since = state.setdefault("apart_since", t)
        if t - since >= th.get("clear_s", 0) and state.get("level", 0) > 0:
            state["level"], state["parted"] = 0, since
    else:
        state.pop("apart_since", None)
    if level > state.get("level", 0):
        state["level"] = level
        kind = "proximity" if level == 2 else "proximity_pre_alert"
        details: dict[str, Any] = {
            "distance_m": round(d, 1),
            "ring_m": spec["alert_m" if level == 2 else "pre_alert_m"],
        }
        if one_party:
            minutes = int(age // 60)
            details |= {"one_party": "w" if side == "v" else "v", "position_age_min": minutes,
                        "uncertainty_m": round(grown, 1), "nearest_possible_m": round(near, 1),
                        "note": f"based on a position {minutes} minutes old"}  # fmt: skip
        return [{"kind": kind, "start": t, "evidence": [list(msg), [other[4], other[5]]], "details": details}]
    return []


def boxes_within(
    w: NDArray[np.float64], v: NDArray[np.float64], ring: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """Per pair: could a point of the wearer's box `w` and one of the victim's box `v` ([min x, min y, max x,
    max y] rows, a column per pair) be within `ring` metres? The gap between the boxes is never more than the
    distance between any two of their points, so a pair it rules out cannot trouble `proximity`."""
    with np.errstate(invalid="ignore"):
        gap_x = np.maximum(np.maximum(v[0] - w[2], w[0] - v[2]), 0.0)
        gap_y = np.maximum(np.maximum(v[1] - w[3], w[1] - v[3]), 0.0)
        result: NDArray[np.bool_] = np.hypot(gap_x, gap_y) <= ring
    return result


def group_bounds(
    j: NDArray[np.int64], x: NDArray[np.float64], y: NDArray[np.float64], k: int
) -> NDArray[np.float64]:
    """Bounding box [min x, min y, max x, max y] of the points of each group 0..k-1 (inf where empty)."""
    b = np.array([np.full(k, np.inf), np.full(k, np.inf), np.full(k, -np.inf), np.full(k, -np.inf)])
    if not len(j):
        return b
    o = np.argsort(j, kind="stable")
    js, xs, ys = j[o], x[o], y[o]
    starts = np.flatnonzero(np.r_[True, js[1:] != js[:-1]])
    g = js[starts]
    b[0, g], b[1, g] = np.minimum.reduceat(xs, starts), np.minimum.reduceat(ys, starts)
    b[2, g], b[3, g] = np.maximum.reduceat(xs, starts), np.maximum.reduceat(ys, starts)
    return b


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


def unmonitored_due(now: float, order_start: NDArray[np.float64], fitted: NDArray[np.bool_],
                    last_rx: NDArray[np.float64], th: dict[str, Any]) -> NDArray[np.bool_]:  # fmt: skip
    """`unmonitored(...) is not None` for arrays of orders (`last_rx` read where fitted)."""
    with np.errstate(invalid="ignore"):
        result: NDArray[np.bool_] = (~fitted & (now - order_start > th["unfitted_grace_h"] * 3600)) | (
            fitted & (now - last_rx >= th["silent_days"] * 86400)
        )
    return result
