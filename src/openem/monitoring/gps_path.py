"""The vectorised hot path: activation lookup for every row, and every GPS rule over numpy arrays.

No per-fix Python loop over zones: fixes are projected to BNG in one call, pre-filtered against the
bounding box of their own order's zones in numpy, expanded to (fix, zone) pairs by a CSR index and
classified by shapely 2 in one vectorised call. Python loops run only over the few fixes that matter to a
state machine (near a zone, a presence change at home, an appointment, a victim's device).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from openem.core.geo import wgs84_to_bng_grid
from openem.monitoring import episodes, proximity_path
from openem.monitoring.columns import Columns, Lazy
from openem.monitoring.index import Index
from openem.monitoring.model import Zone, schedule_active, ts
from openem.monitoring.rules import attendance, curfew, health, zones

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


@dataclass
class GpsRows:
    """A batch's GPS fixes (grouped by device, each device's in event time) and what the GPS rules read of
    them, as named arrays instead of a dozen positional ones."""

    c: Columns
    act: np.ndarray  # the activation live at each fix (index into the engine's activations)
    g: np.ndarray  # device code
    oc: np.ndarray  # the activation's order code
    acc: np.ndarray  # accuracy in metres (a middling 50 where none was given)
    late: np.ndarray  # received more than `late_after_s` after its event time
    ok: np.ndarray  # passed the speed test
    wearer: np.ndarray  # ok, and a wearer's fix on a known order
    zoned: np.ndarray  # wearer, and accurate enough for the zone rules
    x: np.ndarray  # BNG metres: NaN until projected, and where no rule measures in metres
    y: np.ndarray
    at: np.ndarray  # release instant (resequence.py; event time when off): the order across devices


def run(eng: Engine, c: Columns, act: np.ndarray, g: np.ndarray, at: np.ndarray | None = None) -> None:
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
        k = _newest_ok(c.t, g, rows_ok)
        k = k[~(d["fix_t"][g[k]] > c.t[k])]  # keep a newer fix already known (late data arrives older)
        d["fix_t"][g[k]], d["fix_lon"][g[k]], d["fix_lat"][g[k]], d["fix_acc"][g[k]] = (
            c.t[k],
            lon[k],
            lat[k],
            acc[k],
        )
    oc = ix.act_order[act]
    wearer = ok & ix.act_wearer[act] & ix.known[oc]
    f = GpsRows(c, act, g, oc, acc, late=(c.rx - c.t) > th["late"]["late_after_s"], ok=ok, wearer=wearer,
                zoned=wearer & (acc <= th["zones"]["max_accuracy_m"]), x=np.full(c.n, np.nan), y=np.full(c.n, np.nan),
                at=c.t if at is None else at)  # fmt: skip
    _gps_lost(eng, c, act, g, first, last, th)
    _trail(eng, f)
    # Only the fixes some rule measures in metres are projected to BNG (the rest keep NaN): near an
    # exclusion zone of their order (a longitude/latitude box test), of an order with an inclusion zone, a
    # GPS curfew, an appointment due or a victim to keep apart from.
    need, ex_near = _needs_bng(eng, ix, f, lon, lat)
    if need.any():
        f.x[need], f.y[need] = wgs84_to_bng_grid(lon[need], lat[need])
    _exclusion(eng, ix, f, ex_near)
    _inclusion(eng, ix, f)
    _home(eng, ix, f)
    _attendance(eng, ix, f)
    proximity_path.run(eng, ix, f)


def _newest_ok(t: np.ndarray, g: np.ndarray, rows_ok: np.ndarray) -> np.ndarray:
    """Per device, its newest accepted fix here: its last row, unless late rows followed newer ones (then
    the newest by event time, as when each row arrives in a batch of its own)."""
    head = np.r_[True, g[rows_ok][1:] != g[rows_ok][:-1]]
    k = rows_ok[np.r_[head[1:], True]]
    starts = np.flatnonzero(head)
    newest = np.maximum.reduceat(t[rows_ok], starts)
    for i in np.flatnonzero(t[k] < newest).tolist():  # rare: a device whose rows stepped back in time
        seg = rows_ok[starts[i] : starts[i + 1] if i + 1 < len(starts) else len(rows_ok)]
        k[i] = seg[int(np.argmax(t[seg]))]
    return k


def exclusion_candidates(
    ix: Index, oc: np.ndarray, lon: np.ndarray, lat: np.ndarray, m: np.ndarray
) -> np.ndarray:
    """Rows (of `m`) whose fix lies in the longitude/latitude box of their own order's exclusion zones."""
    with np.errstate(invalid="ignore"):
        near: np.ndarray = (
            m
            & (lon >= ix.ex_lon0[oc])
            & (lon <= ix.ex_lon1[oc])
            & (lat >= ix.ex_lat0[oc])
            & (lat <= ix.ex_lat1[oc])
        )
    return near


