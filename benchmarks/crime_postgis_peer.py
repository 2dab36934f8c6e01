"""The PostGIS peer for benchmarks/crime_match.py at scale: a PostgreSQL 15 + PostGIS cluster of its own kept
under a folder (default /work/crime-world/pg) so that the load is paid once, the lake's positions loaded day by
day with binary COPY (rows packed by NumPy, no per-row Python), the geography computed by the server as a stored
generated column, the GiST index built after the load, then the same question as the matcher's "near" step:
`ST_DWithin(position, crime, radius + accuracy cap)` within the window, the exact distance after.

Used by crime_match.py (`--postgis-dir DIR --postgis-days N`); alone:

    PYTHONPATH=src .venv/bin/python benchmarks/crime_postgis_peer.py /work/crime-world/lake 1
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 in Unix microseconds: binary COPY's timestamp origin
ROW = np.dtype([("n", ">i2"), ("l1", ">i4"), ("dev", ">i4"), ("l2", ">i4"), ("t", ">i8"), ("l3", ">i4"),
                ("acc", ">f8"), ("l4", ">i4"), ("lat", ">f8"), ("l5", ">i4"), ("lon", ">f8")])  # fmt: skip


def _as_postgres(cmd: str) -> None:
    subprocess.run(["su", "postgres", "-c", cmd], check=True, capture_output=True)


class Cluster:
    """A cluster in `folder` (made on first use, kept), started on a free loopback port, stopped by stop()."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        data = self.folder / "data"
        if not (data / "PG_VERSION").is_file():
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder.mkdir(parents=True)
            shutil.chown(self.folder, "postgres", "postgres")
            _as_postgres(f"{PG_BIN}/initdb -D {data} -A trust -U postgres")
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        opts = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c shared_buffers=512MB "
                "-c maintenance_work_mem=1GB -c max_wal_size=16GB -c work_mem=64MB")  # fmt: skip
        _as_postgres(f"{PG_BIN}/pg_ctl -D {data} -l {self.folder}/log -w -o '{opts}' start")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        _as_postgres(f"{PG_BIN}/pg_ctl -D {self.folder / 'data'} -m fast -w stop")


