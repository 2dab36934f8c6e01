"""Ingest rate against the size of the store: does storing a batch slow down as telemetry accumulates?

For each store (SQLite file; PostgreSQL when an admin URL is given) the script makes a fresh migrated database
with a fleet of devices on open activations, then for each size in --sizes bulk-loads synthetic stored
messages (and their trail points) up to that size with executemany / COPY, and times real `ingest_batch`
calls (one unit of work each, commit included) of fresh messages from the same fleet. The code path of an
older commit (--old-ref, read with `git show`) and today's are timed batch by batch, interleaved, so that the
machine's load falls on both alike.

    PYTHONPATH=src .venv/bin/python benchmarks/ingest_growth.py --sizes 0 1000000 10000000 \
        [--pg-admin postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--stores sqlite postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from openem.store.db import Database
from openem.store.migrate import upgrade
from openem.telemetry import ingest

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)  # the measured messages' time
HISTORY_START = T0 - timedelta(days=300)  # the bulk-loaded history runs from here at one fix a minute
LIVE_SEQ = 10**9  # measured messages' seqs start here, after any bulk-loaded history


def old_ingest(ref: str) -> Callable[..., Any]:
    """`ingest_batch` as it was at `ref`, run against today's tables and wire parser."""
    source = subprocess.check_output(["git", "show", f"{ref}:src/openem/telemetry/ingest.py"], cwd=ROOT)
    module = types.ModuleType("ingest_at_" + ref.replace("/", "_"))
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{ref}:ingest.py", "exec"), module.__dict__)
    return module.ingest_batch  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------------------- stores


def sqlite_store(workdir: Path) -> tuple[str, Callable[[], None]]:
    path = workdir / f"ingest-{uuid.uuid4().hex[:8]}.db"
    return f"sqlite:///{path}", lambda: [p.unlink(missing_ok=True) for p in path.parent.glob(path.name + "*")]


def pg_store(admin_url: str) -> tuple[str, Callable[[], None]]:
    name = f"ingest_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return admin_url.rsplit("/", 1)[0] + "/" + name, drop


def add_fleet(db: Database, devices: int) -> None:
    start = HISTORY_START - timedelta(days=1)
    with db.engine.begin() as c:
        c.execute(
            sa.text(
                "INSERT INTO devices (device_id, device_kind, model, firmware, serial, status) "
                "VALUES (:d, 'GPS_TAG', '', '', '', 'FITTED')"
            ),
            [{"d": dev(i)} for i in range(devices)],
        )
        c.execute(
            sa.text(
                "INSERT INTO activations (activation_id, device_id, device_kind, order_ref, person_id, "
                "role, start, \"end\") VALUES (:a, :d, 'GPS_TAG', :o, :p, 'WEARER', :s, NULL)"
            ),
            [
                {
                    "a": f"ACT-{i:06d}",
                    "d": dev(i),
                    "o": f"ORD-{i:06d}",
                    "p": f"PER-{i:06d}",
                    "s": start if db.url.startswith("postgresql") else start.replace(tzinfo=None),
                }
                for i in range(devices)
            ],
        )


def dev(i: int) -> str:
    return f"GPS-{i:06d}"


def history(first: int, last: int, devices: int, sqlite: bool) -> Iterator[tuple[Any, ...]]:
    """Stored messages number first..last-1: message k is device k % devices's fix number k // devices."""
    fmt = "%Y-%m-%d %H:%M:%S.000000" if sqlite else "%Y-%m-%d %H:%M:%S+00"
    minute = timedelta(minutes=1)
    stamp = ""
    for k in range(first, last):
        i, seq = k % devices, k // devices
        if i == 0 or not stamp:
            stamp = (HISTORY_START + seq * minute).strftime(fmt)
        lat, lon = 53.8 + (i % 100) * 0.001, -1.55 + (seq % 100) * 0.0001
        yield (dev(i), seq, stamp, f"ACT-{i:06d}", f"PER-{i:06d}", lat, lon)


HISTORY_TABLES = ("telemetry_messages", "trail_points")


def bulk_load(db: Database, first: int, last: int, devices: int) -> float:
    """Messages and trail points first..last-1, as fast as the store takes them (secondary indexes dropped
    and built again afterwards, as a restore would); returns seconds."""
    started = time.perf_counter()
    raw = db.engine.raw_connection()
    try:
        (_load_sqlite if db.url.startswith("sqlite") else _load_postgres)(raw, first, last, devices)
    finally:
        raw.close()
    return time.perf_counter() - started


def _message_row(d: str, s: int, t: str, a: str, p: str, la: float, lo: float) -> tuple[Any, ...]:
    return (d, s, t, t, f'{{"lat": {la}, "lon": {lo}, "accuracy_m": 8.0, "source": "GPS"}}', a, p)


