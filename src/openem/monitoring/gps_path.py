"""The vectorised hot path: activation lookup for every row, and every GPS rule over numpy arrays.

No per-fix Python loop over zones: fixes are projected to BNG in one call, pre-filtered against the
bounding box of their own order's zones in numpy, expanded to (fix, zone) pairs by a CSR index and
classified by shapely 2 in one vectorised call. Python loops run only over the few fixes that matter to a
state machine (near a zone, a presence change at home, an appointment, a victim's device).
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any

import numpy as np

from openem.core.geo import wgs84_to_bng_grid
from openem.monitoring.columns import Columns, Lazy
from openem.monitoring.index import Index
from openem.monitoring.model import Zone, schedule_active
from openem.monitoring.rules import curfew, presence, zones

if TYPE_CHECKING:
    from openem.monitoring.engine import Engine


def _pairs(
    rows: np.ndarray, oc: np.ndarray, ptr: np.ndarray, flat: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Expand rows to (row, zone) pairs for the zones of each row's order."""
    counts = ptr[oc + 1] - ptr[oc]
    rep = np.repeat(rows, counts)
    starts = np.repeat(ptr[oc], counts)
    within = np.arange(len(rep)) - np.repeat(np.cumsum(counts) - counts, counts)
    return rep, flat[starts + within]


def run(eng: Engine, c: Columns, act: np.ndarray, g: np.ndarray) -> None:
    ix = eng.index()
    th = eng.defaults
    d = eng.reg.d
    lon, lat = c.f["lon"], c.f["lat"]
    acc = c.f["accuracy_m"]
    acc = np.where(np.isnan(acc), 50.0, acc)  # no accuracy given: assume a middling GPS fix
    first = np.r_[True, act[1:] != act[:-1]]
    last = np.r_[act[1:] != act[:-1], True]
    fg = g[first]
    prev = np.column_stack([d["fix_t"][fg], d["fix_lon"][fg], d["fix_lat"][fg], d["fix_acc"][fg]])
    # Late (store-and-forward) fixes are older than the newest fix already known: that one is not their
    # predecessor, and measuring speed backwards in time flagged good fixes as impossible jumps.
    with np.errstate(invalid="ignore"):
        prev[prev[:, 0] > c.t[first]] = np.nan
    jump = zones.impossible_jumps(c.t, lon, lat, acc, first, prev, th["zones"]["max_speed_mps"])
    for r in np.flatnonzero(jump):
        eng.flags.append((c.devices[c.dev[r]], int(c.seq[r]), "impossible_speed"))
    ok = ~jump
    rows_ok = np.flatnonzero(ok)
    if len(rows_ok):
        k = rows_ok[np.r_[g[rows_ok][1:] != g[rows_ok][:-1], True]]
        k = k[~(d["fix_t"][g[k]] > c.t[k])]  # keep a newer fix already known (late data arrives older)
        d["fix_t"][g[k]], d["fix_lon"][g[k]], d["fix_lat"][g[k]], d["fix_acc"][g[k]] = c.t[k], lon[k], lat[k], acc[k]
    oc = ix.act_order[act]
    wearer = ix.act_wearer[act] & ix.known[oc]
    late = (c.rx - c.t) > th["late"]["late_after_s"]
    _gps_lost(eng, c, act, g, first, last, th)
    _trail(eng, c, oc, ok & wearer)
    zm = ok & wearer & (acc <= th["zones"]["max_accuracy_m"])
    # Only the fixes some rule measures in metres are projected to BNG (the rest keep NaN): near an
    # exclusion zone of their order (a longitude/latitude box test), of an order with an inclusion zone, a
    # GPS curfew, an appointment due or a victim to keep apart from.
    need, ex_near = _needs_bng(eng, ix, c, act, oc, lon, lat, zm, ok & wearer, ok)
    x, y = np.full(c.n, np.nan), np.full(c.n, np.nan)
    if need.any():
        x[need], y[need] = wgs84_to_bng_grid(lon[need], lat[need])
    _exclusion(eng, c, ix, act, oc, x, y, acc, zm, late, ex_near)
    _inclusion(eng, c, ix, act, oc, x, y, acc, zm, late)
    _home(eng, c, ix, oc, x, y, acc, ok & wearer)
    _attendance(eng, c, ix, oc, x, y, acc, ok & wearer)
    _proximity(eng, c, ix, act, g, oc, x, y, acc, ok, late)


