"""The matcher: every crime window against every wearer's trail, in DuckDB over any positions relation (the
Parquet lake, a simulated world's telemetry, or the recent store's points handed over as Arrow).

How (decision 0028): positions and crimes meet on an equi-join of (grid cell, time bucket) keys, each crime
expanded to the cells and buckets its circle and window touch; only those candidates get the exact haversine
test `distance <= radius + accuracy` (accuracy capped by policy). No per-crime Python loop over positions.
Wearers not placed at the scene are then split: "unknown" when a gap in their trail (longer than the policy's
`max_gap_s`) overlaps the window and the scene was reachable during it at `max_speed_mps`, otherwise "ruled
out" (their trail covers the window and never comes near). Passes (A1, A2, B1, ...) are built column by column
from the matched wearers' positions (`passes`); gap edges and (gap, crime) pairs likewise (`gaps`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from openem.crime import gaps, passes
from openem.crime.model import policy
from openem.crime.passes import Pass, Trails, from_us, letter

ALGORITHM = "cell-bucket-join/1"
CELL_DEG = 0.01
BUCKET_S = 1800
R = 6_371_008.8


def hav_sql(lat1: str, lon1: str, lat2: str, lon2: str) -> str:
    return (
        f"(2 * {R} * asin(least(1, sqrt(pow(sin(radians({lat2} - {lat1}) / 2), 2) + cos(radians({lat1})) * "
        f"cos(radians({lat2})) * pow(sin(radians({lon2} - {lon1}) / 2), 2)))))"
    )


@dataclass(frozen=True)
class CrimeWindow:
    key: str  # unique in a run (a crime version id, or the reference in a file)
    reference: str
    lat: float
    lon: float
    start: datetime
    end: datetime


@dataclass
class Unknown:
    person_id: str
    device_id: str
    gap_start: datetime | None
    gap_end: datetime | None


@dataclass
class CrimeResult:
    crime: CrimeWindow
    passes: list[Pass] = field(default_factory=list)
    unknown: list[Unknown] = field(default_factory=list)
    considered: int = 0
    #: positions of matched wearers around the window: (device_id -> list of dicts), for evidence
    trails: Mapping[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def ruled_out(self) -> int:
        matched = {p.device_id for p in self.passes}
        return max(0, self.considered - len(matched) - len({u.device_id for u in self.unknown} - matched))


def _crime_table(crimes: list[CrimeWindow]) -> pa.Table:
    return pa.table(
        {
            "key": [c.key for c in crimes],
            "clat": [c.lat for c in crimes],
            "clon": [c.lon for c in crimes],
            "t0": pa.array([c.start for c in crimes], pa.timestamp("us", tz="UTC")),
            "t1": pa.array([c.end for c in crimes], pa.timestamp("us", tz="UTC")),
        }
    )


def _key_table(crimes: list[CrimeWindow], reach_m: float) -> pa.Table:
    """(key, cy, cx, tb) for every grid cell and time bucket each crime's circle and window touch."""
    keys: list[str] = []
    cys: list[np.ndarray[Any, Any]] = []
    cxs: list[np.ndarray[Any, Any]] = []
    tbs: list[np.ndarray[Any, Any]] = []
    for c in crimes:
        dlat = reach_m / 111_000.0
        dlon = reach_m / (111_000.0 * max(0.05, math.cos(math.radians(c.lat))))
        ys = np.arange(math.floor((c.lat - dlat) / CELL_DEG), math.floor((c.lat + dlat) / CELL_DEG) + 1)
        xs = np.arange(math.floor((c.lon - dlon) / CELL_DEG), math.floor((c.lon + dlon) / CELL_DEG) + 1)
        bs = np.arange(
            math.floor(c.start.timestamp() / BUCKET_S), math.floor(c.end.timestamp() / BUCKET_S) + 1
        )
        g = np.array(np.meshgrid(ys, xs, bs, indexing="ij")).reshape(3, -1)
        keys.extend([c.key] * g.shape[1])
        cys.append(g[0])
        cxs.append(g[1])
        tbs.append(g[2])
    if not crimes:
        return pa.table({"key": pa.array([], pa.string()), "cy": pa.array([], pa.int32()),
                         "cx": pa.array([], pa.int32()), "tb": pa.array([], pa.int64())})  # fmt: skip
    return pa.table(
        {
            "key": keys,
            "cy": pa.array(np.concatenate(cys).astype(np.int32)),
            "cx": pa.array(np.concatenate(cxs).astype(np.int32)),
            "tb": pa.array(np.concatenate(tbs).astype(np.int64)),
        }
    )


