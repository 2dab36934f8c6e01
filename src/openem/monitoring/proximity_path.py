"""Victim proximity through the engine: each party's latest position and the alert level reached live in the
registry's order arrays (decision 0012). A pre-filter (`rules.presence.boxes_within` over the bounding boxes
of the batch's fixes and the last known ones) leaves the orders whose parties stay far apart to numpy; the rest
go fix by fix through the pure rule `rules.presence.proximity`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from openem.monitoring import episodes
from openem.monitoring.index import Index
from openem.monitoring.model import ts
from openem.monitoring.rules import presence

if TYPE_CHECKING:
    from openem.monitoring.engine import Engine
    from openem.monitoring.gps_path import GpsRows


def run(eng: Engine, ix: Index, f: GpsRows) -> None:
    """Victim proximity. Each party's latest position and the level reached live in the registry; an order
    whose two parties stay far apart in the batch only has them updated there (numpy). The rest go fix by
    fix through `presence.proximity`, its state taken from the registry and put back."""
    if not ix.has_prox.any():
        return
    c, act, g, oc, x, y, acc, m, late = f.c, f.act, f.g, f.oc, f.x, f.y, f.acc, f.ok, f.late
    wearer_rows = m & ix.act_wearer[act] & ix.has_prox[oc]
    victim_rows = m & ~ix.act_wearer[act]
    rows = np.flatnonzero(wearer_rows | victim_rows)
    if not len(rows):
        return
    vo = ix.victim_order
    pair = np.where(
        wearer_rows[rows], oc[rows], np.where(g[rows] < len(vo), vo[np.minimum(g[rows], len(vo) - 1)], -1)
    )
    rows, pair = rows[pair >= 0], pair[pair >= 0]
    near = _near_pairs(eng, ix, rows, pair, wearer_rows, x, y, c.t[rows], acc[rows])
    o = eng.reg.o
    far, far_pair = rows[~near], pair[~near]
    side_w = wearer_rows[far]
    key = far_pair * 2 + side_w
    _, last = np.unique(key[::-1], return_index=True)
    last = len(key) - 1 - last  # each party's latest row
    for side, sel in (("w", side_w[last]), ("v", ~side_w[last])):
        r, k = far[last[sel]], far_pair[last[sel]]
        o[f"p{side}_t"][k], o[f"p{side}_x"][k], o[f"p{side}_y"][k], o[f"p{side}_acc"][k] = (
            c.t[r],
            x[r],
            y[r],
            acc[r],
        )
        o[f"p{side}_dev"][k], o[f"p{side}_seq"][k] = g[r], c.seq[r]
    o["p_level"][far_pair] = 0
    # the offender's distance from a victim fix when first seen against it (far apart: the latest positions)
    fk = np.unique(far_pair)
    with np.errstate(invalid="ignore"):
        dd = np.hypot(o["pw_x"][fk] - o["pv_x"][fk], o["pw_y"][fk] - o["pv_y"][fk])
    new = np.isfinite(dd) & (o["pr_t"][fk] != o["pv_t"][fk])
    o["pr_t"][fk[new]], o["pr_d"][fk[new]] = o["pv_t"][fk[new]], dd[new]
    near_rows, near_pair = rows[near], pair[near]
    for k in np.unique(near_pair).tolist():
        order = eng.orders.get(ix.refs[k])
        if order is None or not order.proximity:
            continue
        st = _prox_state(eng, k)
        # Both parties' fixes in event time (rows are grouped by device). Merging them by release instant
        # instead made the pair batch-invariant but lost a pre-alert at 50,000 wearers that is not yet
        # explained (decision 0033, addendum), so event time stays until that is understood.
        mine = near_rows[near_pair == k]
        th = order.thresholds["proximity"]
        for r in mine[np.argsort(c.t[mine], kind="stable")].tolist():
            dev = c.devices[c.dev[r]]
            side = "w" if wearer_rows[r] else "v"
            t = float(c.t[r])
            drafts = presence.proximity(st, side, t, float(x[r]), float(y[r]), float(acc[r]),
                                        (dev, int(c.seq[r])), order.proximity, th)  # fmt: skip
            for d in drafts:
                eng.emit(d, order, eng.activations[int(act[r])], dev, condition_id="proximity",
                         late=bool(late[r]), key=f"prox:{order.ref}", measure={"closest_m": st["near"]})  # fmt: skip
            if "near" in st and f"prox:{order.ref}" in eng.ep_keys:
                _episode(eng, order.ref, st)
            st.pop("near", None)
            st.pop("parted", None)
        save_prox_state(eng, k, st)


def _episode(eng: Engine, ref: str, st: dict[str, Any]) -> None:
    """An open proximity episode: when the rule re-arms (the pair apart beyond the re-arm ring for
    `clear_s`) it closes, its end when they were first seen apart, with the minutes they were within the
    ring and the closest they came; closer than before by 50 m updates it. No judgement (a party unknown)
    is no evidence either way: it stays open."""
    key = f"prox:{ref}"
    near = float(st["near"])
    parted = st.get("parted")
    for eid in episodes.keyed(eng, key):
        ep = eng.episodes[eid]
        if parted is not None:
            start = ts(ep["start"]) or parted
            episodes.close(eng, eid, parted, "apart", at=eng.watermark,
                           measure={"minutes_within": max(parted - start, 0.0) / 60, "apart_m": near})  # fmt: skip
        elif near <= ep["measure"].get("closest_m", np.inf) - 50.0:  # 50 m closer: a record, not one a fix
            episodes.update(eng, eid, {"closest_m": near}, at=eng.watermark)


def _prox_state(eng: Engine, k: int) -> dict[str, Any]:
    """The proximity rule's state for order code k, built from the registry (which alone keeps it)."""
    o, reg = eng.reg.o, eng.reg
    st: dict[str, Any] = {}
    for side in "wv":
        if o[f"p{side}_dev"][k] >= 0:
            st[side] = [float(o[f"p{side}_t"][k]), float(o[f"p{side}_x"][k]), float(o[f"p{side}_y"][k]),
                        float(o[f"p{side}_acc"][k]), reg.dev_ids[int(o[f"p{side}_dev"][k])], int(o[f"p{side}_seq"][k])]  # fmt: skip
    st["level"] = int(o["p_level"][k])
    if not np.isnan(o["pr_t"][k]):
        st["ref"] = [float(o["pr_t"][k]), float(o["pr_d"][k])]
    if not np.isnan(o["p_apart"][k]):
        st["apart_since"] = float(o["p_apart"][k])
    return st


