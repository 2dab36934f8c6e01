"""The trail lake: position history at scale as Parquet, partitioned by date (`date=YYYY-MM-DD/`), readable by
DuckDB now and by Spark later. The relational `trail_points` table serves recent queries by person and time;
`export_trail` copies a day's points into the lake (idempotently: a day's file is rewritten whole)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Table, select

from openem.core.time import LONDON

SCHEMA = pa.schema(
    [
        ("person_id", pa.string()),
        ("activation_id", pa.string()),
        ("device_id", pa.string()),
        ("seq", pa.int64()),
        ("device_time", pa.timestamp("us", tz="UTC")),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("accuracy_m", pa.float64()),
    ]
)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """A London calendar day as UTC instants (23 or 25 hours long on clock-change days)."""
    start = datetime.combine(day, time(0), tzinfo=LONDON).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=LONDON).astimezone(UTC)
    return start, end


def export_trail(conn: Any, table: Table, lake_dir: Path, day: date, chunk: int = 200_000) -> int:
    """Write one London day of trail points to `lake_dir/date=DAY/part-0.parquet`; returns rows written."""
    start, end = day_bounds(day)
    out = Path(lake_dir) / f"date={day.isoformat()}"
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "part-0.parquet.tmp"
    cols = [table.c[n] for n in SCHEMA.names]
    stmt = (
        select(*cols)
        .where(table.c.device_time >= start, table.c.device_time < end)
        .order_by(table.c.person_id, table.c.device_time)
    )
    rows = 0
    with pq.ParquetWriter(tmp, SCHEMA, compression="zstd") as writer:
        result = conn.execution_options(stream_results=True).execute(stmt)
        while True:
            batch = result.fetchmany(chunk)
            if not batch:
                break
            data = list(zip(*batch, strict=True))
            arrays = [
                pa.array(list(values), type=field.type) for values, field in zip(data, SCHEMA, strict=True)
            ]
            writer.write_table(pa.Table.from_arrays(arrays, schema=SCHEMA))
            rows += len(batch)
    tmp.replace(out / "part-0.parquet")
    return rows


def query_trail(lake_dir: Path, person_id: str, start: datetime, end: datetime) -> pa.Table:
    """A person's positions between two instants, read from the lake with DuckDB (partition pruning by date)."""
    import duckdb

    con = duckdb.connect()
    try:
        pattern = str(Path(lake_dir) / "date=*" / "*.parquet")
        return con.execute(
            "SELECT person_id, device_id, seq, device_time, lat, lon, accuracy_m FROM read_parquet(?, hive_partitioning=true) "
            "WHERE person_id = ? AND device_time >= ? AND device_time < ? "
            "AND date BETWEEN ? AND ? ORDER BY device_time",
            [
                pattern,
                person_id,
                start,
                end,
                start.astimezone(LONDON).date().isoformat(),
                end.astimezone(LONDON).date().isoformat(),
            ],
        ).to_arrow_table()
    finally:
        con.close()
