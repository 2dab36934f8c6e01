"""Queue query with N open incidents (default 10,000) on a migrated SQLite file: time of the queue read the
page and API use (top 200 by priority), beside a full scan of all open incidents as the baseline.

    PYTHONPATH=src python benchmarks/triage_queue_bench.py [--n 10000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from openem.alerts import queries
from openem.alerts.tables import IncidentRow
from openem.store.db import Database
from openem.store.migrate import upgrade


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    n = ap.parse_args().n
    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'q.db'}"
    upgrade(url)
    db = Database(url)
    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    with db.uow() as uow:
        uow.session.add_all(
            IncidentRow(incident_id=f"INC-{i:08d}", group_key=f"P{i}|O{i}|tamper", person_id=f"P{i}",
                        order_ref=f"O{i}", situation="tamper", state="open", needs_person=True,
                        priority=(i * 7919) % 150, severity="HIGH", opened_at=t0 + timedelta(seconds=i),
                        assignee="", resolution="", kinds=["strap_tamper"], episodes=[], decisions=[], notes=[])
            for i in range(n)
        )  # fmt: skip
    times, scans = [], []
    for _ in range(5):
        with db.uow() as uow:
            s = time.perf_counter()
            rows = queries.incident_queue(uow.session, limit=200)
            times.append(time.perf_counter() - s)
            s = time.perf_counter()
            everything = list(
                uow.session.scalars(select(IncidentRow).where(IncidentRow.needs_person.is_(True)))
            )
            scans.append(time.perf_counter() - s)
    print(
        f"{n:,} open incidents: queue read (top {len(rows)}) median {sorted(times)[2] * 1000:.1f} ms; "
        f"baseline load of all {len(everything):,} rows median {sorted(scans)[2] * 1000:.1f} ms"
    )
    db.dispose()


if __name__ == "__main__":
    main()
