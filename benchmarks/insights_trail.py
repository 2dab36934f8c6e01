"""Time to answer a person's trail (one fix a minute: 43,200 positions in 30 days, 129,600 in 90), p50/p95, on a
simulated world.

    PYTHONPATH=src python benchmarks/insights_trail.py [--people 8] [--days 30] [--runs 20] [--url postgresql://...]
        [--lake-days N]   # the oldest N days exported to the Parquet lake and deleted from the relational store

Each simulated person has an order (sample orders, half on the practitioner's caseload) and a random-walk trail
around their curfew address. Timed in the same run:
- `query`: the recent store's trail query alone (`telemetry.queries.trail_of_person`);
- `api`: a practitioner's `GET /api/people/{id}/trail` as GeoJSON through the real app (access check over the
  person's orders, purpose, the audit row, serialisation);
- `view`: `GET /api/people/{id}` (trail plus curfew nights, zone visits, alerts and devices);
- `page`: `GET /people/{id}`, the person page (the trail thinned for the map keeping zone entries and exits,
  curfew boundaries and gaps, a page of the position table with speed and source, the curfew calendar).
`query` is the first slice's path (`trail_of_person`, ORM rows): the peer the new columnar path is timed beside.
The old path (a request to the monitoring centre, answered by hand) is quoted, not measured: up to three days
for high-risk cases (issue 15). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("OPENEM_ARGON2_PROFILE", "test")


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(q * len(xs)))] * 1000, 1)


def main() -> int:
    from fastapi.testclient import TestClient
    from sqlalchemy import insert

    from openem.config import load_settings
    from openem.core.time import LONDON
    from openem.orders.samples import sample_order
    from openem.orders.seeding import load_orders
    from openem.platform_cli import seed_demo_users
    from openem.server import create_app
    from openem.store.db import Database
    from openem.store.migrate import upgrade
    from openem.telemetry.queries import trail_of_person
    from openem.telemetry.tables import TrailPointRow

    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=8)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--url", default=None, help="an empty database (default: a new SQLite file)")
    ap.add_argument("--lake-days", type=int, default=0, help="move the oldest N days into the Parquet lake")
    args = ap.parse_args()
    var = Path(tempfile.mkdtemp(prefix="openem-insights-"))
    url = args.url or f"sqlite:///{var / 'openem.db'}"
    upgrade(url)
    db = Database(url)
    passwords = {u: p for u, _, p in seed_demo_users(db)}
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now - timedelta(days=args.days)
    rng = random.Random(15)
    mine: list[str] = []
    t0 = time.perf_counter()
    with db.uow() as uow:
        for i in range(args.people):
            doc = sample_order(now, random.Random(i))
            pid = f"PER-BENCH{i:04d}"
            doc["ref"], doc["person_id"] = f"ORD-BENCH{i:05d}", pid
            doc["offence_risk"]["specials"] = False
            if i % 2 == 0:
                doc["interested_parties"]["responsible_officer_email"] = "probation.demo@openem.example"
                mine.append(pid)
            load_orders(uow.session, [doc], actor="bench", now=now)
            lat, lon = doc["addresses"][0]["lat"], doc["addresses"][0]["lon"]
            rows = []
            for m in range(args.days * 24 * 60):
                lat += rng.gauss(0, 0.0002)
                lon += rng.gauss(0, 0.0003)
                rows.append(
                    {"device_id": f"DEV-BENCH{i:04d}", "seq": m, "person_id": pid, "activation_id": "ACT",
                     "device_time": start + timedelta(minutes=m), "lat": lat, "lon": lon, "accuracy_m": 10.0}
                )  # fmt: skip
            for j in range(0, len(rows), 5000):
                uow.session.execute(insert(TrailPointRow), rows[j : j + 5000])
    if args.lake_days:
        from sqlalchemy import delete

        from openem.store.lake import day_bounds, export_trail

        first = (start + timedelta(days=1)).astimezone(LONDON).date()
        days = [first + timedelta(days=d) for d in range(args.lake_days)]
        with db.engine.connect() as conn:
            for day in days:
                export_trail(conn, TrailPointRow.__table__, var / "lake", day)  # type: ignore[arg-type]
        with db.uow() as uow:
            uow.session.execute(
                delete(TrailPointRow).where(TrailPointRow.device_time < day_bounds(days[-1])[1])
            )
    load_s = time.perf_counter() - t0
    settings = load_settings(
        {"OPENEM_DATABASE_URL": url, "OPENEM_VAR_DIR": str(var), "OPENEM_SECRET_KEY": "bench"}
    )
    app = create_app(settings, db, start_dispatcher=False)
    c = TestClient(app)
    token = re.search(r'name="csrf_token" value="([^"]*)"', c.get("/sign-in").text).group(1)  # type: ignore[union-attr]
    c.post("/sign-in", data={"username": "demo-probation-practitioner",
                             "password": passwords["demo-probation-practitioner"], "csrf_token": token, "next": "/"})  # fmt: skip
    params = {
        "from": start.isoformat(),
        "to": now.isoformat(),
        "purpose": f"benchmark: {args.days}-day trail review",
    }
    timings: dict[str, list[float]] = {"query": [], "api": [], "view": [], "page": []}
    counts = set()
    for r in range(args.runs):
        pid = mine[r % len(mine)]
        with db.uow() as uow:
            t = time.perf_counter()
            pts = trail_of_person(uow.session, pid, start, now + timedelta(minutes=1))
            timings["query"].append(time.perf_counter() - t)
        counts.add(len(pts))
        t = time.perf_counter()
        resp = c.get(f"/api/people/{pid}/trail", params=params)
        timings["api"].append(time.perf_counter() - t)
        assert resp.status_code == 200, resp.text
        t = time.perf_counter()
        resp = c.get(f"/api/people/{pid}", params=params)
        timings["view"].append(time.perf_counter() - t)
        assert resp.status_code == 200, resp.text
        t = time.perf_counter()
        resp = c.get(f"/people/{pid}", params=params)
        timings["page"].append(time.perf_counter() - t)
        assert resp.status_code == 200 and "trail-map" in resp.text, resp.text[:500]
    print(
        json.dumps(
            {
                "store": "sqlite" if db.is_sqlite else "postgresql",
                "people": args.people,
                "positions_per_trail": sorted(counts),
                "store_rows": args.people * args.days * 1440,
                "lake_days": args.lake_days,
                "load_s": round(load_s, 1),
                "runs": args.runs,
                **{
                    f"{k}_ms": {
                        "p50": pct(v, 0.5),
                        "p95": pct(v, 0.95),
                        "mean": round(statistics.mean(v) * 1000, 1),
                    }
                    for k, v in timings.items()
                },  # fmt: skip
                "old_path": "request to the monitoring centre: up to 3 days (259,200,000 ms), quoted not measured",
            }
        )
    )
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
