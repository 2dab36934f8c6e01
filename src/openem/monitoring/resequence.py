"""Late data re-sequenced per device before any stateful rule (decision 0033).

A device numbers its messages (`seq`). When one arrives with a number missing below it (the device stored
messages and will forward them, or the network reordered them), the device's messages are held until the
missing ones arrive or the newest held has waited `late.resequence_s` of receive time, then released in
sequence order. Every rule then sees each device's messages in one canonical order: by the receive instant
at which each was released (R), then event time. R depends only on what arrived when, never on how the
data was cut into batches, so 300-s and 1-h batches (and arrivals shuffled within the lateness) give the
same alerts. A message older than what was already released (its gap was given up on) goes straight on,
as before. Sequence numbers that are not a counter (GT06: seconds x 65536; phones and Teltonika:
milliseconds x 4) step by more than `receipts.GAP_WINDOW` and are never waited for.

The common case costs numpy only: a device whose numbers follow on from the last released, with no message
waiting longer than the lateness for the one before it, has its rows processed at once. Python runs for the
few devices with a gap, held rows or a row that would have timed out. Held rows are kept as an Arrow table
(in the checkpoint as Arrow IPC, base64).
"""

from __future__ import annotations

import base64
import bisect
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from openem.monitoring.columns import Columns, Lazy, from_table
from openem.monitoring.receipts import GAP_WINDOW
from openem.monitoring.sorting import GROUP_SHIFT

if TYPE_CHECKING:
    from openem.monitoring.engine import Engine


COUNTER_STEPS = 16


def lateness(eng: Engine) -> float:
    """How long (receive time) a device's messages wait for a missing one; 0 switches re-sequencing off."""
    late = eng.defaults.get("late", {})
    return float(late.get("resequence_s", late.get("watermark_lateness_s", 300)))


@dataclass
class Held:
    """The rows waiting, as one Arrow table (dictionaries decoded) and their device code, seq and receipt."""

    table: pa.Table | None = None
    g: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    seq: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    rx: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))

    def __len__(self) -> int:
        return len(self.g)

    def to_json(self) -> dict[str, Any] | None:
        if self.table is None or not len(self):
            return None
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, self.table.schema) as w:
            w.write_table(self.table)
        return {"arrow": base64.b64encode(sink.getvalue().to_pybytes()).decode("ascii"),
                "g": self.g.tolist(), "seq": self.seq.tolist(), "rx": self.rx.tolist()}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Held:
        if not data:
            return cls()
        table = pa.ipc.open_stream(pa.py_buffer(base64.b64decode(data["arrow"]))).read_all()
        return cls(table, np.array(data["g"], dtype=np.int64), np.array(data["seq"], dtype=np.int64),
                   np.array(data["rx"], dtype=np.float64))  # fmt: skip


def _plain(table: pa.Table) -> pa.Table:
    """Dictionary columns decoded, so tables from different batches concatenate."""
    for i, col in enumerate(table.schema):
        if pa.types.is_dictionary(col.type):
            table = table.set_column(i, col.name, pc.cast(table.column(i), col.type.value_type))
    return table


def _rows_table(cols: Columns, rows: np.ndarray) -> pa.Table:
    """The batch's rows `rows` as an Arrow table (from the table the columns were read from)."""
    table = cols.f.arrow_rows(rows) if isinstance(cols.f, Lazy) else None
    if table is None:
        raise TypeError("re-sequencing needs columns read from an Arrow table")
    return _plain(table)


