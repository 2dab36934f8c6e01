"""Where trails come from, each as a DuckDB view the matcher reads (`positions`, and `wearers` when the source
knows activations and orders): a simulated world's folder, the Parquet trail lake (read by date partition, never
loaded whole), or rows of the recent store handed over as Arrow."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from openem.core.time import LONDON
from openem.crime.model import policy


def permitted(order: dict[str, Any], pol: dict[str, Any] | None = None) -> bool:
    """Does this order's document allow its trail to be matched against crimes? Policy as data: an
    acquisitive-crime scheme, or a trail-monitoring condition."""
    pol = pol or policy()
    mon = order.get("monitoring") if isinstance(order.get("monitoring"), dict) else {}
    scheme = str((mon or {}).get("scheme") or "").upper()
    if any(s in scheme for s in pol["permitted_schemes_containing"]):
        return True
    cond = order.get("conditions") if isinstance(order.get("conditions"), dict) else {}
    return any((cond or {}).get(c) for c in pol["permitted_conditions"])


def _sql_path(p: Path) -> str:
    return str(p).replace("'", "''")


def world_views(con: Any, world: Path) -> tuple[str, str]:
    """`positions` (GPS fixes of wearers' devices with the person from the activation live at the fix) and
    `wearers` (GPS activations whose order permits crime matching) over a world folder."""
    world = Path(world)
    tele = world / "telemetry"
    if not (tele.is_dir() and (world / "activations.parquet").is_file()):
        raise FileNotFoundError(f"{world} is not a simulated world (telemetry/ and activations.parquet)")
    refs: list[str] = []
    orders = world / "orders.jsonl"
    if orders.is_file():
        with orders.open(encoding="utf-8") as fh:
            for line in fh:
                try:
                    doc = json.loads(line)
                except ValueError:
                    continue
                if isinstance(doc, dict) and permitted(doc):
                    refs.append(str(doc.get("ref") or doc.get("order_ref") or ""))
    con.register("permitted_orders", pa.table({"order_ref": pa.array(refs, pa.string())}))
    act = _sql_path(world / "activations.parquet")
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW wearers AS
        SELECT a.person_id, a.device_id, CAST(a.start AS TIMESTAMPTZ) AS start, CAST(a."end" AS TIMESTAMPTZ) AS "end"
        FROM read_parquet('{act}') a JOIN permitted_orders o ON o.order_ref = a.order_ref
        WHERE a.device_kind = 'GPS_TAG' AND a.role = 'WEARER'"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW positions AS
        SELECT a.person_id, t.device_id, CAST(t.device_time AS TIMESTAMPTZ) AS device_time, t.lat, t.lon,
               t.accuracy_m, t.speed_mps, t.heading_deg
        FROM read_parquet('{_sql_path(tele)}/*.parquet') t
        JOIN read_parquet('{act}') a ON a.device_id = t.device_id AND t.device_time >= a.start
             AND (a."end" IS NULL OR t.device_time < a."end")
        WHERE t.type = 'gps' AND t.lat IS NOT NULL AND t.lon IS NOT NULL"""
    )
    return "positions", "wearers"


