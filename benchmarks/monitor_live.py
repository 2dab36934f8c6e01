"""Live path benchmark: a simulated fleet sent over HTTP to a real `openem serve`, as fast as it will take it.

Measures, for each store in the same run (SQLite file, and PostgreSQL when --pg URL is given):
- sustained ingest rate (messages/s acknowledged after the durable write, one sender, batches of 500);
- receipt-to-alert latency: from the server's receive time of the last evidence message of an alert to the
  moment the alert row was stored (ingest commit -> engine -> outbox -> alerts store), p50/p95/p99;
- whether a backlog built up (alerts still arriving after the last batch was acknowledged).

    .venv/bin/python benchmarks/monitor_live.py --wearers 2000 --minutes 120 [--pg postgresql://...]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import create_engine, select, text

from openem.alerts.tables import AlertRow
from openem.core.time import local_date
from openem.demo_fleet import load_world_into
from openem.sim import generate_world
from openem.sim.stream import table_to_wire
from openem.store.db import Database, normalise_url
from openem.store.migrate import upgrade
from openem.telemetry.tables import TelemetryMessageRow


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def run(db_url: str, world, messages: list[dict], label: str) -> dict:
    upgrade(db_url)
    db = Database(db_url)
    _, token = load_world_into(db, world, datetime.now(UTC))
    db.dispose()
    port = free_port()
    var = tempfile.mkdtemp(prefix="openem-bench-")
    env = {**os.environ, "OPENEM_DATABASE_URL": db_url, "OPENEM_VAR_DIR": var, "OPENEM_SECRET_KEY": "bench"}
    log = open(Path(var) / "server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "openem.cli", "serve", "--port", str(port), "--no-migrate"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        time.sleep(1.0)
        client = httpx.Client(timeout=60, headers={"Authorization": f"Bearer {token}"})
        t0 = time.perf_counter()
        sent = 0
        for i in range(0, len(messages), 500):
            r = client.post(base + "/api/telemetry/batch", content=json.dumps(messages[i : i + 500]))
            r.raise_for_status()
            sent += r.json()["accepted"]
            if (i // 500) % 40 == 0:
                print(f"  {label}: {sent:,} messages acknowledged", flush=True)
        elapsed = time.perf_counter() - t0
        last_ack = datetime.now(UTC)
        eng = create_engine(normalise_url(db_url))
        stable, last = 0, -1
        while stable < 6:  # alerts count unchanged for 3 s
            time.sleep(0.5)
            with eng.connect() as c:
                n = c.execute(text("SELECT count(*) FROM alerts")).scalar_one()
            stable = stable + 1 if n == last else 0
            last = n
        eng.dispose()
        rdb = Database(db_url)
        with rdb.uow() as uow:
            alerts = uow.session.execute(select(AlertRow.evidence, AlertRow.stored_at)).all()
            rx = {
                (d, q): t
                for d, q, t in uow.session.execute(
                    select(
                        TelemetryMessageRow.device_id,
                        TelemetryMessageRow.seq,
                        TelemetryMessageRow.receive_time,
                    )
                )
            }
        rdb.dispose()
        lat, backlog_after = [], 0
        for evidence, stored_at in alerts:
            ev = json.loads(evidence) if isinstance(evidence, str) else evidence
            times = [rx.get((d, s)) for d, s in (ev or []) if (d, s) in rx]
            if not times:
                continue
            received = max(times)
            lat.append((stored_at - received).total_seconds())
            backlog_after += stored_at > last_ack + timedelta(seconds=1)
        lat_ms = np.array(lat) * 1000 if lat else np.array([np.nan])
        return {
            "store": label,
            "messages": sent,
            "seconds": round(elapsed, 1),
            "msgs_per_s": round(sent / elapsed),
            "alerts": len(alerts),
            "alerts_with_evidence": len(lat),
            "p50_ms": round(float(np.nanpercentile(lat_ms, 50)), 1),
            "p95_ms": round(float(np.nanpercentile(lat_ms, 95)), 1),
            "p99_ms": round(float(np.nanpercentile(lat_ms, 99)), 1),
            "alerts_stored_after_last_ack": int(backlog_after),
        }
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--wearers", type=int, default=2000)
    ap.add_argument("--minutes", type=int, default=120, help="minutes of simulated telemetry to send")
    ap.add_argument(
        "--pg", default=os.environ.get("OPENEM_BENCH_PG_URL"), help="PostgreSQL URL (a fresh database)"
    )
    args = ap.parse_args()
    now = datetime.now(UTC)
    print(f"simulating {args.wearers} wearers ...", flush=True)
    world = generate_world(wearers=args.wearers, days=2, seed=3, start=local_date(now) - timedelta(days=1))
    table = world.telemetry.sort_by("receive_time")
    first = table.column("receive_time")[0].as_py()
    msgs = []
    for m in table_to_wire(table):
        if datetime.fromisoformat(m["receive_time"].replace("Z", "+00:00")) > first + timedelta(
            minutes=args.minutes
        ):
            break
        if datetime.fromisoformat(m["device_time"].replace("Z", "+00:00")) > now:
            continue
        m.pop("receive_time")
        msgs.append(m)
    print(f"{len(msgs):,} messages ({args.minutes} simulated minutes of {args.wearers} wearers)", flush=True)
    results = [run(f"sqlite:///{tempfile.mkdtemp()}/bench.db", world, msgs, "sqlite")]
    if args.pg:
        results.append(run(args.pg, world, msgs, "postgresql"))
    for r in results:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
