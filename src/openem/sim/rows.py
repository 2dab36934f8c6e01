"""Column batches of telemetry and truth rows as numpy arrays, and their conversion to the columnar wire
table of docs/telemetry.md (pyarrow). Strings are small integer codes until the very end."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

TYPES = ("gps", "rf", "alcohol", "battery", "tamper", "checkin", "hmu_power", "hmu_moved", "heartbeat")
FLOAT_COLS = (
    "lat", "lon", "accuracy_m", "hdop", "speed_mps", "heading_deg", "rssi_dbm", "tac_gdl", "ir_skin", "temp_c", "level_pct",
)  # fmt: skip
BOOL_COLS = ("present", "charging", "mains", "moved")
VOCAB = {
    "source": ("GPS", "LBS", "WIFI"),
    "tamper_kind": ("strap", "case"),
    "tamper_state": ("open", "closed"),
    "result": ("pass", "fail", "missed"),
}
TS = pa.timestamp("us", tz="UTC")

Rows = dict[str, np.ndarray]


def rows(type_name: str, dev: np.ndarray, t: np.ndarray, **cols: Any) -> Rows:
    n = len(dev)
    out: Rows = {
        "dev": np.asarray(dev, dtype=np.int64),
        "type": np.full(n, TYPES.index(type_name), dtype=np.int8),
        "t": np.asarray(t, dtype=np.int64),
    }
    for k, v in cols.items():
        if k in VOCAB and isinstance(v, str):
            v = VOCAB[k].index(v)
        out[k] = np.broadcast_to(np.asarray(v), (n,)) if np.ndim(v) == 0 else np.asarray(v)
    return out


def concat(parts: list[Rows]) -> Rows:
    parts = [p for p in parts if len(p["dev"])]
    keys = ["dev", "type", "t", "tag", *FLOAT_COLS, *BOOL_COLS, *VOCAB]
    out: Rows = {}
    for k in keys:
        chunks = []
        for p in parts:
            n = len(p["dev"])
            if k in p:
                chunks.append(np.asarray(p[k]))
            elif k in FLOAT_COLS:
                chunks.append(np.full(n, np.nan))
            else:
                chunks.append(np.full(n, -1, dtype=np.int64))
        if k in FLOAT_COLS:
            out[k] = np.concatenate(chunks).astype(np.float64) if chunks else np.zeros(0)
        elif k in BOOL_COLS or k in VOCAB or k == "tag":
            out[k] = np.concatenate([c.astype(np.int64) for c in chunks]) if chunks else np.zeros(0, np.int64)
        else:
            out[k] = np.concatenate(chunks) if chunks else np.zeros(0, np.int64)
    return out


def take(r: Rows, idx: np.ndarray) -> Rows:
    return {k: v[idx] for k, v in r.items()}


def to_arrow(r: Rows, device_ids: pa.Array) -> pa.Table:
    """The columnar wire table; `r` must hold `seq` and `rt` (receive time, us)."""

    def codes(values: np.ndarray, vocab: pa.Array) -> pa.Array:
        mask = values < 0
        return vocab.take(pa.array(np.where(mask, 0, values), mask=mask))

    cols: dict[str, pa.Array] = {
        "device_id": device_ids.take(pa.array(r["dev"])),
        "seq": pa.array(r["seq"], pa.int64()),
        "type": pa.array(TYPES).take(pa.array(r["type"].astype(np.int64))),
        "device_time": pa.array(r["t"], TS),
        "receive_time": pa.array(r["rt"], TS),
    }
    for k in ("lat", "lon", "accuracy_m", "hdop", "speed_mps", "heading_deg"):
        cols[k] = pa.array(r[k], pa.float64(), from_pandas=True)
    cols["source"] = codes(r["source"], pa.array(VOCAB["source"]))
    cols["present"] = pa.array(r["present"] == 1, mask=r["present"] < 0)
    cols["rssi_dbm"] = pa.array(r["rssi_dbm"], pa.float64(), from_pandas=True)
    cols["tag_id"] = codes(r["tag"], device_ids)
    for k in ("tac_gdl", "ir_skin", "temp_c", "level_pct"):
        cols[k] = pa.array(r[k], pa.float64(), from_pandas=True)
    cols["charging"] = pa.array(r["charging"] == 1, mask=r["charging"] < 0)
    cols["tamper_kind"] = codes(r["tamper_kind"], pa.array(VOCAB["tamper_kind"]))
    cols["tamper_state"] = codes(r["tamper_state"], pa.array(VOCAB["tamper_state"]))
    cols["result"] = codes(r["result"], pa.array(VOCAB["result"]))
    cols["mains"] = pa.array(r["mains"] == 1, mask=r["mains"] < 0)
    cols["moved"] = pa.array(r["moved"] == 1, mask=r["moved"] < 0)
    return pa.table(cols)


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maximal runs of True along axis 1: (row, start index, end index exclusive)."""
    n = mask.shape[0]
    padded = np.zeros((n, mask.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    d = np.diff(padded, axis=1)
    r0, s = np.nonzero(d == 1)
    r1, e = np.nonzero(d == -1)
    return r0, s, e  # np.nonzero is row-major, so starts and ends pair up