def split(eng: Engine, cols: Columns, by_seq: np.ndarray, fresh: np.ndarray, g: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The fresh rows of devices that need no waiting (a mask over the batch), and each row's release
    instant (the latest receipt of it and the numbers before it: order by it, then event time). The other
    devices' fresh rows join the held rows; `release` then gives what may go on."""
    now = np.zeros(cols.n, dtype=bool)
    at = cols.rx.copy()
    rows = by_seq[fresh[by_seq]]
    if not len(rows):
        return now, at
    L = lateness(eng)
    d, s, rx = g[rows], cols.seq[rows], cols.rx[rows]
    head = np.r_[True, d[1:] != d[:-1]]
    starts = np.flatnonzero(head)
    front_reg = eng.reg.d["rs_front"]
    known = np.ones(len(d), dtype=bool)
    front = front_reg[d[starts]]
    known[starts[front < 0]] = False
    front = np.where(front < 0, s[starts] - 1, front)  # first sight: from the lowest number here
    prev = np.where(head, np.repeat(front, np.diff(np.r_[starts, len(d)])), np.r_[0, s[:-1]])
    step = s - prev
    grp = np.cumsum(head) - 1
    # Only a device that numbers its messages as a counter is waited for: one whose numbers stepped by one
    # at least 9 times in 10 over its last 16 or more steps (a device may number them any way it likes).
    reg = eng.reg.d
    inner = known & (step > 0)
    ds = d[starts]  # a batch's devices, each once
    unit = reg["rs_unit"][ds] + np.add.reduceat((inner & (step == 1)).astype(np.int64), starts)
    steps = reg["rs_steps"][ds] + np.add.reduceat(inner.astype(np.int64), starts)
    counter = ((unit * 10 >= steps * 9) & (steps >= COUNTER_STEPS))[grp]
    over = steps > 4 * COUNTER_STEPS  # a moving window: halve both now and then
    unit[over] //= 2
    steps[over] //= 2
    reg["rs_unit"][ds], reg["rs_steps"][ds] = unit, steps
    ok = (step == 1) | (step > GAP_WINDOW) | ~counter
    if np.isfinite(rx).all() and int(d.max()) < 2**20 and float(rx.max() - rx.min()) < 2**42 / 1e6:
        # released when every number before it has arrived: the running latest receipt within the device;
        # one that would have waited longer than the lateness would have been released by the timeout
        rx0 = float(rx.min())
        us = np.rint((rx - rx0) * 1e6).astype(np.int64)
        key = (d.astype(np.int64) << GROUP_SHIFT) + us
        run = np.maximum.accumulate(key)
        ok &= ((run - key) <= L * 1e6) | ~counter
        at[rows] = np.where(counter, rx0 + (run & ((1 << GROUP_SHIFT) - 1)) / 1e6, rx)
    else:
        ok[:] = False
    bad = np.logical_or.reduceat(~ok, starts) | (reg["rs_held"][ds] > 0)
    simple = ~bad[grp]
    now[rows[simple]] = True
    ends = np.r_[starts[1:], len(d)] - 1
    good = ~bad
    front_reg[ds[good]] = np.maximum(front[good], s[ends[good]])
    slow = rows[~simple]
    if len(slow):
        _hold(eng, cols, slow, g)
    return now, at


def _hold(eng: Engine, cols: Columns, rows: np.ndarray, g: np.ndarray) -> None:
    new = _rows_table(cols, rows)
    h = eng.held
    table = (
        new
        if h.table is None or not len(h)
        else pa.concat_tables([h.table, new], promote_options="permissive")
    )
    eng.held = Held(table, np.r_[h.g, g[rows]], np.r_[h.seq, cols.seq[rows]], np.r_[h.rx, cols.rx[rows]])
    np.add.at(eng.reg.d["rs_held"], g[rows], 1)
    eng.held_new.update(np.unique(g[rows]).tolist())


def release(eng: Engine, clock: float) -> tuple[Columns, np.ndarray] | None:
    """Held rows that may go on by the receive time `clock`, as columns in canonical order (by device, then
    release instant, event time, sequence), and the release instant per row; the rest stay held."""
    h = eng.held
    if not len(h):
        return None
    L = lateness(eng)
    front_reg = eng.reg.d["rs_front"]
    order = np.lexsort((h.seq, h.rx, h.g))
    gs = h.g[order]
    bounds = np.flatnonzero(np.r_[True, gs[1:] != gs[:-1], True])
    lo_b, hi_b = bounds[:-1], bounds[1:]
    # only devices with new rows, or whose longest-waiting row has now waited long enough, can change
    due = (np.minimum.reduceat(h.rx[order], lo_b) + L <= clock) | np.isin(gs[lo_b], list(eng.held_new))
    eng.held_new.clear()
    out_rows: list[int] = []
    out_r: list[float] = []
    keep: list[int] = order[np.repeat(~due, hi_b - lo_b)].tolist()
    for lo, hi in zip(lo_b[due].tolist(), hi_b[due].tolist(), strict=True):
        idx = order[lo:hi]  # one device's held rows, in receipt order
        code = int(gs[lo])
        front = int(front_reg[code])
        if front < 0:
            front = int(h.seq[idx].min()) - 1
        released, waiting, front = _device(
            front, [(int(h.seq[i]), float(h.rx[i]), int(i)) for i in idx], clock, L
        )
        front_reg[code] = front
        for i, r in released:
            out_rows.append(i)
            out_r.append(r)
        keep += [i for _, _, i in waiting]
        eng.reg.d["rs_held"][code] = len(waiting)
    if not out_rows:
        return None
    assert h.table is not None
    k = np.array(keep, dtype=np.int64)
    rest = h.table.take(pa.array(k, type=pa.int64())) if len(k) else None
    eng.held = Held(rest, h.g[k], h.seq[k], h.rx[k])
    take = np.array(out_rows, dtype=np.int64)
    rel = h.table.take(pa.array(take, type=pa.int64()))
    return from_table(rel), np.array(out_r, dtype=np.float64)


def _device(front: int, arrivals: list[tuple[int, float, int]], clock: float, L: float
            ) -> tuple[list[tuple[int, float]], list[tuple[int, float, int]], int]:  # fmt: skip
    """One device's rows in receipt order, released as they would have been one arrival at a time: the
    lowest waiting row goes once the number before it has gone, or once the row waiting longest has waited
    L (the missing numbers below are then given up on); a row at or below the last released goes on
    arrival. Returns (released (row, release instant)), still waiting (seq, rx, row), the last released."""
    waiting: list[tuple[int, float, int]] = []  # by seq
    by_arrival: deque[tuple[float, int]] = deque()  # (rx, row) in receipt order, released ones skipped
    gone: set[int] = set()
    out: list[tuple[int, float]] = []
    cur = -np.inf

    def advance(now: float) -> None:
        nonlocal front, cur
        while waiting:
            seq, _, row = waiting[0]
            step = seq - front
            if not (step == 1 or step > GAP_WINDOW or step <= 0):
                while by_arrival[0][1] in gone:
                    by_arrival.popleft()
                due = by_arrival[0][0] + L
                if due > now:
                    return
                cur = max(cur, due)
            waiting.pop(0)
            gone.add(row)
            out.append((row, cur))
            front = max(front, seq)

    for seq, rx, row in arrivals:
        advance(rx)
        cur = max(cur, rx)
        if seq <= front:  # too late: its gap was given up on
            out.append((row, cur))
            continue
        bisect.insort(waiting, (seq, rx, row))
        by_arrival.append((rx, row))
        advance(rx)
    advance(clock)
    return out, waiting, front
