"""Batches into numpy columns: the engine's hot path never touches per-message Python objects.

Accepts the columnar form (a pyarrow Table or RecordBatch, docs/telemetry.md), a list of
`openem.telemetry.wire.Message`, or a list of wire dicts (validated here; rejected ones are skipped and
counted, since ingest has already stored and flagged them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
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

TYPE_CODES = {"gps": 0, "rf": 1, "alcohol": 2, "battery": 3, "tamper": 4, "checkin": 5, "hmu_power": 6,
              "hmu_moved": 7, "heartbeat": 8}  # fmt: skip


@dataclass
class Columns:
    n: int
    devices: list[str]  # the batch's distinct device ids
    dev: np.ndarray  # int32 index into devices
    seq: np.ndarray
    type: np.ndarray  # int8 TYPE_CODES, -1 unknown
    t: np.ndarray  # device_time, float seconds UTC
    rx: np.ndarray  # receive_time, float seconds UTC
    f: dict[str, np.ndarray]  # float columns (NaN = null)
    b: dict[str, np.ndarray]  # bool columns (null = False)
    s: dict[str, np.ndarray]  # string columns (object arrays, None = null)
    rejected: int = 0

    def take(self, idx: np.ndarray) -> Columns:
        return Columns(len(idx), self.devices, self.dev[idx], self.seq[idx], self.type[idx], self.t[idx], self.rx[idx],
                       {k: v[idx] for k, v in self.f.items()}, {k: v[idx] for k, v in self.b.items()},
                       {k: v[idx] for k, v in self.s.items()}, self.rejected)  # fmt: skip


def _times(col: Any) -> np.ndarray:
    if pa.types.is_timestamp(col.type):
        col = pc.cast(col, pa.timestamp("us", tz="UTC"))
        return pc.cast(col, pa.int64()).to_numpy(zero_copy_only=False).astype(np.float64) / 1e6
    return np.array(
        [parse_instant(v).timestamp() if v else np.nan for v in col.to_pylist()], dtype=np.float64
    )


def from_table(table: Any) -> Columns:
    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    n = table.num_rows
    names = set(table.column_names)
    dev_enc = pc.dictionary_encode(table.column("device_id")).combine_chunks()
    typ_enc = pc.dictionary_encode(table.column("type")).combine_chunks()
    type_map = np.array(
        [TYPE_CODES.get(v, -1) for v in typ_enc.dictionary.to_pylist()] or [-1], dtype=np.int8
    )
    f = {}
    for c in FLOAT_COLUMNS:
        f[c] = (table.column(c).to_numpy(zero_copy_only=False).astype(np.float64) if c in names
                else np.full(n, np.nan))  # fmt: skip
    b = {c: (pc.fill_null(table.column(c), False).to_numpy(zero_copy_only=False).astype(bool) if c in names
             else np.zeros(n, dtype=bool)) for c in BOOL_COLUMNS}  # fmt: skip
    s = {c: (table.column(c).to_numpy(zero_copy_only=False) if c in names else np.full(n, None, dtype=object))
         for c in STRING_COLUMNS}  # fmt: skip
    return Columns(n, [str(d) for d in dev_enc.dictionary.to_pylist()],
                   dev_enc.indices.to_numpy(zero_copy_only=False).astype(np.int32),
                   table.column("seq").to_numpy(zero_copy_only=False).astype(np.int64),
                   type_map[typ_enc.indices.to_numpy(zero_copy_only=False)],
                   _times(table.column("device_time")), _times(table.column("receive_time")), f, b, s)  # fmt: skip


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
