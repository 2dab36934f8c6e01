"""Crime matching at scale: a batch of crimes against every wearer's trail in a Parquet lake, the matcher
(`openem.crime.matching`: grid cell + time bucket equi-join, exact haversine, gap analysis) beside a naive peer in
the same process: the same question as one DuckDB join on `lat/lon/time BETWEEN` (no keys), run on a subset of
the crimes and scaled up when the full batch would take too long.

    .venv/bin/python benchmarks/crime_match.py --wearers 2000 --hours 24 --crimes 1000

The lake is synthetic (random walks around England's towns, one fix a minute, 10% of wearers with an hour's
gap), written under --dir (default a temporary folder) as `date=YYYY-MM-DD/part-N.parquet`. Crimes are placed
on random fixes (so some are matched) and at random places. Peak memory is the process's max RSS.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from openem.crime import matching, sources  # noqa: E402
from openem.crime.model import policy  # noqa: E402

START = datetime(2026, 11, 3, 0, 0, tzinfo=UTC)
TOWNS = [(51.50, -0.12), (52.48, -1.90), (53.48, -2.24), (53.80, -1.55), (51.45, -2.59), (52.95, -1.15),
         (50.82, -0.14), (53.41, -2.98), (54.97, -1.61), (51.48, -3.18)]  # fmt: skip


MEMORY_LIMIT = "3GB"


def _connect() -> duckdb.DuckDBPyConnection:
    """A DuckDB connection held to MEMORY_LIMIT (it spills to disk past it), as the product's runs are."""
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    return con


def write_lake(folder: Path, wearers: int, hours: int, seed: int) -> int:
    """Random walks, one fix a minute, written per London day (`date=D/part-N.parquet`) as the trail export does;
    vectorised (numpy + pyarrow: ids are dictionary-encoded, never built as Python strings per row)."""
    import pyarrow.compute as pc

    from openem.core.time import LONDON

    rng = np.random.default_rng(seed)
    n_min = hours * 60
    total = 0
    chunk = max(1, 4_000_000 // n_min)
    names = pa.array([f"{i}" for i in range(wearers)])
    dev_names = pc.binary_join_element_wise(pa.scalar("GPS-B"), names, "")
    per_names = pc.binary_join_element_wise(pa.scalar("PER-B"), names, "")
    t0_us = np.datetime64(START.replace(tzinfo=None), "us")
    day_of_min = np.array([(START + timedelta(minutes=m)).astimezone(LONDON).date().toordinal()
                           for m in range(n_min)], np.int64)  # fmt: skip
    for part, lo in enumerate(range(0, wearers, chunk)):
        hi = min(wearers, lo + chunk)
        k = hi - lo
        town = rng.integers(0, len(TOWNS), k)
        base = np.array([TOWNS[t] for t in town]) + rng.normal(0, 0.05, (k, 2))
        steps = rng.normal(0, 0.0004, (k, n_min, 2)).cumsum(axis=1)
        lat = (base[:, None, 0] + steps[:, :, 0]).ravel()
        lon = (base[:, None, 1] + steps[:, :, 1]).ravel()
        del steps
        minutes = np.tile(np.arange(n_min), k)
        keep = np.ones(k * n_min, bool)
        gappy = np.nonzero(rng.random(k) < 0.1)[0]
        starts = rng.integers(0, max(1, n_min - 60), len(gappy))
        for i, g in zip(gappy, starts, strict=True):
            keep[i * n_min + g : i * n_min + g + 60] = False
        ids = np.repeat(np.arange(lo, hi, dtype=np.int32), n_min)
        us = (t0_us + minutes * np.timedelta64(60_000_000, "us")
              + np.repeat(rng.integers(0, 60_000_000, k), n_min).astype("timedelta64[us]"))  # fmt: skip
        acc = rng.gamma(2.0, 6.0, k * n_min)
        day = day_of_min[minutes]
        for d in np.unique(day):
            sel = keep & (day == d)
            idx = pa.array(ids[sel])
            dev = pa.DictionaryArray.from_arrays(idx, dev_names).cast(pa.string())
            table = pa.table({
                "person_id": pa.DictionaryArray.from_arrays(idx, per_names).cast(pa.string()),
                "activation_id": dev, "device_id": dev, "seq": pa.array(minutes[sel].astype(np.int64)),
                "device_time": pa.array(us[sel], pa.timestamp("us", tz="UTC")), "lat": pa.array(lat[sel]),
                "lon": pa.array(lon[sel]), "accuracy_m": pa.array(acc[sel]),
            })  # fmt: skip
            out = folder / f"date={datetime.fromordinal(int(d)).date().isoformat()}"
            out.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, out / f"part-{part}.parquet", compression="zstd")
            total += table.num_rows
    return total