def lake_views(con: Any, lake: Path, r0: datetime, r1: datetime) -> str:
    """`positions` over the lake's date partitions the range touches (a London day each), nothing else read."""
    lake = Path(lake)
    d0, d1 = r0.astimezone(LONDON).date(), r1.astimezone(LONDON).date()
    days = [d0 + timedelta(days=i) for i in range((d1 - d0).days + 1)]
    files = [str(p) for d in days for p in sorted((lake / f"date={d.isoformat()}").glob("*.parquet"))]
    if not files:
        con.execute(
            """CREATE OR REPLACE TEMP VIEW positions AS SELECT CAST(NULL AS VARCHAR) AS person_id,
            CAST(NULL AS VARCHAR) AS device_id, CAST(NULL AS TIMESTAMPTZ) AS device_time, 0.0 AS lat, 0.0 AS lon,
            0.0 AS accuracy_m, CAST(NULL AS DOUBLE) AS speed_mps, CAST(NULL AS DOUBLE) AS heading_deg WHERE false"""
        )
        return "positions"
    listed = ", ".join(f"'{_sql_path(Path(f))}'" for f in files)
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW positions AS
        SELECT person_id, device_id, device_time, lat, lon, accuracy_m,
               CAST(NULL AS DOUBLE) AS speed_mps, CAST(NULL AS DOUBLE) AS heading_deg
        FROM read_parquet([{listed}])"""
    )
    return "positions"


def _day_files(lake: Path, r0: datetime, r1: datetime) -> dict[str, list[Path]]:
    d0, d1 = r0.astimezone(LONDON).date(), r1.astimezone(LONDON).date()
    days = [(d0 + timedelta(days=i)).isoformat() for i in range((d1 - d0).days + 1)]
    return {d: sorted((lake / f"date={d}").glob("*.parquet")) for d in days}


def lake_coverage(con: Any, lake: Path, r0: datetime, r1: datetime, max_gap: float) -> str | None:
    """`edges` for the matcher from the lake's per-day coverage (`_coverage/date=D.parquet`: each device's first
    and last position of the day and both ends of every gap), built once per day and rebuilt when the day's
    files are newer; None when the lake cannot be written (the matcher then makes them itself)."""
    import duckdb

    from openem.crime.matching import edges_select

    out: list[str] = []
    for day, files in _day_files(Path(lake), r0, r1).items():
        if not files:
            continue
        cov = Path(lake) / "_coverage" / f"date={day}.parquet"
        newest = max(f.stat().st_mtime for f in files)
        if not cov.is_file() or cov.stat().st_mtime < newest:
            listed = ", ".join(f"'{_sql_path(f)}'" for f in files)
            src = f"SELECT person_id, device_id, device_time, lat, lon FROM read_parquet([{listed}])"
            try:
                cov.parent.mkdir(parents=True, exist_ok=True)
                tmp = cov.with_suffix(".tmp")
                con.execute(f"COPY ({edges_select(src, max_gap)}) TO '{_sql_path(tmp)}' (FORMAT parquet)")
                tmp.replace(cov)
            except (OSError, duckdb.IOException):  # a read-only lake: the matcher computes the gaps itself
                return None
        out.append(f"'{_sql_path(cov)}'")
    if not out:
        return None
    con.execute(f"CREATE OR REPLACE TEMP VIEW coverage AS SELECT * FROM read_parquet([{', '.join(out)}])")
    return "coverage"


POINTS_SCHEMA = pa.schema(
    [
        ("person_id", pa.string()),
        ("device_id", pa.string()),
        ("device_time", pa.timestamp("us", tz="UTC")),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("accuracy_m", pa.float64()),
        ("speed_mps", pa.float64()),
        ("heading_deg", pa.float64()),
    ]
)


def arrow_views(con: Any, points: pa.Table, wearers: pa.Table | None) -> tuple[str, str | None]:
    """Views over positions already in memory (the recent store's points for a run's range)."""
    con.register("positions_t", points)
    con.execute("CREATE OR REPLACE TEMP VIEW positions AS SELECT * FROM positions_t")
    if wearers is None:
        return "positions", None
    con.register("wearers_t", wearers)
    con.execute("CREATE OR REPLACE TEMP VIEW wearers AS SELECT * FROM wearers_t")
    return "positions", "wearers"


def lake_index(con: Any, lake: Path, r0: datetime, r1: datetime) -> Any | None:
    """The trail index (`crime.lake_index`, `_index/date=D/`) over the days the range touches, each day built
    once and rebuilt when its files are newer; None when a day cannot be indexed or the lake cannot be written
    (the matcher then scans the day's Parquet)."""
    from openem.crime import lake_index
    from openem.crime.matching import BUCKET_S, CELL_DEG

    days: list[lake_index.DayIndex] = []
    for day, files in _day_files(Path(lake), r0, r1).items():
        if not files:
            continue
        folder = Path(lake) / "_index" / f"date={day}"
        meta = folder / "meta.json"
        try:
            fresh = meta.is_file() and meta.stat().st_mtime > max(f.stat().st_mtime for f in files)
            if fresh:
                m = json.loads(meta.read_text())
                fresh = (m.get("version"), m.get("cell_deg"), m.get("bucket_s")) == (
                    lake_index.VERSION,
                    CELL_DEG,
                    BUCKET_S,
                )
            if not fresh and not lake_index.build_day(con, files, folder, CELL_DEG, BUCKET_S):
                return None
        except OSError:  # a read-only lake
            return None
        days.append(lake_index.DayIndex.open(folder))
    return lake_index.TrailIndex(days)