def _needs_bng(
    eng: Engine, ix: Index, f: GpsRows, lon: np.ndarray, lat: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rows to project, and the rows near an exclusion zone of their order by the longitude/latitude box."""
    c, act, oc, zm, mw, m = f.c, f.act, f.oc, f.zoned, f.wearer, f.ok
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
    """GPS lost while moving (`rules.health.gps_lost_runs`): the run of network fixes carries over batches
    in the registry (`lost_n`, `moving`)."""
    d = eng.reg.d
    th = th["comms"]
    is_net = ~c.b["source_is_gps"] if isinstance(c.b, Lazy) else c.s["source"] != "GPS"
    moving = health.moving_on_gps(is_net, c.f["speed_mps"], float(th["gps_lost_speed_mps"]))
    if is_net.any():
        with np.errstate(invalid="ignore"):
            still = is_net & (c.f["speed_mps"] < float(th["gps_lost_speed_mps"]))  # NaN: not said
        runs = health.gps_lost_runs(
            is_net, moving, first, d["lost_n"][g], d["moving"][g] > 0, th["gps_lost_fixes"], still
        )
        for r in np.flatnonzero(runs.due):
            a = eng.activations[int(act[r])]
            dev = c.devices[c.dev[r]]
            source = str(c.s.item("source", int(r)) if isinstance(c.s, Lazy) else c.s["source"][r])
            eng.emit(health.gps_lost_draft(float(c.t[r]), (dev, int(c.seq[r])), source),
                     eng.orders.get(a.order_ref), a, dev, condition_id="device_health")  # fmt: skip
        end_net = last & is_net
        d["lost_n"][g[end_net]] = runs.run_len[end_net]
        d["moving"][g[end_net]] = runs.was_moving[end_net]
    end_gps = last & ~is_net
    d["moving"][g[end_gps]] = moving[end_gps]
    d["lost_n"][g[end_gps]] = 0
    np.fmax.at(d["gps_t"], g[~is_net], c.t[~is_net])  # the last fix from GPS itself (motion reports use it)


def motion(eng: Engine, c: Columns, act: np.ndarray, g: np.ndarray) -> None:
    """Motion reports (`motion`: moving / still). They set the device's moving state, so a run of network
    fixes after "moving" is GPS lost as after a GPS fix at walking speed; and "moving" with no fix from GPS
    itself for `gps_lost_after_s` is GPS lost while moving at once (a tag that can say "moving, no GPS fix"),
    one alert per stretch without a GPS fix (its start: the last GPS fix + the limit)."""
    d = eng.reg.d
    after = float(eng.defaults["comms"].get("gps_lost_after_s", 300))
    moving = c.b["moving"]
    steps = c.f["steps"]
    for r in range(len(g)):  # grouped by device, each in event order
        k, t = int(g[r]), float(c.t[r])
        d["moving"][k] = int(bool(moving[r]))
        if not moving[r]:
            continue
        a = eng.activations[int(act[r])]
        since = float(d["gps_t"][k]) if np.isfinite(d["gps_t"][k]) else float(a.start)
        if t - since < after:
            continue
        dev = c.devices[c.dev[r]]
        draft = health.gps_lost_draft(since + after, (dev, int(c.seq[r])), "motion")
        draft["details"]["minutes_without_gps"] = round((t - since) / 60, 1)
        if np.isfinite(steps[r]):
            draft["details"]["steps"] = int(steps[r])
        eng.emit(draft, eng.orders.get(a.order_ref), a, dev, condition_id="device_health")


def _trail(eng: Engine, f: GpsRows) -> None:
    """Trail monitoring raises nothing; it counts data availability per order."""
    o, c, oc = eng.reg.o, f.c, f.oc
    rows = np.flatnonzero(f.wearer)
    if not len(rows):
        return
    k, t = oc[rows], c.t[rows]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])  # rows come by device: an order's are in runs
    ks = k[starts]
    np.add.at(o["trail_n"], ks, np.diff(np.r_[starts, len(k)]))
    np.fmin.at(o["trail_first"], ks, np.fmin.reduceat(t, starts))
    np.fmax.at(o["trail_last"], ks, np.fmax.reduceat(t, starts))


def _zone_events(eng: Engine, f: GpsRows, rows: np.ndarray, zidx: np.ndarray, cls: np.ndarray,
                 zone_list: list[tuple[str, Zone]], kind: str, th: dict[str, Any]) -> None:  # fmt: skip
    """Feed classified (fix, zone) pairs, in event time, through the dwell/confirmation machine.

    Each zone keeps its recent classified fixes. A fix older than the newest one fed (stored on the tag and
    forwarded late, perhaps in bursts with live fixes between them) is put in its place, and the episode it
    falls in is judged again from its start: alerts already raised keep their ids, so only what the late data
    changes is new."""
    c, act, late = f.c, f.act, f.late
    events = sorted(zip(c.t[rows].tolist(), rows.tolist(), zidx.tolist(), cls.tolist(), strict=True))
    kind_at = zones.ALERT_KINDS[kind]
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
        ep_key = f"{kind}:{ref}:{key}"
        before = zst.get(key)
        first = before["first"] if before else None
        if hist and t < hist[-1][0]:
            state, hits = zones.rejudge(hist, entry, th)
        else:
            hist.append(entry)
            state = zst.get(key) or zones.new_state()
            hits = zones.step(state, t, entry[1], (dev, entry[3]), th["confirmations"], th["dwell_s"])
        for hit in hits:
            a = eng.activations[int(act[r])]
            eng.emit({"kind": kind_at[hit["level"]], "start": hit["start"],
                      "evidence": hit["evidence"], "details": {"zone_id": key, "accuracy_m": float(c.f["accuracy_m"][r])}},
                     order, a, dev, condition_id=key, late=bool(late[r]), key=ep_key)  # fmt: skip
            if hit["level"] == "confirmed":  # a possible entry held for review becomes this confirmed one
                _zone_supersede(eng, ep_key, kind_at["possible"], t)
        if ep_key in eng.ep_keys:
            _zone_episode(eng, ep_key, kind, first, t, entry[1], [dev, entry[3]])
        if state["n"] == 0 and state["pn"] == 0:
            zst.pop(key, None)
        else:
            zst[key] = state
        zones.prune_history(hist)
        if zst:
            eng.zone_hot[kind].add(ref)
        else:
            eng.zone_hot[kind].discard(ref)


def _zone_supersede(eng: Engine, ep_key: str, possible_kind: str, t: float) -> None:
    for eid in episodes.keyed(eng, ep_key):
        if eng.episodes[eid]["kind"] == possible_kind:
            episodes.close(eng, eid, t, "superseded", at=eng.watermark)


def _zone_episode(eng: Engine, ep_key: str, kind: str, first: float | None, t: float, cls: int,
                  msg: list[Any]) -> None:  # fmt: skip
    """A zone episode in progress: a clear fix (outside an exclusion zone, back inside an inclusion zone)
    closes it with the minutes the visit lasted; fixes still in it update the minutes every 5 minutes."""
    name = "minutes_inside" if kind == "exclusion" else "minutes_outside"
    for eid in episodes.keyed(eng, ep_key):
        ep = eng.episodes[eid]
        since = ts(ep["start"]) or t
        minutes = max(t - (first if first is not None else since), 0.0) / 60
        if cls == zones.CLEAR:
            possible = ep["confidence"] == "possible"
            episodes.close(eng, eid, t, "not_confirmed" if possible else "ended", at=eng.watermark,
                           measure={name: minutes})  # fmt: skip
        elif minutes - ep["measure"].get(name, 0.0) >= 5.0:
            episodes.update(eng, eid, {name: minutes}, at=eng.watermark)


def _hot_codes(eng: Engine, ix: Index, kind: str) -> list[int]:
    """Orders with a zone episode in progress: all their fixes matter (a CLEAR fix ends the episode)."""
    code = eng.reg.order_code
    return [code[ref] for ref in eng.zone_hot[kind] if ref in code]


def _exclusion(eng: Engine, ix: Index, f: GpsRows, ex_near: np.ndarray) -> None:
    oc, x, y, acc, m = f.oc, f.x, f.y, f.acc, f.zoned
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
    _zone_events(eng, f, rows, zidx, cls, ix.ex_zones, "exclusion", eng.defaults["zones"])


def _inclusion(eng: Engine, ix: Index, f: GpsRows) -> None:
    oc, x, y, acc, m = f.oc, f.x, f.y, f.acc, f.zoned
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
        eng, f, rows[keep], zidx[keep], cls[keep], ix.in_zones, "inclusion", eng.defaults["inclusion"]
    )


def _home(eng: Engine, ix: Index, f: GpsRows) -> None:
    """GPS presence at each curfew address no home unit covers (one pass per address of the orders with the
    most): record changes only."""
    c, oc, x, y, acc, m = f.c, f.oc, f.x, f.y, f.acc, f.wearer
    places = eng.curfew_places(ix)
    th = eng.defaults["curfew"]
    for place in range(places.home.shape[1]):
        rows = np.flatnonzero(m & places.gps[oc, place])
        if not len(rows):
            continue
        h = places.home[oc[rows], place]
        p = curfew.at_home(x[rows], y[rows], h[:, 0], h[:, 1], acc[rows], th)
        change = np.ones(len(rows), dtype=bool)
        change[1:] = (p[1:] != p[:-1]) | (oc[rows][1:] != oc[rows][:-1])
        for r, here in zip(rows[change].tolist(), p[change].tolist(), strict=True):
            order = eng.orders[ix.refs[oc[r]]]
            obs = curfew.observations(eng.ostate(order.ref), order.curfew or {}, place)
            t = float(c.t[r])
            if not obs or obs[-1][0] > t or obs[-1][1] != int(here):
                curfew.add_observation(obs, t, bool(here), c.devices[c.dev[r]], int(c.seq[r]), float(c.rx[r]))
                eng.curfew_touched(order.ref, t)


def _attendance(eng: Engine, ix: Index, f: GpsRows) -> None:
    c, oc, x, y, acc, m = f.c, f.oc, f.x, f.y, f.acc, f.wearer
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
        share = order.thresholds["attendance"]["max_accuracy_share"]
        for appt in order.attendance:
            if appt["id"] in done:
                continue
            hit = rows[attendance.counts(c.t[rows], x[rows], y[rows], acc[rows], appt, share)]
            if len(hit):  # fixes at the appointment add up across batches (live, a batch is a second or so)
                first = [c.devices[c.dev[hit[0]]], int(c.seq[hit[0]])]
                attendance.attend(
                    st, appt["id"], len(hit), first, order.thresholds["attendance"]["min_fixes"]
                )