def make_crimes(folder: Path, n: int, hours: int, seed: int) -> list[matching.CrimeWindow]:
    """Half on fixes sampled from the lake, half at random places; kept beside the lake (the sample is a scan)."""
    kept = folder.parent / f"{folder.name}-crimes-{n}-{hours}-{seed}.parquet"
    if kept.is_file() and kept.stat().st_mtime > max(
        p.stat().st_mtime for p in folder.glob("date=*/*.parquet")
    ):
        return [matching.CrimeWindow(**r) for r in pq.read_table(kept).to_pylist()]
    crimes = _sample_crimes(folder, n, hours, seed)
    pq.write_table(pa.Table.from_pylist([vars(c) for c in crimes]), kept)
    return crimes


def _sample_crimes(folder: Path, n: int, hours: int, seed: int) -> list[matching.CrimeWindow]:
    rng = np.random.default_rng(seed + 1)
    con = _connect()
    sample = con.execute(
        f"SELECT lat, lon, device_time FROM read_parquet('{folder}/date=*/*.parquet') USING SAMPLE reservoir({n // 2} ROWS) REPEATABLE ({seed})"
    ).fetchall()
    con.close()
    crimes = []
    for i in range(n):
        if i < len(sample):
            lat, lon, t = sample[i]
        else:
            lat, lon = TOWNS[int(rng.integers(0, len(TOWNS)))]
            lat, lon = lat + rng.normal(0, 0.05), lon + rng.normal(0, 0.05)
            t = START + timedelta(minutes=int(rng.integers(60, hours * 60 - 60)))
        length = timedelta(minutes=int(rng.integers(10, 180)))
        crimes.append(
            matching.CrimeWindow(
                f"k{i}", f"BENCH-{i}", float(lat), float(lon), t - length / 2, t + length / 2
            )
        )
    return crimes


def naive(lake: Path, crimes: list[matching.CrimeWindow]) -> tuple[float, int]:
    """One DuckDB join on BETWEEN predicates (bounding box and window), exact haversine after: the peer."""
    pol = policy()
    con = _connect()
    r0, r1 = matching.time_range(crimes)
    sources.lake_views(con, lake, r0, r1)
    con.register("cr", pa.table({"key": [c.key for c in crimes], "clat": [c.lat for c in crimes],
                                 "clon": [c.lon for c in crimes],
                                 "t0": pa.array([c.start for c in crimes], pa.timestamp("us", tz="UTC")),
                                 "t1": pa.array([c.end for c in crimes], pa.timestamp("us", tz="UTC"))}))  # fmt: skip
    d = 0.006
    dist = matching.hav_sql("p.lat", "p.lon", "c.clat", "c.clon")
    t = time.perf_counter()
    n = con.execute(
        f"""SELECT count(DISTINCT (c.key, p.device_id)) FROM positions p JOIN cr c
        ON p.lat BETWEEN c.clat - {d} AND c.clat + {d} AND p.lon BETWEEN c.clon - {2 * d} AND c.clon + {2 * d}
        AND p.device_time BETWEEN c.t0 AND c.t1
        WHERE p.accuracy_m <= {pol["max_accuracy_m"]} AND {dist} <= {pol["radius_m"]} + p.accuracy_m"""
    ).fetchall()[0][0]
    el = time.perf_counter() - t
    con.close()
    return el, int(n)


