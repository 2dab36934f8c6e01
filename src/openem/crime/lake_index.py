"""The lake's trail index for crime matching: per London day, the day's positions twice, sorted, as
uncompressed NumPy arrays read through memory maps, so that a batch reads only the rows its crimes can touch.

- `cells/`: sorted by (grid cell, time bucket), the matcher's join key (`matching.CELL_DEG`, `BUCKET_S`): the
  positions a crime's keys select are one contiguous run per key, found by binary search.
- `devices/`: sorted by (device, time): the positions of a candidate wearer around a window (for passes and
  their entry and exit legs) are one contiguous run.

Built once per day (like the coverage) next to the lake (`_index/date=D/`), rebuilt when the day's files are
newer, never needed: without it (a read-only lake) the matcher scans the day's Parquet as before. It holds no
decision: the matcher's SQL runs unchanged over the rows it hands over, a superset of the rows the SQL keeps, so
results are identical with and without it (tested).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

VERSION = "trail-index/1"
TB_BITS = 25  # time buckets of 30 min since 1970 (< 2^25 until the year 3880)
CX_SPAN = 36_001  # cx = floor(lon / 0.01) + 18,000 in [0, 36,000]
T_BITS = 38  # microseconds since the day's first position (< 2^38: 3.1 days)
BLOCK = 1024  # keys per block of the in-memory sparse copy of each sorted key column
CELL_COLS = ("k", "code", "t", "lat", "lon", "acc")
DEVICE_COLS = ("k", "t", "lat", "lon", "acc")


def _cell_key_sql(cell_deg: float, bucket_s: int) -> str:
    return (
        f"(((CAST(floor(lat / {cell_deg}) AS BIGINT) + 9000) * {CX_SPAN} + "
        f"(CAST(floor(lon / {cell_deg}) AS BIGINT) + 18000)) << {TB_BITS}) + "
        f"CAST(floor(epoch(device_time) / {bucket_s}) AS BIGINT)"
    )


def cell_keys(
    cy: np.ndarray[Any, Any], cx: np.ndarray[Any, Any], tb: np.ndarray[Any, Any]
) -> np.ndarray[Any, Any]:
    """The index's key for (cell row, cell column, time bucket), as the build computes it."""
    cell = (cy.astype(np.int64) + 9000) * CX_SPAN + (cx.astype(np.int64) + 18000)
    return np.asarray((cell << TB_BITS) + tb.astype(np.int64))


def _sql_list(files: list[Path]) -> str:
    return ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)


def _fill(con: Any, sql: str, folder: Path, cols: tuple[str, ...], n: int) -> None:
    """Write a query's columns into .npy files of n rows, batch by batch (bounded memory)."""
    folder.mkdir(parents=True)
    dtypes = {"k": np.int64, "code": np.int32, "t": np.int64, "lat": np.float64, "lon": np.float64,
              "acc": np.float64}  # fmt: skip
    outs = {c: np.lib.format.open_memmap(folder / f"{c}.npy", "w+", dtypes[c], (n,)) for c in cols}
    at = 0
    reader = con.sql(sql).to_arrow_reader(1_000_000)
    for batch in reader:
        m = batch.num_rows
        for c in cols:
            col = batch.column(c)
            outs[c][at : at + m] = col.to_numpy(zero_copy_only=False) if c != "acc" else (
                col.fill_null(np.nan).to_numpy(zero_copy_only=False)
            )  # fmt: skip
        at += m
    for a in outs.values():
        a.flush()
    if at != n:
        raise RuntimeError(f"trail index: {at} rows written, {n} expected")


