"""Time-driven rules, run when the watermark moves: curfew windows closing, missed appointments,
no communication, not charging, overdue check-ins and the unmonitored test. All decisions are the pure
functions in `rules/`; this module only walks the engine's state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from openem.monitoring.model import FAR_FUTURE
from openem.monitoring.rules import curfew, health, presence

if TYPE_CHECKING:
    from openem.monitoring.engine import Engine

KEEP_OBS_S = 3 * 86400.0


def _next_window_end(cf: dict, after: float) -> float:
    for _, end in curfew.curfew_windows(cf, after, after + 8 * 86400):
        if end > after:
            return end
    return FAR_FUTURE


def curfews(eng: Engine) -> None:
    """Evaluate curfew windows touched by new presence data, and close windows the watermark has passed."""
    wm = eng.watermark
    for ref, order in eng.orders.items():
        cf = order.curfew
        if not cf:
            continue
        st = eng.ostate(ref)
        fa = order.thresholds["curfew"]["finalise_after_s"]
        touch = st.pop("cf_touch", None)
        done = st.get("cf_done", cf["start"])
        if "cf_next" not in st:
            st["cf_next"] = _next_window_end(cf, done)
        if touch is None and wm < st["cf_next"] + fa:
            continue
        obs = st.setdefault("cf_obs", [])
        lo = min(touch if touch is not None else wm, done)
        for start, end in curfew.curfew_windows(cf, lo - 86400, wm):
            final = wm >= end + fa
            if not final and touch is None:
                continue
            for v in curfew.evaluate_window(obs, start, end, cf["grace_s"], final):
                late = wm - v["end"] > order.thresholds["late"]["late_after_s"] + fa
                draft = {"kind": v["kind"], "start": v["start"], "end": v["end"], "evidence": v["evidence"],
                         "details": {"window_start": start, "window_end": end, "minutes": round(v["minutes"], 1)}}  # fmt: skip
                before = len(eng._new)
                eng.emit(draft, order, None, v["evidence"][0][0] if v["evidence"] else "",
                         condition_id=f"curfew@{int(start)}", late=late)  # fmt: skip
                if len(eng._new) > before:  # Accumulated Time Violation: lateness adds up across the order
                    st["atv_min"] = round(st.get("atv_min", 0.0) + max(v["minutes"] - cf["grace_s"] / 60, 0.0), 1)
                    eng._new[-1]["details"]["atv_minutes_total"] = st["atv_min"]
            if final:
                st["cf_done"] = max(st.get("cf_done", cf["start"]), end)
        st["cf_next"] = _next_window_end(cf, st.get("cf_done", cf["start"]))
        curfew.prune(obs, wm - KEEP_OBS_S)


def run(eng: Engine) -> None:
    wm = eng.watermark
    live: dict[str, list] = {}
    for a in eng.activations:
        if a.start <= wm < a.end:
            live.setdefault(a.order_ref, []).append(a)
    for a in (x for acts in live.values() for x in acts):
        order = eng.orders.get(a.order_ref)
        if order is None or not order.active(wm):
            continue
        th = order.thresholds
        st = eng.dstate(a.device_id)
        since = max(a.start, eng.started)
        last_rx = max(st.get("rx", since), since)
        last_msg = st.get("rx_msg") or [a.device_id, -1]
        interval = th["comms"]["expected_interval_s"].get(a.device_kind)  # RF tags talk through the HMU
        d = health.no_comms(last_rx, tuple(last_msg), wm, interval, th["comms"]) if interval else None
        if d and a.role != "VICTIM":
            d["evidence"] = [] if last_msg[1] < 0 else d["evidence"]
            eng.emit(d, order, a, a.device_id, condition_id="device_health")
        d = health.not_charging(st, wm, th["battery"]) if "first_batt" in st else None
        if d:
            eng.emit(d, order, a, a.device_id, condition_id="device_health")
        if a.device_kind == "NFD":
            d = presence.checkin_overdue(st, since, wm, th["checkin"])
            if d:
                eng.emit(d, order, a, a.device_id, condition_id="checkin")
    for ref, order in eng.orders.items():
        if not order.active(wm):
            continue
        acts = [a for a in live.get(ref, []) if a.role != "VICTIM"]
        rx = [eng.devices[a.device_id]["rx"] for a in acts if "rx" in eng.devices.get(a.device_id, {})]
        last_rx = max(rx) if rx else (max(max(a.start, eng.started) for a in acts) if acts else None)
        d = presence.unmonitored(order.start, wm, bool(acts), last_rx, order.thresholds["unmonitored"])
        if d:
            eng.emit(d, order, None, acts[0].device_id if acts else "", condition_id="unmonitored")
        if order.attendance:
            done = eng.ostate(ref).setdefault("attended", {})
            fa = order.thresholds["curfew"]["finalise_after_s"]
            for appt in order.attendance:
                if appt["id"] not in done and wm >= appt["end"] + fa:
                    done[appt["id"]] = None
                    eng.emit({"kind": "attendance_missed", "start": appt["start"], "end": appt["end"], "evidence": [],
                              "details": {"appointment_id": appt["id"]}},
                             order, None, acts[0].device_id if acts else "", condition_id=appt["id"])  # fmt: skip