def spatial(python: str, lake: Path, crimes: list[matching.CrimeWindow]) -> dict[str, Any]:
    """DuckDB's spatial extension as a peer (benchmarks/crime_spatial_peer.py in its own interpreter: the
    extension's wheel pins an older DuckDB than the project's)."""
    import json
    import subprocess

    pol = policy()
    cf = lake.parent / f"{lake.name}-bench-crimes.parquet"
    pq.write_table(pa.table({"key": [c.key for c in crimes], "clat": [c.lat for c in crimes],
                             "clon": [c.lon for c in crimes],
                             "t0": pa.array([c.start for c in crimes], pa.timestamp("us", tz="UTC")),
                             "t1": pa.array([c.end for c in crimes], pa.timestamp("us", tz="UTC"))}), cf)  # fmt: skip
    peer = Path(__file__).with_name("crime_spatial_peer.py")
    out = subprocess.run([python, str(peer), str(lake), str(cf), str(pol["radius_m"]), str(pol["max_accuracy_m"])],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _key(results: list[matching.CrimeResult]) -> list[Any]:
    """What a user sees of a run: per crime the passes (every field), the unknown wearers and the counts."""
    return [(r.crime.key, r.considered, r.ruled_out, sorted(tuple(vars(p).values()) for p in r.passes),
             sorted((u.device_id, u.gap_start, u.gap_end) for u in r.unknown)) for r in results]  # fmt: skip


def _pairs(results: list[matching.CrimeResult]) -> int:
    return sum(len({p.device_id for p in r.passes}) for r in results)


def _matcher(
    folder: Path, crimes: list[matching.CrimeWindow], index: bool = True
) -> tuple[float, Any, dict[str, float]]:
    """The product's path (`openem crime match --lake`: the lake's coverage and trail index), timed."""
    from openem.crime import offline

    tm: dict[str, float] = {}
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t = time.perf_counter()
    res = offline.run(crimes, lake=str(folder), index=index, timings=tm)
    el = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    tm["cpu_s"] = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime  # every thread of the process
    return el, res, tm


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--wearers", type=int, default=2000)
    ap.add_argument("--hours", type=int, default=24)
    ap.add_argument("--crimes", type=int, default=1000)
    ap.add_argument("--naive-crimes", type=int, default=100, help="crimes the naive peer runs (then scaled)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dir", default="", help="the lake's folder, kept and reused by later runs")
    ap.add_argument(
        "--postgis-dir", default="", help="a PostgreSQL+PostGIS cluster folder, made and kept (peer)"
    )
    ap.add_argument("--postgis-days", type=int, default=1, help="days of the lake loaded into PostGIS")
    ap.add_argument(
        "--spatial-python", default="", help="an interpreter with duckdb-extension-spatial (peer)"
    )
    ap.add_argument("--spatial-crimes", type=int, default=0, help="crimes the spatial peer runs (0: all)")
    ap.add_argument("--no-scan", action="store_true", help="skip the matcher without the trail index")
    ap.add_argument("--inline", action="store_true", help="also the matcher without coverage or index")
    ap.add_argument(
        "--repeat", type=int, default=1, help="runs of the matcher on the batch (the last is reported)"
    )
    ap.add_argument("--spark", action="store_true", help="also run the Spark engine (local[2]) on the lake")
    ap.add_argument("--memory-limit", default="3GB", help="DuckDB's memory_limit for every connection")
    args = ap.parse_args()
    global MEMORY_LIMIT
    MEMORY_LIMIT = args.memory_limit
    os.environ["OPENEM_CRIME_DUCKDB_MEMORY"] = args.memory_limit
    print(f"start: {_load()}")
    folder = Path(args.dir or tempfile.mkdtemp(prefix="crime-bench-"))
    t = time.perf_counter()
    existing = list(folder.glob("date=*/*.parquet"))
    if existing and args.dir:  # the same lake again (written by an earlier run with the same arguments)
        rows = int(
            _connect()
            .execute(f"SELECT count(*) FROM read_parquet('{folder}/date=*/*.parquet')")
            .fetchall()[0][0]
        )
    else:
        rows = write_lake(folder, args.wearers, args.hours, args.seed)
    print(
        f"lake: {rows:,} positions, {args.wearers:,} wearers, {args.hours} h in {time.perf_counter() - t:.1f} s ({folder})"
    )
    crimes = make_crimes(folder, args.crimes, args.hours, args.seed)
    r0, r1 = matching.time_range(crimes)
    con = _connect()
    t = time.perf_counter()
    sources.lake_coverage(con, folder, r0, r1, float(policy()["max_gap_s"]))
    built_cov = time.perf_counter() - t
    t = time.perf_counter()
    indexed = sources.lake_index(con, folder, r0, r1) is not None
    built_ix = time.perf_counter() - t
    con.close()
    print(f"per-day coverage and trail index (built once per day, reused by every batch; 0 s when cached): "
          f"{built_cov:.1f} s and {built_ix:.1f} s, index usable: {indexed}")  # fmt: skip
    for i in range(args.repeat - 1):  # earlier runs of the same batch (a cold page cache first)
        el_r, _, tm_r = _matcher(folder, crimes)
        print(f"matcher run {i + 1}: {el_r:.2f} s, cpu {tm_r['cpu_s']:.2f} s ({_load()})")
    el, res, tm = _matcher(folder, crimes)
    print(f"matcher ({matching.ALGORITHM}, coverage + trail index, as `openem crime match --lake`): {len(crimes):,} "
          f"crimes in {el:.2f} s: {_pairs(res):,} crime-wearer matches, {sum(len(r.passes) for r in res):,} passes, "
          f"{sum(len({u.device_id for u in r.unknown}) for r in res):,} unknown (gaps); "
          + ", ".join(f"{k} {v:.2f}" for k, v in tm.items()) + f" ({_load()})")  # fmt: skip
    if not args.no_scan:
        el_s, res_s, tm_s = _matcher(folder, crimes, index=False)
        print(f"matcher without the index (scans the days' Parquet): {el_s:.2f} s, identical results: "
              f"{_key(res_s) == _key(res)}; " + ", ".join(f"{k} {v:.2f}" for k, v in tm_s.items())
              + f" | ratio {el_s / max(el, 1e-9):.1f}x")  # fmt: skip
    if args.inline:
        from openem.crime import offline

        t = time.perf_counter()
        res_i = offline.run(crimes, lake=str(folder), index=False, coverage=False)
        print(
            f"matcher without coverage or index: {time.perf_counter() - t:.2f} s, same: {_key(res_i) == _key(res)}"
        )
    sub = crimes[: args.naive_crimes]
    el_sub, mine_sub, _ = _matcher(folder, sub)
    el_naive, naive_pairs = naive(folder, sub)
    print(f"same {len(sub)} crimes: matcher {el_sub:.2f} s ({_pairs(mine_sub)} matches, with gap analysis and passes) | "
          f"naive BETWEEN join {el_naive:.2f} s ({naive_pairs} matches, no gaps) | ratio {el_naive / max(el_sub, 1e-9):.1f}x"
          f" | scaled to {len(crimes):,} crimes: ~{el_naive * len(crimes) / len(sub):.0f} s")  # fmt: skip
    if args.postgis_dir:
        import crime_postgis_peer as pgp

        days = sorted(p.name.split("=", 1)[1] for p in folder.glob("date=*") if p.is_dir())[
            : args.postgis_days
        ]
        from datetime import date

        from openem.store.lake import day_bounds

        lo, hi = day_bounds(date.fromisoformat(days[0]))[0], day_bounds(date.fromisoformat(days[-1]))[1]
        sub_pg = [c for c in crimes if c.start >= lo and c.end < hi]
        cl = pgp.Cluster(Path(args.postgis_dir))
        try:
            load_s, pg_rows, fresh = pgp.load(cl.url, folder, days)
            q, n_pg = pgp.query(
                cl.url, sub_pg, float(policy()["radius_m"]), float(policy()["max_accuracy_m"])
            )
        finally:
            cl.stop()
        el_pg, mine_pg, _ = _matcher(folder, sub_pg)
        print(f"PostGIS ST_DWithin + GiST over {pg_rows:,} positions ({len(days)} day(s), "
              f"{'loaded and indexed now in' if fresh else 'cached, checked in'} {load_s:.0f} s): the "
              f"{len(sub_pg):,} crimes inside those days in {q:.2f} s ({n_pg} matches, no gaps) | matcher on the same "
              f"crimes over the whole lake {el_pg:.2f} s ({_pairs(mine_pg)} matches, with gaps and passes) | ratio "
              f"{q / max(el_pg, 1e-9):.1f}x")  # fmt: skip
    if args.spatial_python:
        sub_s = crimes[: args.spatial_crimes or len(crimes)]
        sp = spatial(args.spatial_python, folder, sub_s)
        el_s, mine_s, _ = _matcher(folder, sub_s)
        print(f"DuckDB spatial (duckdb {sp['duckdb']}, ST_DWithin_Spheroid, no gaps): {len(sub_s):,} crimes in "
              f"{sp['s']:.2f} s ({sp['matches']} matches) | matcher {el_s:.2f} s ({_pairs(mine_s)} matches, with "
              f"coverage, gaps, passes) | ratio {sp['s'] / max(el_s, 1e-9):.1f}x")  # fmt: skip
    if args.spark:
        from openem.crime import spark_engine

        tsp: dict[str, float] = {}
        t = time.perf_counter()
        spark_engine.run(crimes[:1], str(folder))  # start the JVM and the session once
        warm = time.perf_counter() - t
        t = time.perf_counter()
        sres = spark_engine.run(crimes, str(folder), timings=tsp)
        el_sp = time.perf_counter() - t
        print(f"Spark engine (local[2], session started in {warm:.1f} s): {len(crimes):,} crimes in {el_sp:.2f} s "
              f"(spark {tsp.get('spark_s', 0):.2f}, driver {tsp.get('driver_s', 0):.2f}), same results as DuckDB: "
              f"{_key(sres) == _key(res)} | ratio {el_sp / max(el, 1e-9):.1f}x the matcher")  # fmt: skip
    print(f"end: {_load()}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
