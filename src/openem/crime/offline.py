"""Matching without a server: a force's file against a simulated world's or the lake's trails, results written
to a folder (results.csv one line per pass or unknown wearer, crimes.csv one line per crime with the counts,
errors.csv the refusals). Used by `openem crime match` and the benchmark."""

from __future__ import annotations

import csv
import os
import time
from pathlib import Path
from typing import Any

import duckdb

from openem.core.time import iso
from openem.crime import matching, sources
from openem.crime.model import policy
from openem.crime.rules import errors_csv_rows, parse_file, safe_cell


def result_rows(results: list[matching.CrimeResult]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for r in results:
        for p in r.passes:
            rows.append({"crime_reference": r.crime.reference, "crime_version": r.crime.key, "status": "match",
                         "person_id": p.person_id, "device_id": p.device_id, "pass_label": p.label,
                         "closest_m": p.closest_m, "closest_accuracy_m": p.closest_accuracy_m,
                         "first_seen": iso(p.first_seen), "last_seen": iso(p.last_seen), "positions": p.positions,
                         "minutes_inside": p.minutes_inside, "entry_bearing": p.entry_bearing,
                         "exit_bearing": p.exit_bearing, "confidence": p.confidence})  # fmt: skip
        for u in r.unknown:
            rows.append({"crime_reference": r.crime.reference, "crime_version": r.crime.key, "status": "unknown",
                         "person_id": u.person_id, "device_id": u.device_id,
                         "first_seen": iso(u.gap_start) if u.gap_start else "",
                         "last_seen": iso(u.gap_end) if u.gap_end else ""})  # fmt: skip
    return rows


def run(windows: list[matching.CrimeWindow], *, world: str | None = None, lake: str | None = None,
        pol: dict[str, Any] | None = None, coverage: bool = True,
        index: bool = True, timings: dict[str, float] | None = None) -> list[matching.CrimeResult]:  # fmt: skip
    if not windows:
        return []
    con = duckdb.connect()
    # held under a memory limit (DuckDB spills to disk past it): a lake of any size is matched in bounded memory
    con.execute(f"SET memory_limit = '{os.environ.get('OPENEM_CRIME_DUCKDB_MEMORY', '3GB')}'")
    try:
        if world:
            pos, w = sources.world_views(con, Path(world))
            return matching.match(con, pos, windows, w, pol, timings)
        if not lake or not Path(lake).is_dir():
            raise FileNotFoundError(f"{lake} is not a trail lake folder")
        r0, r1 = matching.time_range(windows, pol)
        pos = sources.lake_views(con, Path(lake), r0, r1)
        max_gap = float((pol or policy())["max_gap_s"])
        edges = sources.lake_coverage(con, Path(lake), r0, r1, max_gap) if coverage else None
        trail_index = sources.lake_index(con, Path(lake), r0, r1) if index else None
        return matching.match(con, pos, windows, None, pol, timings, edges=edges, index=trail_index)
    finally:
        con.close()


def match_file(
    data: bytes,
    out: Path,
    *,
    world: str | None = None,
    lake: str | None = None,
    engine: str = "duckdb",
    spark_master: str | None = None,
) -> dict[str, Any]:
    if engine == "spark" and not lake:
        raise ValueError("--engine spark reads the trail lake: give --lake DIR")
    t0 = time.perf_counter()
    parsed = parse_file(data)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "errors.csv").open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(errors_csv_rows(parsed))
    windows = [] if parsed.outcome == "failed" else [
        matching.CrimeWindow(c.reference, c.reference, c.lat, c.lon, c.date_from, c.date_to) for c in parsed.crimes
    ]  # fmt: skip
    t1 = time.perf_counter()
    if engine == "spark" and windows:
        from openem.crime import spark_engine

        results = spark_engine.run(windows, str(lake), master=spark_master)
    else:
        results = run(windows, world=world, lake=lake)
    t2 = time.perf_counter()
    rows = result_rows(results)
    cols = ["crime_reference", "crime_version", "status", "person_id", "device_id", "pass_label", "closest_m",
            "closest_accuracy_m", "first_seen", "last_seen", "positions", "minutes_inside", "entry_bearing",
            "exit_bearing", "confidence"]  # fmt: skip
    with (out / "results.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for row in rows:
            w.writerow([safe_cell(row.get(c, "")) for c in cols])
    with (out / "crimes.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["crime_reference", "date_from", "date_to", "lat", "lon", "wearers_considered", "matched",
                    "unknown", "ruled_out"])  # fmt: skip
        for r in results:
            w.writerow([safe_cell(r.crime.reference), iso(r.crime.start), iso(r.crime.end), f"{r.crime.lat:.6f}",
                        f"{r.crime.lon:.6f}", r.considered, len({p.device_id for p in r.passes}),
                        len({u.device_id for u in r.unknown}), r.ruled_out])  # fmt: skip
    return {
        "outcome": parsed.outcome, "crimes": len(windows), "row_errors": len(parsed.row_errors),
        "file_errors": [e.type for e in parsed.file_errors], "passes": sum(len(r.passes) for r in results),
        "unknown": sum(len(r.unknown) for r in results), "algorithm": matching.ALGORITHM,
        "policy": policy()["version"], "engine": engine, "parse_s": round(t1 - t0, 3), "match_s": round(t2 - t1, 3),
        "out": str(out),
    }  # fmt: skip