def build_day(con: Any, files: list[Path], out: Path, cell_deg: float, bucket_s: int) -> bool:
    """Build one day's index from its Parquet files into `out` (replaced whole); False when the day cannot be
    indexed (a day's span over 3 days, a NaN accuracy, which the index uses for null, or a null device), so the matcher scans it instead."""
    src = f"SELECT device_id, person_id, device_time, lat, lon, accuracy_m FROM read_parquet([{_sql_list(files)}])"
    con.execute(f"CREATE OR REPLACE TEMP TABLE ix_src AS {src}")
    n, base, top, nan_acc, n_cells = con.execute(
        "SELECT count(*), min(epoch_us(device_time)), max(epoch_us(device_time)), count(*) FILTER (isnan(accuracy_m) OR device_id IS NULL),"
        " count(*) FILTER (lat IS NOT NULL AND lon IS NOT NULL AND device_time IS NOT NULL) FROM ix_src"
    ).fetchall()[0]
    if not n or base is None or top - base >= 1 << T_BITS or nan_acc:
        con.execute("DROP TABLE ix_src")
        return False
    con.execute(
        "CREATE OR REPLACE TEMP TABLE ix_ids AS SELECT (row_number() OVER (ORDER BY device_id, person_id) - 1)::INTEGER"
        " AS code, device_id, person_id FROM (SELECT DISTINCT device_id, person_id FROM ix_src)"
    )
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    ids = con.sql("SELECT code, device_id, person_id FROM ix_ids ORDER BY code").to_arrow_table()
    pq.write_table(ids, tmp / "ids.parquet")
    joined = ("FROM ix_src s JOIN ix_ids i ON i.device_id IS NOT DISTINCT FROM s.device_id "
              "AND i.person_id IS NOT DISTINCT FROM s.person_id")  # fmt: skip
    _fill(con, f"""SELECT {_cell_key_sql(cell_deg, bucket_s)} AS k, i.code, epoch_us(device_time) AS t, lat, lon,
              accuracy_m AS acc {joined} WHERE lat IS NOT NULL AND lon IS NOT NULL AND device_time IS NOT NULL
              ORDER BY k, code, t""", tmp / "cells", CELL_COLS, n_cells)  # fmt: skip
    n_dev = con.execute("SELECT count(*) FROM ix_src WHERE device_time IS NOT NULL").fetchall()[0][0]
    _fill(con, f"""SELECT (CAST(i.code AS BIGINT) << {T_BITS}) + (epoch_us(device_time) - {base}) AS k,
              epoch_us(device_time) AS t, lat, lon, accuracy_m AS acc {joined} WHERE device_time IS NOT NULL
              ORDER BY k""", tmp / "devices", DEVICE_COLS, n_dev)  # fmt: skip
    for sub in ("cells", "devices"):
        _sparse(tmp / sub, np.load(tmp / sub / "k.npy", mmap_mode="r"))
    (tmp / "meta.json").write_text(json.dumps({"version": VERSION, "base_us": int(base), "rows": int(n),
                                               "cell_deg": cell_deg, "bucket_s": bucket_s}))  # fmt: skip
    con.execute("DROP TABLE ix_src; DROP TABLE ix_ids")
    shutil.rmtree(out, ignore_errors=True)
    tmp.replace(out)
    return True


