"""Time to answer a person's trail (one fix a minute: 43,200 positions in 30 days, 129,600 in 90), p50/p95, on a
simulated world, on the embedded store (SQLite) and on PostgreSQL in the same run, with the same query through
PostGIS as the peer.

    PYTHONPATH=src python benchmarks/insights_trail.py [--people 2] [--days 90] [--runs 5]
        [--pg-url postgresql+psycopg://...]   # default $OPENEM_TEST_PG_URL; "" for SQLite only
        [--lake-days N]   # the oldest N days exported to the Parquet lake and deleted from the relational store
        [--profile]       # cProfile one request of each kind (top 25 by cumulative time) instead of timing

Each simulated person has an order (sample orders, half on the practitioner's caseload) and a random-walk trail
around their curfew address. Timed for each store:
- `query`: the recent store's columnar trail read (`telemetry.queries.trail_columns`), the lake not included;
- `api`: a practitioner's `GET /api/people/{id}/trail` as GeoJSON (first page of 20,000) through the real app
  (access check over the person's orders, purpose, the audit row, lake merge, serialisation);
- `view`: `GET /api/people/{id}` (trail plus curfew nights, zone visits, alerts and devices);
- `page`: `GET /people/{id}`, the person page (the trail thinned for the map keeping zone entries and exits,
  curfew boundaries and gaps, a page of the position table with speed and source, the curfew calendar).
The peer (PostgreSQL only): the API's answer built inside the database by PostGIS — the window counted and the
first 20,000 positions as one GeoJSON FeatureCollection (`ST_AsGeoJSON(ST_MakePoint(lon, lat))`, `json_agg`),
over the whole window in `trail_points` (PostGIS cannot read the lake). The old path (a request to the
monitoring centre, answered by hand) is quoted, not measured: up to three days for high-risk cases (issue 15).
Prints one JSON line per store.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENEM_ARGON2_PROFILE", "test")

PEER_SQL = """
SELECT (SELECT count(*) FROM trail_points
        WHERE person_id = :p AND device_time >= :lo AND device_time < :hi) AS positions,
       json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
         'type', 'Feature', 'geometry', ST_AsGeoJSON(ST_SetSRID(ST_MakePoint(lon, lat), 4326))::json,
         'properties', json_build_object('n', n, 'time', device_time, 'accuracy_m', accuracy_m,
                                         'device_id', device_id, 'seq', seq)) ORDER BY n), '[]'))::text
FROM (SELECT row_number() OVER (ORDER BY device_time, seq) AS n, device_id, seq, device_time, lat, lon, accuracy_m
      FROM trail_points WHERE person_id = :p AND device_time >= :lo AND device_time < :hi
      ORDER BY device_time, seq LIMIT 20000) t
