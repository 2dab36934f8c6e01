"""Device health: tamper, battery (low with predicted hours left; daily charging), home-unit power and
movement, GPS lost while moving, and the time-driven checks (no communication, not charging).

Each function takes the device's state dict and returns alert drafts `{kind, start, evidence, details}`.
"""

from __future__ import annotations

from typing import Any


def tamper(
    state: dict[str, Any], t: float, kind: str, status: str, msg: tuple[str, int]
) -> list[dict[str, Any]]:
    key = "tamper_" + kind
    was_open = state.get(key, False)
    state[key] = status == "open"
    if status == "open" and not was_open:
        return [{"kind": f"{kind}_tamper", "start": t, "evidence": [list(msg)], "details": {"kind": kind}}]
    return []


def battery(state: dict[str, Any], t: float, level: float, charging: bool, msg: tuple[str, int],
            th: dict[str, Any]) -> list[dict[str, Any]]:  # fmt: skip
    out: list[dict[str, Any]] = []
    prev = state.get("batt")
    state["batt"] = [t, level]
    state.setdefault("first_batt", t)
    if charging:
        state["last_charge"] = t
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
        out.append({"kind": "not_charging", "start": since + th["charge_every_h"] * 3600, "evidence": [list(msg)],
                    "details": {"hours_since_charge": round((t - since) / 3600, 1)}})  # fmt: skip
    # Low now, or low before the next report is due (raised a report early rather than a report late).
    if (level <= th["low_pct"] or level - drain * gap / 3600.0 <= th["low_pct"]) and not state.get("low_raised"):
        state["low_raised"] = True
        out.append({"kind": "low_battery", "start": t, "evidence": [list(msg)],
                    "details": {"level_pct": level, "predicted_hours_left": round(level / drain, 1),
                                "predicted_low_at": t + max(level - th["low_pct"], 0.0) / drain * 3600.0}})  # fmt: skip
    return out


def hmu(
    state: dict[str, Any], t: float, kind: str, value: bool, msg: tuple[str, int]
) -> list[dict[str, Any]]:
    """Home-unit mains power loss (`mains` false) and movement (`moved` true), once per episode."""
    bad = (not value) if kind == "hmu_power" else value
    key = "bad_" + kind
    was = state.get(key, False)
    state[key] = bad
    if bad and not was:
        alert_kind = "hmu_power_loss" if kind == "hmu_power" else "hmu_moved"
        return [{"kind": alert_kind, "start": t, "evidence": [list(msg)], "details": {}}]
    return []


def gps_source(state: dict[str, Any], t: float, source: str, speed: float | None, msg: tuple[str, int],
               th: dict[str, Any]) -> list[dict[str, Any]]:  # fmt: skip
    """GPS lost while moving: `gps_lost_fixes` network (LBS/WiFi) fixes in a row straight after a GPS fix
    at walking speed or more."""
    out: list[dict[str, Any]] = []
    if source == "GPS":
        state["moving"] = (speed or 0.0) >= th["gps_lost_speed_mps"]
        state["gps_lost"] = 0
        return out
    state["gps_lost"] = int(state.get("gps_lost", 0)) + 1
    if state.get("moving") and state["gps_lost"] == th["gps_lost_fixes"]:
        out.append(
            {"kind": "gps_lost_moving", "start": t, "evidence": [list(msg)], "details": {"source": source}}
        )
    return out


def no_comms(last_rx: float, last_msg: tuple[str, int], now: float, interval_s: float, th: dict[str, Any]
             ) -> dict[str, Any] | None:  # fmt: skip
    """Silent for longer than `missed_intervals` expected intervals, and at least `min_gap_s` past one."""
    limit = max(interval_s * th["missed_intervals"], interval_s + th["min_gap_s"])
    if now - last_rx > limit:
        return {"kind": "no_comms", "start": last_rx + interval_s, "evidence": [list(last_msg)],
                "details": {"silent_s": round(now - last_rx), "limit_s": limit}}  # fmt: skip
    return None
