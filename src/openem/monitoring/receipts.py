"""What each receipt says before any rule: whether it was seen before (duplicates and replays change nothing),
silences proven by the gaps between receipts, and each device's newest receipt. Vectorised over the batch
sorted by device and sequence; Python only for the devices with late data or new gaps."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from openem.monitoring import episodes
from openem.monitoring.columns import Columns
from openem.monitoring.index import Index
from openem.monitoring.model import ts
from openem.monitoring.rules import health
from openem.monitoring.sorting import GROUP_SHIFT, by_group_int, sorted_within_keys

if TYPE_CHECKING:
    from openem.monitoring.engine import Engine

GAP_WINDOW = 2000  # sequence numbers remembered as "not yet received" below a device's newest


def first_sight(eng: Engine, cols: Columns, g: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
    """False for a (device, seq) already processed: duplicates and replays change nothing.

    Per device the registry keeps the highest and lowest sequence seen; the gaps between them (data a
    device stored and will forward later) live in the device's state, at most GAP_WINDOW below each
    new sequence. Rows above the highest are new (numpy); Python runs only for devices with rows at or
    below their highest (late data, replays) or with new gaps, and only over those rows."""
    new = np.ones(cols.n, dtype=bool)
    order = by_group_int(g, cols.seq) if order is None else order
    d, s = g[order], cols.seq[order]
    head = np.r_[True, d[1:] != d[:-1]]
    same = ~head & np.r_[False, s[1:] == s[:-1]]
    new[order[same]] = False
    starts = np.flatnonzero(head)
    seq_max, seq_min = eng.reg.d["seq_max"], eng.reg.d["seq_min"]
    top0 = seq_max[d[starts]].copy()  # per group: the highest sequence before this batch (-1: none)
    fresh = top0 < 0
    seq_min[d[starts[fresh]]] = s[starts[fresh]]  # a device's first batch: its lowest sequence so far
    t0 = np.repeat(top0, np.diff(np.r_[starts, len(d)]))  # per row, its device's
    late = ~same & (s <= t0)
    # Above the highest, a row's predecessor is the row before it (sequences ascend), or the highest before
    # this batch when that row was not above it (late, or the device's first row here).
    prev = np.where(head, t0, np.maximum(np.r_[-1, s[:-1]], t0))
    gap_rows = np.flatnonzero(~same & (s > t0) & (prev >= 0) & (s - prev > 1))
    ends = np.r_[starts[1:], len(d)] - 1
    seq_max[d[starts]] = np.maximum(top0, s[ends])
    late_rows = np.flatnonzero(late)
    if not len(late_rows) and not len(gap_rows):
        return new
    late_grp = np.searchsorted(starts, late_rows, side="right") - 1
    gap_grp = np.searchsorted(starts, gap_rows, side="right") - 1
    gap_prev = prev[gap_rows]
    slow = np.union1d(late_grp, gap_grp)
    for k in slow.tolist():
        dev = int(d[starts[k]])
        st = eng.dstate(eng.reg.dev_ids[dev])
        gaps = set(st.get("seq_gaps", []))
        smin = int(seq_min[dev])
        for j in late_rows[late_grp == k].tolist():
            q = int(s[j])
            if q < smin:  # older than anything seen: new, and what lies between may still arrive
                gaps.update(range(max(q + 1, smin - GAP_WINDOW), smin))
                smin = q
            elif q in gaps:
                gaps.discard(q)
            else:
                new[order[j]] = False
        sel = gap_grp == k
        for lo, q in zip(gap_prev[sel].tolist(), s[gap_rows[sel]].tolist(), strict=True):
            gaps.update(range(max(lo + 1, q - GAP_WINDOW), q))
        seq_min[dev] = smin
        st["seq_gaps"] = sorted(gaps)[-GAP_WINDOW:]
    return new


def silences(
    eng: Engine, ix: Index, cols: Columns, g: np.ndarray, act: np.ndarray, by_seq: np.ndarray
) -> None:
    """No communication proven by the data itself: a device's receipt that follows its previous one (or
    the start of watching it) by more than its limit. The time-driven scan raises a silence while it lasts;
    this finds the ones that began and ended between two scans (a large replay batch, a backlog after a
    restart), with the same alert id, so each silence is raised once whichever finds it first."""
    if not len(ix.a_g):
        return
    if not np.isfinite(cols.rx).all():
        return
    order, key = sorted_within_keys(by_seq, g, cols.rx)  # by receipt: stored data is forwarded out of order
    # Only a device's first receipt in the batch, or one after a gap longer than the shortest limit, can
    # end a silence: the rest of the work is on those few rows. The sort's keys (device, then receipt in
    # whole microseconds) find them without reading the batch again in that order.
    shortest = np.nanmin(ix.a_limit) if np.isfinite(ix.a_limit).any() else np.inf
    if key is not None:
        first = np.r_[True, (key[1:] >> GROUP_SHIFT) != (key[:-1] >> GROUP_SHIFT)]
        cand = np.flatnonzero(first | np.r_[False, np.diff(key) > shortest * 1e6 - 2])  # 2 µs of rounding
        first = first[cand]
    else:
        gs = g[order]
        first_all = np.r_[True, gs[1:] != gs[:-1]]
        rx_all = cols.rx[order]
        cand = np.flatnonzero(first_all | np.r_[False, np.diff(rx_all) > shortest])
        first = first_all[cand]
    here, before = order[cand], order[np.maximum(cand - 1, 0)]
    gs = g[here]
    rx = cols.rx[here]
    prev = np.where(first, eng.reg.d["rx"][gs], cols.rx[before])  # -1: never heard
    prev_seq = np.where(first, eng.reg.d["rx_seq"][gs], cols.seq[before])
    a = act[here]
    ac = np.clip(a, 0, None)
    base = np.maximum(np.maximum(prev, ix.a_start[ac]), eng.started)
    limit = ix.a_limit[ac]
    reopen = first & (eng.reg.d["nc_open"][gs] > 0)  # contact again: an open no-comms episode ends here
    for r in np.flatnonzero(reopen).tolist():
        _comms_back(eng, int(gs[r]), float(rx[r]), float(base[r]))
    due = (a >= 0) & health.silent(rx, base, limit)
    rows = np.flatnonzero(due)
    if not len(rows):
        return
    oc = ix.act_order[ac[rows]]
    at = base[rows] + limit[rows]  # the moment the silence became one
    live = (ix.a_start[ac[rows]] <= at) & (at < ix.a_end[ac[rows]]) & ix.act_wearer[ac[rows]]
    live &= ix.known[oc] & (ix.o_start[oc] <= at) & (at < ix.o_end[oc])
    late_after = eng.defaults["late"]["late_after_s"]
    for r in rows[live].tolist():
        act_i = eng.activations[int(a[r])]
        order_spec = eng.orders[act_i.order_ref]
        last, lim = float(base[r]), float(limit[r])
        evidence = [[act_i.device_id, int(prev_seq[r])]] if prev[r] >= last and prev_seq[r] >= 0 else []
        draft = health.no_comms_draft(
            last, lim, float(rx[r]) - last, evidence, order_spec.thresholds["comms"]
        )
        eng.emit(
            draft,
            order_spec,
            act_i,
            act_i.device_id,
            condition_id="device_health",
            late=eng.received_at - (last + lim) > late_after,
            key=f"nc:{act_i.device_id}",
        )
        # found by the receipt that ends it: the silence is over, and the episode closes at once
        _comms_back(eng, int(gs[r]), float(rx[r]), last)


def _comms_back(eng: Engine, code: int, rx: float, last: float) -> None:
    """A device heard from again: its open no-comms episode closes at this receipt, with the hours it was
    unmonitored (from its last receipt before the silence)."""
    eng.reg.d["nc_open"][code] = 0
    dev = eng.reg.dev_ids[code]
    key = f"nc:{dev}"
    for eid in episodes.keyed(eng, key):
        ep = eng.episodes[eid]
        since = last if last > 0 else (ts(ep["start"]) or rx)
        episodes.close(eng, eid, rx, "contact_again", at=max(eng.watermark, rx),
                       measure={"hours_unmonitored": max(rx - since, 0.0) / 3600})  # fmt: skip


def last_seen(eng: Engine, cols: Columns, g: np.ndarray) -> None:
    """Per device, the newest receipt and its sequence (the last such row in the batch on a tie)."""
    k = len(cols.devices)
    top = np.full(k, -np.inf)
    np.maximum.at(top, cols.dev, cols.rx)
    cand = np.flatnonzero(cols.rx == top[cols.dev])
    row = np.full(k, -1, dtype=np.int64)
    np.maximum.at(row, cols.dev[cand], cand)
    last = row[row >= 0]
    newer = cols.rx[last] >= eng.reg.d["rx"][g[last]]
    last = last[newer]
    eng.reg.d["rx"][g[last]] = cols.rx[last]
    eng.reg.d["rx_seq"][g[last]] = cols.seq[last]
