"""Device health: tamper, battery (low with predicted hours left; daily charging), home-unit power and
movement, GPS lost while moving, and no communication.

The pure decisions take a device's state dict and one report and return alert drafts `{kind, start,
evidence, details}`. Beside each, the vectorised kernel the engine runs over a batch (`battery_scan`,
`gps_lost_runs`, `silent`): numpy over arrays, no engine, property-tested against the pure decision, which
is its oracle. The drafts are made in one place (`*_draft`), whichever of the two finds the alert.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

Msg = Sequence[Any]  # (device_id, seq)
Draft = dict[str, Any]


# ---- tamper and home unit -------------------------------------------------------------------------------


def tamper(state: dict[str, Any], t: float, kind: str, status: str, msg: Msg) -> list[Draft]:
    key = "tamper_" + kind
    was_open = state.get(key, False)
    state[key] = status == "open"
    if status == "open" and not was_open:
        alert_kind = "strap_tamper" if kind == "strap" else "case_tamper"  # the wire allows strap|case
        return [{"kind": alert_kind, "start": t, "evidence": [list(msg)], "details": {"kind": kind}}]
    return []


def hmu(state: dict[str, Any], t: float, kind: str, value: bool, msg: Msg) -> list[Draft]:
    """Home-unit mains power loss (`mains` false) and movement (`moved` true), once per episode."""
    bad = (not value) if kind == "hmu_power" else value
    key = "bad_" + kind
    was = state.get(key, False)
    state[key] = bad
    if bad and not was:
        alert_kind = "hmu_power_loss" if kind == "hmu_power" else "hmu_moved"
        return [{"kind": alert_kind, "start": t, "evidence": [list(msg)], "details": {}}]
    return []


# ---- battery --------------------------------------------------------------------------------------------


def low_battery_draft(t: float, level: float, drain: float, low_pct: float, msg: Msg) -> Draft:
    return {"kind": "low_battery", "start": t, "evidence": [list(msg)],
            "details": {"level_pct": level, "predicted_hours_left": round(level / drain, 1),
                        "predicted_low_at": t + max(level - low_pct, 0.0) / drain * 3600.0}}  # fmt: skip


def not_charging_draft(t: float, since: float, charge_h: float, msg: Msg) -> Draft:
    return {"kind": "not_charging", "start": since + charge_h * 3600, "evidence": [list(msg)],
            "details": {"hours_since_charge": round((t - since) / 3600, 1)}}  # fmt: skip


def battery(
    state: dict[str, Any], t: float, level: float, charging: bool, msg: Msg, th: dict[str, Any]
) -> list[Draft]:
    """One battery report (the oracle of `battery_scan`)."""
    out: list[Draft] = []
    prev = state.get("batt")
    state["batt"] = [t, level]
    state.setdefault("first_batt", t)
    if charging:  # the latest charge known, whatever order the reports came in (a late one is older)
        state["last_charge"] = max(t, state.get("last_charge", t))
        state["low_raised"] = False
        state["charge_raised"] = False
        return out
    drain = th["default_drain_pct_per_h"]
    if prev and t > prev[0] and prev[1] > level:
        drain = max((prev[1] - level) / ((t - prev[0]) / 3600.0), 0.1)
    gap = min(t - prev[0] if prev and t > prev[0] else th["report_every_s"], th["predict_ahead_max_s"])
    since = state.get("last_charge", state["first_batt"])
    if t - since > th["charge_every_h"] * 3600 and not state.get("charge_raised"):
        state["charge_raised"] = True  # not charged daily: the device will die and the wearer go unmonitored
        out.append(not_charging_draft(t, since, th["charge_every_h"], msg))
    # Low now, or low before the next report is due (raised a report early rather than a report late).
    if (level <= th["low_pct"] or level - drain * gap / 3600.0 <= th["low_pct"]) and not state.get(
        "low_raised"
    ):
        state["low_raised"] = True
        out.append(low_battery_draft(t, level, drain, th["low_pct"], msg))
    return out


def latest_within(
    t: NDArray[np.float64], mark: NDArray[np.bool_], first: NDArray[np.bool_]
) -> NDArray[np.float64]:
    """Per row, the greatest `t` of the marked rows from its group's first row up to it (NaN: none), groups
    being runs starting at `first`: a running maximum per group, exact, on integer keys (group ordinal, then
    the rank of the time among the marked rows), so one `maximum.accumulate` serves every group."""
    out = np.full(len(t), np.nan)
    if not mark.any():
        return out
    values, rank = np.unique(t[mark], return_inverse=True)
    width = len(values) + 1
    base = (np.cumsum(first) - 1) * width
    key = base.copy()
    key[mark] += rank + 1
    got = np.maximum.accumulate(key) - base  # <= 0: no marked row yet in this group
    hit = got > 0
    out[hit] = values[got[hit] - 1]
    return out


@dataclass
class BatteryScan:
    low: NDArray[np.bool_]  # low now or by the next report (before the once-per-discharge rule)
    stale: NDArray[np.bool_]  # too long since a charge (before the once-per-discharge rule)
    since: NDArray[np.float64]  # the last charge (or first report) before each row
    drain: NDArray[np.float64]  # %/h from the report before


def battery_scan(t: NDArray[np.float64], level: NDArray[np.float64], charging: NDArray[np.bool_],
                 first: NDArray[np.bool_], seed_since: NDArray[np.float64], prev_t: NDArray[np.float64],
                 prev_level: NDArray[np.float64], charge_h: NDArray[np.float64], th: dict[str, Any]) -> BatteryScan:  # fmt: skip
    """`battery` over a batch of reports sorted by device then time (`first` marks each device's first row).
    Per row, from before the batch: `seed_since` the last charge or first report (NaN: none),
    `prev_t`/`prev_level` the previous report (read at first rows only), `charge_h` the hours the device may
    go uncharged (NaN: not charged daily). The last charge before each row is the latest charge (in event
    time) among the device's rows up to it and before the batch, as the registry keeps it between batches
    (`fmax`), so a late report of an older charge means the same wherever the batches are cut."""
    n = len(t)
    start_of = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    seed = np.where(np.isnan(seed_since), t[start_of], seed_since)  # first report ever: count from it
    since = np.fmax(seed[start_of], latest_within(t, charging, first))
    pt = np.where(first, prev_t, np.r_[np.nan, t[:-1]])
    pl = np.where(first, prev_level, np.r_[np.nan, level[:-1]])
    with np.errstate(invalid="ignore", divide="ignore"):
        drain = np.where((pl > level) & (t > pt), (pl - level) / ((t - pt) / 3600.0), np.nan)
    drain = np.maximum(np.nan_to_num(drain, nan=th["default_drain_pct_per_h"]), 0.1)
    gap = np.minimum(np.where(t > pt, t - pt, th["report_every_s"]), th["predict_ahead_max_s"])
    low = ~charging & ((level <= th["low_pct"]) | (level - drain * gap / 3600.0 <= th["low_pct"]))
    with np.errstate(invalid="ignore"):
        stale = ~charging & ((t - since) > charge_h * 3600)  # NaN (not charged daily) is never stale
    return BatteryScan(low, stale, since, drain)


# ---- GPS lost while moving ------------------------------------------------------------------------------


def gps_lost_draft(t: float, msg: Msg, source: str) -> Draft:
    return {"kind": "gps_lost_moving", "start": t, "evidence": [list(msg)], "details": {"source": source}}


def gps_source(state: dict[str, Any], t: float, source: str, speed: float | None, msg: Msg, th: dict[str, Any]
               ) -> list[Draft]:  # fmt: skip
    """GPS lost while moving (the oracle of `gps_lost_runs`): `gps_lost_fixes` network (LBS/WiFi) fixes in a
    row straight after a GPS fix at walking speed or more. A network fix that itself reports a speed below
    walking pace says the wearer stopped (walked home and went indoors): the run is no longer "moving"."""
    if source != "GPS" and speed is not None and speed < th["gps_lost_speed_mps"]:
        state["moving"] = False
    if source == "GPS":
        state["moving"] = bool(moving_on_gps(np.array([False]), np.array([np.nan if speed is None else speed]),
                                             th["gps_lost_speed_mps"])[0])  # fmt: skip
        state["gps_lost"] = 0
        return []
    state["gps_lost"] = int(state.get("gps_lost", 0)) + 1
    if state.get("moving") and state["gps_lost"] == th["gps_lost_fixes"]:
        return [gps_lost_draft(t, msg, source)]
    return []


def moving_on_gps(is_net: NDArray[np.bool_], speed: NDArray[np.float64], walking: float) -> NDArray[np.bool_]:
    """GPS fixes at walking speed or more (no speed given: still)."""
    return ~is_net & ((speed >= walking) if walking > 0 else (np.nan_to_num(speed) >= walking))


@dataclass
class GpsLostRuns:
    due: NDArray[np.bool_]  # rows where a run of network fixes after moving reaches `gps_lost_fixes`
    run_len: NDArray[np.int64]  # per row: its place in its run of network fixes (meaningful on network rows)
    was_moving: NDArray[np.bool_]  # per row: the GPS fix before its run was moving (network rows)


def gps_lost_runs(is_net: NDArray[np.bool_], moving: NDArray[np.bool_], first: NDArray[np.bool_],
                  carry_len: NDArray[np.int64], carry_moving: NDArray[np.bool_], fixes: int,
                  still: NDArray[np.bool_] | None = None) -> GpsLostRuns:  # fmt: skip
    """`gps_source` over a batch sorted by device then time: runs of network fixes are numbered per device,
    a run at a device's first row continuing the one carried over from the batch before (`carry_len`,
    `carry_moving`, per row, read at first rows). `still`: network fixes reporting a speed below walking
    pace; from one on, the rest of its run is not "moving"."""
    n = len(is_net)
    run_start = is_net & (first | np.r_[True, ~is_net[:-1]])
    carry = run_start & first  # the run continues one from the previous batch
    base = np.where(carry, carry_len, 0)
    was = np.where(carry, carry_moving, np.r_[False, moving[:-1]])
    run_id = np.cumsum(run_start)
    starts = np.flatnonzero(run_start)
    if not len(starts):
        return GpsLostRuns(np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool))
    si = starts[np.maximum(run_id - 1, 0)]  # each row's run start
    pos = np.arange(n) - si + 1 + base[si]
    mv = was[si]
    if still is not None and still.any():
        cum = np.cumsum(still & is_net)
        before = np.where(si > 0, cum[np.maximum(si - 1, 0)], 0)
        mv = mv & ~((cum - before) > 0)  # a still network fix at or before this row in its run
    return GpsLostRuns(is_net & mv & (pos == fixes), pos, mv)


# ---- no communication -----------------------------------------------------------------------------------


def comms_limit(interval_s: Any, th: dict[str, Any]) -> Any:
    """The silence that counts: `missed_intervals` expected intervals, and at least `min_gap_s` past one."""
    return np.maximum(interval_s * th["missed_intervals"], interval_s + th["min_gap_s"])


def silence_start(last: Any, limit: Any, th: dict[str, Any]) -> Any:
    """When a silence from `last` began to count: a missed interval after it (the limit over
    `missed_intervals`), never later than the limit itself. Part of the alert id: do not change lightly."""
    return last + np.minimum(limit / max(th["missed_intervals"], 1.0), limit)


def no_comms_draft(
    last: float, limit: float, silent_s: float, evidence: list[list[Any]], th: dict[str, Any]
) -> Draft:
    return {"kind": "no_comms", "start": float(silence_start(last, limit, th)), "evidence": evidence,
            "details": {"silent_s": round(silent_s), "limit_s": limit}}  # fmt: skip


def no_comms(
    last_rx: float, last_msg: Msg | None, now: float, limit_s: float, th: dict[str, Any]
) -> Draft | None:
    """Silent since `last_rx` for longer than the device's limit (`comms_limit`): the oracle of `silent`."""
    if now - last_rx > limit_s:
        return no_comms_draft(last_rx, limit_s, now - last_rx, [list(last_msg)] if last_msg else [], th)
    return None


def silent(now: Any, last: NDArray[np.float64], limit: NDArray[np.float64]) -> NDArray[np.bool_]:
    """`no_comms` over arrays of devices: silent longer than the limit (a NaN limit, a device not expected to
    talk, never is)."""
    with np.errstate(invalid="ignore"):
        result: NDArray[np.bool_] = (now - last) > limit
    return result