def save_prox_state(eng: Engine, k: int, st: dict[str, Any]) -> None:
    """Put order code k's proximity state (from `presence.proximity`, or an older checkpoint) in the registry."""
    o, reg = eng.reg.o, eng.reg
    for side in "wv":
        if side in st:
            t, px, py, pacc, dev, seq = st[side]
            o[f"p{side}_t"][k], o[f"p{side}_x"][k], o[f"p{side}_y"][k], o[f"p{side}_acc"][k] = t, px, py, pacc
            o[f"p{side}_dev"][k], o[f"p{side}_seq"][k] = reg.device(dev), seq
    o["p_level"][k] = int(st.get("level", 0))
    if "ref" in st:
        o["pr_t"][k], o["pr_d"][k] = st["ref"]
    o["p_apart"][k] = st.get("apart_since", np.nan)


def _near_pairs(eng: Engine, ix: Index, rows: np.ndarray, pair: np.ndarray, wearer_rows: np.ndarray,
                x: np.ndarray, y: np.ndarray, t_rows: np.ndarray, acc_rows: np.ndarray) -> np.ndarray:  # fmt: skip
    """Per row: could the wearer and victim of its order come within the pre-alert ring (bounding boxes of
    this batch's fixes and the last known ones, grown by the ring, and by how far a silent party may have
    walked since its last fix), or has an alert level been reached? Only those rows take the Python path."""
    codes, inv = np.unique(pair, return_inverse=True)
    k, o = len(codes), eng.reg.o
    finite = np.ones(k, dtype=bool)
    box = {}
    th = eng.defaults["proximity"]
    walk, most, stale = (
        float(th.get("walk_mps", 1.4)),
        float(th.get("one_party_max_s", 0)),
        float(th["stale_s"]),
    )
    grow = np.zeros(k)
    # How far a party may have walked from a fix the other is judged against: its longest gap between fixes
    # within this batch (from its last known fix before it, to the pair's last row here). A gap under
    # `stale_s` is judged as it is (no growth); a longer one grows by walking speed, at most `one_party_max_s`.
    t_hi = np.full(k, -np.inf)
    np.maximum.at(t_hi, inv, t_rows)
    for side, mask in (("w", wearer_rows[rows]), ("v", ~wearer_rows[rows])):
        last_t = o[f"p{side}_t"][codes]
        j, tt, aa = inv[mask], t_rows[mask], acc_rows[mask]
        srt = np.lexsort((tt, j))
        js, tts = j[srt], tt[srt]
        with np.errstate(invalid="ignore"):
            gap = np.nan_to_num(t_hi - last_t, nan=0.0)  # no fix of this side here: since its last known
            acc_side = np.nan_to_num(o[f"p{side}_acc"][codes], nan=0.0)
            if len(js):
                head = np.r_[True, js[1:] != js[:-1]]
                tail = np.r_[js[1:] != js[:-1], True]
                steps = np.nan_to_num(tts - np.where(head, last_t[js], np.r_[np.nan, tts[:-1]]), nan=0.0)
                gap[np.unique(js)] = 0.0
                np.maximum.at(gap, js, steps)
                np.maximum.at(gap, js[tail], t_hi[js[tail]] - tts[tail])
                np.maximum.at(acc_side, js, aa[srt])
            g = np.where(gap > stale, acc_side + walk * np.minimum(gap, most), 0.0)
        grow = np.fmax(grow, g)
    for side, mask in (("w", wearer_rows[rows]), ("v", ~wearer_rows[rows])):
        b = presence.group_bounds(inv[mask], x[rows[mask]], y[rows[mask]], k)
        px, py = o[f"p{side}_x"][codes], o[f"p{side}_y"][codes]  # NaN where not known: fmin/fmax skip it
        b = np.array([np.fmin(b[0], px), np.fmin(b[1], py), np.fmax(b[2], px), np.fmax(b[3], py)])
        finite &= np.isfinite(b).all(axis=0)
        box[side] = b
    close = finite & (
        presence.boxes_within(box["w"], box["v"], ix.prox_ring[codes] + grow)
        | (o["p_level"][codes] > 0)  # an encounter not yet over: every fix may be the one that ends it
    )
    result: np.ndarray = close[inv]
    return result
