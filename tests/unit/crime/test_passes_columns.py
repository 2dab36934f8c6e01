"""Passes and gap edges are built column by column over a whole batch; what a caseworker sees must be what
walking each trail position by position gives: the same passes (split at gaps, closest approach the first of
equal distances, bearings from the positions either side, confidence), the same gaps across midnight."""

from __future__ import annotations

import math
from datetime import timedelta

import duckdb
import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.crime_worlds import CRIME_FROM, SCENE, offset

from openem.crime import gaps
from openem.crime.matching import build_passes
from openem.crime.model import policy
from openem.crime.passes import Pass, bearing


def _walked(wearer_letter, trail, pol):
    """The passes found by walking the trail position by position (the matcher's original builder)."""
    max_gap, radius = float(pol["max_gap_s"]), float(pol["radius_m"])
    runs, start = [], None
    for i, p in enumerate(trail):
        gap = i > 0 and (p["time"] - trail[i - 1]["time"]).total_seconds() > max_gap
        if p["near"] and start is not None and gap:
            runs.append((start, i - 1))
            start = i
        elif p["near"] and start is None:
            start = i
        elif not p["near"] and start is not None:
            runs.append((start, i - 1))
            start = None
    if start is not None:
        runs.append((start, len(trail) - 1))
    out = []
    for n, (a, b) in enumerate(runs, 1):
        inside = trail[a : b + 1]
        closest = min(inside, key=lambda p: p["distance_m"])
        before = trail[a - 1] if a > 0 else None
        after = trail[b + 1] if b + 1 < len(trail) else None
        gap_in = (inside[0]["time"] - before["time"]).total_seconds() if before else math.inf
        gap_out = (after["time"] - inside[-1]["time"]).total_seconds() if after else math.inf
        d, acc = closest["distance_m"], closest["accuracy_m"]
        if d <= radius and acc <= 50 and max(gap_in, gap_out) <= max_gap:
            confidence = "high"
        elif d > radius and acc > 100 or max(gap_in, gap_out) > max_gap:
            confidence = "low"
        else:
            confidence = "medium"
        out.append(Pass(f"{wearer_letter}{n}", inside[0]["person_id"], inside[0]["device_id"], inside[0]["time"],
                        inside[-1]["time"], round(float(d), 1), round(float(acc), 1), len(inside),
                        bearing(before, inside[0]) if before else "", bearing(inside[-1], after) if after else "",
                        confidence, round((inside[-1]["time"] - inside[0]["time"]).total_seconds() / 60, 1)))  # fmt: skip
    return out


def _trail(steps):
    """Positions from (seconds since the last, metres north of the scene, accuracy, near) steps."""
    t, out = CRIME_FROM, []
    for i, (dt, north, acc, near) in enumerate(steps):
        t += timedelta(seconds=dt)
        lat, lon = offset(*SCENE, north, 0.0)
        out.append({"person_id": "P-1" if i % 7 else "P-2", "device_id": "GPS-1", "time": t, "lat": lat,
                    "lon": lon, "accuracy_m": acc, "distance_m": abs(north), "near": near})  # fmt: skip
    return out


def test_a_stay_at_the_scene_broken_by_a_gap_is_two_low_confidence_passes():
    pol = policy()
    steps = [(60, -500.0, 10.0, False)] + [(60, 5.0 * i, 10.0, True) for i in range(4)]
    steps += [(1200, 20.0, 10.0, True), (60, 10.0, 10.0, True), (60, 600.0, 10.0, False)]
    trail = _trail(steps)
    first, second = build_passes("A", trail, pol)
    assert (first.label, first.positions, first.confidence, first.entry_bearing) == ("A1", 4, "low", "N")
    assert (second.label, second.positions, second.confidence, second.exit_bearing) == ("A2", 2, "low", "N")
    assert second.first_seen - first.last_seen == timedelta(minutes=20)
    assert [first, second] == _walked("A", trail, pol)


def test_the_closest_approach_is_the_first_of_equal_distances():
    trail = _trail([(60, 30.0, 40.0, True), (60, 30.0, 80.0, True), (60, 50.0, 5.0, True)])
    [p] = build_passes("B", trail, policy())
    assert (p.closest_m, p.closest_accuracy_m, p.entry_bearing, p.exit_bearing) == (30.0, 40.0, "", "")


