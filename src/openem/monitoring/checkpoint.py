"""Incremental checkpoints (decision 0033): what changed since the last checkpoint, not the whole engine.

The engine notes which devices' and orders' rule state it handed out (`Engine.dstate` / `Engine.ostate`:
every write goes through them), whether orders or activations changed, and the ids raised since; the
registry's arrays are compared with a copy taken at the last checkpoint (numpy, a few milliseconds at
50,000 devices). A delta carries those entries and rows, the small parts whole (scalars, open episodes,
held alerts and rows), and is JSON-safe like the full snapshot. `apply_delta` merges deltas into a full
snapshot's JSON, in order, so `Engine.restore(base, deltas)` is the ordinary restore of the merged state.
"""

from __future__ import annotations

import copy
import itertools
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from openem.monitoring.engine import Engine

DELTA = "delta"
SCALARS = ("watermark", "received_at", "event_high", "last_tick", "started", "horizon", "unmonitored_hour")
WHOLE = ("cf_touched", "quarantined", "held", "episodes", "episodes_out", "resequence_held")


class Tracker:
    """What changed in an engine since its last checkpoint."""

    def __init__(self) -> None:
        self.devices: set[str] = set()
        self.orders: set[str] = set()
        self.docs = False  # orders or activations applied or ended
        self.raised_seen = 0  # ids in `raised` at the last checkpoint (new ones are appended after them)
        self.pruned = False  # `raised` was pruned: sent whole
        self.reg: tuple[int, int, dict[str, np.ndarray], dict[str, np.ndarray]] | None = None

    def reset(self, eng: Engine) -> None:
        """Everything up to now is in a checkpoint."""
        self.devices.clear()
        self.orders.clear()
        self.docs = self.pruned = False
        self.raised_seen = len(eng.raised)
        nd, no = len(eng.reg.dev_ids), len(eng.reg.order_refs)
        self.reg = (nd, no, {k: v[:nd].copy() for k, v in eng.reg.d.items()},
                    {k: v[:no].copy() for k, v in eng.reg.o.items()})  # fmt: skip


def _clean(v: np.ndarray) -> list[Any]:
    return [None if isinstance(x, float) and x != x else x for x in v.tolist()]


def _changed(now: np.ndarray, was: np.ndarray) -> np.ndarray:
    n = len(was)
    a = now[:n]
    diff = a != was
    if a.dtype.kind == "f":
        diff &= ~(np.isnan(a) & np.isnan(was))
    rows: np.ndarray = np.r_[np.flatnonzero(diff), np.arange(n, len(now))]
    return rows


def _registry(eng: Engine, tr: Tracker) -> dict[str, Any]:
    assert tr.reg is not None
    nd0, no0, d0, o0 = tr.reg
    reg = eng.reg
    nd, no = len(reg.dev_ids), len(reg.order_refs)
    out: dict[str, Any] = {"devices": reg.dev_ids[nd0:], "orders": reg.order_refs[no0:], "d": {}, "o": {}}
    for name, arrays, base, n in (("d", reg.d, d0, nd), ("o", reg.o, o0, no)):
        for k, v in arrays.items():
            rows = _changed(v[:n], base[k]) if k in base else np.arange(n)
            if len(rows):
                out[name][k] = {"rows": rows.tolist(), "values": _clean(v[rows])}
    return out


def delta(eng: Engine, tr: Tracker) -> dict[str, Any]:
    """The changes since the last checkpoint (then everything up to now counts as checkpointed)."""
    if tr.reg is None:
        raise ValueError("no checkpoint to build on: take a full snapshot first")
    snap_whole = eng.snapshot_parts(WHOLE)
    out: dict[str, Any] = {DELTA: 1, **{k: getattr(eng, k) for k in SCALARS}, **snap_whole}
    if tr.docs:
        out.update(eng.snapshot_parts(("orders", "ended", "activations")))
    out["devices"] = {d: copy.deepcopy(eng.devices[d]) for d in sorted(tr.devices) if d in eng.devices}
    out["order_state"] = {
        r: copy.deepcopy(eng.order_state[r]) for r in sorted(tr.orders) if r in eng.order_state
    }
    if tr.pruned:
        out["raised"] = dict(eng.raised)
    else:
        out["raised_add"] = dict(itertools.islice(eng.raised.items(), tr.raised_seen, None))
    out["registry"] = _registry(eng, tr)
    tr.reset(eng)
    return out


def apply_delta(state: dict[str, Any], d: dict[str, Any]) -> dict[str, Any]:
    """A full snapshot's JSON with one delta merged into it (in place; returned)."""
    for k in (*SCALARS, *WHOLE, "orders", "ended", "activations", "raised"):
        if k in d:
            state[k] = d[k]
    state["devices"].update(d.get("devices", {}))
    state["order_state"].update(d.get("order_state", {}))
    if isinstance(state["raised"], dict):
        state["raised"].update(d.get("raised_add", {}))
    reg, rd = state["registry"], d["registry"]
    reg["devices"] += rd["devices"]
    reg["orders"] += rd["orders"]
    for name, n in (("d", len(reg["devices"])), ("o", len(reg["orders"]))):
        for k, ch in rd[name].items():
            col = reg[name].setdefault(k, [])
            col += [None] * (n - len(col))
            for r, v in zip(ch["rows"], ch["values"], strict=True):
                col[r] = v
    return state
