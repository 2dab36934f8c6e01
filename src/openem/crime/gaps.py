"""Gap analysis's column work: the lake's per-day coverage (each device's first and last position of a day and
both ends of every gap within it) joined across days with Arrow and NumPy, no window query and no Python per
row: each day's first position takes its predecessor from the day before, so that a gap across midnight is
still a gap."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

EDGE_COLS = ("device_id", "person_id", "t2", "lat2", "lon2", "t1", "lat1", "lon1", "t3")


def join_days(e: pa.Table) -> pa.Table:
    """The trail's edges over the days of `e` (coverage rows: device_id, person_id, t2, lat2, lon2, t1, lat1,
    lon1, t3; t1 null on a day's first position, t3 on its last): every row with a predecessor in its day as it
    is, and each day's first position with t1/lat1/lon1 from the device's previous day-end row (null if none)."""
    e = e.select(list(EDGE_COLS))
    ends = e.filter(pc.or_(pc.is_null(e["t1"]), pc.is_null(e["t3"])))
    ends = ends.take(pc.sort_indices(ends, [("device_id", "ascending"), ("t2", "ascending")], null_placement="at_end"))
    n = ends.num_rows
    dev = pc.dictionary_encode(ends["device_id"].combine_chunks()).indices.fill_null(-1).to_numpy()
    same = np.zeros(n, bool)
    same[1:] = dev[1:] == dev[:-1]  # the row before is the same device's: its predecessor
    prev = pa.array(np.maximum(np.arange(n) - 1, 0))
    firsts = np.asarray(pc.is_null(ends["t1"]).to_numpy(zero_copy_only=False), bool)
    keep = pa.array(same)

    def lagged(col: str) -> Any:
        taken = ends[col].take(prev) if n else ends[col]
        return pc.if_else(keep, taken, pa.scalar(None, ends.schema.field(col).type))

    joined = ends.set_column(5, "t1", lagged("t2")).set_column(6, "lat1", lagged("lat2"))
    joined = joined.set_column(7, "lon1", lagged("lon2")).filter(pa.array(firsts))
    inner = e.filter(pc.is_valid(e["t1"]))
    return pa.concat_tables([joined, inner.cast(joined.schema)])