def _sparse(folder: Path, k: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Every BLOCK-th key of k, kept beside it (made on first use when an older build lacks it)."""
    path = folder / "k.sparse.npy"
    if path.is_file():
        return np.asarray(np.load(path), np.int64)
    sparse = np.ascontiguousarray(k[::BLOCK])
    try:
        np.save(path, sparse)
    except OSError:  # a read-only lake: kept in memory for this run
        pass
    return sparse


def _load(folder: Path, cols: tuple[str, ...]) -> dict[str, np.ndarray[Any, Any]]:
    return {c: np.load(folder / f"{c}.npy", mmap_mode="r") for c in cols}


def _gather(arr: Any, starts: np.ndarray[Any, Any], counts: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The runs [start, start + count) of a memory-mapped .npy array, read with one pread each: a run touches a
    page or two, and a read costs less than the page faults of indexing the map."""
    out = np.empty(int(counts.sum()), arr.dtype)
    item = arr.dtype.itemsize
    view = memoryview(out.data).cast("B")
    fd = os.open(arr.filename, os.O_RDONLY)
    try:
        at = 0
        for s, c in zip(starts.tolist(), counts.tolist(), strict=True):
            n = c * item
            if os.preadv(fd, [view[at : at + n]], arr.offset + s * item) != n:
                raise OSError(f"short read in {arr.filename}")
            at += n
    finally:
        os.close(fd)
    return out


@dataclass
class DayIndex:
    folder: Path
    base_us: int
    ids: pa.Table  # code -> device_id, person_id (ordered by device_id, person_id)
    cells: dict[str, np.ndarray[Any, Any]]
    devices: dict[str, np.ndarray[Any, Any]]

    @classmethod
    def open(cls, folder: Path) -> DayIndex:
        meta = json.loads((folder / "meta.json").read_text())
        cells, devices = _load(folder / "cells", CELL_COLS), _load(folder / "devices", DEVICE_COLS)
        for sub, arrays in (("cells", cells), ("devices", devices)):
            arrays["sparse"] = _sparse(folder / sub, arrays["k"])
        return cls(folder, int(meta["base_us"]), pq.read_table(folder / "ids.parquet"), cells, devices)

    @staticmethod
    def _search(
        arrays: dict[str, np.ndarray[Any, Any]], values: np.ndarray[Any, Any], side: Any
    ) -> np.ndarray[Any, Any]:
        """np.searchsorted(k, values, side) reading only the blocks of k the values fall in: the sparse copy (every
        BLOCK-th key, in memory) picks the block, one read fetches it."""
        k, sparse = arrays["k"], arrays["sparse"]
        j = np.maximum(np.searchsorted(sparse, values, side) - 1, 0)
        blocks = np.unique(j)
        counts = np.minimum(BLOCK, len(k) - blocks * BLOCK)
        seg = np.concatenate(([0], np.cumsum(counts)[:-1]))
        # the blocks read back to back are still sorted, and a value's answer lies in its block or at its end
        p = np.searchsorted(_gather(k, blocks * BLOCK, counts), values, side)
        i = np.searchsorted(blocks, j)
        return np.asarray(blocks[i] * BLOCK + (p - seg[i]), np.int64)

    def _rows(self, arrays: dict[str, np.ndarray[Any, Any]], starts: np.ndarray[Any, Any],
              ends: np.ndarray[Any, Any]) -> pa.Table:  # fmt: skip
        """The rows in [start, end) runs (disjoint, ascending) as positions: person_id, device_id, device_time,
        lat, lon, accuracy_m."""
        keep = ends > starts
        starts, ends = starts[keep], ends[keep]
        if len(starts):  # runs that touch (a cell's consecutive time buckets) read as one
            new = np.concatenate(([True], starts[1:] != ends[:-1]))
            ends = ends[np.append(np.nonzero(new)[0][1:] - 1, len(ends) - 1)]
            starts = starts[new]
        counts = ends - starts
        col = {c: _gather(arrays[c], starts, counts) for c in ("code" if "code" in arrays else "k", "t", "lat",
                                                                "lon", "acc")}  # fmt: skip
        code = (col["code"] if "code" in col else (col["k"] >> T_BITS)).astype(np.int32)
        acc = col["acc"]
        return pa.table({
            "person_id": self.ids.column("person_id").take(pa.array(code)),
            "device_id": self.ids.column("device_id").take(pa.array(code)),
            "device_time": pa.array(col["t"], pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC")),
            "lat": pa.array(col["lat"]), "lon": pa.array(col["lon"]),
            "accuracy_m": pa.array(acc, mask=np.isnan(acc)),
        })  # fmt: skip

    def at_keys(self, keys: np.ndarray[Any, Any]) -> pa.Table:
        """Every position whose (cell, bucket) key is in `keys` (unique, ascending)."""
        return self._rows(
            self.cells, self._search(self.cells, keys, "left"), self._search(self.cells, keys, "right")
        )

    def around(self, device_ids: np.ndarray[Any, Any], lo_us: np.ndarray[Any, Any],
               hi_us: np.ndarray[Any, Any]) -> pa.Table:  # fmt: skip
        """Every position of each device between lo_us and hi_us (inclusive), overlapping runs merged."""
        devs = np.asarray(self.ids.column("device_id").to_pylist(), dtype=object)
        c0 = np.searchsorted(devs, device_ids, "left")
        c1 = np.searchsorted(devs, device_ids, "right")
        reps = c1 - c0
        which = np.repeat(np.arange(len(device_ids)), reps)
        codes = np.repeat(c0, reps) + np.arange(int(reps.sum())) - np.repeat(np.cumsum(reps) - reps, reps)
        lo = np.clip(lo_us[which] - self.base_us, 0, (1 << T_BITS) - 1)
        hi = np.clip(hi_us[which] - self.base_us, -1, (1 << T_BITS) - 1)
        live = hi >= lo
        codes, lo, hi = codes[live].astype(np.int64), lo[live], hi[live]
        starts = self._search(self.devices, (codes << T_BITS) + lo, "left")
        ends = self._search(self.devices, (codes << T_BITS) + hi, "right")
        order = np.argsort(starts, kind="stable")
        starts, ends = starts[order], ends[order]
        if len(starts):  # merge overlapping runs so that no position comes twice
            reach = np.maximum.accumulate(ends)
            new = np.concatenate(([True], starts[1:] > reach[:-1]))
            ends = np.maximum.reduceat(ends, np.nonzero(new)[0])
            starts = starts[new]
        return self._rows(self.devices, starts, ends)


class TrailIndex:
    """The days of the index a run's range touches, answering the two questions the matcher asks."""

    def __init__(self, days: list[DayIndex]):
        self.days = days

    def at_keys(self, keys: np.ndarray[Any, Any]) -> pa.Table:
        keys = np.unique(keys)
        return pa.concat_tables([d.at_keys(keys) for d in self.days]) if self.days else empty()

    def around(self, device_ids: list[str], lo: list[datetime], hi: list[datetime]) -> pa.Table:
        devs = np.asarray(device_ids, dtype=object)
        lo_us = np.array([int(t.timestamp() * 1_000_000) - 1 for t in lo], np.int64)
        hi_us = np.array([int(t.timestamp() * 1_000_000) + 1 for t in hi], np.int64)
        return pa.concat_tables([d.around(devs, lo_us, hi_us) for d in self.days]) if self.days else empty()


def empty() -> pa.Table:
    return pa.table({"person_id": pa.array([], pa.string()), "device_id": pa.array([], pa.string()),
                     "device_time": pa.array([], pa.timestamp("us", tz="UTC")), "lat": pa.array([], pa.float64()),
                     "lon": pa.array([], pa.float64()), "accuracy_m": pa.array([], pa.float64())})  # fmt: skip
