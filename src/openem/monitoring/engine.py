"""The monitoring engine: per-wearer state, event-time processing, watermarks, snapshot/restore.

`Engine.process(batch)` resolves every message to the activation live at its event time (or flags it
`no_activation`), orders each wearer's messages by event time, runs the vectorised GPS path
(`gps_path.py`) and the per-message rules for the sparse types, then advances the watermark (the latest
receive time seen: processing time, so replay and live agree) to run the time-driven rules (`timed.py`).
Alert ids are deterministic, and the engine remembers those it raised, so replaying a batch after a
restore raises nothing twice.
"""

from __future__ import annotations

import copy
import heapq
from typing import Any

import numpy as np

from openem.monitoring import battery_path, gps_path, timed
from openem.monitoring.columns import Columns, Lazy, to_columns
from openem.monitoring.index import Index
from openem.monitoring.model import (
    FAR_FUTURE,
    Activation,
    OrderSpec,
    default_thresholds,
    make_alert,
    parse_order,
    to_iso,
)
from openem.monitoring.registry import Registry
from openem.monitoring.rules import alcohol, curfew, health, presence

SNAPSHOT_VERSION = 1
TICK_S = 30.0
GAP_WINDOW = 2000  # sequence numbers remembered as "not yet received" below a device's newest


