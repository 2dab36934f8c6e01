"""Time to answer the timeline of a person with two years of history (issue 15: < 300 ms), p50/p95, through the
real app as a practitioner (`GET /api/people/{id}/timeline`: access, purpose, audit, every capability's query).

    PYTHONPATH=src python benchmarks/insights_timeline.py [--runs 20] [--url postgresql+psycopg://...]

Two years of history for one person on the practitioner's caseload: an order, an alert every day (730), an
incident a week (104, closed), a note every other day (365), a breach a month with one response (24). No
device activations or visits (they would add two small indexed reads). Peer: the same entries read by a
single ORM query per table with no filtering (the floor for this shape). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("OPENEM_ARGON2_PROFILE", "test")
sys.path.insert(0, str(Path(__file__).parent))


def main() -> int:
    import json

    from insights_trail import client, fresh_pg, pct

    from openem.alerts.tables import AlertRow, IncidentRow
    from openem.breaches.tables import BreachResponseRow, BreachRow
    from openem.insights.repository import PersonNoteRow
    from openem.orders.samples import sample_order
    from openem.orders.seeding import load_orders
    from openem.platform_cli import seed_demo_users
    from openem.store.db import Database
    from openem.store.migrate import upgrade

    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--url", default="")
    args = ap.parse_args()
    var = Path(tempfile.mkdtemp(prefix="openem-timeline-"))
    url = fresh_pg(args.url) if args.url else f"sqlite:///{var / 'openem.db'}"
    upgrade(url)
    db = Database(url)
    passwords = {u: p for u, _, p in seed_demo_users(db)}
    now = datetime.now(UTC).replace(microsecond=0)
    pid, ref = "PER-TLBENCH1", "ORD-TLBENCH01"
    with db.uow() as uow:
        s = uow.session
        doc = sample_order(now, random.Random(1))
        doc["ref"], doc["person_id"] = ref, pid
        doc["offence_risk"]["specials"] = False
        doc["interested_parties"]["responsible_officer_email"] = "probation.demo@openem.example"
        load_orders(s, [doc], actor="bench", now=now)
        for d in range(730):
            at = now - timedelta(days=d, hours=3)
            s.add(AlertRow(alert_id=f"ALR-TL-{d}", kind="curfew_absence", severity="HIGH", person_id=pid,
                           order_ref=ref, start=at, detected_at=at, stored_at=at))  # fmt: skip
            if d % 7 == 0:
                s.add(IncidentRow(incident_id=f"INC-TL-{d}", group_key=f"g{d}", person_id=pid, order_ref=ref,
                                  situation="Curfew", state="resolved", severity="HIGH", opened_at=at,
                                  closed_at=at + timedelta(hours=2), resolution="no further action"))  # fmt: skip
            if d % 2 == 0:
                s.add(PersonNoteRow(person_id=pid, order_ref=ref, author="u", author_name="bench", written_at=at,
                                    text="Spoke to the person. " * 5))  # fmt: skip
            if d % 30 == 0:
                s.add(BreachRow(breach_id=f"BR-TL-{d}", incident_id=f"INC-TL-B{d}", person_id=pid, order_ref=ref,
                                agency="probation", team="T", kinds=["curfew_absence"], period_start=at,
                                violation_start=at, confirmed_at=at, created_at=at, state="decided"))  # fmt: skip
                s.add(BreachResponseRow(breach_id=f"BR-TL-{d}", agency="probation", step="decision",
                                        value="warning", by="o", at=at, submission_key=f"k{d}"))  # fmt: skip
    world = {"db": db, "passwords": passwords}
    c = client(url, var, world)
    params = {"purpose": "benchmark: two years of history"}
    r = c.get(f"/api/people/{pid}/timeline", params=params)
    assert r.status_code == 200, r.text[:300]
    entries = len(r.json()["entries"])
    api: list[float] = []
    peer: list[float] = []
    from sqlalchemy import select

    for _ in range(args.runs):
        t = time.perf_counter()
        r = c.get(f"/api/people/{pid}/timeline", params=params)
        api.append(time.perf_counter() - t)
        assert r.status_code == 200
        t = time.perf_counter()
        with db.uow() as uow:
            for row in (AlertRow, IncidentRow, PersonNoteRow, BreachRow, BreachResponseRow):
                uow.session.execute(select(row)).all()
        peer.append(time.perf_counter() - t)
    print(json.dumps({"store": "sqlite" if db.is_sqlite else "postgresql", "entries": entries, "runs": args.runs,
                      "timeline_api_ms": {"p50": pct(api, 0.5), "p95": pct(api, 0.95),
                                          "mean": round(statistics.mean(api) * 1000, 1)},
                      "peer_plain_reads_ms": {"p50": pct(peer, 0.5), "p95": pct(peer, 0.95)}}))  # fmt: skip
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