def time_range(crimes: list[CrimeWindow], pol: dict[str, Any] | None = None) -> tuple[datetime, datetime]:
    """The instants whose positions a run reads: every window widened by the legs margin."""
    margin = timedelta(seconds=float((pol or policy())["legs_margin_s"]))
    return min(c.start for c in crimes) - margin, max(c.end for c in crimes) + margin


def match(
    con: Any,
    positions: str,
    crimes: list[CrimeWindow],
    wearers: str | None = None,
    pol: dict[str, Any] | None = None,
    timings: dict[str, float] | None = None,
    edges: str | None = None,
    index: Any | None = None,
) -> list[CrimeResult]:
    """Match crimes against the DuckDB relation named `positions` (person_id, device_id, device_time, lat, lon,
    accuracy_m, speed_mps, heading_deg). `wearers` (optional relation: person_id, device_id, start, end) limits
    the trails to permitted activations live at the time and counts live wearers with no positions as unknown.
    `edges` (optional relation, as `edges_select` makes, e.g. the lake's per-day coverage) spares the window
    pass over every position. `index` (optional, `lake_index.TrailIndex` over the same positions) hands over
    only the rows the near and passes steps can keep, instead of their scans; the SQL is the same."""
    pol = pol or policy()
    if not crimes:
        return []
    started = time.perf_counter()
    radius, max_acc = float(pol["radius_m"]), float(pol["max_accuracy_m"])
    max_gap, vmax = float(pol["max_gap_s"]), float(pol["max_speed_mps"])
    r0, r1 = time_range(crimes, pol)
    reach = radius + max_acc
    lat_lo = min(c.lat for c in crimes) - reach / 111_000 - CELL_DEG
    lat_hi = max(c.lat for c in crimes) + reach / 111_000 + CELL_DEG
    lon_lo = min(c.lon for c in crimes) - 2 * reach / 111_000 / 0.45 - CELL_DEG
    lon_hi = max(c.lon for c in crimes) + 2 * reach / 111_000 / 0.45 + CELL_DEG
    con.register("crimes_t", _crime_table(crimes))
    keys = _key_table(crimes, reach)
    con.register("keys_t", keys)
    permit = ""
    if wearers:
        permit = (f"JOIN {wearers} w ON w.device_id = p.device_id AND p.device_time >= w.start "
                  "AND (w.\"end\" IS NULL OR p.device_time < w.\"end\")")  # fmt: skip

    def scope(rel: str) -> str:
        return (
            f"SELECT p.person_id, p.device_id, p.device_time, p.lat, p.lon, "
            f"coalesce(p.accuracy_m, {max_acc}) AS accuracy_m, p.speed_mps, p.heading_deg "
            f"FROM {rel} p {permit} WHERE p.device_time >= $r0 AND p.device_time <= $r1"
        )

    scoped = near_scoped = pass_scoped = scope(positions)
    if index is not None:
        from openem.crime.lake_index import cell_keys

        np_keys = [keys.column(c).to_numpy() for c in ("cy", "cx", "tb")]
        near_scoped = scope(_indexed_view(con, "near_pos", index.at_keys(cell_keys(*np_keys))))
    args = {"r0": r0, "r1": r1}
    dist = hav_sql("p.lat", "p.lon", "c.clat", "c.clon")
    near = con.execute(
        f"""
        WITH p AS (
          SELECT *, CAST(floor(lat / {CELL_DEG}) AS INTEGER) AS cy, CAST(floor(lon / {CELL_DEG}) AS INTEGER) AS cx,
                 CAST(floor(epoch(device_time) / {BUCKET_S}) AS BIGINT) AS tb
          FROM ({near_scoped}) s WHERE lat BETWEEN {lat_lo} AND {lat_hi} AND lon BETWEEN {lon_lo} AND {lon_hi}
            AND accuracy_m <= {max_acc}
        )
        SELECT k.key, p.device_id
        FROM p JOIN keys_t k ON p.cy = k.cy AND p.cx = k.cx AND p.tb = k.tb
        JOIN crimes_t c ON c.key = k.key
        WHERE p.device_time BETWEEN c.t0 AND c.t1 AND {dist} <= {radius} + p.accuracy_m
        GROUP BY k.key, p.device_id
        """,
        args,
    ).fetchall()
    results = {c.key: CrimeResult(c) for c in crimes}
    marks = [time.perf_counter()]
    if near:
        if index is not None:  # the candidates' positions around each window, nothing else
            by_key = {c.key: c for c in crimes}
            margin = timedelta(seconds=float(pol["legs_margin_s"]))
            trail = index.around([n[1] for n in near], [by_key[n[0]].start - margin for n in near],
                                 [by_key[n[0]].end + margin for n in near])  # fmt: skip
            pass_scoped = scope(_indexed_view(con, "pass_pos", trail))
        _passes(con, pass_scoped, args, near, results, pol)
    marks.append(time.perf_counter())
    _unknown_and_considered(con, scoped, args, results, wearers, pol, r0, r1, max_gap, vmax, reach, edges)
    marks.append(time.perf_counter())
    if timings is not None:
        timings.update(
            {"near_s": marks[0] - started, "passes_s": marks[1] - marks[0], "gaps_s": marks[2] - marks[1]}
        )
    return [results[c.key] for c in crimes]


