"""Batches into numpy columns: the engine's hot path never touches per-message Python objects.

Accepts the columnar form (a pyarrow Table or RecordBatch, docs/telemetry.md), a list of
`openem.telemetry.wire.Message`, or a list of wire dicts (validated here; rejected ones are skipped and
counted, since ingest has already stored and flagged them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from openem.core.time import parse_instant
from openem.telemetry.wire import (
    BOOL_COLUMNS,
    FLOAT_COLUMNS,
    STRING_COLUMNS,
    Message,
    messages_to_table,
    parse_message,
)


class MessageType(IntEnum):
    """The `type` column's codes (int8 in `Columns.type`; -1 an unknown type)."""

    GPS = 0
    RF = 1
    ALCOHOL = 2
    BATTERY = 3
    TAMPER = 4
    CHECKIN = 5
    HMU_POWER = 6
    HMU_MOVED = 7
    HEARTBEAT = 8
    MOTION = 9


TYPE_CODES = {t.name.lower(): int(t) for t in MessageType}  # wire type name -> code


class Lazy(Mapping[str, np.ndarray]):
    """Named columns materialised on first use, through an optional row selection.

    `take` composes selections instead of copying every column: the engine reads a handful of the eleven
    float, four bool and five string columns for any one message type, so copying all of them on every sort
    and split cost more than the rules themselves."""

    __slots__ = ("_src", "_idx", "_cache")

    def __init__(self, src: Callable[[str], np.ndarray], idx: np.ndarray | slice | None = None) -> None:
        self._src = src
        self._idx = idx
        self._cache: dict[str, np.ndarray] = {}

    def __getitem__(self, key: str) -> np.ndarray:
        v = self._cache.get(key)
        if v is None:
            base = self._src(key)
            v = base if self._idx is None else base[self._idx]
            self._cache[key] = v
        return v

    def __iter__(self) -> Iterator[str]:
        return iter(self._cache)

    def __len__(self) -> int:
        return len(self._cache)

    def item(self, key: str, r: int) -> Any:
        """One value, without turning the whole column into numpy (an alert's detail from a rare column)."""
        if key in self._cache or not hasattr(self._src, "item"):
            return self[key][r]
        cur = self._idx
        row = r if cur is None else (cur.start or 0) + r if isinstance(cur, slice) else int(cur[r])
        return self._src.item(key, row)

    def arrow_rows(self, rows: np.ndarray) -> pa.Table | None:
        """The rows `rows` of this selection as an Arrow table, when the columns are read from one."""
        table = getattr(self._src, "table", None)
        if table is None:
            return None
        cur = self._idx
        absolute = rows if cur is None else rows + (cur.start or 0) if isinstance(cur, slice) else cur[rows]
        return table.take(pa.array(absolute, type=pa.int64()))

    def take(self, idx: np.ndarray | slice, memo: dict[int, Any] | None = None) -> Lazy:
        """The rows `idx` of this selection. `memo` shares the composed selection between the float, bool and
        string columns of one batch (they are selected alike)."""
        cur = self._idx
        if memo is not None and id(cur) in memo:
            return Lazy(self._src, memo[id(cur)])
        if cur is None:
            new: np.ndarray | slice = idx
        elif isinstance(cur, slice):
            lo = cur.start or 0
            new = slice(lo + (idx.start or 0), lo + idx.stop) if isinstance(idx, slice) else idx + lo
        else:
            new = cur[idx]
        if memo is not None:
            memo[id(cur)] = new
        return Lazy(self._src, new)


@dataclass
class Columns:
    n: int
    devices: list[str]  # the batch's distinct device ids (shared, unchanged, by every take and slice)
    dev: np.ndarray  # int32 index into devices
    seq: np.ndarray
    type: np.ndarray  # int8 MessageType codes, -1 unknown
    t: np.ndarray  # device_time, float seconds UTC
    rx: np.ndarray  # receive_time, float seconds UTC
    f: Mapping[str, np.ndarray]  # float columns (NaN = null)
    b: Mapping[str, np.ndarray]  # bool columns (null = False)
    s: Mapping[str, np.ndarray]  # string columns (object arrays, None = null)
    rejected: int = 0

    def take(self, idx: np.ndarray) -> Columns:
        memo: dict[int, Any] = {}
        return Columns(len(idx), self.devices, self.dev[idx], self.seq[idx], self.type[idx], self.t[idx], self.rx[idx],
                       _take(self.f, idx, memo), _take(self.b, idx, memo), _take(self.s, idx, memo), self.rejected)  # fmt: skip

    def slice(self, lo: int, hi: int) -> Columns:
        """Rows lo..hi as views (replay cuts one converted table into receive-time batches)."""
        sl = slice(lo, hi)
        memo: dict[int, Any] = {}
        return Columns(hi - lo, self.devices, self.dev[sl], self.seq[sl], self.type[sl], self.t[sl], self.rx[sl],
                       _take(self.f, sl, memo), _take(self.b, sl, memo), _take(self.s, sl, memo), 0)  # fmt: skip