def _load_sqlite(raw: Any, first: int, last: int, devices: int) -> None:
    cur = raw.cursor()
    cur.execute("PRAGMA synchronous=OFF")
    cur.execute("PRAGMA cache_size=-1048576")  # 1 GiB: the primary keys stay in memory while loading
    marks = ",".join("?" * len(HISTORY_TABLES))
    indexes = cur.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({marks})",
        HISTORY_TABLES,
    ).fetchall()
    for name, _ in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    rows = history(first, last, devices, True)
    while chunk := [r for _, r in zip(range(500_000), rows, strict=False)]:
        cur.executemany(
            "INSERT INTO telemetry_messages (device_id, seq, type, device_time, receive_time, payload, "
            "flags, activation_id, person_id, batch_id) VALUES (?, ?, 'gps', ?, ?, ?, '[]', ?, ?, 0)",
            [_message_row(*r) for r in chunk],
        )
        cur.executemany(
            "INSERT INTO trail_points (device_id, seq, person_id, activation_id, device_time, lat, lon, "
            "accuracy_m) VALUES (?, ?, ?, ?, ?, ?, ?, 8.0)",
            [(d, s, p, a, t, la, lo) for d, s, t, a, p, la, lo in chunk],
        )
        raw.commit()
    for _, sql in indexes:
        cur.execute(sql)
    cur.execute("ANALYZE")
    raw.commit()
    cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _load_postgres(raw: Any, first: int, last: int, devices: int) -> None:
    pg = raw.driver_connection
    pg.execute("SET maintenance_work_mem = '1GB'")
    indexes = pg.execute(
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)",
        [list(HISTORY_TABLES)],
    ).fetchall()
    for table, name, _ in indexes:
        if name.startswith("pk_"):
            pg.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        else:
            pg.execute(f'DROP INDEX "{name}"')
    with pg.cursor() as cur:
        with cur.copy(
            "COPY telemetry_messages (device_id, seq, type, device_time, receive_time, payload, "
            "flags, activation_id, person_id, batch_id) FROM STDIN"
        ) as copy:
            for r in history(first, last, devices, False):
                d, s, t, _, payload, a, p = _message_row(*r)
                copy.write_row((d, s, "gps", t, t, payload, "[]", a, p, 0))
        with cur.copy(
            "COPY trail_points (device_id, seq, person_id, activation_id, device_time, lat, lon, "
            "accuracy_m) FROM STDIN"
        ) as copy:
            for d, s, t, a, p, la, lo in history(first, last, devices, False):
                copy.write_row((d, s, p, a, t, la, lo, 8.0))
    for table, name, definition in indexes:
        if name.startswith("pk_"):
            pg.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" PRIMARY KEY (device_id, seq)')
        else:
            pg.execute(definition)
    pg.commit()
    pg.autocommit = True
    for table in HISTORY_TABLES:
        pg.execute(f"VACUUM ANALYZE {table}")
    pg.autocommit = False


# ---------------------------------------------------------------------------------------------- timing


class Batches:
    """Fresh batches of device messages: each batch one fix from each of `size` devices, round the fleet."""

    def __init__(self, devices: int, size: int) -> None:
        self.devices, self.size, self.n = devices, size, 0

    def next(self) -> bytes:
        out = []
        for _ in range(self.size):
            i, fix = self.n % self.devices, self.n // self.devices
            at = T0 + timedelta(seconds=fix)
            out.append(
                {
                    "v": 1,
                    "device_id": dev(i),
                    "seq": LIVE_SEQ + fix,
                    "type": "gps",
                    "device_time": at.isoformat().replace("+00:00", "Z"),
                    "payload": {"lat": 53.8, "lon": -1.55, "accuracy_m": 8.0, "source": "GPS"},
                }
            )
            self.n += 1
        return json.dumps(out).encode()


def time_paths(
    db: Database, paths: dict[str, Callable[..., Any]], batches: Batches, rounds: int
) -> dict[str, float]:
    """Messages/s of each code path: `rounds` batches each, interleaved; the median batch's rate."""
    seconds: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(rounds):
        for name, fn in paths.items():
            raw = batches.next()
            started = time.perf_counter()
            with db.uow() as uow:
                result = fn(uow.session, raw, source="http", sender="bench")
            seconds[name].append(time.perf_counter() - started)
            assert len(result.accepted) == batches.size, (name, result.summary())
    return {name: batches.size / statistics.median(s) for name, s in seconds.items()}


def run_store(kind: str, url: str, args: argparse.Namespace, paths: dict[str, Callable[..., Any]]) -> None:
    upgrade(url)
    db = Database(url)
    add_fleet(db, args.devices)
    batches = Batches(args.devices, args.batch_size)
    loaded = 0
    try:
        for size in sorted(args.sizes):
            load_s = bulk_load(db, loaded, size, args.devices) if size > loaded else 0.0
            loaded = max(loaded, size)
            time_paths(db, paths, batches, 2)  # warm the caches after the load
            rates = time_paths(db, paths, batches, args.rounds)
            cells = "  ".join(f"{name} {rate:>8,.0f}/s" for name, rate in rates.items())
            print(f"{kind:<10} {size:>11,} stored (loaded in {load_s:6.1f} s)  {cells}", flush=True)
    finally:
        db.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[0, 1_000_000])
    ap.add_argument("--stores", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"])
    ap.add_argument(
        "--pg-admin",
        default=os.environ.get("OPENEM_TEST_PG_ADMIN_URL"),
        help="PostgreSQL URL of a database from which new databases can be created",
    )
    ap.add_argument("--devices", type=int, default=5000)
    ap.add_argument("--batch-size", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=10, help="timed batches per code path and size")
    ap.add_argument("--old-ref", default="ad5f123", help="git commit whose ingest_batch is the old code path")
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    args = ap.parse_args()
    paths = {f"old ({args.old_ref})": old_ingest(args.old_ref), "new": ingest.ingest_batch}
    print(
        f"batches of {args.batch_size} fresh GPS messages from a fleet of {args.devices:,} devices; "
        f"median of {args.rounds} batches per path, commit included",
        flush=True,
    )
    for kind in args.stores:
        if kind == "postgres" and not args.pg_admin:
            print("postgres   skipped: give --pg-admin or OPENEM_TEST_PG_ADMIN_URL")
            continue
        url, drop = sqlite_store(args.workdir) if kind == "sqlite" else pg_store(args.pg_admin)
        try:
            run_store(kind, url, args, paths)
        finally:
            drop()


if __name__ == "__main__":
    main()
