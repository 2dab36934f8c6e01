"""Time-driven rules, run when the watermark moves: curfew windows closing, missed appointments,
no communication, overdue check-ins and the unmonitored test. Decisions are the pure functions in
`rules/`; the scans here are numpy over the registry and the index, with Python only for candidates.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Any

import numpy as np

from openem.monitoring.index import Index
from openem.monitoring.model import FAR_FUTURE, OrderSpec
from openem.monitoring.rules import attendance, curfew, health, presence

if TYPE_CHECKING:
    from openem.monitoring.engine import Engine

KEEP_OBS_S = 3 * 86400.0


def _next_window(cf: dict[str, Any], after: float) -> tuple[float, float]:
    """(start, end) of the first window ending after `after` (within a week; else none: FAR_FUTURE)."""
    return curfew.next_window(cf, after) or (FAR_FUTURE, FAR_FUTURE)


def curfews(eng: Engine) -> None:
    """Evaluate curfew windows touched by new presence data, and close the windows the watermark passed."""
    wm = eng.now()
    refs = set(eng.cf_touched)
    eng.cf_touched.clear()
    due_refs: set[str] = set()
    while eng.cf_heap and eng.cf_heap[0][0] <= wm:
        due, ref = heapq.heappop(eng.cf_heap)
        if eng.order_state.get(ref, {}).get("cf_due") == due:  # else a stale entry
            due_refs.add(ref)
    for ref in sorted(refs | due_refs):
        order = eng.orders.get(ref)
        if order is None or not order.curfew:
            continue
        _curfew_order(eng, order, ref in due_refs)


def _fa(eng: Engine, ref: str) -> float:
    order = eng.orders.get(ref)
    return float(order.thresholds["curfew"]["finalise_after_s"]) if order else 0.0


def _curfew_order(eng: Engine, order: OrderSpec, due: bool) -> None:
    wm, cf, ref = eng.now(), order.curfew, order.ref
    if cf is None:
        return
    st = eng.ostate(ref)
    fa = _fa(eng, ref)
    touch = st.pop("cf_touch", None)
    if "cf_done" not in st:  # the engine judges windows from a day before it started watching, not from 2019
        st["cf_done"] = max(cf["start"], min(wm, (touch if touch is not None else wm)) - 86400)
    done = st["cf_done"]
    if not due and touch is not None and touch >= done and st.get("cf_next_start", -1.0) > wm:
        return  # the change falls between windows and no window has begun: nothing to judge yet
    # New data: the windows it falls in (and after); a window due to close: from the last one closed.
    lo = min(touch if touch is not None else wm, done if (due or touch is None) else wm)
    timelines = curfew.timelines(st, cf)  # one per curfew address: each window is judged at its own
    for start, end, place in curfew.placed_windows(cf, lo, wm):
        final = wm >= end + fa
        if not final and touch is None:
            continue
        for v in curfew.evaluate_window(timelines[place], start, end, cf["grace_s"], final):
            late = wm - v["end"] > order.thresholds["late"]["late_after_s"] + fa
            draft = {"kind": v["kind"], "start": v["start"], "end": v["end"], "evidence": v["evidence"],
                     "details": {"window_start": start, "window_end": end, "minutes": round(v["minutes"], 1),
                                 "address_type": curfew.place_name(cf, place)}}  # fmt: skip
            before = len(eng._new)
            eng.emit(draft, order, None, v["evidence"][0][0] if v["evidence"] else "",
                     condition_id=f"curfew@{int(start)}", late=late)  # fmt: skip
            if len(eng._new) > before:  # Accumulated Time Violation: lateness adds up across the order
                st["atv_min"] = round(st.get("atv_min", 0.0) + max(v["minutes"] - cf["grace_s"] / 60, 0.0), 1)
                eng._new[-1]["details"]["atv_minutes_total"] = st["atv_min"]
        if final:
            st["cf_done"] = max(st.get("cf_done", cf["start"]), end)
    if st.get("cf_next_for") != st["cf_done"]:
        (st["cf_next_start"], st["cf_next"]), st["cf_next_for"] = (
            _next_window(cf, st["cf_done"]),
            st["cf_done"],
        )
    if st["cf_next"] < FAR_FUTURE and st.get("cf_due") != st["cf_next"] + fa:
        st["cf_due"] = st["cf_next"] + fa
        eng.curfew_due(ref, st["cf_due"])
    for obs in timelines:
        curfew.prune(obs, wm - KEEP_OBS_S)


def run(eng: Engine) -> None:
    ix = eng.index()
    wm = eng.now()
    if not len(ix.a_g):
        return _unmonitored(eng, ix, np.zeros(0, dtype=bool), np.zeros(0))
    oc = ix.act_order
    o_active = ix.known & (ix.o_start <= wm) & (wm < ix.o_end)
    live = (ix.a_start <= wm) & (wm < ix.a_end) & ix.act_wearer & o_active[oc]
    last = np.maximum(np.maximum(eng.reg.d["rx"][ix.a_g], ix.a_start), eng.started)
    d = eng.reg.d
    silent = health.silent(wm, last, ix.a_limit)
    due = live & silent & (d["nc_from"][ix.a_g] != last)  # and not yet raised for this silence
    for i in np.flatnonzero(due):
        a = eng.activations[i]
        d["nc_from"][ix.a_g[i]] = last[i]
        seq = int(eng.reg.d["rx_seq"][ix.a_g[i]])
        evidence = [[a.device_id, seq]] if eng.reg.d["rx"][ix.a_g[i]] >= last[i] and seq >= 0 else []
        order = eng.orders[a.order_ref]
        draft = health.no_comms_draft(float(last[i]), float(ix.a_limit[i]), wm - float(last[i]), evidence,
                                      order.thresholds["comms"])  # fmt: skip
        eng.emit(draft, order, a, a.device_id, condition_id="device_health")
    for i in np.flatnonzero(live & ix.a_nfd & (d["ci_next"][ix.a_g] <= wm)):  # a check-in may be overdue
        a = eng.activations[i]
        st = eng.dstate(a.device_id)
        for draft in presence.checkin_overdue(st, max(a.start, eng.started), wm,
                                              eng.orders[a.order_ref].thresholds["checkin"]):  # fmt: skip
            eng.emit(draft, eng.orders[a.order_ref], a, a.device_id, condition_id="checkin")
        d["ci_next"][ix.a_g[i]] = st.get("ci_next", 0.0)
    _unmonitored(eng, ix, live, last)


def _unmonitored(eng: Engine, ix: Index, live: np.ndarray, last: np.ndarray) -> None:
    wm = eng.now()
    n = len(ix.refs)
    o_active = ix.known & (ix.o_start <= wm) & (wm < ix.o_end)
    _attendance_missed(eng, ix, o_active, wm)
    hour = int(wm // 3600)
    if eng.unmonitored_hour == hour:
        return  # a 48-hour / 14-day rule: checked once an hour
    eng.unmonitored_hour = hour
    fitted = np.bincount(ix.act_order[live], minlength=n)[:n] > 0 if len(live) else np.zeros(n, dtype=bool)
    o_rx = np.full(n, -1.0)
    if len(live) and live.any():
        np.maximum.at(o_rx, ix.act_order[live], last[live])
    th = eng.defaults["unmonitored"]
    cand = o_active & presence.unmonitored_due(wm, ix.o_start, fitted, o_rx, th)
    o = eng.reg.o  # index k is the registry's order code
    same = (o["um_fitted"][:n] == fitted) & (o["um_rx"][:n] == o_rx)  # judged already on these inputs
    for k in np.flatnonzero(cand & ~same):
        order = eng.orders[ix.refs[k]]
        st = eng.ostate(order.ref)
        o["um_fitted"][k], o["um_rx"][k] = int(fitted[k]), o_rx[k]
        if st.pop("unmon", None) == f"{int(fitted[k])}:{o_rx[k]}":  # a checkpoint from before the registry
            continue  # kept the inputs: judged already
        d = presence.unmonitored(order.start, wm, bool(fitted[k]), float(o_rx[k]) if fitted[k] else None,
                                 order.thresholds["unmonitored"])  # fmt: skip
        if d:
            eng.emit(d, order, None, "", condition_id="unmonitored")


def _attendance_missed(eng: Engine, ix: Index, o_active: np.ndarray, wm: float) -> None:
    """Appointments that ended (plus the finalising delay) unattended. `eng.att_due` keeps per order the
    earliest such moment still to come (a lower bound: an attended appointment only makes it later), so
    the Python below runs for an order only when one of its appointments can be judged."""
    if eng.att_due is None or len(eng.att_due) != len(ix.refs):
        eng.att_due = np.where(ix.has_att, -np.inf, np.inf)
    for k in np.flatnonzero(o_active & (eng.att_due <= wm)):
        order = eng.orders[ix.refs[k]]
        done = eng.ostate(order.ref).setdefault("attended", {})
        drafts, nxt = attendance.missed(
            order.attendance, done, wm, order.thresholds["curfew"]["finalise_after_s"]
        )
        for draft in drafts:
            eng.emit(draft, order, None, "", condition_id=draft.pop("condition_id"))
        eng.att_due[k] = nxt
