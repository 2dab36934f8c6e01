"""The activation probe's cost at a national fleet's activations (issue 18): the two counts it was (main before
migration 0028) beside the change counter it is now (one row kept by triggers), each read in its own
transaction as ingest does once a batch; and what the triggers add to loading the activations.

    PYTHONPATH=src python benchmarks/activation_probe.py --url postgresql+psycopg://postgres@127.0.0.1:PORT/postgres

`--url` names a server's maintenance database (the script makes and drops `bench_probe` beside it); a SQLite
URL (`sqlite:///FILE`) measures SQLite instead. Reads are timed on a fresh table (as after a load) and after
VACUUM ANALYZE (index-only counts).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from openem.devices.queries import activation_probe
from openem.devices.tables import ActivationRow
from openem.store.db import Database
from openem.store.migrate import upgrade

COUNTS = sa.text(
    'SELECT (SELECT count(*) FROM activations), (SELECT count(*) FROM activations WHERE "end" IS NOT NULL)'
)


def fresh(url: str) -> str:
    if url.startswith("sqlite"):
        Path(url.split("///", 1)[1]).unlink(missing_ok=True)
        return url
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text("DROP DATABASE IF EXISTS bench_probe WITH (FORCE)"))
        c.execute(sa.text("CREATE DATABASE bench_probe"))
    admin.dispose()
    return url.rsplit("/", 1)[0] + "/bench_probe"


def load(db: Database, n: int) -> float:
    """n activations (one in ten ended), in one transaction as a simulator load or a bulk insert makes them."""
    start = datetime.now(UTC) - timedelta(days=400)
    rows = [{"activation_id": f"ACT-{i}", "device_id": f"w{i}", "device_kind": "GPS_TAG", "order_ref": f"ORD-{i}",
             "person_id": f"PER-{i}", "role": "WEARER", "start": start,
             "end": start + timedelta(days=30) if i % 10 == 0 else None} for i in range(n)]  # fmt: skip
    t0 = time.perf_counter()
    with db.uow() as uow:
        for i in range(0, n, 5000):
            uow.session.execute(sa.insert(ActivationRow), rows[i : i + 5000])
    return time.perf_counter() - t0


def timed(db: Database, read, repeat: int) -> list[float]:  # noqa: ANN001
    out = []
    for _ in range(repeat):
        with db.uow() as uow:
            t0 = time.perf_counter()
            read(uow.session)
            out.append((time.perf_counter() - t0) * 1000)
    return out


def row(label: str, ms: list[float]) -> str:
    ms = sorted(ms)
    return f"| {label} | {statistics.median(ms):.3f} | {ms[int(len(ms) * 0.95)]:.3f} | {ms[-1]:.3f} |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--activations", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=300)
    args = ap.parse_args()
    url = fresh(args.url)
    upgrade(url)
    db = Database(url)

    def counts(s):  # noqa: ANN001, ANN202 - the probe before migration 0028
        return s.execute(COUNTS).one()

    try:
        with_triggers = load(db, args.activations)
        print(f"{args.activations:,} activations loaded in {with_triggers:.2f} s (triggers on)")
        print("| probe | median ms | p95 ms | max ms |\n| --- | --- | --- | --- |")
        print(row("two counts, fresh table", timed(db, counts, args.repeat)))
        print(row("change counter, fresh table", timed(db, activation_probe, args.repeat)))
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(sa.text("VACUUM ANALYZE activations"))
        else:
            with db.engine.begin() as c:
                c.execute(sa.text("ANALYZE"))
        print(row("two counts, after VACUUM ANALYZE", timed(db, counts, args.repeat)))
        print(row("change counter, after VACUUM ANALYZE", timed(db, activation_probe, args.repeat)))
        with db.engine.begin() as c:
            c.execute(sa.text("DELETE FROM activations"))
            c.execute(sa.text(_drop_triggers(db.engine.dialect.name)))
        without = load(db, args.activations)
        print(f"the same load with the triggers dropped: {without:.2f} s")
    finally:
        db.dispose()
        if url != args.url:  # PostgreSQL: the database made for the run
            admin = sa.create_engine(args.url, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(sa.text("DROP DATABASE IF EXISTS bench_probe WITH (FORCE)"))
            admin.dispose()


def _drop_triggers(dialect: str) -> str:
    if dialect == "postgresql":
        return "DROP TRIGGER activation_changed ON activations"
    return "DROP TRIGGER activation_changes_on_insert"


if __name__ == "__main__":
    main()
