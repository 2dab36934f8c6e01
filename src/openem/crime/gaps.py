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
    """The trail's edges over several days of coverage (rows: device_id, person_id, t2, lat2, lon2, t1, lat1,
    lon1, t3; t1 null on a day's first position, t3 on its last): the rows with a predecessor in their day as
    they are, and each day's first position with t1/lat1/lon1 from the device's previous day-end row (null if
    none). Devices are grouped by dictionary code, not sorted as text."""
    e = e.select(list(EDGE_COLS)).combine_chunks()
    dev = pc.dictionary_encode(e["device_id"].combine_chunks()).indices.fill_null(-1).to_numpy()
    t2 = e["t2"].cast(pa.int64()).fill_null(np.iinfo(np.int64).max).to_numpy()
    first, last = (np.asarray(pc.is_null(e[c]).to_numpy(zero_copy_only=False), bool) for c in ("t1", "t3"))
    at = np.flatnonzero(first | last)
    at = at[np.lexsort((t2[at], dev[at]))]  # a device's day ends in time order
    n = len(at)
    same = np.zeros(n, bool)
    same[1:] = dev[at[1:]] == dev[at[:-1]]  # the end before is the same device's: the predecessor
    take = pa.array(at[first[at]])
    prev = pa.array(np.where(same, np.concatenate(([0], at[:-1])), -1)[first[at]])
    keep = pc.greater_equal(prev, 0)
    safe = pc.max_element_wise(prev, 0)

    def lagged(col: str) -> Any:
        return pc.if_else(keep, e[col].take(safe), pa.scalar(None, e.schema.field(col).type))

    joined = e.take(take)
    joined = joined.set_column(5, "t1", lagged("t2")).set_column(6, "lat1", lagged("lat2"))
    joined = joined.set_column(7, "lon1", lagged("lon2"))
    return pa.concat_tables([joined, e.filter(pa.array(~first)).cast(joined.schema)])


def overlapping(g1: np.ndarray[Any, Any], g2: np.ndarray[Any, Any], c0: np.ndarray[Any, Any],
                c1: np.ndarray[Any, Any]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:  # fmt: skip
    """Every (gap, crime) pair whose spans overlap (g1 < c1 and g2 > c0; instants as integers), by binary
    search over the crimes sorted by start: a gap's candidates start after g1 less the longest window."""
    order = np.argsort(c0, kind="stable")
    s0, s1 = c0[order], c1[order]
    longest = int((c1 - c0).max()) if len(c0) else 0
    lo = np.searchsorted(s0, g1 - longest, "left")
    hi = np.searchsorted(s0, g2, "left")  # crimes starting before the gap ends
    n = np.maximum(hi - lo, 0)
    gap = np.repeat(np.arange(len(g1)), n)
    at = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n) + lo[gap]
    keep = s1[at] > g1[gap]
    return gap[keep], order[at[keep]]