"""


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(q * len(xs)))] * 1000, 1)


def fresh_pg(url: str) -> str:
    """An empty schema-less database: drop every table of the given one (the test database is reused)."""
    from sqlalchemy import create_engine, text

    eng = create_engine(url)
    with eng.begin() as c:
        c.execute(
            text("DROP SCHEMA public CASCADE; CREATE SCHEMA public; CREATE EXTENSION IF NOT EXISTS postgis")
        )
    eng.dispose()
    return url


def build(url: str, var: Path, people: int, days: int, lake_days: int) -> dict[str, Any]:
    """The world: demo users, `people` orders and trails, the oldest `lake_days` days moved to the lake."""
    from sqlalchemy import delete, insert

    from openem.core.time import LONDON
    from openem.orders.samples import sample_order
    from openem.orders.seeding import load_orders
    from openem.platform_cli import seed_demo_users
    from openem.store.db import Database
    from openem.store.lake import day_bounds, export_trail
    from openem.store.migrate import upgrade
    from openem.telemetry.tables import TrailPointRow

    upgrade(url)
    db = Database(url)
    passwords = {u: p for u, _, p in seed_demo_users(db)}
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now - timedelta(days=days)
    rng = random.Random(15)
    mine: list[str] = []
    t0 = time.perf_counter()
    with db.uow() as uow:
        for i in range(people):
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
            for m in range(days * 24 * 60):
                lat += rng.gauss(0, 0.0002)
                lon += rng.gauss(0, 0.0003)
                rows.append(
                    {"device_id": f"DEV-BENCH{i:04d}", "seq": m, "person_id": pid, "activation_id": "ACT",
                     "device_time": start + timedelta(minutes=m), "lat": lat, "lon": lon, "accuracy_m": 10.0}
                )  # fmt: skip
            for j in range(0, len(rows), 5000):
                uow.session.execute(insert(TrailPointRow), rows[j : j + 5000])
    if lake_days:
        first = start.astimezone(LONDON).date()
        lake_list = [first + timedelta(days=d) for d in range(lake_days)]
        with db.engine.connect() as conn:
            for day in lake_list:
                export_trail(conn, TrailPointRow.__table__, var / "lake", day)  # type: ignore[arg-type]
        with db.uow() as uow:
            uow.session.execute(
                delete(TrailPointRow).where(TrailPointRow.device_time < day_bounds(lake_list[-1])[1])
            )
    if not db.is_sqlite:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            from sqlalchemy import text

            c.execute(text("VACUUM ANALYZE trail_points"))  # what autovacuum does to an insert-only table
    return {"db": db, "passwords": passwords, "now": now, "start": start, "mine": mine,
            "load_s": time.perf_counter() - t0}  # fmt: skip


def client(url: str, var: Path, world: dict[str, Any]) -> Any:
    from fastapi.testclient import TestClient

    from openem.config import load_settings
    from openem.server import create_app

    settings = load_settings(
        {"OPENEM_DATABASE_URL": url, "OPENEM_VAR_DIR": str(var), "OPENEM_SECRET_KEY": "bench"}
    )
    app = create_app(settings, world["db"], start_dispatcher=False)
    c = TestClient(app)
    token = re.search(r'name="csrf_token" value="([^"]*)"', c.get("/sign-in").text).group(1)  # type: ignore[union-attr]
    c.post("/sign-in", data={"username": "demo-probation-practitioner",
                             "password": world["passwords"]["demo-probation-practitioner"], "csrf_token": token,
                             "next": "/"})  # fmt: skip
    return c


def run_store(url: str, args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import text

    from openem.telemetry.queries import trail_columns

    var = Path(tempfile.mkdtemp(prefix="openem-insights-"))
    world = build(url, var, args.people, args.days, args.lake_days)
    db, start, now, mine = world["db"], world["start"], world["now"], world["mine"]
    c = client(url, var, world)
    params = {
        "from": start.isoformat(),
        "to": now.isoformat(),
        "purpose": f"benchmark: {args.days}-day trail review",
    }
    end = now + timedelta(minutes=1)

    def query(pid: str) -> int:
        with db.uow() as uow:
            return len(trail_columns(uow.session, pid, start, end)["seq"])

    def api(pid: str) -> int:
        r = c.get(f"/api/people/{pid}/trail", params=params)
        assert r.status_code == 200, r.text[:500]
        return int(r.json()["properties"]["positions"])

    def view(pid: str) -> int:
        r = c.get(f"/api/people/{pid}", params=params)
        assert r.status_code == 200, r.text[:500]
        return int(r.json()["positions"])

    def page(pid: str) -> int:
        r = c.get(f"/people/{pid}", params=params)
        assert r.status_code == 200 and "trail-map" in r.text, r.text[:500]
        return len(r.content)

    def peer(pid: str) -> int:
        with db.engine.connect() as conn:
            n, body = conn.execute(text(PEER_SQL), {"p": pid, "lo": start, "hi": end}).one()
        json.loads(body)  # the client's side of the answer, as for the API
        return int(n)

    kinds = {"query": query, "api": api, "view": view, "page": page}
    if not db.is_sqlite:
        kinds["postgis_peer"] = peer
    for f in kinds.values():  # warm caches once (the first request also compiles templates)
        f(mine[0])
    if args.profile:
        for name, f in kinds.items():
            prof = cProfile.Profile()
            prof.runcall(f, mine[0])
            print(f"--- {name} ({'sqlite' if db.is_sqlite else 'postgresql'})", file=sys.stderr)
            pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
        db.dispose()
        return {}
    timings: dict[str, list[float]] = {k: [] for k in kinds}
    counts: dict[str, set[int]] = {k: set() for k in kinds}
    for r in range(args.runs):
        pid = mine[r % len(mine)]
        for name, f in kinds.items():
            t = time.perf_counter()
            got = f(pid)
            timings[name].append(time.perf_counter() - t)
            if name != "page":
                counts[name].add(got)
    db.dispose()
    return {
        "store": "sqlite" if db.is_sqlite else "postgresql",
        "people": args.people,
        "positions_per_trail": sorted(counts["api"]),
        "in_relational_store": sorted(counts["query"]),
        "store_rows": args.people * args.days * 1440,
        "lake_days": args.lake_days,
        "load_s": round(world["load_s"], 1),
        "runs": args.runs,
        **{
            f"{k}_ms": {"p50": pct(v, 0.5), "p95": pct(v, 0.95), "mean": round(statistics.mean(v) * 1000, 1)}
            for k, v in timings.items()
        },  # fmt: skip
        "old_path": "request to the monitoring centre: up to 3 days (259,200,000 ms), quoted not measured",
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=2)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--pg-url", default=os.environ.get("OPENEM_TEST_PG_URL", ""), help="PostgreSQL + PostGIS")
    ap.add_argument("--lake-days", type=int, default=0, help="move the oldest N days into the Parquet lake")
    ap.add_argument("--sqlite-only", action="store_true")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    urls = [f"sqlite:///{Path(tempfile.mkdtemp(prefix='openem-insights-db-')) / 'openem.db'}"]
    if args.pg_url and not args.sqlite_only:
        urls.append(fresh_pg(args.pg_url))
    for url in urls:
        out = run_store(url, args)
        if out:
            print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
