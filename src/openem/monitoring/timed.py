"""Time-driven rules, run when the watermark moves: curfew windows closing, missed appointments,
no communication, overdue check-ins and the unmonitored test. Decisions are the pure functions in
`rules/`; the scans here are numpy over the registry and the index, with Python only for candidates.
"""

from __future__ import annotations

import heapq
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from openem.monitoring import episodes
from openem.monitoring.index import Index
from openem.monitoring.model import FAR_FUTURE, OrderSpec, to_iso, ts
from openem.monitoring.rules import attendance, curfew, health, presence

if TYPE_CHECKING:
    from openem.monitoring.engine import Engine

KEEP_OBS_S = 3 * 86400.0
UNMONITORED = frozenset({"unmonitored_no_device", "unmonitored_silent"})


@lru_cache(maxsize=4096)
def _start_s(iso: str) -> float | None:
    """An episode's start in seconds (parsed once: the hourly unmonitored pass reads it for each)."""
    return ts(iso)


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
        st = eng.order_state.get(ref, {})
        if st.get("cf_due") == due or st.get("cf_gdue") == due:  # else a stale entry
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
        ep_key = f"curfew:{ref}:{int(start)}:{place}"
        checked = st.setdefault("cf_gchecked", {})  # place -> the last window start judged at its grace
        if wm >= start + cf["grace_s"] and checked.get(str(place), -1.0) < start:
            checked[str(place)] = start
            _curfew_in_progress(eng, order, timelines[place], start, end, place, ep_key)
        if not final and touch is None:
            continue
        for v in curfew.evaluate_window(timelines[place], start, end, cf["grace_s"], final):
            late = wm - v["end"] > order.thresholds["late"]["late_after_s"] + fa
            draft = {"kind": v["kind"], "start": v["start"], "end": v["end"], "evidence": v["evidence"],
                     "details": {"window_start": start, "window_end": end, "minutes": round(v["minutes"], 1),
                                 "grace_minutes": round(cf["grace_s"] / 60, 1),
                                 "address_type": curfew.place_name(cf, place)}}  # fmt: skip
            before = len(eng._new)
            measure = _curfew_measure(v, cf["grace_s"])
            eng.emit(draft, order, None, v["evidence"][0][0] if v["evidence"] else "",
                     condition_id=f"curfew@{int(start)}", late=late, measure=measure)  # fmt: skip
            if len(eng._new) > before:  # Accumulated Time Violation: lateness adds up across the order
                st["atv_min"] = round(st.get("atv_min", 0.0) + max(v["minutes"] - cf["grace_s"] / 60, 0.0), 1)
                eng._new[-1]["details"]["atv_minutes_total"] = st["atv_min"]
                _atv(eng, order, st, v, start, cf["grace_s"])
            if ep_key in eng.ep_keys and v["start"] == start:  # the episode opened while they were away
                reason = "window_ended" if v["kind"] == "curfew_absent" else "returned"
                episodes.close_key(eng, ep_key, v["end"], reason, at=wm,
                                   measure={**measure, "minutes_away": v["minutes"]})  # fmt: skip
        home_at = curfew.back_since(timelines[place], start, wm) if ep_key in eng.ep_keys else None
        if ep_key in eng.ep_keys and (final or home_at is not None):
            # opened on the data received by the grace; data of that time received later (stored on the unit,
            # sent late) shows the wearer was home in time: no late return after all
            episodes.close_key(eng, ep_key, end if home_at is None else home_at, "not_confirmed", at=wm)
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
        gdue = st["cf_next_start"] + cf["grace_s"]  # the grace after the next start: is the wearer home?
        if gdue > wm and st.get("cf_gdue") != gdue:
            st["cf_gdue"] = gdue
            eng.curfew_due(ref, gdue)
    for obs in timelines:
        curfew.prune(obs, wm - KEEP_OBS_S)


def atv_threshold(eng: Engine, order: OrderSpec) -> tuple[float, int]:
    """The Accumulated Time Violation threshold (minutes beyond grace, summed over nights) for an order: by
    its scheme, else its order type, else the default, from the versioned policy (rules/defaults.json)."""
    policy = eng.defaults.get("atv") or {}
    by = policy.get("minutes_beyond_grace") or {}
    for key in (order.doc.get("scheme"), order.doc.get("order_type"), "default"):
        if isinstance(key, str) and key in by:
            return float(by[key]), int(policy.get("policy_version", 1))
    return float("inf"), int(policy.get("policy_version", 1))


