"""The matcher: every crime window against every wearer's trail, in DuckDB over any positions relation (the
Parquet lake, a simulated world's telemetry, or the recent store's points handed over as Arrow).

How (decision 0028): positions and crimes meet on an equi-join of (grid cell, time bucket) keys, each crime
expanded to the cells and buckets its circle and window touch; only those candidates get the exact haversine
test `distance <= radius + accuracy` (accuracy capped by policy). No per-crime Python loop over positions.
Wearers not placed at the scene are then split: "unknown" when a gap in their trail (longer than the policy's
`max_gap_s`) overlaps the window and the scene was reachable during it at `max_speed_mps`, otherwise "ruled
out" (their trail covers the window and never comes near). Passes (A1, A2, B1, ...) are built in Python from the
few positions of matched wearers only.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from openem.crime.model import policy

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
class Pass:
    label: str
    person_id: str
    device_id: str
    first_seen: datetime
    last_seen: datetime
    closest_m: float
    closest_accuracy_m: float
    positions: int
    entry_bearing: str
    exit_bearing: str
    confidence: str
    minutes_inside: float


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
    trails: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

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


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _from_us(us: int | None) -> datetime | None:
    """An instant fetched as microseconds since 1970 (DuckDB converts TIMESTAMPTZ to Python ~20x slower)."""
    return None if us is None else _EPOCH + timedelta(microseconds=us)


def _passes(con: Any, scoped: str, args: dict[str, Any], near: list[tuple[Any, ...]],
            results: dict[str, CrimeResult], pol: dict[str, Any]) -> None:  # fmt: skip
    margin = float(pol["legs_margin_s"])
    radius, max_acc = float(pol["radius_m"]), float(pol["max_accuracy_m"])
    pairs = pa.table({"key": [n[0] for n in near], "device_id": [n[1] for n in near]})
    con.register("pairs_t", pairs)
    dist = hav_sql("p.lat", "p.lon", "c.clat", "c.clon")
    rows = con.execute(
        f"""
        SELECT q.key, p.person_id, p.device_id, epoch_us(p.device_time) AS t_us, p.lat, p.lon, p.accuracy_m,
               p.speed_mps, p.heading_deg, {dist} AS dist_m,
               (p.device_time BETWEEN c.t0 AND c.t1 AND p.accuracy_m <= {max_acc}
                AND {dist} <= {radius} + p.accuracy_m) AS near
        FROM ({scoped}) p JOIN pairs_t q ON q.device_id = p.device_id JOIN crimes_t c ON c.key = q.key
        WHERE p.device_time BETWEEN c.t0 - INTERVAL {int(margin)} SECOND AND c.t1 + INTERVAL {int(margin)} SECOND
        ORDER BY q.key, p.device_id, p.device_time
        """,
        args,
    ).to_arrow_table()
    # column by column (Arrow to Python lists in C), not row by row through the DB-API
    cols = {n: rows.column(n).to_pylist() for n in ("key", "person_id", "device_id", "lat", "lon", "accuracy_m",
                                                    "speed_mps", "heading_deg", "dist_m", "near")}  # fmt: skip
    times = [d.replace(tzinfo=UTC) for d in rows.column("t_us").to_numpy().astype("datetime64[us]").tolist()]
    trails: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for key, person, device, t, lat, lon, acc, speed, heading, d, is_near in zip(
        cols["key"], cols["person_id"], cols["device_id"], times, cols["lat"], cols["lon"], cols["accuracy_m"],
        cols["speed_mps"], cols["heading_deg"], cols["dist_m"], cols["near"], strict=True,
    ):  # fmt: skip
        trails.setdefault((key, device), []).append(
            {
                "person_id": person,
                "device_id": device,
                "time": t,
                "lat": lat,
                "lon": lon,
                "accuracy_m": acc,
                "speed_mps": speed,
                "heading_deg": heading,
                "distance_m": d,
                "near": bool(is_near),
            }  # fmt: skip
        )
    by_crime: dict[str, list[tuple[str, list[dict[str, Any]]]]] = {}
    for (key, device), trail in trails.items():
        by_crime.setdefault(key, []).append((device, trail))
    for key, devices in by_crime.items():
        res = results[key]
        devices.sort(key=lambda dt: (min(p["time"] for p in dt[1] if p["near"]), dt[0]))
        for i, (device, trail) in enumerate(devices):
            res.trails[device] = trail
            res.passes.extend(build_passes(letter(i), trail, pol))


def letter(i: int) -> str:
    """A, B, ..., Z, AA, AB, ... for the i-th wearer of a crime."""
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


def bearing(a: dict[str, Any], b: dict[str, Any]) -> str:
    la1, la2 = math.radians(a["lat"]), math.radians(b["lat"])
    dl = math.radians(b["lon"] - a["lon"])
    y = math.sin(dl) * math.cos(la2)
    x = math.cos(la1) * math.sin(la2) - math.sin(la1) * math.cos(la2) * math.cos(dl)
    if abs(x) < 1e-12 and abs(y) < 1e-12:
        return ""
    deg = (math.degrees(math.atan2(y, x)) + 360) % 360
    return COMPASS[int((deg + 22.5) // 45) % 8]


def build_passes(wearer_letter: str, trail: list[dict[str, Any]], pol: dict[str, Any]) -> list[Pass]:
    """Runs of consecutive positions at the scene, split where the trail has a gap, with entry/exit bearings
    (from the positions before and after), closest approach, time inside and confidence."""
    max_gap = float(pol["max_gap_s"])
    radius = float(pol["radius_m"])
    runs: list[tuple[int, int]] = []
    start: int | None = None
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
    out: list[Pass] = []
    for n, (a, b) in enumerate(runs, 1):
        inside = trail[a : b + 1]
        closest = min(inside, key=lambda p: p["distance_m"])
        before = trail[a - 1] if a > 0 else None
        after = trail[b + 1] if b + 1 < len(trail) else None
        gap_in = (inside[0]["time"] - before["time"]).total_seconds() if before else math.inf
        gap_out = (after["time"] - inside[-1]["time"]).total_seconds() if after else math.inf
        if (
            closest["distance_m"] <= radius
            and closest["accuracy_m"] <= 50
            and max(gap_in, gap_out) <= max_gap
        ):
            confidence = "high"
        elif closest["distance_m"] > radius and closest["accuracy_m"] > 100 or max(gap_in, gap_out) > max_gap:
            confidence = "low"
        else:
            confidence = "medium"
        out.append(
            Pass(
                label=f"{wearer_letter}{n}",
                person_id=str(inside[0]["person_id"]),
                device_id=str(inside[0]["device_id"]),
                first_seen=inside[0]["time"],
                last_seen=inside[-1]["time"],
                closest_m=round(float(closest["distance_m"]), 1),
                closest_accuracy_m=round(float(closest["accuracy_m"]), 1),
                positions=len(inside),
                entry_bearing=bearing(before, inside[0]) if before else "",
                exit_bearing=bearing(inside[-1], after) if after else "",
                confidence=confidence,
                minutes_inside=round((inside[-1]["time"] - inside[0]["time"]).total_seconds() / 60, 1),
            )
        )
    return out


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
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE trail_edges AS
            WITH e AS (SELECT * FROM {edges} WHERE t2 >= $r0 - INTERVAL 2 DAY AND t2 <= $r1 + INTERVAL 2 DAY),
            b AS (
              SELECT *, lag(t2) OVER w AS pt, lag(lat2) OVER w AS plat, lag(lon2) OVER w AS plon
              FROM e WHERE t1 IS NULL OR t3 IS NULL WINDOW w AS (PARTITION BY device_id ORDER BY t2)
            )
            SELECT device_id, person_id, t2, lat2, lon2, pt AS t1, plat AS lat1, plon AS lon1, t3 FROM b
            WHERE t1 IS NULL
            UNION ALL
            SELECT device_id, person_id, t2, lat2, lon2, t1, lat1, lon1, t3 FROM e WHERE t1 IS NOT NULL
            """,
            args,
        )
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
    rows = con.execute(
        f"""
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
        ),
        reach AS (
          SELECT c.key, g.device_id, g.person_id, g.t1, g.t2,
                 CASE WHEN g.lat1 IS NULL THEN 0 ELSE greatest(0, {d1} - {reach}) END AS da,
                 CASE WHEN g.lat2 IS NULL THEN 0 ELSE greatest(0, {d2} - {reach}) END AS db,
                 epoch(c.t0) AS c0, epoch(c.t1) AS c1
          FROM g JOIN crimes_t c ON g.t1 < c.t1 AND g.t2 > c.t0
        )
        SELECT key, device_id, person_id, epoch_us(t1), epoch_us(t2) FROM reach
        WHERE greatest(epoch(t1) + da / {vmax}, c0) <= least(epoch(t2) - db / {vmax}, c1)
        ORDER BY key, device_id, t1
        """
    ).fetchall()
    placed = {key: {p.device_id for p in res.passes} for key, res in results.items()}
    for key, device, person, t1, t2 in rows:
        res = results[key]
        if device in placed[key]:
            continue
        res.unknown.append(Unknown(str(person), str(device), _from_us(t1), _from_us(t2)))
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
