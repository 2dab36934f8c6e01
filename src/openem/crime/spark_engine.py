"""The matcher as a PySpark job (`openem crime match --lake DIR --engine spark`): the scans that grow with the
lake run on Spark's executors; the small remainder runs on the driver through the very same code as the DuckDB
path, so the two engines give identical results (tested on one lake).

What Spark does, over the lake's date partitions the run's range touches (never the whole lake):
1. the cell + time-bucket equi-join of every position against every crime's keys and the haversine test, giving
   the candidate wearers (with a metre of slack: the exact test is repeated on the driver, so a last-digit
   difference between the JVM's and DuckDB's sine can never drop a wearer);
2. the positions of those candidates in the range (for passes and evidence: a few per crime);
3. each device's per-day coverage: first and last position of each London day and both ends of every gap longer
   than `max_gap_s` (one window pass, `lag`/`lead` partitioned by device and day), which is what the DuckDB path
   keeps in `_coverage/date=D.parquet`.
The driver then registers (2) and (3) in DuckDB as Arrow and calls `matching.match` with them (passes, unknown,
ruled out): the rows it reads are a few thousand, whatever the lake's size.

The master is `local[2]` unless `OPENEM_SPARK_MASTER` (or `--spark-master`) names a cluster, e.g.
`spark://host:7077` or `yarn`; on a cluster the lake path must be one every executor reads (a shared file
system, or `s3a://`/`hdfs://` with the matching Hadoop connector). See docs/crime-spark.md.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from openem.core.time import LONDON
from openem.crime import matching
from openem.crime.model import policy
from openem.crime.sources import POINTS_SCHEMA

DEFAULT_MASTER = "local[2]"
SLACK_M = 1.0  # candidates a metre wider than the exact test the driver repeats


def master_url(explicit: str | None = None) -> str:
    return explicit or os.environ.get("OPENEM_SPARK_MASTER") or DEFAULT_MASTER


def session(master: str | None = None) -> Any:
    """A Spark session (one per process: reused). UTC session time zone, so timestamps cross as instants."""
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(master_url(master))
        .appName("openem-crime-match")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", os.environ.get("OPENEM_SPARK_SHUFFLE_PARTITIONS", "8"))
        .config("spark.ui.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )


def _day_dirs(lake: str, r0: datetime, r1: datetime) -> list[str]:
    d0, d1 = r0.astimezone(LONDON).date(), r1.astimezone(LONDON).date()
    days = [(d0 + timedelta(days=i)).isoformat() for i in range((d1 - d0).days + 1)]
    if "://" in lake:  # a cluster's store: trust the layout, Spark reports a missing day as empty below
        return [f"{lake.rstrip('/')}/date={d}" for d in days]
    return [str(Path(lake) / f"date={d}") for d in days if any((Path(lake) / f"date={d}").glob("*.parquet"))]


def _hav(F: Any, lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:
    """The same haversine as `matching.hav_sql`, in Spark column expressions."""
    a = F.pow(F.sin(F.radians(lat2 - lat1) / 2), 2) + F.cos(F.radians(lat1)) * F.cos(F.radians(lat2)) * F.pow(
        F.sin(F.radians(lon2 - lon1) / 2), 2
    )
    return 2 * matching.R * F.asin(F.least(F.lit(1.0), F.sqrt(a)))


def _arrow(df: Any, schema: pa.Schema) -> pa.Table:
    t = df.toArrow()
    return t.select(schema.names).cast(schema) if t.num_rows else schema.empty_table()


#: the lake's point columns the matcher reads (the first six of `sources.POINTS_SCHEMA`)
POSITIONS = pa.schema([POINTS_SCHEMA.field(i) for i in range(6)])
EDGES = pa.schema(
    [
        ("device_id", pa.string()),
        ("person_id", pa.string()),
        ("t2", pa.timestamp("us", tz="UTC")),
        ("lat2", pa.float64()),
        ("lon2", pa.float64()),
        ("t1", pa.timestamp("us", tz="UTC")),
        ("lat1", pa.float64()),
        ("lon1", pa.float64()),
        ("t3", pa.timestamp("us", tz="UTC")),
    ]
)


def run(
    windows: list[matching.CrimeWindow],
    lake: str,
    *,
    pol: dict[str, Any] | None = None,
    master: str | None = None,
    timings: dict[str, float] | None = None,
) -> list[matching.CrimeResult]:
    """Match crimes against the lake with Spark doing the scans; results as `offline.run(lake=...)`'s."""
    import time

    from pyspark.sql import Window
    from pyspark.sql import functions as F

    pol = pol or policy()
    if not windows:
        return []
    if "://" not in lake and not Path(lake).is_dir():
        raise FileNotFoundError(f"{lake} is not a trail lake folder")
    started = time.perf_counter()
    spark = session(master)
    radius, max_acc, max_gap = float(pol["radius_m"]), float(pol["max_accuracy_m"]), float(pol["max_gap_s"])
    r0, r1 = matching.time_range(windows, pol)
    reach = radius + max_acc
    dirs = _day_dirs(lake, r0, r1)
    con = duckdb.connect()
    try:
        if not dirs:
            pos_t, edges_t = POSITIONS.empty_table(), EDGES.empty_table()
        else:
            base = lake if "://" in lake else str(Path(lake))
            raw = spark.read.option("basePath", base).parquet(*dirs)
            days = raw.select(
                F.col("person_id").cast("string").alias("person_id"),
                F.col("device_id").cast("string").alias("device_id"),
                F.col("device_time"),
                F.col("lat").cast("double").alias("lat"),
                F.col("lon").cast("double").alias("lon"),
                F.col("accuracy_m").cast("double").alias("accuracy_m"),
                F.col("date").cast("string").alias("day"),
            )
            # 3. per-day coverage (the DuckDB path's `_coverage`, over the same day partitions)
            w = Window.partitionBy("device_id", "day").orderBy("device_time")
            ep = F.col("device_time").cast("double")
            edges = (
                days.select(
                    "device_id",
                    "person_id",
                    F.col("device_time").alias("t2"),
                    F.col("lat").alias("lat2"),
                    F.col("lon").alias("lon2"),
                    F.lag("device_time").over(w).alias("t1"),
                    F.lag("lat").over(w).alias("lat1"),
                    F.lag("lon").over(w).alias("lon1"),
                    F.lead("device_time").over(w).alias("t3"),
                    (ep - F.lag(ep).over(w)).alias("gap_s"),
                )
                .where(F.col("t1").isNull() | F.col("t3").isNull() | (F.col("gap_s") > max_gap))
                .drop("gap_s")
            )
            # 1. candidates: positions in range, cell + bucket keys against the crimes' keys, haversine
            scoped = days.where(
                (F.col("device_time") >= F.lit(r0)) & (F.col("device_time") <= F.lit(r1))
            ).withColumn("accuracy_m", F.coalesce(F.col("accuracy_m"), F.lit(max_acc)))
            kt = matching._key_table(windows, reach)
            keys = spark.createDataFrame(
                list(zip(*(kt[c].to_pylist() for c in ("key", "cy", "cx", "tb")), strict=True)),
                "key string, cy int, cx int, tb long",
            )
            crimes = spark.createDataFrame(
                [(c.key, c.lat, c.lon, c.start, c.end) for c in windows], "key string, clat double, "
                "clon double, t0 timestamp, t1 timestamp"
            )  # fmt: skip
            p = scoped.where(F.col("accuracy_m") <= max_acc).select(
                "device_id",
                "device_time",
                "lat",
                "lon",
                "accuracy_m",
                F.floor(F.col("lat") / matching.CELL_DEG).cast("int").alias("cy"),
                F.floor(F.col("lon") / matching.CELL_DEG).cast("int").alias("cx"),
                F.floor(F.col("device_time").cast("double") / matching.BUCKET_S).cast("long").alias("tb"),
            )
            near = (
                p.join(F.broadcast(keys), ["cy", "cx", "tb"])
                .join(F.broadcast(crimes), "key")
                .where(
                    F.col("device_time").between(F.col("t0"), F.col("t1"))
                    & (
                        _hav(F, F.col("lat"), F.col("lon"), F.col("clat"), F.col("clon"))
                        <= radius + F.col("accuracy_m") + SLACK_M
                    )
                )
                .select("device_id")
                .distinct()
            )
            # 2. the candidates' positions in the range
            trail = scoped.join(F.broadcast(near), "device_id").select(*POSITIONS.names)
            pos_t = _arrow(trail, POSITIONS)
            edges_t = _arrow(edges, EDGES)
        spark_done = time.perf_counter()
        con.register("spark_positions_t", pos_t)
        con.execute(
            """CREATE OR REPLACE TEMP VIEW positions AS SELECT *, CAST(NULL AS DOUBLE) AS speed_mps,
            CAST(NULL AS DOUBLE) AS heading_deg FROM spark_positions_t"""
        )
        con.register("spark_edges_t", edges_t)
        con.execute("CREATE OR REPLACE TEMP VIEW coverage AS SELECT * FROM spark_edges_t")
        results = matching.match(con, "positions", windows, None, pol, edges="coverage" if dirs else None)
        if timings is not None:
            timings.update({"spark_s": spark_done - started, "driver_s": time.perf_counter() - spark_done})
        return results
    finally:
        con.close()