def _atv(
    eng: Engine, order: OrderSpec, st: dict[str, Any], v: dict[str, Any], start: float, grace_s: float
) -> None:
    """A night's lateness beyond grace adds to the order's total; crossing the policy threshold raises
    `atv_threshold_reached` once per policy version, with the nights that make it up."""
    beyond = max(v["minutes"] - grace_s / 60, 0.0)
    if beyond <= 0:
        return
    nights = st.setdefault("atv_nights", [])
    nights.append(
        {"window_start": to_iso(start), "kind": v["kind"], "minutes_beyond_grace": round(beyond, 1)}
    )
    limit, version = atv_threshold(eng, order)
    if st["atv_min"] < limit or st.get("atv_raised") == version:
        return
    st["atv_raised"] = version
    draft = {"kind": curfew.ATV_KIND, "start": v["end"], "end": v["end"], "evidence": v["evidence"][:1],
             "details": {"nights": list(nights), "atv_minutes_total": st["atv_min"], "threshold_minutes": limit,
                         "policy": f"atv@v{version}"}}  # fmt: skip
    eng.emit(draft, order, None, v["evidence"][0][0] if v["evidence"] else "", condition_id=f"atv@v{version}",
             measure={"atv_minutes_total": st["atv_min"], "nights": len(nights)})  # fmt: skip


def _curfew_measure(v: dict[str, Any], grace_s: float) -> dict[str, float]:
    if v["kind"] == "curfew_absent":
        return {"minutes_absent": v["minutes"]}
    if v["kind"] == "curfew_late_return":
        return {"minutes_late": v["minutes"], "minutes_beyond_grace": max(v["minutes"] - grace_s / 60, 0.0)}
    return {"minutes_absent": v["minutes"]}


def _curfew_in_progress(eng: Engine, order: OrderSpec, obs: list[list[Any]], start: float, end: float,
                        place: int, ep_key: str) -> None:  # fmt: skip
    """The grace after a window's start has passed with the wearer away: `curfew_not_home` opens now, and its
    episode stays open until they return or the window ends (`_curfew_order`). It is judged once, on what had
    been received by the grace (curfew.away_since_start), so batching and restarts give the same alert; its
    id is its own, so the late return is still raised, as before, when the wearer gets home."""
    cf = order.curfew or {}
    cut = start + cf["grace_s"]
    if cut >= end:
        return
    away = curfew.away_since_start(obs, start, cut)
    if away is None:
        return
    draft = {"kind": curfew.NOT_HOME_KIND, "start": start, "end": None, "evidence": [(away[2], away[3])],
             "details": {"window_start": start, "window_end": end, "in_progress": True,
                         "address_type": curfew.place_name(cf, place)}}  # fmt: skip
    eng.emit(draft, order, None, str(away[2]), condition_id=f"curfew@{int(start)}", key=ep_key,
             measure={"minutes_away": (max(eng.now(), cut) - start) / 60})  # fmt: skip


def curfew_progress(eng: Engine) -> None:
    """Open curfew episodes: their minutes away grow (an update every 15 minutes)."""
    wm = eng.now()
    for key in [k for k in eng.ep_keys if k.startswith("curfew:")]:
        for eid in episodes.keyed(eng, key):
            ep = eng.episodes[eid]
            minutes = (min(wm, ep["details"]["window_end"]) - ep["details"]["window_start"]) / 60
            if minutes - ep["measure"].get("minutes_away", 0.0) >= 15.0:
                episodes.update(eng, eid, {"minutes_away": minutes}, at=wm)


def run(eng: Engine) -> None:
    curfew_progress(eng)
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
        if eng.emit(draft, order, a, a.device_id, condition_id="device_health", key=f"nc:{a.device_id}",
                    measure={"hours_unmonitored": (wm - float(last[i])) / 3600}):  # fmt: skip
            d["nc_open"][ix.a_g[i]] = 1  # the device's next receipt closes it (receipts.silences)
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
    _unmonitored_episodes(eng, cand, wm)


def _unmonitored_episodes(eng: Engine, cand: np.ndarray, wm: float) -> None:
    """Hourly: an unmonitored order's episode stays open and says for how many hours (updated every 6); it

    order is fitted and reporting (or has ended)."""
    code = eng.reg.order_code
    for eid, ep in [(e, x) for e, x in eng.episodes.items() if x["kind"] in UNMONITORED]:
        k = code.get(ep["order_ref"], -1)
        hours = max(wm - (_start_s(ep["start"]) or wm), 0.0) / 3600
        if 0 <= k < len(cand) and cand[k]:
            if (
                hours - ep["measure"].get("hours_unmonitored", 0.0) >= 6.0
            ):  # a record every 6 hours, not 24 a day
                episodes.update(eng, eid, {"hours_unmonitored": hours}, at=wm)
        else:
            episodes.close(eng, eid, wm, "ended", at=wm, measure={"hours_unmonitored": hours})


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
