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
import hashlib
import heapq
import json
import logging
from typing import Any

import numpy as np

from openem.monitoring import (
    battery_path,
    checkpoint,
    episodes,
    gps_path,
    proximity_path,
    receipts,
    resequence,
    sparse_path,
    timed,
)
from openem.monitoring.columns import Columns, MessageType, to_columns
from openem.monitoring.index import Index
from openem.monitoring.model import (
    FAR_FUTURE,
    Activation,
    OrderSpec,
    alert_id,
    default_thresholds,
    make_alert,
    to_iso,
    ts,
)
from openem.monitoring.order_document import OrderUnusable, parse_order
from openem.monitoring.registry import Registry
from openem.monitoring.rules import curfew
from openem.monitoring.sorting import by_group_int, sorted_within

log = logging.getLogger(__name__)

SNAPSHOT_VERSION = 1
SNAPSHOT_PARTS = ("orders", "ended", "activations", "devices", "registry", "cf_touched", "order_state", "raised",
                  "quarantined", "held", "episodes", "episodes_out", "resequence_held")  # fmt: skip
TICK_S = 30.0
# Alert ids are remembered for a week of processing time after they were raised, so a checkpoint stays
# bounded. That is longer than any rule looks back (zone episodes keep 6 h of fixes, curfews 3 days of
# presence), so whatever can raise an alert again does so inside the week; a repeat after it is still the
# same id, which the alert store ignores (alerts.service.store_alert).
RAISED_KEEP_S = 7 * 86400.0
PRUNE_EVERY_S = 3600.0


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
        self.raised: dict[str, float] = {}  # alert id -> the watermark when it was raised (pruned behind it)
        self.raised_pruned = 0.0  # the watermark at the last prune
        self.reg = Registry()  # dense per-device / per-order arrays for the hot path
        self.cf_heap: list[tuple[float, str]] = []  # (next curfew window end, order ref)
        self.cf_touched: set[str] = set()
        self.devices: dict[str, dict[str, Any]] = {}  # per-device rule state of the sparse rules (JSON-safe)
        self.order_state: dict[str, dict[str, Any]] = {}  # per-order rule state (JSON-safe)
        self.flags: list[tuple[str, int, str]] = []  # (device_id, seq, flag) of the last batch
        self._index: Index | None = None
        self._act_pos: dict[str, int] = {}
        self.att_due: np.ndarray | None = None  # per order code: next moment an appointment can be judged
        self._dev_list: list[str] | None = None
        self._single_for: Index | None = None
        self._single = np.zeros(0, dtype=np.int64)
        self._dev_codes = np.zeros(0, dtype=np.int64)
        self.zone_hot: dict[str, set[str]] = {"exclusion": set(), "inclusion": set()}  # episodes in progress
        self.quarantined: dict[str, dict[str, Any]] = {}  # order ref -> the version it cannot use, and why
        self._new: list[dict[str, Any]] = []
        self._held: list[dict[str, Any]] = []  # alerts raised between batches: the next output carries them
        self._places: curfew.Places | None = None
        self.episodes: dict[str, dict[str, Any]] = {}  # open episodes by id (monitoring/episodes.py)
        self.ep_keys: dict[str, list[str]] = {}  # situation key -> open episode ids
        self.ep_out: list[dict[str, Any]] = []  # episode records not yet taken (take_episodes)
        self._places_for: Index | None = None
        self.held = resequence.Held()  # rows waiting for a missing sequence number (resequence.py)
        self.held_new: set[int] = set()  # device codes with rows held in this batch
        self.track = checkpoint.Tracker()  # what changed since the last checkpoint (checkpoint.py)

    # ---- orders and activations (live changes) ------------------------------------------------------
    def apply_order(self, doc: dict[str, Any]) -> None:
        """Monitor an order version. One the engine cannot use is quarantined, never raised: it is logged, an
        `order_unusable` alert goes out with the next output, the version in force (if any) stays in force
        and the rest of the fleet is monitored as before; a later usable version lifts the quarantine."""
        try:
            spec = parse_order(doc, self.defaults)
            if not spec.ref:  # a draft may have none; no device can be linked to an order without one
                raise OrderUnusable("the order has no reference (ref)")
        except Exception as exc:  # noqa: BLE001 - one bad order must not stop the fleet's monitoring
            self._quarantine(doc, exc)
            return
        self.quarantined.pop(spec.ref, None)
        self.orders[spec.ref] = spec
        self.reg.order(spec.ref)
        st = self.ostate(spec.ref)
        st.pop("cf_due", None)  # the timetable may have changed: recompute the next window to close
        for key in ("cf_next_for", "cf_next_start"):  # ...and the next window (a resumed curfew starts again)
            st.pop(key, None)
        if spec.curfew:
            self.cf_touched.add(spec.ref)
        self._index = None
        self.track.docs = True

    def _quarantine(self, doc: Any, exc: Exception) -> None:
        d = doc if isinstance(doc, dict) else {}
        ref, version = str(d.get("ref") or ""), d.get("version")
        if isinstance(exc, OrderUnusable):
            reason = str(exc)
        else:  # a reader bug, not a bad document: logged with its traceback
            reason = f"the order could not be read ({type(exc).__name__}: {exc})"
        held = self.orders.get(ref)
        in_force = held.doc.get("version") if held else None
        (log.warning if isinstance(exc, OrderUnusable) else log.exception)(
            "order %s version %s quarantined: monitoring cannot use it (%s); %s", ref, version, reason,
            f"version {in_force} stays in force" if held else "it is not monitored",
            extra={"order_ref": ref, "order_version": version, "reason": reason})  # fmt: skip
        self.quarantined[ref] = {"version": version, "reason": reason}
        self.track.docs = True
        # Raised once per order version: the id is the order and its version (or, with none, its content).
        key = version if version is not None else hashlib.sha256(_canonical(doc)).hexdigest()[:16]
        aid = alert_id("order_unusable", ref, key)
        if aid in self.raised:
            return
        try:
            start = ts((d.get("monitoring") or {}).get("start"))
        except (AttributeError, TypeError, ValueError, OverflowError):
            start = None
        start = self.watermark or start or 0.0  # deterministic: the engine's time, not the wall clock
        alert = make_alert("order_unusable", order=held, device_id="", condition_id="order", start=start, end=None,
                           evidence=[], details={"reason": reason, "version": version, "version_in_force": in_force},
                           person_id=str(d.get("person_id") or ""))  # fmt: skip
        alert["id"], alert["order_ref"] = aid, ref
        alert["detected_at"] = to_iso(max(self.watermark, self.received_at, start))
        self.raised[aid] = self.watermark
        self._held.append(alert)

    def end_order(self, ref: str, at: float | None = None) -> None:
        spec = self.orders.get(ref)
        if spec is not None:
            spec.end = min(spec.end, self.watermark if at is None else at)
            spec.doc = {**spec.doc, "_ended_at": spec.end}
            self._index = None
            self.track.docs = True

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
        self.track.docs = True

    def end_activation(self, activation_id: str, at: float) -> None:
        self.activations = [
            Activation(**{**x.__dict__, "end": at}) if x.activation_id == activation_id else x
            for x in self.activations
        ]
        self._index = None
        self.track.docs = True

    def ostate(self, ref: str) -> dict[str, Any]:
        """An order's rule state, to read or change (noted for the next incremental checkpoint)."""
        self.track.orders.add(ref)
        return self.order_state.setdefault(ref, {})

    def dstate(self, device_id: str) -> dict[str, Any]:
        """A device's rule state, to read or change (noted for the next incremental checkpoint)."""
        self.track.devices.add(device_id)
        return self.devices.setdefault(device_id, {})

    def index(self) -> Index:
        if self._index is None:
            self._index = Index.build(self.orders, self.activations, self.defaults, self.reg)
            self.att_due = None
        return self._index

    def curfew_places(self, ix: Index) -> curfew.Places:
        """Where curfew presence is judged, per order address (rules/curfew.py), built with each index."""
        if self._places_for is not ix or self._places is None:
            self._places, self._places_for = curfew.places_table(self.orders, self.activations, ix.refs), ix
        return self._places

    # ---- processing ----------------------------------------------------------------------------------
    def process(self, batch: Any) -> list[dict[str, Any]]:
        """Process a batch (columnar table, wire messages or wire dicts); return the alerts newly raised."""
        cols = batch if isinstance(batch, Columns) else to_columns(batch)
        self._new, self._held, self.flags = self._held, [], []
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
        self._new, self._held = self._held, []
        self.watermark = max(self.watermark, t)
        self.started = self.started or t
        if resequence.lateness(self) > 0:
            self._release(max(self.received_at, t))
        self._tick(force=True)
        out, self._new = self._new, []
        return out

    def _process(self, cols: Columns) -> None:
        ix = self.index()
        g = self._codes(cols.devices)[cols.dev]
        act = self._resolve(ix, g, cols.t)
        for r in np.flatnonzero(act < 0):
            self.flags.append((cols.devices[cols.dev[r]], int(cols.seq[r]), "no_activation"))
        by_seq = by_group_int(g, cols.seq)  # one sort serves the duplicate check, silences and event order
        fresh = receipts.first_sight(self, cols, g, by_seq)
        for r in np.flatnonzero(~fresh):
            self.flags.append((cols.devices[cols.dev[r]], int(cols.seq[r]), "duplicate"))
        receipts.silences(self, ix, cols, g, act, by_seq)
        receipts.last_seen(self, cols, g)
        if resequence.lateness(self) > 0:  # rows of devices with a missing number wait (resequence.py)
            now, at = resequence.split(self, cols, by_seq, fresh, g)
            keep = sorted_within(self._event_order(by_seq, (act >= 0) & now, g, cols), g, at)
            self._rules(cols, keep, act, g, at)
            self._release(self.received_at)
        else:
            self._rules(cols, self._event_order(by_seq, (act >= 0) & fresh, g, cols), act, g, cols.t)

    def _release(self, clock: float) -> None:
        """Held rows that may go on by receive time `clock`, through the rules in canonical order."""
        got = resequence.release(self, clock)
        if got is None:
            return
        rc, at = got
        g = self.reg.devices(rc.devices)[rc.dev]
        act = self._resolve(self.index(), g, rc.t)
        rows = np.flatnonzero(act >= 0)
        self._rules(rc, rows[np.lexsort((rc.seq[rows], rc.t[rows], at[rows], g[rows]))], act, g, at)

    def _rules(self, cols: Columns, keep: np.ndarray, act: np.ndarray, g: np.ndarray, at: np.ndarray) -> None:
        """The rows `keep` (grouped by device, each in the order its rules see them) through every path;
        `at` is each row's release instant (its receipt when nothing held it), by which rules that join two
        devices order their rows."""
        if len(keep) == 0:
            return
        # Each message type's rows go to their path straight from the batch: one selection per path, not a
        # copy of the whole batch in event order first.
        typ = cols.type[keep]
        gps = keep[typ == MessageType.GPS]
        with np.errstate(invalid="ignore"):
            bad = ~(
                np.isfinite(cols.f["lat"][gps]) & np.isfinite(cols.f["lon"][gps])
            )  # columnar input is not re-validated
        for r in gps[bad].tolist():
            self.flags.append((cols.devices[cols.dev[r]], int(cols.seq[r]), "invalid_position"))
        gps = gps[~bad]
        if len(gps):
            gps_path.run(self, cols.take(gps), act[gps], g[gps], at[gps])
        batt = keep[typ == MessageType.BATTERY]
        if len(batt):
            battery_path.run(self, cols.take(batt), act[batt], g[batt])
        sparse = keep[
            (typ > MessageType.GPS) & (typ < MessageType.HEARTBEAT) & (typ != MessageType.BATTERY)
        ]  # heartbeats only prove contact
        if len(sparse):
            sparse_path.run(self, cols.take(sparse), act[sparse], g[sparse])
        motion = keep[typ == MessageType.MOTION]
        if len(motion):
            gps_path.motion(self, cols.take(motion), act[motion], g[motion])

    @staticmethod
    def _event_order(by_seq: np.ndarray, mask: np.ndarray, g: np.ndarray, cols: Columns) -> np.ndarray:
        """The rows to process, grouped by device, each in event-time order (then sequence), so each
        activation's rows are contiguous too (a device's activations follow one another in time). Sorted by
        device and sequence they usually are already, as a device's clock and sequence rise together; only
        the runs where the clock stepped back are sorted again."""
        return sorted_within(by_seq[mask[by_seq]], g, cols.t)

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

    def curfew_touched(self, ref: str, t: float) -> None:
        st = self.ostate(ref)
        st["cf_touch"] = min(st.get("cf_touch", t), t)
        self.cf_touched.add(ref)

    def curfew_due(self, ref: str, due: float) -> None:
        heapq.heappush(self.cf_heap, (due, ref))

    def emit(self, draft: dict[str, Any], order: OrderSpec | None, a: Activation | None, device_id: str, *,
             condition_id: str, late: bool = False, key: str | None = None,
             measure: dict[str, float] | None = None) -> str | None:  # fmt: skip
        """Raise an alert (once per id) and open its episode; returns the id when newly raised."""
        alert = make_alert(draft["kind"], order=order, device_id=device_id, condition_id=condition_id,
                           start=draft["start"], end=draft.get("end"), evidence=draft.get("evidence", []),
                           details=draft.get("details"), person_id=a.person_id if a else "")  # fmt: skip
        if alert["id"] in self.raised:
            return None
        self.raised[alert["id"]] = self.watermark
        alert["detected_at"] = to_iso(max(self.watermark, self.received_at, draft["start"]))
        alert["late_detected"] = bool(late)
        self._new.append(alert)
        episodes.open_episode(self, alert, key, measure)
        return str(alert["id"])

    def take_episodes(self) -> list[dict[str, Any]]:
        """The episode records (opened / updated / closed) since the last call, in the order they happened."""
        out, self.ep_out = self.ep_out, []
        return out

    def now(self) -> float:
        """The time the time-driven rules judge at: the watermark, capped at a replay's horizon."""
        return self.watermark if self.horizon is None else min(self.watermark, self.horizon)

    def _tick(self, force: bool) -> None:
        timed.curfews(self)
        if force or self.watermark - self.last_tick >= TICK_S:
            self.last_tick = self.watermark
            timed.run(self)
        if self.watermark - self.raised_pruned >= PRUNE_EVERY_S:
            self.prune_raised()

    def prune_raised(self) -> None:
        """Forget the ids raised more than RAISED_KEEP_S before the watermark. An id raised before time started
        (an order quarantined while loading, at watermark 0) is dated now, so its week starts with the data."""
        self.raised_pruned = self.watermark
        cut = self.watermark - RAISED_KEEP_S
        if any(t < cut for t in self.raised.values()):
            self.track.pruned = True
            self.raised = {
                k: (t if t > 0 else self.watermark) for k, t in self.raised.items() if t >= cut or t <= 0
            }

    # ---- checkpoints ---------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """A JSON-safe checkpoint: orders, activations, rule state, watermark and the ids already raised."""
        return {"version": SNAPSHOT_VERSION, **{k: getattr(self, k) for k in checkpoint.SCALARS},
                "thresholds": self.defaults, **self.snapshot_parts(SNAPSHOT_PARTS)}  # fmt: skip

    def snapshot_parts(self, names: tuple[str, ...]) -> dict[str, Any]:
        """Parts of the snapshot by name (an incremental checkpoint takes the small ones whole)."""
        parts = {
            "orders": lambda: [copy.deepcopy(o.doc) for o in self.orders.values()],
            "ended": lambda: {ref: o.end for ref, o in self.orders.items() if "_ended_at" in o.doc},
            "activations": lambda: [{**a.to_dict(), "start": a.start, "end": None if a.end >= FAR_FUTURE else a.end}
                                    for a in self.activations],
            "devices": lambda: copy.deepcopy(self.devices),
            "registry": self.reg.to_json,
            "cf_touched": lambda: sorted(self.cf_touched),
            "order_state": lambda: copy.deepcopy(self.order_state),
            "raised": lambda: {k: self.raised[k] for k in sorted(self.raised)},
            "quarantined": lambda: copy.deepcopy(self.quarantined),
            "held": lambda: copy.deepcopy(self._held),
            "episodes": lambda: copy.deepcopy(self.episodes),
            "episodes_out": lambda: copy.deepcopy(self.ep_out),
            "resequence_held": self.held.to_json,
        }  # fmt: skip
        return {k: parts[k]() for k in names}

    def checkpoint_delta(self) -> dict[str, Any]:
        """What changed since the last checkpoint (`checkpointed`, a restore, or the last delta): merged into
        the full snapshot by `Engine.restore(base, [delta, ...])`. The first call after a full snapshot that
        was not marked `checkpointed` raises."""
        return checkpoint.delta(self, self.track)

    def checkpointed(self) -> None:
        """The state as it is now is stored (a full snapshot): later deltas build on it."""
        self.track.reset(self)

    @classmethod
    def restore(cls, state: dict[str, Any], deltas: list[dict[str, Any]] | None = None) -> Engine:
        """The engine a snapshot describes, with incremental checkpoints taken after it merged in order."""
        for d in deltas or ():
            state = checkpoint.apply_delta(state, d)
        if state.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"unsupported snapshot version {state.get('version')!r}")
        eng = cls(state.get("thresholds"))
        # first: an order quarantined again on restore is not raised again. A list in checkpoints from before
        # pruning: those ids are kept a week from the checkpoint's watermark.
        raised = state["raised"]
        wm = float(state["watermark"])
        eng.raised = (
            {str(k): float(v) for k, v in raised.items()}
            if isinstance(raised, dict)
            else dict.fromkeys(raised, wm)
        )
        eng._held = copy.deepcopy(state.get("held", []))
        for doc in state["orders"]:
            eng.apply_order(doc)  # an order this version cannot read is quarantined, and the rest restored
        eng.quarantined = {**copy.deepcopy(state.get("quarantined", {})), **eng.quarantined}
        for ref, end in state.get("ended", {}).items():
            if ref in eng.orders:
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
            if "cf_gdue" in st:  # the grace after the next window's start (curfew_not_home) is due too
                eng.curfew_due(ref, st["cf_gdue"])
        eng.order_state = copy.deepcopy(state["order_state"])
        if (
            "p_level" not in state["registry"]["o"]
        ):  # a checkpoint from before proximity moved to the registry
            for ref, st in eng.order_state.items():
                if "prox" in st:
                    proximity_path.save_prox_state(eng, eng.reg.order(ref), st["prox"])
        eng.episodes = copy.deepcopy(state.get("episodes", {}))
        eng.ep_out = copy.deepcopy(state.get("episodes_out", []))
        eng.held = resequence.Held.from_json(state.get("resequence_held"))
        eng.track.reset(eng)
        for eid, ep in eng.episodes.items():
            if ep.get("key"):
                eng.ep_keys.setdefault(ep["key"], []).append(eid)
        for kind, hot in eng.zone_hot.items():
            hot.update(ref for ref, st in eng.order_state.items() if st.get(kind))
        return eng


def _canonical(doc: Any) -> bytes:
    """A document's content, whatever its key order (an order without a version is known by its content)."""
    return json.dumps(doc, sort_keys=True, default=str).encode()