step = st.tuples(st.sampled_from([1, 30, 60, 300, 301, 900]), st.sampled_from([-300.0, -40.0, 0.0, 20.0, 20.0, 250.0]),
                 st.sampled_from([5.0, 50.0, 60.0, 150.0, 300.0]), st.booleans())  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(step, min_size=1, max_size=25))
def test_passes_built_by_columns_are_those_walked_position_by_position(steps):
    trail = _trail(steps)
    assert build_passes("C", trail, policy()) == _walked("C", trail, policy())


# the matcher's former window query over the coverage's days: the oracle for `gaps.join_days`
WINDOW_SQL = """
    WITH b AS (
      SELECT *, lag(t2) OVER w AS pt, lag(lat2) OVER w AS plat, lag(lon2) OVER w AS plon
      FROM e WHERE t1 IS NULL OR t3 IS NULL WINDOW w AS (PARTITION BY device_id ORDER BY t2)
    )
    SELECT device_id, person_id, t2, lat2, lon2, pt AS t1, plat AS lat1, plon AS lon1, t3 FROM b WHERE t1 IS NULL
    UNION ALL
    SELECT device_id, person_id, t2, lat2, lon2, t1, lat1, lon1, t3 FROM e WHERE t1 IS NOT NULL
"""


def _coverage(seed):
    """Day-end and gap rows of a few devices over three days (one device with no id, one seen on one day)."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(6):
        device = None if d == 5 else f"GPS-{d}"
        for day in range(3 if d != 4 else 1):
            t0 = CRIME_FROM + timedelta(days=day, minutes=int(rng.integers(0, 600)))
            times = sorted({t0 + timedelta(minutes=int(m)) for m in rng.integers(0, 800, 4)})
            for i, t in enumerate(times):  # first, gaps, last
                prev = times[i - 1] if i else None
                nxt = times[i + 1] if i + 1 < len(times) else None
                rows.append({"device_id": device, "person_id": f"P-{d}", "t2": t, "lat2": float(rng.normal()),
                             "lon2": float(rng.normal()), "t1": prev, "lat1": None if prev is None else 1.0,
                             "lon1": None if prev is None else 2.0, "t3": nxt})  # fmt: skip
    rng.shuffle(rows)
    return pa.Table.from_pylist(rows).cast(pa.schema([
        ("device_id", pa.string()), ("person_id", pa.string()), ("t2", pa.timestamp("us", tz="UTC")),
        ("lat2", pa.float64()), ("lon2", pa.float64()), ("t1", pa.timestamp("us", tz="UTC")), ("lat1", pa.float64()),
        ("lon1", pa.float64()), ("t3", pa.timestamp("us", tz="UTC")),
    ]))  # fmt: skip


def test_coverage_days_joined_by_columns_match_the_window_query():
    for seed in range(5):
        e = _coverage(seed)
        con = duckdb.connect()
        con.register("e", e)
        expected = sorted(con.sql(WINDOW_SQL).fetchall(), key=repr)
        con.register("j", gaps.join_days(e))
        assert sorted(con.sql("SELECT * FROM j").fetchall(), key=repr) == expected
        firsts = [r for r in expected if r[0] == "GPS-1" and r[8] is None]
        assert firsts  # each day's last row of a device seen on three days...
        later = [
            r for r in expected if r[0] == "GPS-1" and r[5] is not None and r[5] in {f[2] for f in firsts}
        ]
        assert later  # ...is the predecessor of the next day's first: a gap across midnight is still seen
    assert gaps.join_days(_coverage(0).slice(0, 0)).num_rows == 0  # a range the coverage has nothing for


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 100), st.integers(0, 50)), min_size=0, max_size=20),
       st.lists(st.tuples(st.integers(0, 100), st.integers(0, 30)), min_size=0, max_size=20))  # fmt: skip
def test_gap_crime_overlaps_by_binary_search_are_every_overlapping_pair(gap_spans, crime_spans):
    g1 = np.array([a for a, _ in gap_spans], np.int64)
    g2 = g1 + np.array([n for _, n in gap_spans], np.int64)
    c0 = np.array([a for a, _ in crime_spans], np.int64)
    c1 = c0 + np.array([n for _, n in crime_spans], np.int64)
    gi, ci = gaps.overlapping(g1, g2, c0, c1)
    brute = {(i, j) for i in range(len(g1)) for j in range(len(c0)) if g1[i] < c1[j] and g2[i] > c0[j]}
    assert sorted(zip(gi.tolist(), ci.tolist(), strict=True)) == sorted(brute)