class Engine:
    def __init__(self, thresholds: dict[str, Any] | None = None) -> None:
        self.defaults = thresholds or default_thresholds()
        self.orders: dict[str, OrderSpec] = {}
        self.activations: list[Activation] = []
        self.watermark = 0.0
        self.received_at = 0.0  # newest receive (processing) time seen: when alerts are detected
        self.event_high = 0.0  # newest event time seen (capped at its receive time)
        self.started = 0.0  # the first watermark: silence before the engine was watching is not evidence
        self.unmonitored_hour = -1
        self.horizon: float | None = (
            None  # replay: the end of the recorded world; silence after it is no evidence
        )
        self.last_tick = 0.0
        self.raised: set[str] = set()
        self.reg = Registry()  # dense per-device / per-order arrays for the hot path
        self.cf_heap: list[tuple[float, str]] = []  # (next curfew window end, order ref)
        self.cf_touched: set[str] = set()
        self.devices: dict[str, dict[str, Any]] = {}  # per-device rule state of the sparse rules (JSON-safe)
        self.order_state: dict[str, dict[str, Any]] = {}  # per-order rule state (JSON-safe)
        self.flags: list[tuple[str, int, str]] = []  # (device_id, seq, flag) of the last batch
        self._index: Any = None
        self._act_pos: dict[str, int] = {}
        self.att_due: np.ndarray | None = None  # per order code: next moment an appointment can be judged
        self._dev_list: list[str] | None = None
        self._single_for: Index | None = None
        self._single = np.zeros(0, dtype=np.int64)
        self._dev_codes = np.zeros(0, dtype=np.int64)
        self._alc_for: Index | None = None
        self._alc: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        self.zone_hot: dict[str, set[str]] = {"exclusion": set(), "inclusion": set()}  # episodes in progress
        self._new: list[dict[str, Any]] = []

    # ---- orders and activations (live changes) ------------------------------------------------------
    def apply_order(self, doc: dict[str, Any]) -> None:
        spec = parse_order(doc, self.defaults)
        self.orders[spec.ref] = spec
        self.reg.order(spec.ref)
        st = self.ostate(spec.ref)
        st.pop("cf_due", None)  # the timetable may have changed: recompute the next window to close
        if spec.curfew:
            self.cf_touched.add(spec.ref)
        self._index = None

    def end_order(self, ref: str, at: float | None = None) -> None:
        spec = self.orders.get(ref)
        if spec is not None:
            spec.end = min(spec.end, self.watermark if at is None else at)
            spec.doc = {**spec.doc, "_ended_at": spec.end}
            self._index = None

    def apply_activation(self, act: dict[str, Any] | Activation) -> None:
        a = act if isinstance(act, Activation) else Activation.from_dict(act)
        self.reg.device(a.device_id)
        self.reg.order(a.order_ref)
        pos = self._act_pos.get(a.activation_id)
        if pos is None:
            self._act_pos[a.activation_id] = len(self.activations)
            self.activations.append(a)
        else:
            self.activations[pos] = a
        self._index = None

    def end_activation(self, activation_id: str, at: float) -> None:
        self.activations = [
            Activation(**{**x.__dict__, "end": at}) if x.activation_id == activation_id else x
            for x in self.activations
        ]
        self._index = None

    def ostate(self, ref: str) -> dict[str, Any]:
        return self.order_state.setdefault(ref, {})

    def dstate(self, device_id: str) -> dict[str, Any]:
        return self.devices.setdefault(device_id, {})

    def index(self) -> Index:
        if self._index is None:
            self._index = Index.build(self.orders, self.activations, self.defaults, self.reg)
            self.att_due = None
        return self._index

    # ---- processing ----------------------------------------------------------------------------------
    def process(self, batch: Any) -> list[dict[str, Any]]:
        """Process a batch (columnar table, wire messages or wire dicts); return the alerts newly raised."""
        cols = batch if isinstance(batch, Columns) else to_columns(batch)
        self._new, self.flags = [], []
        if cols.n:
            # The watermark follows processing time, but never runs more than the allowed lateness ahead of
            # the newest event seen: a backlog (a gateway catching up, a fleet replayed) is then judged as it
            # flows, instead of every window closing before its evidence has arrived.
            rx_high = float(np.nanmax(cols.rx))
            t_high = float(np.nanmax(cols.t)) if np.isfinite(cols.t).any() else rx_high
            self.received_at = max(self.received_at, rx_high)
            self.event_high = max(self.event_high, min(t_high, rx_high))
            lateness = float(self.defaults.get("late", {}).get("watermark_lateness_s", 300))
            self.watermark = max(self.watermark, min(rx_high, self.event_high + lateness))
            self.started = self.started or float(np.nanmin(cols.rx))  # watching from the first receipt
            self._process(cols)
        self._tick(force=False)
        out, self._new = self._new, []
        return out

    def advance_watermark(self, t: float) -> list[dict[str, Any]]:
        """Move processing time forward without data and run the time-driven rules."""
        self._new = []
        self.watermark = max(self.watermark, t)
        self.started = self.started or t
        self._tick(force=True)
        out, self._new = self._new, []
        return out

    def _process(self, cols: Columns) -> None:
        ix = self.index()
        g = self._codes(cols.devices)[cols.dev]
        act = self._resolve(ix, g, cols.t)
        for r in np.flatnonzero(act < 0):
            self.flags.append((cols.devices[cols.dev[r]], int(cols.seq[r]), "no_activation"))
        by_seq = _by_group_int(g, cols.seq)  # one sort serves the duplicate check, silences and event order
        fresh = self._first_sight(cols, g, by_seq)
        for r in np.flatnonzero(~fresh):
            self.flags.append((cols.devices[cols.dev[r]], int(cols.seq[r]), "duplicate"))
        self._silences(ix, cols, g, act, by_seq)
        self._last_seen(cols, g)
        keep = self._event_order(by_seq, (act >= 0) & fresh, g, cols)
        if len(keep) == 0:
            return
        # Each message type's rows go to their path straight from the batch: one selection per path, not a
        # copy of the whole batch in event order first.
        typ = cols.type[keep]
        gps = keep[typ == 0]
        with np.errstate(invalid="ignore"):
            bad = ~(np.isfinite(cols.f["lat"][gps]) & np.isfinite(cols.f["lon"][gps]))  # columnar input is not re-validated
        for r in gps[bad].tolist():
            self.flags.append((cols.devices[cols.dev[r]], int(cols.seq[r]), "invalid_position"))
        gps = gps[~bad]
        if len(gps):
            gps_path.run(self, cols.take(gps), act[gps], g[gps])
        batt = keep[typ == 3]
        if len(batt):
            battery_path.run(self, cols.take(batt), act[batt], g[batt])
        sparse = keep[(typ > 0) & (typ < 8) & (typ != 3)]
        if len(sparse):
            self._sparse(cols.take(sparse), act[sparse], g[sparse])

    @staticmethod
    def _event_order(by_seq: np.ndarray, mask: np.ndarray, g: np.ndarray, cols: Columns) -> np.ndarray:
        """The rows to process, grouped by device, each in event-time order (then sequence), so each
        activation's rows are contiguous too (a device's activations follow one another in time). Sorted by
        device and sequence they usually are already, as a device's clock and sequence rise together; only
        the runs where the clock stepped back are sorted again."""
        return _sorted_within(by_seq[mask[by_seq]], g, cols.t)

    def _resolve(self, ix: Index, g: np.ndarray, t: np.ndarray) -> np.ndarray:
        """`ix.resolve`, with a direct lookup for devices that have had one activation (nearly all): a
        binary search per row only for reused devices."""
        if not len(ix.keys) or not len(g):
            return ix.resolve(g, t)
        if self._single_for is not ix or int(g.max()) >= len(self._single):  # new index, or new devices
            n = max(len(self.reg.dev_ids), int(ix.act_g.max()) + 1, int(g.max()) + 1)
            count = np.bincount(ix.act_g, minlength=n)
            single = np.full(n, -1, dtype=np.int64)
            one = np.flatnonzero(count == 1)
            pos = np.searchsorted(ix.act_g, one)  # act_g is sorted
            single[one] = pos
            self._single, self._single_for = single, ix
        pos = self._single[g]
        multi = pos < 0
        pc = np.clip(pos, 0, None)
        with np.errstate(invalid="ignore"):
            ok = ~multi & (t >= ix.act_start[pc]) & (t < ix.act_end[pc])
        act = np.where(ok, ix.act_perm[pc], -1)
        if multi.any():
            rows = np.flatnonzero(multi)
            act[rows] = ix.resolve(g[rows], t[rows])
        return act

    def _codes(self, devices: list[str]) -> np.ndarray:
        """Registry codes of a batch's device list; replay's batches share one list, converted once."""
        if devices is not self._dev_list:
            self._dev_list, self._dev_codes = devices, self.reg.devices(devices)
        return self._dev_codes

    def _first_sight(self, cols: Columns, g: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
        """False for a (device, seq) already processed: duplicates and replays change nothing.

        Per device the registry keeps the highest and lowest sequence seen; the gaps between them (data a
        device stored and will forward later) live in the device's state, at most GAP_WINDOW below each
        new sequence. Rows above the highest are new (numpy); Python runs only for devices with rows at or
        below their highest (late data, replays) or with new gaps, and only over those rows."""
        new = np.ones(cols.n, dtype=bool)
        order = _by_group_int(g, cols.seq) if order is None else order
        d, s = g[order], cols.seq[order]
        head = np.r_[True, d[1:] != d[:-1]]
        same = ~head & np.r_[False, s[1:] == s[:-1]]
        new[order[same]] = False
        starts = np.flatnonzero(head)
        grp = np.cumsum(head) - 1
        seq_max, seq_min = self.reg.d["seq_max"], self.reg.d["seq_min"]
        top0 = seq_max[d[starts]].copy()  # per group: the highest sequence before this batch (-1: none)
        fresh = top0 < 0
        seq_min[d[starts[fresh]]] = s[starts[fresh]]  # a device's first batch: its lowest sequence so far
        late = ~same & (s <= top0[grp])
        ab = np.flatnonzero(~same & (s > top0[grp]))
        ab_grp = grp[ab]
        prev = np.r_[-1, s[ab][:-1]]
        first_ab = np.r_[True, ab_grp[1:] != ab_grp[:-1]] if len(ab) else np.zeros(0, dtype=bool)
        prev[first_ab] = top0[ab_grp[first_ab]]
        gap = (prev >= 0) & (s[ab] - prev > 1)
        ends = np.r_[starts[1:], len(d)] - 1
        seq_max[d[starts]] = np.maximum(top0, s[ends])
        slow = np.union1d(grp[late], ab_grp[gap])
        if not len(slow):
            return new
        late_rows = np.flatnonzero(late)
        gap_rows, gap_prev = ab[gap], prev[gap]
        for k in slow.tolist():
            dev = int(d[starts[k]])
            st = self.dstate(self.reg.dev_ids[dev])
            gaps = set(st.get("seq_gaps", []))
            smin = int(seq_min[dev])
            for j in late_rows[grp[late_rows] == k].tolist():
                q = int(s[j])
                if q < smin:  # older than anything seen: new, and what lies between may still arrive
                    gaps.update(range(max(q + 1, smin - GAP_WINDOW), smin))
                    smin = q
                elif q in gaps:
                    gaps.discard(q)
                else:
                    new[order[j]] = False
            sel = grp[gap_rows] == k
            for lo, q in zip(gap_prev[sel].tolist(), s[gap_rows[sel]].tolist(), strict=True):
                gaps.update(range(max(lo + 1, q - GAP_WINDOW), q))
            seq_min[dev] = smin
            st["seq_gaps"] = sorted(gaps)[-GAP_WINDOW:]
        return new

    def _silences(self, ix: Index, cols: Columns, g: np.ndarray, act: np.ndarray, by_seq: np.ndarray) -> None:
        """No communication proven by the data itself: a device's receipt that follows its previous one (or
        the start of watching it) by more than its limit. The time-driven scan raises a silence while it lasts;
        this finds the ones that began and ended between two scans (a large replay batch, a backlog after a
        restart), with the same alert id, so each silence is raised once whichever finds it first."""
        if not len(ix.a_g):
            return
        if not np.isfinite(cols.rx).all():
            return
        order = _sorted_within(by_seq, g, cols.rx)  # by receipt: stored data is forwarded out of order
        gs, rx = g[order], cols.rx[order]
        first = np.r_[True, gs[1:] != gs[:-1]]
        prev = np.r_[np.nan, rx[:-1]]
        prev[first] = self.reg.d["rx"][gs[first]]  # -1: never heard
        # Only a device's first receipt in the batch, or one after a gap longer than the shortest limit, can
        # end a silence: the rest of the work is on those few rows.
        shortest = np.nanmin(ix.a_limit) if np.isfinite(ix.a_limit).any() else np.inf
        cand = np.flatnonzero(first | (rx - prev > shortest))
        seqs = cols.seq[order]
        prev_seq = np.where(first[cand], self.reg.d["rx_seq"][gs[cand]], seqs[np.maximum(cand - 1, 0)])
        a = act[order[cand]]
        ac = np.clip(a, 0, None)
        base = np.maximum(np.maximum(prev[cand], ix.a_start[ac]), self.started)
        limit = ix.a_limit[ac]
        rx, prev = rx[cand], prev[cand]
        with np.errstate(invalid="ignore"):
            due = (a >= 0) & (rx - base > limit)
        rows = np.flatnonzero(due)
        if not len(rows):
            return
        oc = ix.act_order[ac[rows]]
        at = base[rows] + limit[rows]  # the moment the silence became one
        live = (ix.a_start[ac[rows]] <= at) & (at < ix.a_end[ac[rows]]) & ix.act_wearer[ac[rows]]
        live &= ix.known[oc] & (ix.o_start[oc] <= at) & (at < ix.o_end[oc])
        late_after = self.defaults["late"]["late_after_s"]
        for r in rows[live].tolist():
            act_i = self.activations[int(a[r])]
            order_spec = self.orders[act_i.order_ref]
            last, lim = float(base[r]), float(limit[r])
            interval = lim / max(order_spec.thresholds["comms"]["missed_intervals"], 1.0)
            evidence = [[act_i.device_id, int(prev_seq[r])]] if prev[r] >= last and prev_seq[r] >= 0 else []
            self.emit({"kind": "no_comms", "start": last + min(interval, lim), "evidence": evidence,
                       "details": {"silent_s": round(float(rx[r]) - last), "limit_s": lim}},
                      order_spec, act_i, act_i.device_id, condition_id="device_health",
                      late=self.received_at - (last + lim) > late_after)  # fmt: skip

    def _last_seen(self, cols: Columns, g: np.ndarray) -> None:
        """Per device, the newest receipt and its sequence (the last such row in the batch on a tie)."""
        k = len(cols.devices)
        top = np.full(k, -np.inf)
        np.maximum.at(top, cols.dev, cols.rx)
        cand = np.flatnonzero(cols.rx == top[cols.dev])
        row = np.full(k, -1, dtype=np.int64)
        np.maximum.at(row, cols.dev[cand], cand)
        last = row[row >= 0]
        newer = cols.rx[last] >= self.reg.d["rx"][g[last]]
        last = last[newer]
        self.reg.d["rx"][g[last]] = cols.rx[last]
        self.reg.d["rx_seq"][g[last]] = cols.seq[last]

    def _sparse(self, cols: Columns, act: np.ndarray, g: np.ndarray) -> None:
        """The per-message rules for the sparse types (rf, alcohol, tamper, checkin, hmu), in event time.

        RF presence and alcohol readings go a device at a time (`_rf`, `_alcohol`): only the readings that
        change something reach Python. The rest are few; their columns are turned into plain lists once
        (indexing numpy arrays one element at a time cost more than the rules)."""
        kinds_a = cols.type
        if (kinds_a == 1).any():
            self._rf(cols, act, kinds_a == 1)
        if (kinds_a == 2).any():
            self._alcohol(cols, act, g, kinds_a == 2)
        rest = np.flatnonzero((kinds_a != 1) & (kinds_a != 2))
        if not len(rest):
            return
        cols, act = cols.take(rest), act[rest]
        devs = [cols.devices[i] for i in cols.dev.tolist()]
        ts, rxs, seqs, kinds = cols.t.tolist(), cols.rx.tolist(), cols.seq.tolist(), cols.type.tolist()
        acts = act.tolist()
        # String columns are read one value at a time: converting a whole column of Python strings for the
        # few tamper and check-in rows cost more than everything else here.
        text = cols.s.item if isinstance(cols.s, Lazy) else (lambda key, r: cols.s[key][r])
        mains = cols.b["mains"].tolist() if 6 in kinds else []
        moved = cols.b["moved"].tolist() if 7 in kinds else []
        late_after = self.defaults["late"]["late_after_s"]
        for r, kind in enumerate(kinds):
            a = self.activations[acts[r]]
            dev, t = devs[r], ts[r]
            msg = (dev, seqs[r])
            order = self.orders.get(a.order_ref)
            st = self.dstate(dev)
            drafts: list[dict[str, Any]] = []
            if kind == 4:
                drafts = health.tamper(st, t, str(text("tamper_kind", r)), str(text("tamper_state", r)), msg)
            elif kind == 5:
                drafts = presence.checkin(st, t, str(text("result", r)), msg, rxs[r])
            elif kind == 6:
                drafts = health.hmu(st, t, "hmu_power", bool(mains[r]), msg)
            elif kind == 7:
                drafts = health.hmu(st, t, "hmu_moved", bool(moved[r]), msg)
            late = rxs[r] - t > late_after
            for d in drafts:
                self.emit(
                    d, order, a, dev, condition_id=d.pop("condition_id", kind_condition(d["kind"])), late=late
                )

    def _rf(self, cols: Columns, act: np.ndarray, mask: np.ndarray) -> None:
        """Home-unit presence into the curfew timeline. Every reading is kept (they come on change and as an
        occasional heartbeat, a few a day): keeping only changes lost the truth when a late reading landed
        before one that had been dropped as a repeat."""
        rows = np.flatnonzero(mask)
        here, ts, acts = cols.b["present"][rows].tolist(), cols.t[rows].tolist(), act[rows].tolist()
        devs, seqs = cols.dev[rows].tolist(), cols.seq[rows].tolist()
        obs_of: dict[int, list[list[Any]] | None] = {}
        touched: dict[str, float] = {}
        for k, a_i in enumerate(acts):
            obs = obs_of.get(a_i, False)
            if obs is False:
                order = self.orders.get(self.activations[a_i].order_ref)
                obs = obs_of[a_i] = self.ostate(order.ref).setdefault("cf_obs", []) if order and order.curfew else None
            if obs is None:
                continue
            curfew.add_observation(obs, ts[k], bool(here[k]), cols.devices[devs[k]], seqs[k])
            ref = self.activations[a_i].order_ref
            touched[ref] = min(touched.get(ref, ts[k]), ts[k])
        for ref, t in touched.items():
            self.curfew_touched(ref, t)

    def _alcohol(self, cols: Columns, act: np.ndarray, g: np.ndarray, mask: np.ndarray) -> None:
        """Alcohol readings through the curve rule. Most readings are quiet (on the skin, well under the
        threshold): a device's run of them changes nothing but its last reading, which is kept in the registry
        (`alc_qt`, `alc_qtac`) without Python, and folded into the curve state when the device next has a
        reading that matters (`alcohol_state`). Only those go reading by reading through `alcohol.step`."""
        rows = np.flatnonzero(mask)
        lo, hi, thr, skin = self._alcohol_conditions()
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
        d = self.reg.d
        quiet_end = ends[~busy] - 1
        dq = g[rows[quiet_end]]
        d["alc_qt"][dq], d["alc_qtac"][dq] = t[quiet_end], tac[quiet_end]
        late_after = self.defaults["late"]["late_after_s"]
        for s0, e0 in zip(starts[busy].tolist(), ends[busy].tolist(), strict=True):
            a = self.activations[int(a_i[s0])]
            order = self.orders[a.order_ref]
            alc = self.alcohol_state(a.device_id)
            cond, th = order.alcohol or {}, order.thresholds["alcohol"]  # busy rows are in an alcohol condition
            for q in range(s0, e0):
                r = int(rows[q])
                msg = (cols.devices[cols.dev[r]], int(cols.seq[r]))
                for dr in alcohol.step(alc, float(t[q]), float(tac[q]), float(ir[q]), msg, th, cond["mode"],
                                       cond.get("limit_gdl")):  # fmt: skip
                    self.emit(dr, order, a, msg[0], condition_id=dr.pop("condition_id", kind_condition(dr["kind"])),
                              late=float(cols.rx[r]) - float(t[q]) > late_after)  # fmt: skip

    def alcohol_state(self, device_id: str) -> dict[str, Any]:
        """A device's alcohol curve state, with its last run of quiet readings folded in."""
        alc: dict[str, Any] = self.dstate(device_id).setdefault("alc", alcohol.new_state())
        code, d = self.reg.device(device_id), self.reg.d
        if not np.isnan(d["alc_qt"][code]):
            alcohol.skip_quiet(alc, float(d["alc_qt"][code]), float(d["alc_qtac"][code]))
            d["alc_qt"][code] = d["alc_qtac"][code] = np.nan
        return alc

    def _alcohol_conditions(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per activation: the alcohol condition's start and end (an empty span where there is none), the
        drinking threshold and the skin-contact limit. Built once per index."""
        ix = self.index()
        if self._alc_for is not ix:
            k = len(self.activations)
            lo, hi, thr, skin = np.full(k, np.inf), np.full(k, -np.inf), np.full(k, np.nan), np.full(k, np.nan)
            for j, a in enumerate(self.activations):
                order = self.orders.get(a.order_ref)
                if order and order.alcohol:
                    th, cond = order.thresholds["alcohol"], order.alcohol
                    lo[j], hi[j] = cond["start"], cond["end"]
                    thr[j] = alcohol.drinking_threshold(th, cond["mode"], cond.get("limit_gdl"))
                    skin[j] = th["skin_ir_below"]
            self._alc_for, self._alc = ix, (lo, hi, thr, skin)
        assert self._alc is not None
        return self._alc

    def curfew_touched(self, ref: str, t: float) -> None:
        st = self.ostate(ref)
        st["cf_touch"] = min(st.get("cf_touch", t), t)
        self.cf_touched.add(ref)

    def curfew_due(self, ref: str, due: float) -> None:
        heapq.heappush(self.cf_heap, (due, ref))

    def emit(self, draft: dict[str, Any], order: OrderSpec | None, a: Activation | None, device_id: str, *,
             condition_id: str, late: bool = False) -> None:  # fmt: skip
        alert = make_alert(draft["kind"], order=order, device_id=device_id, condition_id=condition_id,
                           start=draft["start"], end=draft.get("end"), evidence=draft.get("evidence", []),
                           details=draft.get("details"), person_id=a.person_id if a else "")  # fmt: skip
        if alert["id"] in self.raised:
            return
        self.raised.add(alert["id"])
        alert["detected_at"] = to_iso(max(self.watermark, self.received_at, draft["start"]))
        alert["late_detected"] = bool(late)
        self._new.append(alert)

    def now(self) -> float:
        """The time the time-driven rules judge at: the watermark, capped at a replay's horizon."""
        return self.watermark if self.horizon is None else min(self.watermark, self.horizon)

    def _tick(self, force: bool) -> None:
        timed.curfews(self)
        if force or self.watermark - self.last_tick >= TICK_S:
            self.last_tick = self.watermark
            timed.run(self)

    # ---- checkpoints ---------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """A JSON-safe checkpoint: orders, activations, rule state, watermark and the ids already raised."""
        return {
            "version": SNAPSHOT_VERSION,
            "watermark": self.watermark,
            "received_at": self.received_at,
            "event_high": self.event_high,
            "last_tick": self.last_tick,
            "started": self.started,
            "horizon": self.horizon,
            "unmonitored_hour": self.unmonitored_hour,
            "thresholds": self.defaults,
            "orders": [copy.deepcopy(o.doc) for o in self.orders.values()],
            "ended": {ref: o.end for ref, o in self.orders.items() if "_ended_at" in o.doc},
            "activations": [
                {**a.to_dict(), "start": a.start, "end": None if a.end >= FAR_FUTURE else a.end}
                for a in self.activations
            ],  # fmt: skip
            "devices": copy.deepcopy(self.devices),
            "registry": self.reg.to_json(),
            "cf_touched": sorted(self.cf_touched),
            "order_state": copy.deepcopy(self.order_state),
            "raised": sorted(self.raised),
        }

    @classmethod
    def restore(cls, state: dict[str, Any]) -> Engine:
        if state.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"unsupported snapshot version {state.get('version')!r}")
        eng = cls(state.get("thresholds"))
        for doc in state["orders"]:
            eng.orders[doc["ref"]] = parse_order(doc, eng.defaults)
        for ref, end in state.get("ended", {}).items():
            eng.orders[ref].end = end
        for a in state["activations"]:
            eng.apply_activation(a)
        eng.watermark, eng.last_tick = float(state["watermark"]), float(state["last_tick"])
        eng.received_at = float(state.get("received_at", eng.watermark))
        eng.event_high = float(state.get("event_high", eng.watermark))
        eng.started = float(state.get("started", 0.0))
        eng.horizon = state.get("horizon")
        eng.unmonitored_hour = int(state.get("unmonitored_hour", -1))
        eng.devices = copy.deepcopy(state["devices"])
        eng.reg = Registry.from_json(state["registry"])
        eng.cf_touched = set(state["cf_touched"])
        for ref, st in state["order_state"].items():
            if "cf_due" in st:
                eng.curfew_due(ref, st["cf_due"])
        eng.order_state = copy.deepcopy(state["order_state"])
        if "p_level" not in state["registry"]["o"]:  # a checkpoint from before proximity moved to the registry
            for ref, st in eng.order_state.items():
                if "prox" in st:
                    gps_path.save_prox_state(eng, eng.reg.order(ref), st["prox"])
        for kind, hot in eng.zone_hot.items():
            hot.update(ref for ref, st in eng.order_state.items() if st.get(kind))
        eng.raised = set(state["raised"])
        return eng


_GROUP_SHIFT = 42  # group code in the high bits of a sort key, microseconds (or sequence) in the low 42


def _argsort_ties(key: np.ndarray, tiebreak: np.ndarray | None = None) -> np.ndarray:
    """Rows ordered by int64 `key`, then `tiebreak`, then original position: `np.lexsort((rows, tiebreak,
    key))`, but by numpy's fast unstable sort (4x quicker here), with only the rows whose key ties (a
    duplicated message, a fix and a battery report stamped the same instant) re-sorted by lexsort."""
    order = np.argsort(key)
    ks = key[order]
    tie = ks[1:] == ks[:-1]
    if tie.any():
        pos = np.flatnonzero(np.r_[tie, False] | np.r_[False, tie])  # sorted positions inside a run of ties
        sub = order[pos]
        keys = (sub, key[sub]) if tiebreak is None else (sub, tiebreak[sub], key[sub])
        order[pos] = sub[np.lexsort(keys)]
    return order


def _argsort_stable(key: np.ndarray) -> np.ndarray:
    """A stable argsort of int64 keys (see `_argsort_ties`)."""
    return _argsort_ties(key)


def _sorted_within(order: np.ndarray, group: np.ndarray, v: np.ndarray) -> np.ndarray:
    """`order` (rows grouped by `group`, ascending) re-ordered by `v` within each group, stably: rows of a
    group with equal `v` keep their order. The rows are usually in order already, or out of order only
    locally (a clock stepping back, stored data forwarded between live messages), so only the runs that
    are out of order are sorted: a row starts a new run where everything before it in the group is no
    greater than everything from it on (a prefix maximum against a suffix minimum of one packed key).
    Falls back to a full sort when the values are not finite or span more than the key holds (51 days)."""
    n = len(order)
    if n < 2:
        return order
    gs, vs = group[order], v[order]
    if not np.isfinite(vs).all() or int(gs.max()) >= 2**20:
        return order[np.lexsort((vs, gs))]
    us = np.rint((vs - vs.min()) * 1e6)
    if us.max() >= 2**_GROUP_SHIFT:
        return order[np.lexsort((vs, gs))]
    key = (gs.astype(np.int64) << _GROUP_SHIFT) + us.astype(np.int64)
    if (key[1:] >= key[:-1]).all():
        return order
    pmax = np.maximum.accumulate(key)
    smin = np.minimum.accumulate(key[::-1])[::-1]
    new_run = np.r_[True, pmax[:-1] <= smin[1:]]
    run = np.cumsum(new_run) - 1
    pos = np.flatnonzero(np.bincount(run)[run] > 1)  # rows in runs that need sorting
    out = order.copy()
    out[pos] = order[pos[np.argsort(key[pos], kind="stable")]]  # runs are apart in key: one sort does all
    return out


def _by_group_int(group: np.ndarray, value: np.ndarray) -> np.ndarray:
    """`np.lexsort((value, group))` (stable). Usually one `np.sort` of values packing group, value and row
    number into an int64 (the row number makes every key unique, so the order is the stable one, and sorting
    values is about 3x quicker than argsort); a packed argsort when they do not fit; lexsort otherwise."""
    n = len(group)
    if not n:
        return np.zeros(0, dtype=np.int64)
    if value.min() < 0 or value.max() >= 2**_GROUP_SHIFT or group.max() >= 2**20:
        return np.lexsort((value, group))
    g0, v0 = int(group.min()), int(value.min())
    span_v = int(value.max()) - v0 + 1
    row_bits = n.bit_length()
    if (int(group.max()) - g0 + 1) * span_v < 2 ** (62 - row_bits):
        dense = (group.astype(np.int64) - g0) * span_v + (value - v0)
        packed = np.sort((dense << row_bits) | np.arange(n, dtype=np.int64))
        order: np.ndarray = packed & ((1 << row_bits) - 1)
        return order
    return _argsort_stable((group.astype(np.int64) << _GROUP_SHIFT) + value)


def kind_condition(kind: str) -> str:
    """The condition an alert kind belongs to (device-level kinds use the kind itself)."""
    for prefix in ("curfew", "alcohol", "checkin", "proximity", "attendance", "exclusion", "inclusion"):
        if kind.startswith(prefix):
            return prefix
    return kind