def _take(cols: Mapping[str, np.ndarray], idx: np.ndarray | slice, memo: dict[int, Any] | None = None
          ) -> Mapping[str, np.ndarray]:  # fmt: skip
    if isinstance(cols, Lazy):
        return cols.take(idx, memo)
    return {k: v[idx] for k, v in cols.items()}


def _times(col: Any) -> np.ndarray:
    if pa.types.is_timestamp(col.type):
        col = pc.cast(col, pa.timestamp("us", tz="UTC"))
        seconds: np.ndarray = pc.cast(col, pa.int64()).to_numpy(zero_copy_only=False).astype(np.float64) / 1e6
        return seconds
    return np.array(
        [parse_instant(v).timestamp() if v else np.nan for v in col.to_pylist()], dtype=np.float64
    )


def _equals(col: Any, value: str) -> np.ndarray:
    """col == value as numpy bools (null: False); a dictionary column compares its dictionary only."""
    if pa.types.is_dictionary(col.type):
        arr = _codes(col)
        hit = np.r_[np.array(pc.fill_null(pc.equal(arr.dictionary, value), False).to_numpy(zero_copy_only=False),
                             dtype=bool), False]  # fmt: skip
        idx = arr.indices.to_numpy(zero_copy_only=False)
        idx = np.where(np.isnan(idx), len(hit) - 1, idx).astype(np.int64) if idx.dtype.kind == "f" else idx
        out: np.ndarray = hit[idx]
        return out
    return np.asarray(pc.fill_null(pc.equal(col, value), False).to_numpy(zero_copy_only=False), dtype=bool)


class _ArrowSource:
    """Column converters for `Lazy`: each column of the table is turned into numpy once, when first read."""

    def __init__(self, table: pa.Table) -> None:
        self.table, self.names, self.n = table, set(table.column_names), table.num_rows
        self.done: dict[str, np.ndarray] = {}

    def item(self, c: str, row: int) -> Any:
        if c in self.done:
            return self.done[c][row]
        return self.table.column(c)[row].as_py() if c in self.names else None

    def __call__(self, c: str) -> np.ndarray:
        v = self.done.get(c)
        if v is not None:
            return v
        table, names, n = self.table, self.names, self.n
        if c in FLOAT_COLUMNS:
            v = (np.asarray(table.column(c).to_numpy(zero_copy_only=False), dtype=np.float64) if c in names
                 else np.full(n, np.nan))  # fmt: skip
        elif c in BOOL_COLUMNS:
            v = (np.asarray(pc.fill_null(table.column(c), False).to_numpy(zero_copy_only=False), dtype=bool)
                 if c in names else np.zeros(n, dtype=bool))  # fmt: skip
        elif c == "source_is_gps":  # derived in Arrow: comparing a column of Python strings costs far more
            v = _equals(table.column("source"), "GPS") if "source" in names else np.zeros(n, dtype=bool)
        elif c in STRING_COLUMNS:
            v = (table.column(c).to_numpy(zero_copy_only=False) if c in names
                 else np.full(n, None, dtype=object))  # fmt: skip
        else:
            raise KeyError(c)
        self.done[c] = v
        return v


def _codes(col: Any) -> Any:
    """A column as one dictionary array (as it is when it was read dictionary-encoded)."""
    if not pa.types.is_dictionary(col.type):
        col = pc.dictionary_encode(col)
    return col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col


def from_table(table: Any) -> Columns:
    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    dev_enc, typ_enc = _codes(table.column("device_id")), _codes(table.column("type"))
    type_map = np.array(
        [TYPE_CODES.get(v, -1) for v in typ_enc.dictionary.to_pylist()] or [-1], dtype=np.int8
    )
    src = _ArrowSource(table)
    return Columns(table.num_rows, [str(d) for d in dev_enc.dictionary.to_pylist()],
                   dev_enc.indices.to_numpy(zero_copy_only=False).astype(np.int32),
                   table.column("seq").to_numpy(zero_copy_only=False).astype(np.int64),
                   type_map[typ_enc.indices.to_numpy(zero_copy_only=False)],
                   _times(table.column("device_time")), _times(table.column("receive_time")),
                   Lazy(src), Lazy(src), Lazy(src))  # fmt: skip


def to_columns(batch: Any, received_at: datetime | None = None) -> Columns:
    """Normalise any accepted batch shape to `Columns`."""
    if isinstance(batch, pa.Table | pa.RecordBatch):
        return from_table(batch)
    if hasattr(batch, "to_arrow") or type(batch).__name__ == "DataFrame":
        return from_table(pa.Table.from_pandas(batch, preserve_index=False))
    items = list(batch)
    messages: list[Message] = []
    rejected = 0
    for item in items:
        if isinstance(item, Message):
            messages.append(item)
            continue
        rx = received_at
        if rx is None and isinstance(item, dict) and item.get("receive_time"):
            try:
                rx = parse_instant(item["receive_time"])
            except (ValueError, TypeError):
                rx = None
        msg, _ = parse_message(item, rx or datetime.now(UTC))
        if msg is None:
            rejected += 1
        else:
            messages.append(msg)
    cols = from_table(messages_to_table(messages))
    cols.rejected = rejected
    return cols