def _indexed_view(con: Any, name: str, rows: pa.Table) -> str:
    """A positions view over rows the trail index handed over (the lake has no speed or heading)."""
    con.register(f"{name}_t", rows)
    con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT *, CAST(NULL AS DOUBLE) AS speed_mps, "
                f"CAST(NULL AS DOUBLE) AS heading_deg FROM {name}_t")  # fmt: skip
    return name


def _passes(con: Any, scoped: str, args: dict[str, Any], near: list[tuple[Any, ...]],
            results: dict[str, CrimeResult], pol: dict[str, Any]) -> None:  # fmt: skip
    """Each candidate's positions around its crime's window (the legs margin either side) as Arrow columns,
    sorted by candidate and time, then passes column by column (`passes.find_runs`): no Python per position."""
    margin = float(pol["legs_margin_s"])
    radius, max_acc = float(pol["radius_m"]), float(pol["max_accuracy_m"])
    pairs = pa.table({"pid": pa.array(np.arange(len(near), dtype=np.int32)), "key": [n[0] for n in near],
                      "device_id": [n[1] for n in near]})  # fmt: skip
    con.register("pairs_t", pairs)
    dist = hav_sql("p.lat", "p.lon", "c.clat", "c.clon")
    rows = (
        con.sql(
            f"""
        SELECT q.pid, p.person_id, p.device_id, epoch_us(p.device_time) AS t_us, p.lat, p.lon, p.accuracy_m,
               p.speed_mps, p.heading_deg, {dist} AS dist_m,
               coalesce(p.device_time BETWEEN c.t0 AND c.t1 AND p.accuracy_m <= {max_acc}
                        AND {dist} <= {radius} + p.accuracy_m, false) AS near
        FROM ({scoped}) p JOIN pairs_t q ON q.device_id = p.device_id JOIN crimes_t c ON c.key = q.key
        WHERE p.device_time BETWEEN c.t0 - INTERVAL {int(margin)} SECOND AND c.t1 + INTERVAL {int(margin)} SECOND
        ORDER BY q.key, p.device_id, p.device_time
        """,
            params=args,
        )
        .to_arrow_table()
        .combine_chunks()
    )
    pid = rows.column("pid").to_numpy()
    t_us = rows.column("t_us").to_numpy()
    runs = passes.find_runs(pid, t_us, rows.column("near").to_numpy(zero_copy_only=False),
                            rows.column("dist_m").fill_null(np.nan).to_numpy(), float(pol["max_gap_s"]))  # fmt: skip
    # per crime, its trails (row spans) and its wearers' letters, in order of arrival at the scene
    bounds = np.flatnonzero(np.diff(pid)) + 1
    starts, ends = np.concatenate(([0], bounds)).tolist(), np.concatenate((bounds, [len(pid)])).tolist()
    # a wearer arrives at their first run (the dict keeps the last value given: runs read backwards)
    arrival = dict(zip(runs.group[::-1].tolist(), t_us[runs.first[::-1]].tolist(), strict=True))
    by_crime: dict[str, list[tuple[int, str, int, int, int]]] = {}
    for a, b in zip(starts, ends, strict=True):
        g = int(pid[a])
        by_crime.setdefault(near[g][0], []).append((arrival[g], near[g][1], g, a, b))
    rank: dict[int, int] = {}
    for key, trails in by_crime.items():
        trails.sort()
        results[key].trails = Trails(rows, {dev: (a, b) for _, dev, _, a, b in trails})
        rank.update({g: i for i, (_, _, g, _, _) in enumerate(trails)})
    group, number = runs.group.tolist(), passes.numbers_within(runs.group).tolist()
    labels = [f"{letter(rank[g])}{n}" for g, n in zip(group, number, strict=True)]
    made = passes.make_passes(rows, runs, labels, pol)
    ordered: dict[str, list[tuple[int, Pass]]] = {}
    for g, p in zip(group, made, strict=True):
        ordered.setdefault(near[g][0], []).append((rank[g], p))
    for key, ps in ordered.items():  # wearer by wearer (a stable sort keeps each one's passes in time order)
        ps.sort(key=lambda x: x[0])
        results[key].passes.extend(p for _, p in ps)