def _day_rows(lake: Path, day: str) -> Any:
    """The day's positions as Arrow batches: device number (from the device list), time, accuracy, lat, lon."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET memory_limit = '1GB'")
    return con, con.sql(
        f"""SELECT d.dev, epoch_us(p.device_time) AS t, p.accuracy_m AS acc, p.lat, p.lon
        FROM read_parquet('{lake}/date={day}/*.parquet') p JOIN read_parquet('{lake}/_pg_devices.parquet') d
        USING (device_id)"""
    ).to_arrow_reader(500_000)


def _packed(batch: Any) -> bytes:
    n = batch.num_rows
    a = np.empty(n, ROW)
    a["n"], a["l1"], a["l2"], a["l3"], a["l4"], a["l5"] = 5, 4, 8, 8, 8, 8
    a["dev"] = batch.column("dev").to_numpy()
    a["t"] = batch.column("t").to_numpy() - PG_EPOCH_US
    a["acc"] = batch.column("acc").to_numpy(zero_copy_only=False)
    a["lat"] = batch.column("lat").to_numpy()
    a["lon"] = batch.column("lon").to_numpy()
    return a.tobytes()


def load(url: str, lake: Path, days: list[str]) -> tuple[float, int, bool]:
    """Make sure the table holds these days of this lake (load the missing ones; start again for another lake),
    the GiST index built after the load. Returns (seconds spent now, rows in the table, loaded now)."""
    import duckdb
    import psycopg

    lake = Path(lake)
    t0 = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as pg:
        pg.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        # unlogged like the positions: a crash empties both together, so the record never outlives the rows
        pg.execute(
            "CREATE UNLOGGED TABLE IF NOT EXISTS bench_meta (lake text, day text, rows bigint, load_s float8)"
        )
        pg.execute("ALTER TABLE bench_meta SET UNLOGGED")
        have = pg.execute("SELECT lake, day, rows FROM bench_meta").fetchall()
        if have and {h[0] for h in have} != {str(lake)}:  # another lake: start again
            pg.execute("DROP TABLE IF EXISTS bench_pos, bench_devices")
            pg.execute("TRUNCATE bench_meta")
            have = []
        indexed = pg.execute("SELECT count(*) FROM pg_indexes WHERE indexname = 'bench_pos_geog'").fetchone()[
            0
        ]
        if {h[1] for h in have} >= set(days) and indexed:
            return time.perf_counter() - t0, sum(int(h[2]) for h in have), False
        devs = lake / "_pg_devices.parquet"
        if not devs.is_file():
            duckdb.execute(f"""COPY (SELECT (row_number() OVER (ORDER BY device_id))::INTEGER AS dev, device_id
                FROM (SELECT DISTINCT device_id FROM read_parquet('{lake}/date=*/*.parquet')))
                TO '{devs}' (FORMAT parquet)""")  # fmt: skip
        pg.execute("DROP INDEX IF EXISTS bench_pos_geog")
        pg.execute("DROP INDEX IF EXISTS bench_pos_time")
        pg.execute("""CREATE UNLOGGED TABLE IF NOT EXISTS bench_pos (dev int4, device_time timestamptz, acc float8,
            lat float8, lon float8, geog geography(Point, 4326) GENERATED ALWAYS AS
            (ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography) STORED)""")  # fmt: skip
        if not have:
            pg.execute(
                "CREATE UNLOGGED TABLE IF NOT EXISTS bench_devices (dev int4 PRIMARY KEY, device_id text)"
            )
            with pg.cursor() as cur, cur.copy("COPY bench_devices FROM STDIN") as cp:
                for dev, name in duckdb.execute(f"SELECT dev, device_id FROM '{devs}'").fetchall():
                    cp.write_row((dev, name))
        for day in sorted(set(days) - {h[1] for h in have}):
            t = time.perf_counter()
            con, reader = _day_rows(lake, day)
            rows = 0
            with pg.transaction():  # the day's rows and its line in bench_meta together, or neither
                with (
                    pg.cursor() as cur,
                    cur.copy(
                        "COPY bench_pos (dev, device_time, acc, lat, lon) FROM STDIN (FORMAT binary)"
                    ) as cp,
                ):
                    cp.write(b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big"))
                    for batch in reader:
                        cp.write(_packed(batch))
                        rows += batch.num_rows
                    cp.write((-1).to_bytes(2, "big", signed=True))
                pg.execute("INSERT INTO bench_meta VALUES (%s, %s, %s, %s)",
                           (str(lake), day, rows, time.perf_counter() - t))  # fmt: skip
            con.close()
            print(f"  PostGIS: {day} loaded, {rows:,} rows in {time.perf_counter() - t:.0f} s", flush=True)
        t = time.perf_counter()
        pg.execute("CREATE INDEX bench_pos_geog ON bench_pos USING gist (geog)")
        pg.execute("CREATE INDEX bench_pos_time ON bench_pos (device_time)")
        pg.execute("ANALYZE bench_pos")
        print(f"  PostGIS: GiST and time indexes built in {time.perf_counter() - t:.0f} s", flush=True)
        total = int(pg.execute("SELECT sum(rows) FROM bench_meta").fetchone()[0])
    return time.perf_counter() - t0, total, True


def query(url: str, crimes: list[Any], radius: float, max_acc: float) -> tuple[float, int]:
    """All the crimes in one join (`ST_DWithin` on the GiST index, the window, the exact distance): (seconds,
    crime-wearer matches)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as pg:
        pg.execute("DROP TABLE IF EXISTS bench_crimes")
        pg.execute(
            "CREATE TABLE bench_crimes (key text, t0 timestamptz, t1 timestamptz, geog geography(Point, 4326))"
        )
        with pg.cursor() as cur, cur.copy("COPY bench_crimes FROM STDIN") as cp:
            for c in crimes:
                cp.write_row((c.key, c.start, c.end, f"SRID=4326;POINT({c.lon} {c.lat})"))
        pg.execute("ANALYZE bench_crimes")
        t = time.perf_counter()
        n = pg.execute(
            f"""SELECT count(DISTINCT (c.key, p.dev)) FROM bench_crimes c JOIN bench_pos p
            ON ST_DWithin(p.geog, c.geog, {radius} + {max_acc}) AND p.device_time BETWEEN c.t0 AND c.t1
            WHERE p.acc <= {max_acc} AND ST_Distance(p.geog, c.geog, false) <= {radius} + p.acc"""
        ).fetchone()[0]
        return time.perf_counter() - t, int(n)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    lake_dir = Path(sys.argv[1])
    n_days = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    all_days = sorted(p.name.split("=", 1)[1] for p in lake_dir.glob("date=*") if p.is_dir())
    cl = Cluster(Path(os.environ.get("OPENEM_BENCH_PG_DIR", "/work/crime-world/pg")))
    try:
        print(load(cl.url, lake_dir, all_days[:n_days]))
    finally:
        cl.stop()
