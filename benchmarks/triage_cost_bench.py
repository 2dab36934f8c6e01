"""Triage cost per event and the operator queue page at 10,000 open incidents, each beside the code path it
replaces, in the same process, on a migrated SQLite file.

1. One more episode for a wearer with H incidents of history: the previous path (load every stored incident of
   the wearer and re-run all their episodes: `full_retriage`, copied from main before this change) against the
   incremental one (`openem.alerts.service.triage_episode`: the latest incident of the grouping key and the
   wearer's recent device faults only).
2. GET /incidents over HTTP (signed in as an operator; filters, names, count, 100 rows) and the live poll
   (/api/incidents/digest) with N open incidents, beside loading every open incident (the naive page).

    PYTHONPATH=src python benchmarks/triage_cost_bench.py [--history 10 100 1000] [--open 10000]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openem.alerts.service import _plain, triage_episode
from openem.alerts.tables import IncidentRow
from openem.alerts.triage import Triage, iso
from openem.store.db import Database
from openem.store.migrate import upgrade

T0 = datetime(2026, 6, 1, 12, tzinfo=UTC)


def full_retriage(session: Session, episode: dict[str, Any]) -> None:
    """main's path before this change: every stored incident of the wearer re-run from its episodes."""
    person = str(episode.get("person_id") or "")
    rows = {
        r.incident_id: r for r in session.scalars(select(IncidentRow).where(IncidentRow.person_id == person))
    }
    triage = Triage(person_flags={person: frozenset()})
    stored = sorted(
        (e for r in rows.values() for e in r.episodes),
        key=lambda e: (str(e["start"]), str(e.get("episode_id"))),
    )
    for e in stored:
        triage.on_episode(e)
    triage.on_alert(episode)
    for inc in triage.finish():
        row = rows.get(inc.incident_id)
        eps = [_plain(e) for e in inc.episodes.values()]
        if row is None:
            row = IncidentRow(incident_id=inc.incident_id, group_key=f"{inc.person_id}|{inc.order_ref}|{inc.situation}",
                              person_id=inc.person_id, order_ref=inc.order_ref, situation=inc.situation,
                              opened_at=inc.opened_at, assignee="", resolution="", notes=[], decisions=[], kinds=[],
                              episodes=[], state="open", needs_person=False, priority=0, severity="LOW")  # fmt: skip
            session.add(row)
        if eps != row.episodes or row.decisions[: len(inc.decisions)] != inc.decisions:
            row.episodes, row.kinds, row.priority = eps, sorted(set(inc.kinds)), inc.priority
            row.decisions = list(inc.decisions)
            row.state, row.needs_person, row.closed_at = inc.state, inc.needs_person, inc.closed_at
    session.flush()


def _alert(person: str, i: int, day: int, kind: str = "curfew_absent") -> dict[str, Any]:
    start = T0 + timedelta(days=day, hours=8)
    return {"alert_id": f"{person}-{i}", "kind": kind, "severity": "MEDIUM", "person_id": person, "order_ref": "",
            "device_id": "D", "condition_id": "", "start": iso(start), "end": iso(start + timedelta(hours=1))}  # fmt: skip


def bench_history(db: Database, history: int, repeat: int = 7) -> tuple[float, float]:
    person = f"P-H{history}"
    with db.uow() as uow:  # the wearer's history: one curfew night a day (and a device fault every 5th)
        for d in range(history):
            triage_episode(
                uow.session,
                _alert(person, d, d, "no_comms" if d % 5 == 4 else "curfew_absent"),
                alert_only=True,
            )
    times: dict[str, list[float]] = {"full": [], "incremental": []}
    for r in range(repeat):
        for name, fn in (
            ("full", full_retriage),
            ("incremental", lambda s, a: triage_episode(s, a, alert_only=True)),
        ):
            with db.uow() as uow:
                a = _alert(person, 10_000 + r, history + r)
                s = time.perf_counter()
                fn(uow.session, a)
                times[name].append(time.perf_counter() - s)
                uow.session.rollback()  # measure the same state each time
    return statistics.median(times["full"]) * 1000, statistics.median(times["incremental"]) * 1000


def bench_queue(db: Database, db_url: str, tmp: Path, n: int) -> dict[str, float]:
    from fastapi.testclient import TestClient
    from tests.conftest import make_settings, sign_in

    from openem.platform_cli import seed_demo_users
    from openem.server import create_app

    with db.uow() as uow:
        uow.session.add_all(
            IncidentRow(incident_id=f"INC-{i:08d}", group_key=f"P{i}|O{i}|tamper", person_id=f"P{i}",
                        order_ref=f"O{i % 3000}", situation="tamper" if i % 3 else "curfew night 2026-12-01",
                        state="open", needs_person=True, priority=(i * 7919) % 150, severity="HIGH",
                        opened_at=T0 + timedelta(seconds=i), assignee="op1" if i % 7 == 0 else "", resolution="",
                        kinds=["strap_tamper"], episodes=[], decisions=[], notes=[])
            for i in range(n)
        )  # fmt: skip
    users = {u: p for u, _, p in seed_demo_users(db)}
    app = create_app(make_settings(tmp, db_url), db, start_dispatcher=False)
    client = TestClient(app)
    sign_in(client, "demo-mc-operator", users["demo-mc-operator"])
    out: dict[str, float] = {}
    for label, path in (("page", "/incidents"), ("page, filtered (curfew, high)", "/incidents?kind=curfew&band=high"),
                        ("page 50 of the queue", "/incidents?page=50"), ("live poll (digest)", "/api/incidents/digest")):  # fmt: skip
        samples = []
        for _ in range(7):
            s = time.perf_counter()
            resp = client.get(path)
            samples.append(time.perf_counter() - s)
            assert resp.status_code == 200, resp.text[:300]
        if path == "/incidents":
            assert re.search(r"[\d,]+ incidents", resp.text)
        out[label] = statistics.median(samples) * 1000
    samples = []
    for _ in range(5):
        with db.uow() as uow:
            s = time.perf_counter()
            everything = list(
                uow.session.scalars(select(IncidentRow).where(IncidentRow.needs_person.is_(True)))
            )
            samples.append(time.perf_counter() - s)
    out[f"naive: load all {len(everything):,} open incidents (query only)"] = (
        statistics.median(samples) * 1000
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--history", type=int, nargs="+", default=[10, 100, 1000])
    ap.add_argument("--open", type=int, default=10_000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    url = f"sqlite:///{tmp / 'cost.db'}"
    upgrade(url)
    db = Database(url)
    print("one more episode for a wearer with H incidents of history (median of 7, ms):")
    print(f"  {'H':>6} {'full re-triage (main)':>22} {'incremental':>12}")
    for h in args.history:
        full, inc = bench_history(db, h)
        print(f"  {h:>6} {full:>22.1f} {inc:>12.1f}")
    print(f"operator queue with {args.open:,} open incidents (median of 7 HTTP requests, ms):")
    for label, ms in bench_queue(db, url, tmp, args.open).items():
        print(f"  {label:55s} {ms:8.1f}")
    db.dispose()


if __name__ == "__main__":
    main()