def build_passes(wearer_letter: str, trail: list[dict[str, Any]], pol: dict[str, Any]) -> list[Pass]:
    """The passes of one trail given as dicts (time, lat, lon, accuracy_m, distance_m, near, ...), through the
    same column-by-column builder as a batch: runs of consecutive positions at the scene, split where the trail
    has a gap, with entry/exit bearings, closest approach, time inside and confidence."""
    if not trail:
        return []
    t_us = np.array([(p["time"] - passes.EPOCH) // timedelta(microseconds=1) for p in trail], np.int64)
    rows = pa.table({"person_id": [p["person_id"] for p in trail], "device_id": [p["device_id"] for p in trail],
                     "t_us": t_us, "lat": [p["lat"] for p in trail], "lon": [p["lon"] for p in trail],
                     "accuracy_m": [p["accuracy_m"] for p in trail], "dist_m": [p["distance_m"] for p in trail]})  # fmt: skip
    near = np.array([bool(p["near"]) for p in trail])
    runs = passes.find_runs(np.zeros(len(trail), np.int32), t_us, near,
                            np.array([p["distance_m"] for p in trail], np.float64), float(pol["max_gap_s"]))  # fmt: skip
    return passes.make_passes(rows, runs, [f"{wearer_letter}{i}" for i in range(1, len(runs.first) + 1)], pol)


def edges_select(positions_sql: str, max_gap: float) -> str:
    """The rows of a trail that gap analysis needs: each device's first and last position and both ends of
    every gap longer than `max_gap` seconds (t1/lat1/lon1: the position before; t3: the time of the next)."""
    return f"""
        WITH p AS ({positions_sql}),
        l AS (
          SELECT device_id, person_id, device_time AS t2, lat AS lat2, lon AS lon2,
                 lag(device_time) OVER w AS t1, lag(lat) OVER w AS lat1, lag(lon) OVER w AS lon1,
                 lead(device_time) OVER w AS t3
          FROM p WINDOW w AS (PARTITION BY device_id ORDER BY device_time)
        )
        SELECT * FROM l WHERE t1 IS NULL OR t3 IS NULL OR epoch(t2) - epoch(t1) > {max_gap}
    """


def _unknown_and_considered(con: Any, scoped: str, args: dict[str, Any], results: dict[str, CrimeResult],
                            wearers: str | None, pol: dict[str, Any], r0: datetime, r1: datetime,
                            max_gap: float, vmax: float, reach: float, edges: str | None) -> None:  # fmt: skip
    """Gaps in each wearer's trail (between positions, and before the first / after the last in the range, or a
    live activation with no positions at all) that overlap a crime's window while the scene was reachable.

    One window pass over the range's positions keeps only the rows that matter (each device's first and last
    position, and both ends of every gap longer than `max_gap_s`) in a small temporary table; the rest of the
    analysis runs on that table."""
    if edges:
        # precomputed per day (coverage): join the days, taking each day's first position's predecessor from
        # the day before, so that a gap across midnight is still a gap
        days = con.sql(f"SELECT * FROM {edges} WHERE t2 >= $r0 - INTERVAL 2 DAY AND t2 <= $r1 + INTERVAL 2 DAY",
                       params=args).to_arrow_table()  # fmt: skip
        con.register("trail_edges_t", gaps.join_days(days))
        con.execute("CREATE OR REPLACE TEMP TABLE trail_edges AS SELECT * FROM trail_edges_t")
    else:
        con.execute(f"CREATE OR REPLACE TEMP TABLE trail_edges AS {edges_select(scoped, max_gap)}", args)
    if wearers:
        spans = (f"SELECT device_id, any_value(person_id) AS person_id, greatest(min(start), $r0) AS s0, "
                 f"least(coalesce(max(\"end\"), $r1), $r1) AS s1 FROM {wearers} "
                 f"WHERE start <= $r1 AND (\"end\" IS NULL OR \"end\" >= $r0) GROUP BY device_id")  # fmt: skip
    else:
        spans = ("SELECT device_id, any_value(person_id) AS person_id, $r0 AS s0, $r1 AS s1 "
                 "FROM trail_edges GROUP BY device_id")  # fmt: skip
    con.execute(f"CREATE OR REPLACE TEMP TABLE trail_spans AS {spans}", args)
    d1 = hav_sql("g.lat1", "g.lon1", "c.clat", "c.clon")
    d2 = hav_sql("g.lat2", "g.lon2", "c.clat", "c.clon")
    found = con.sql(f"""
        WITH e AS (
          SELECT device_id, min(t2) AS first_t, max(t2) AS last_t,
                 arg_min(lat2, t2) AS flat, arg_min(lon2, t2) AS flon,
                 arg_max(lat2, t2) AS llat, arg_max(lon2, t2) AS llon
          FROM trail_edges GROUP BY device_id
        ),
        g AS (
          SELECT device_id, person_id, t1, lat1, lon1, t2, lat2, lon2 FROM trail_edges
          WHERE t1 IS NOT NULL AND epoch(t2) - epoch(t1) > {max_gap}
          UNION ALL
          SELECT sp.device_id, sp.person_id, sp.s0, NULL, NULL, e.first_t, e.flat, e.flon
          FROM trail_spans sp JOIN e USING (device_id) WHERE epoch(e.first_t) - epoch(sp.s0) > {max_gap}
          UNION ALL
          SELECT sp.device_id, sp.person_id, e.last_t, e.llat, e.llon, sp.s1, NULL, NULL
          FROM trail_spans sp JOIN e USING (device_id) WHERE epoch(sp.s1) - epoch(e.last_t) > {max_gap}
          UNION ALL
          SELECT sp.device_id, sp.person_id, sp.s0, NULL, NULL, sp.s1, NULL, NULL
          FROM trail_spans sp LEFT JOIN e USING (device_id) WHERE e.device_id IS NULL
        )
        SELECT * FROM g
        """).to_arrow_table()  # fmt: skip
    found = found.append_column("gi", pa.array(np.arange(found.num_rows, dtype=np.int64)))
    con.register("trail_gaps_t", found)
    crimes_t = con.table("crimes_t").to_arrow_table()
    gi, ci = gaps.overlapping(*(found.column(c).cast(pa.int64()).to_numpy() for c in ("t1", "t2")),
                              *(crimes_t.column(c).cast(pa.int64()).to_numpy() for c in ("t0", "t1")))  # fmt: skip
    con.register("gap_pairs_t", pa.table({"gi": gi, "key": crimes_t.column("key").take(pa.array(ci))}))
    rows = con.sql(
        f"""
        WITH reach AS (
          SELECT c.key, g.device_id, g.person_id, g.t1, g.t2,
                 CASE WHEN g.lat1 IS NULL THEN 0 ELSE greatest(0, {d1} - {reach}) END AS da,
                 CASE WHEN g.lat2 IS NULL THEN 0 ELSE greatest(0, {d2} - {reach}) END AS db,
                 epoch(c.t0) AS c0, epoch(c.t1) AS c1
          FROM trail_gaps_t g JOIN gap_pairs_t q ON q.gi = g.gi JOIN crimes_t c ON c.key = q.key
        )
        SELECT key, device_id, person_id, epoch_us(t1), epoch_us(t2) FROM reach
        WHERE greatest(epoch(t1) + da / {vmax}, c0) <= least(epoch(t2) - db / {vmax}, c1)
        ORDER BY key, device_id, t1
        """
    ).to_arrow_table()
    placed = {key: {p.device_id for p in res.passes} for key, res in results.items()}
    cols = [rows.column(i).to_pylist() for i in range(3)]
    t1s, t2s = (rows.column(i).to_pylist() for i in (3, 4))
    for key, device, person, t1, t2 in zip(*cols, t1s, t2s, strict=True):
        if device in placed[key]:
            continue
        results[key].unknown.append(Unknown(str(person), str(device), from_us(t1), from_us(t2)))
    if not wearers:  # every trail spans the whole range: each crime considers them all
        n_all = int(con.execute("SELECT count(*) FROM trail_spans").fetchall()[0][0])
        counts = [(key, n_all) for key in results]
    else:
        counts = con.execute(
            """SELECT c.key, count(DISTINCT sp.device_id) FROM crimes_t c JOIN trail_spans sp
            ON sp.s0 <= c.t1 AND sp.s1 >= c.t0 GROUP BY c.key"""
        ).fetchall()
    for key, n in counts:
        results[key].considered = int(n)
