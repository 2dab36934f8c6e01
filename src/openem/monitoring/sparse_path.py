"""The per-message rules for the sparse types (RF presence, alcohol, tamper, check-ins, home-unit power and
movement), in event time. RF presence and alcohol go a device at a time; the rest are few."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from openem.monitoring import episodes
from openem.monitoring.columns import Columns, Lazy
from openem.monitoring.columns import MessageType as T
from openem.monitoring.model import kind_condition
from openem.monitoring.model import ts as to_ts
from openem.monitoring.rules import alcohol, curfew, health, presence

if TYPE_CHECKING:
    from openem.monitoring.engine import Engine

TAMPER, CHECKIN, HMU_POWER, HMU_MOVED = (
    int(t) for t in (T.TAMPER, T.CHECKIN, T.HMU_POWER, T.HMU_MOVED)
)  # plain ints: looked up per row


def run(eng: Engine, cols: Columns, act: np.ndarray, g: np.ndarray) -> None:
    """A batch's sparse rows, in event time. The rest (after `_rf` and `_alcohol`) are few: their columns are
    turned into plain lists once (indexing numpy arrays one element at a time cost more than the rules)."""
    kinds_a = cols.type
    rf, alc = kinds_a == T.RF, kinds_a == T.ALCOHOL
    if rf.any():
        _rf(eng, cols, act, rf)
    if alc.any():
        _alcohol(eng, cols, act, g, alc)
    rest = np.flatnonzero(~rf & ~alc)
    if not len(rest):
        return
    cols, act = cols.take(rest), act[rest]
    devs = [cols.devices[i] for i in cols.dev.tolist()]
    ts, rxs, seqs, kinds = cols.t.tolist(), cols.rx.tolist(), cols.seq.tolist(), cols.type.tolist()
    acts = act.tolist()
    # String columns are read one value at a time: converting a whole column of Python strings for the
    # few tamper and check-in rows cost more than everything else here.
    text = cols.s.item if isinstance(cols.s, Lazy) else (lambda key, r: cols.s[key][r])
    mains = cols.b["mains"].tolist() if T.HMU_POWER in kinds else []
    moved = cols.b["moved"].tolist() if T.HMU_MOVED in kinds else []
    late_after = eng.defaults["late"]["late_after_s"]
    for r, kind in enumerate(kinds):
        a = eng.activations[acts[r]]
        dev, t = devs[r], ts[r]
        msg = (dev, seqs[r])
        order = eng.orders.get(a.order_ref)
        st = eng.dstate(dev)
        drafts: list[dict[str, Any]] = []
        key = None  # the situation an episode of this report's condition is closed by
        if kind == TAMPER:
            tk = str(text("tamper_kind", r))
            key, was = f"tamper:{dev}:{tk}", st.get("tamper_" + tk, False)
            drafts = health.tamper(st, t, tk, str(text("tamper_state", r)), msg)
            if was and not st["tamper_" + tk]:  # strap / case closed again: the tamper is cleared
                _restored(eng, key, t, "restored", "minutes_open")
        elif kind == CHECKIN:
            drafts = presence.checkin(st, t, str(text("result", r)), msg, rxs[r])
        elif kind in (HMU_POWER, HMU_MOVED):
            name = "hmu_power" if kind == HMU_POWER else "hmu_moved"
            key, was = f"{name}:{dev}", st.get("bad_" + name, False)
            drafts = health.hmu(st, t, name, bool(mains[r] if kind == HMU_POWER else moved[r]), msg)
            if was and not st["bad_" + name]:  # mains back / the unit settled
                _restored(
                    eng, key, t, "restored", "minutes_without_mains" if kind == HMU_POWER else "minutes_moved"
                )
        late = rxs[r] - t > late_after
        for d in drafts:
            eng.emit(d, order, a, dev, condition_id=d.pop("condition_id", kind_condition(d["kind"])), late=late,
                     key=key)  # fmt: skip


def _restored(eng: Engine, key: str, t: float, reason: str, measure: str) -> None:
    """A device condition cleared (strap or case closed, mains back): its open episode closes at this report
    with the minutes it lasted."""
    for eid in episodes.keyed(eng, key):
        start = to_ts(eng.episodes[eid]["start"]) or t
        episodes.close(
            eng, eid, t, reason, at=max(eng.watermark, t), measure={measure: max(t - start, 0.0) / 60}
        )


def _rf(eng: Engine, cols: Columns, act: np.ndarray, mask: np.ndarray) -> None:
    """Home-unit presence into the curfew timeline. Every reading is kept (they come on change and as an
    occasional heartbeat, a few a day): keeping only changes lost the truth when a late reading landed
    before one that had been dropped as a repeat."""
    rows = np.flatnonzero(mask)
    here, ts, acts = cols.b["present"][rows].tolist(), cols.t[rows].tolist(), act[rows].tolist()
    devs, seqs, rxs = cols.dev[rows].tolist(), cols.seq[rows].tolist(), cols.rx[rows].tolist()
    obs_of: dict[int, list[list[Any]] | None] = {}
    touched: dict[str, float] = {}
    act_place = eng.curfew_places(eng.index()).act_place  # the curfew address each home unit is at
    for k, a_i in enumerate(acts):
        if a_i not in obs_of:
            order, place = eng.orders.get(eng.activations[a_i].order_ref), int(act_place[a_i])
            obs_of[a_i] = (curfew.observations(eng.ostate(order.ref), order.curfew, place)
                           if order and order.curfew and place >= 0 else None)  # fmt: skip
        obs = obs_of[a_i]
        if obs is None:
            continue
        curfew.add_observation(obs, ts[k], bool(here[k]), cols.devices[devs[k]], seqs[k], rxs[k])
        ref = eng.activations[a_i].order_ref
        touched[ref] = min(touched.get(ref, ts[k]), ts[k])
    for ref, t in touched.items():
        eng.curfew_touched(ref, t)


def _alcohol(eng: Engine, cols: Columns, act: np.ndarray, g: np.ndarray, mask: np.ndarray) -> None:
    """Alcohol readings through the curve rule. Most readings are quiet (on the skin, well under the
    threshold): a device's run of them changes nothing but its last reading, which is kept in the registry
    (`alc_qt`, `alc_qtac`) without Python, and folded into the curve state when the device next has a
    reading that matters (`alcohol_state`). Only those go reading by reading through `alcohol.step`."""
    rows = np.flatnonzero(mask)
    lo, hi, thr, skin = eng.index().a_alc
    a_i, t = act[rows], cols.t[rows]
    inwin = (t >= lo[a_i]) & (t < hi[a_i])
    rows, a_i, t = rows[inwin], a_i[inwin], t[inwin]
    if not len(rows):
        return
    tac, ir = cols.f["tac_gdl"][rows], cols.f["ir_skin"][rows]
    with np.errstate(invalid="ignore"):
        loud = ~alcohol.quiet(tac, ir, {"skin_ir_below": skin[a_i]}, thr[a_i])  # per-row thresholds
    starts = np.flatnonzero(np.r_[True, a_i[1:] != a_i[:-1]])  # an activation's rows are contiguous
    ends = np.r_[starts[1:], len(a_i)]
    busy = np.add.reduceat(loud.astype(np.int64), starts) > 0
    d = eng.reg.d
    quiet_end = ends[~busy] - 1
    dq = g[rows[quiet_end]]
    d["alc_qt"][dq], d["alc_qtac"][dq] = t[quiet_end], tac[quiet_end]
    late_after = eng.defaults["late"]["late_after_s"]
    for s0, e0 in zip(starts[busy].tolist(), ends[busy].tolist(), strict=True):
        a = eng.activations[int(a_i[s0])]
        order = eng.orders[a.order_ref]
        alc = alcohol_state(eng, a.device_id)
        cond, th = order.alcohol or {}, order.thresholds["alcohol"]  # busy rows are in an alcohol condition
        for q in range(s0, e0):
            r = int(rows[q])
            msg = (cols.devices[cols.dev[r]], int(cols.seq[r]))
            was = _alc_mark(alc)
            for dr in alcohol.step(alc, float(t[q]), float(tac[q]), float(ir[q]), msg, th, cond["mode"],
                                   cond.get("limit_gdl")):  # fmt: skip
                key = f"alc:{msg[0]}:{'skin' if dr['kind'] == 'alcohol_skin_tamper' else 'tac'}"
                eng.emit(dr, order, a, msg[0], condition_id=dr.pop("condition_id", kind_condition(dr["kind"])),
                         late=float(cols.rx[r]) - float(t[q]) > late_after, key=key,
                         measure={"peak_tac": dr["details"]["peak_gdl"]} if "peak_gdl" in dr["details"] else None)  # fmt: skip
            _alc_episodes(eng, msg[0], was, alc, float(t[q]))
    if any(k.startswith("alc:") for k in eng.ep_keys):  # a quiet run ends an episode in progress
        for q in starts[~busy].tolist():  # the first reading of a quiet run is when the episode ended
            dev = cols.devices[cols.dev[rows[q]]]
            if f"alc:{dev}:tac" in eng.ep_keys or f"alc:{dev}:skin" in eng.ep_keys:
                alc = eng.dstate(dev).setdefault("alc", alcohol.new_state())
                was = _alc_mark(alc)
                alcohol_state(eng, dev)
                _alc_episodes(eng, dev, was, alc, float(t[q]))


def _alc_mark(alc: dict[str, Any]) -> tuple[Any, float, bool, float | None]:
    ep = alc["ep"]
    raised = ep if ep is not None and ep["raised"] else None
    return raised, float(raised["peak"]) if raised else 0.0, bool(alc["skin_raised"]), alc["skin_start"]


def _alc_episodes(eng: Engine, dev: str, was: tuple[Any, float, bool, float | None], alc: dict[str, Any],
                  t: float) -> None:  # fmt: skip
    """An alcohol reading's effect on the device's episodes: a higher peak updates the drinking episode,
    TAC back under half the threshold closes it (with its peak), and skin contact regained closes the
    skin-contact episode with the minutes alcohol compliance was unknown."""
    ep, peak, skin, skin_start = was
    wm = eng.watermark
    if ep is not None:
        for eid in episodes.keyed(eng, f"alc:{dev}:tac"):
            now_ep = alc["ep"]
            if now_ep is None or now_ep["start"] != ep["start"]:  # under half the threshold: it ended
                episodes.close(eng, eid, t, "ended", at=wm, measure={"peak_tac": ep["peak"],
                               "minutes_over_threshold": (t - ep["start"]) / 60})  # fmt: skip
            elif now_ep["peak"] >= eng.episodes[eid]["measure"].get("peak_tac", 0.0) + 0.005:
                episodes.update(eng, eid, {"peak_tac": now_ep["peak"]}, at=wm)
    if skin and not alc["skin_raised"]:
        minutes = (t - skin_start) / 60 if skin_start is not None else 0.0
        episodes.close_key(eng, f"alc:{dev}:skin", t, "ended", at=wm,
                           measure={"minutes_unknown_compliance": minutes})  # fmt: skip


def alcohol_state(eng: Engine, device_id: str) -> dict[str, Any]:
    """A device's alcohol curve state, with its last run of quiet readings folded in."""
    alc: dict[str, Any] = eng.dstate(device_id).setdefault("alc", alcohol.new_state())
    code, d = eng.reg.device(device_id), eng.reg.d
    if not np.isnan(d["alc_qt"][code]):
        alcohol.skip_quiet(alc, float(d["alc_qt"][code]), float(d["alc_qtac"][code]))
        d["alc_qt"][code] = d["alc_qtac"][code] = np.nan
    return alc