def exclusion_candidates(ix: Index, oc: np.ndarray, lon: np.ndarray, lat: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Rows (of `m`) whose fix lies in the longitude/latitude box of their own order's exclusion zones."""
    with np.errstate(invalid="ignore"):
        return m & (lon >= ix.ex_lon0[oc]) & (lon <= ix.ex_lon1[oc]) & (lat >= ix.ex_lat0[oc]) & (lat <= ix.ex_lat1[oc])


def _needs_bng(eng: Engine, ix: Index, c: Columns, act: np.ndarray, oc: np.ndarray, lon: np.ndarray,
               lat: np.ndarray, zm: np.ndarray, mw: np.ndarray, m: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Rows to project, and the rows near an exclusion zone of their order by the longitude/latitude box."""
    need, near = np.zeros(c.n, dtype=bool), np.zeros(c.n, dtype=bool)
    if ix.ex_zones:
        near = exclusion_candidates(ix, oc, lon, lat, zm)
        orders = np.union1d(oc[near], _hot_codes(eng, ix, "exclusion"))  # an episode needs all their fixes
        if len(orders):
            need |= zm & np.isin(oc, orders)
    if ix.in_zones:
        need |= zm & ix.has_in[oc]
    need |= mw & eng.curfew_places(ix).gps_any[oc]  # GPS curfew presence at one of the order's addresses
    if ix.has_att.any():
        with np.errstate(invalid="ignore"):
            need |= mw & ix.has_att[oc] & (c.t >= ix.att_lo[oc]) & (c.t <= ix.att_hi[oc])
    if ix.has_prox.any():
        need |= m & ((ix.act_wearer[act] & ix.has_prox[oc]) | ~ix.act_wearer[act])
    return need, near


def _gps_lost(eng: Engine, c: Columns, act: np.ndarray, g: np.ndarray, first: np.ndarray, last: np.ndarray,
              th: dict[str, Any]) -> None:  # fmt: skip
    """GPS lost while moving, vectorised: runs of network (LBS/WiFi) fixes are numbered per device; the run's
    length carries over batches in the registry, and an alert is due where the run reaches `gps_lost_fixes`
    and the fix before the run was a GPS fix at walking speed or more."""
    d = eng.reg.d
    th = th["comms"]
    is_net = ~c.b["source_is_gps"] if isinstance(c.b, Lazy) else c.s["source"] != "GPS"
    walking = float(th["gps_lost_speed_mps"])
    speed = c.f["speed_mps"]
    moving = ~is_net & ((speed >= walking) if walking > 0 else (np.nan_to_num(speed) >= walking))  # NaN: still
    if is_net.any():
        run_start = is_net & (first | np.r_[True, ~is_net[:-1]])
        carry = run_start & first  # the run continues one from the previous batch
        base = np.where(carry, d["lost_n"][g], 0)
        was_moving = np.where(carry, d["moving"][g] > 0, np.r_[False, moving[:-1]])
        run_id = np.cumsum(run_start)
        starts = np.flatnonzero(run_start)
        si = starts[np.maximum(run_id - 1, 0)]  # each row's run start
        pos = np.arange(c.n) - si + 1 + base[si]
        mv = was_moving[si]
        for r in np.flatnonzero(is_net & mv & (pos == th["gps_lost_fixes"])):
            a = eng.activations[int(act[r])]
            dev = c.devices[c.dev[r]]
            eng.emit({"kind": "gps_lost_moving", "start": float(c.t[r]), "evidence": [[dev, int(c.seq[r])]],
                      "details": {"source": str(c.s.item("source", r) if isinstance(c.s, Lazy) else c.s["source"][r])}},
                     eng.orders.get(a.order_ref), a, dev, condition_id="device_health")  # fmt: skip
        end_net = last & is_net
        d["lost_n"][g[end_net]] = pos[end_net]
        d["moving"][g[end_net]] = mv[end_net]
    end_gps = last & ~is_net
    d["moving"][g[end_gps]] = moving[end_gps]
    d["lost_n"][g[end_gps]] = 0


def _trail(eng: Engine, c: Columns, oc: np.ndarray, m: np.ndarray) -> None:
    """Trail monitoring raises nothing; it counts data availability per order."""
    o = eng.reg.o
    rows = np.flatnonzero(m)
    if not len(rows):
        return
    k, t = oc[rows], c.t[rows]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])  # rows come by device: an order's are in runs
    ks = k[starts]
    np.add.at(o["trail_n"], ks, np.diff(np.r_[starts, len(k)]))
    np.fmin.at(o["trail_first"], ks, np.fmin.reduceat(t, starts))
    np.fmax.at(o["trail_last"], ks, np.fmax.reduceat(t, starts))


ZONE_HISTORY_S = 6 * 3600.0  # classified fixes kept per zone to judge late ones in event time
ZONE_HISTORY_MAX = 2000


def _zone_events(eng: Engine, c: Columns, rows: np.ndarray, zidx: np.ndarray, cls: np.ndarray,
                 zone_list: list[tuple[str, Zone]], act: np.ndarray, late: np.ndarray, kind: str,
                 th: dict[str, Any]) -> None:  # fmt: skip
    """Feed classified (fix, zone) pairs, in event time, through the dwell/confirmation machine.

    Each zone keeps its recent classified fixes. A fix older than the newest one fed (stored on the tag and
    forwarded late, perhaps in bursts with live fixes between them) is put in its place, and the episode it
    falls in is judged again from its start: alerts already raised keep their ids, so only what the late data
    changes is new."""
    events = sorted(zip(c.t[rows].tolist(), rows.tolist(), zidx.tolist(), cls.tolist(), strict=True))
    name = {"exclusion": ("exclusion_entry", "exclusion_possible"),
            "inclusion": ("inclusion_exit", "inclusion_possible_exit")}[kind]  # fmt: skip
    for t, r, zi, k in events:
        ref, zone = zone_list[zi]
        order = eng.orders[ref]
        ost = eng.ostate(ref)
        zst = ost.setdefault(kind, {})
        key = zone.zone_id
        active = zone.start <= t < zone.end and order.active(t) and schedule_active(zone.schedule, t)
        dev = c.devices[c.dev[r]]
        entry = [t, k if active else zones.CLEAR, dev, int(c.seq[r])]
        hist = ost.setdefault(f"{kind}_hist", {}).setdefault(key, [])
        if hist and t < hist[-1][0]:
            state, hits = _rejudge(hist, entry, th)
        else:
            hist.append(entry)
            state = zst.get(key) or zones.new_state()
            hits = zones.step(state, t, entry[1], (dev, entry[3]), th["confirmations"], th["dwell_s"])
        for hit in hits:
            a = eng.activations[int(act[r])]
            eng.emit({"kind": name[0] if hit["level"] == "confirmed" else name[1], "start": hit["start"],
                      "evidence": hit["evidence"], "details": {"zone_id": key, "accuracy_m": float(c.f["accuracy_m"][r])}},
                     order, a, dev, condition_id=key, late=bool(late[r]))  # fmt: skip
        if state["n"] == 0 and state["pn"] == 0:
            zst.pop(key, None)
        else:
            zst[key] = state
        _prune_history(hist)
        if zst:
            eng.zone_hot[kind].add(ref)
        else:
            eng.zone_hot[kind].discard(ref)


def _rejudge(hist: list[list[Any]], entry: list[Any], th: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Insert a late fix in event time and run the machine again from the start of the episode it falls in
    (after the last fix outside before it): the state after the newest fix, and the alerts found."""
    pos = bisect.bisect_right(hist, entry[0], key=lambda e: e[0])
    hist.insert(pos, entry)
    start = pos
    while start > 0 and hist[start - 1][1] != zones.CLEAR:
        start -= 1
    state, hits = zones.new_state(), []
    for t, k, dev, seq in hist[start:]:
        hits += zones.step(state, t, k, (dev, seq), th["confirmations"], th["dwell_s"])
    return state, hits


def _prune_history(hist: list[list[Any]]) -> None:
    """Keep ZONE_HISTORY_S of fixes, from a fix outside the zone (an episode's history is kept whole), and
    at most ZONE_HISTORY_MAX."""
    if hist[0][0] >= hist[-1][0] - ZONE_HISTORY_S - 3600 and len(hist) <= ZONE_HISTORY_MAX:
        return  # an hour's slack: pruned about once an hour
    cut = bisect.bisect_left(hist, hist[-1][0] - ZONE_HISTORY_S, key=lambda e: e[0])
    while cut > 0 and hist[cut][1] != zones.CLEAR:
        cut -= 1
    del hist[: max(cut, len(hist) - ZONE_HISTORY_MAX)]


def _hot_codes(eng: Engine, ix: Index, kind: str) -> list[int]:
    """Orders with a zone episode in progress: all their fixes matter (a CLEAR fix ends the episode)."""
    code = eng.reg.order_code
    return [code[ref] for ref in eng.zone_hot[kind] if ref in code]


def _exclusion(eng: Engine, c: Columns, ix: Index, act: np.ndarray, oc: np.ndarray, x: np.ndarray, y: np.ndarray,
               acc: np.ndarray, m: np.ndarray, late: np.ndarray, ex_near: np.ndarray) -> None:  # fmt: skip
    if not ix.ex_zones or not m.any():
        return
    cand = np.flatnonzero(ex_near)  # already within the order's zone box in longitude/latitude
    b = ix.ex_bbox[oc[cand]]
    near = cand[(x[cand] >= b[:, 0]) & (y[cand] >= b[:, 1]) & (x[cand] <= b[:, 2]) & (y[cand] <= b[:, 3])]
    rows, zidx = _pairs(near, oc[near], ix.ex_ptr, ix.ex_flat)
    cls = (
        zones.classify_inside(ix.ex_poly[zidx], x[rows], y[rows], acc[rows])
        if len(rows)
        else np.zeros(0, np.int8)
    )
    busy = np.union1d(oc[rows[cls > 0]], _hot_codes(eng, ix, "exclusion"))
    if not len(busy):
        return
    sel = m & np.isin(oc, busy)
    rows, zidx = _pairs(np.flatnonzero(sel), oc[sel], ix.ex_ptr, ix.ex_flat)
    cls = zones.classify_inside(ix.ex_poly[zidx], x[rows], y[rows], acc[rows])
    _zone_events(eng, c, rows, zidx, cls, ix.ex_zones, act, late, "exclusion", eng.defaults["zones"])


def _inclusion(eng: Engine, c: Columns, ix: Index, act: np.ndarray, oc: np.ndarray, x: np.ndarray, y: np.ndarray,
               acc: np.ndarray, m: np.ndarray, late: np.ndarray) -> None:  # fmt: skip
    if not ix.in_zones or not m.any():
        return
    sel = m & ix.has_in[np.clip(oc, 0, None)]
    rows, zidx = _pairs(np.flatnonzero(sel), oc[sel], ix.in_ptr, ix.in_flat)
    if not len(rows):
        return
    cls = zones.classify_outside(ix.in_poly[zidx], x[rows], y[rows], acc[rows], ix.in_inner[zidx],
                                 float(eng.defaults["zones"]["max_accuracy_m"]))  # fmt: skip
    busy = np.union1d(oc[rows[cls > 0]], _hot_codes(eng, ix, "inclusion"))
    keep = np.isin(oc[rows], busy)
    _zone_events(
        eng,
        c,
        rows[keep],
        zidx[keep],
        cls[keep],
        ix.in_zones,
        act,
        late,
        "inclusion",
        eng.defaults["inclusion"],
    )


def _home(eng: Engine, c: Columns, ix: Index, oc: np.ndarray, x: np.ndarray, y: np.ndarray, acc: np.ndarray,
          m: np.ndarray) -> None:  # fmt: skip
    """GPS presence at each curfew address no home unit covers (one pass per address of the orders with the
    most): record changes only."""
    places = eng.curfew_places(ix)
    th = eng.defaults["curfew"]
    for place in range(places.home.shape[1]):
        rows = np.flatnonzero(m & places.gps[oc, place])
        if not len(rows):
            continue
        h = places.home[oc[rows], place]
        p = np.hypot(x[rows] - h[:, 0], y[rows] - h[:, 1]) <= th["gps_home_radius_m"] + np.minimum(
            acc[rows], th["gps_max_accuracy_m"]
        )
        change = np.ones(len(rows), dtype=bool)
        change[1:] = (p[1:] != p[:-1]) | (oc[rows][1:] != oc[rows][:-1])
        for r, here in zip(rows[change].tolist(), p[change].tolist(), strict=True):
            order = eng.orders[ix.refs[oc[r]]]
            obs = curfew.observations(eng.ostate(order.ref), order.curfew, place)
            t = float(c.t[r])
            if not obs or obs[-1][0] > t or obs[-1][1] != int(here):
                curfew.add_observation(obs, t, bool(here), c.devices[c.dev[r]], int(c.seq[r]))
                eng.curfew_touched(order.ref, t)


def _attendance(eng: Engine, c: Columns, ix: Index, oc: np.ndarray, x: np.ndarray, y: np.ndarray, acc: np.ndarray,
                m: np.ndarray) -> None:  # fmt: skip
    with np.errstate(invalid="ignore"):
        sel_rows = np.flatnonzero(m & ix.has_att[oc] & (c.t >= ix.att_lo[oc]) & (c.t <= ix.att_hi[oc]))
    if not len(sel_rows):
        return
    cuts = np.flatnonzero(np.diff(oc[sel_rows])) + 1
    for rows in np.split(sel_rows, cuts):
        k = int(oc[rows[0]])
        order = eng.orders[ix.refs[k]]
        st = eng.ostate(order.ref)
        done = st.setdefault("attended", {})
        for appt in order.attendance:
            if appt["id"] in done:
                continue
            inwin = (c.t[rows] >= appt["start"]) & (c.t[rows] <= appt["end"])
            share = order.thresholds["attendance"]["max_accuracy_share"]
            slack = np.minimum(acc[rows], share * appt["radius_m"])  # a vague fix cannot prove attendance
            near = np.hypot(x[rows] - appt["x"], y[rows] - appt["y"]) <= appt["radius_m"] + slack
            hit = rows[inwin & near]
            if not len(hit):
                continue
            # Fixes at the appointment add up across batches (live, a batch holds a second or so of data).
            first = [c.devices[c.dev[hit[0]]], int(c.seq[hit[0]])]
            seen = st.setdefault("att_fixes", {}).setdefault(appt["id"], [0, first])
            seen[0] += len(hit)
            if seen[0] >= order.thresholds["attendance"]["min_fixes"]:
                done[appt["id"]] = seen[1]
                del st["att_fixes"][appt["id"]]


def _proximity(eng: Engine, c: Columns, ix: Index, act: np.ndarray, g: np.ndarray, oc: np.ndarray, x: np.ndarray, y: np.ndarray,
               acc: np.ndarray, m: np.ndarray, late: np.ndarray) -> None:  # fmt: skip
    """Victim proximity. Each party's latest position and the level reached live in the registry; an order
    whose two parties stay far apart in the batch only has them updated there (numpy). The rest go fix by
    fix through `presence.proximity`, its state taken from the registry and put back."""
    if not ix.has_prox.any():
        return
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
    near = _near_pairs(eng, ix, rows, pair, wearer_rows, x, y)
    o = eng.reg.o
    far, far_pair = rows[~near], pair[~near]
    side_w = wearer_rows[far]
    key = far_pair * 2 + side_w
    _, last = np.unique(key[::-1], return_index=True)
    last = len(key) - 1 - last  # each party's latest row
    for side, sel in (("w", side_w[last]), ("v", ~side_w[last])):
        r, k = far[last[sel]], far_pair[last[sel]]
        o[f"p{side}_t"][k], o[f"p{side}_x"][k], o[f"p{side}_y"][k], o[f"p{side}_acc"][k] = c.t[r], x[r], y[r], acc[r]
        o[f"p{side}_dev"][k], o[f"p{side}_seq"][k] = g[r], c.seq[r]
    o["p_level"][far_pair] = 0
    near_rows, near_pair = rows[near], pair[near]
    for k in np.unique(near_pair).tolist():
        order = eng.orders.get(ix.refs[k])
        if order is None or not order.proximity:
            continue
        st = _prox_state(eng, k)
        mine = near_rows[near_pair == k]  # both parties' fixes, in event time (rows are grouped by device)
        for r in mine[np.argsort(c.t[mine], kind="stable")].tolist():
            dev = c.devices[c.dev[r]]
            side = "w" if wearer_rows[r] else "v"
            drafts = presence.proximity(st, side, float(c.t[r]), float(x[r]), float(y[r]), float(acc[r]),
                                        (dev, int(c.seq[r])), order.proximity, order.thresholds["proximity"])  # fmt: skip
            for d in drafts:
                eng.emit(d, order, eng.activations[int(act[r])], dev, condition_id="proximity", late=bool(late[r]))
        save_prox_state(eng, k, st)


def _prox_state(eng: Engine, k: int) -> dict[str, Any]:
    """The proximity rule's state for order code k, built from the registry (which alone keeps it)."""
    o, reg = eng.reg.o, eng.reg
    st: dict[str, Any] = {}
    for side in "wv":
        if o[f"p{side}_dev"][k] >= 0:
            st[side] = [float(o[f"p{side}_t"][k]), float(o[f"p{side}_x"][k]), float(o[f"p{side}_y"][k]),
                        float(o[f"p{side}_acc"][k]), reg.dev_ids[int(o[f"p{side}_dev"][k])], int(o[f"p{side}_seq"][k])]  # fmt: skip
    st["level"] = int(o["p_level"][k])
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


def _group_bounds(j: np.ndarray, x: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
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


def _near_pairs(eng: Engine, ix: Index, rows: np.ndarray, pair: np.ndarray, wearer_rows: np.ndarray,
                x: np.ndarray, y: np.ndarray) -> np.ndarray:  # fmt: skip
    """Per row: could the wearer and victim of its order come within the pre-alert ring (bounding boxes of
    this batch's fixes and the last known ones, grown by the ring), or has an alert level been reached? Only
    those rows take the Python path."""
    codes, inv = np.unique(pair, return_inverse=True)
    k, o = len(codes), eng.reg.o
    finite = np.ones(k, dtype=bool)
    box = {}
    for side, mask in (("w", wearer_rows[rows]), ("v", ~wearer_rows[rows])):
        b = _group_bounds(inv[mask], x[rows[mask]], y[rows[mask]], k)
        px, py = o[f"p{side}_x"][codes], o[f"p{side}_y"][codes]  # NaN where not known: fmin/fmax skip it
        b = np.array([np.fmin(b[0], px), np.fmin(b[1], py), np.fmax(b[2], px), np.fmax(b[3], py)])
        finite &= np.isfinite(b).all(axis=0)
        box[side] = b
    w, v = box["w"], box["v"]
    with np.errstate(invalid="ignore"):
        gap_x = np.maximum(np.maximum(v[0] - w[2], w[0] - v[2]), 0.0)
        gap_y = np.maximum(np.maximum(v[1] - w[3], w[1] - v[3]), 0.0)
        close = finite & ((np.hypot(gap_x, gap_y) <= ix.prox_ring[codes]) | (o["p_level"][codes] > 0))
    return close[inv]
