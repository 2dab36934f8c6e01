"""National-rate ingest on PostgreSQL: the INSERT path beside the COPY path, in the same run.

A simulated fleet (default 29,000 and 50,000 wearers, one GPS fix a minute each) is sent as one batch a
second through `ingest_batch` (one unit of work per batch, commit included) for --seconds, then each path is
run flat out (batches of 500) for capacity. Prints sustained msgs/s, p95 batch latency to stored (commit
returned), and this process's CPU seconds per second (the PostgreSQL server's CPU is not counted). A third
row sends GT06 frames over a real TCP socket to `gt06_server` (decode + store) flat out.

    source scripts/services.sh
    PYTHONPATH=src .venv/bin/python benchmarks/ingest_national.py --seconds 10
    PYTHONPATH=src .venv/bin/python benchmarks/ingest_national.py --http   # over HTTP: ingest_http_spike.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from openem.core.time import iso
from openem.store.db import Database
from openem.store.migrate import upgrade
from openem.telemetry import devices as d
from openem.telemetry.gt06_server import serve, store_in
from openem.telemetry.ingest import ingest_batch

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
_seq = [0]


def batch(n: int, fleet: int) -> bytes:
    out = []
    for _ in range(n):
        _seq[0] += 1
        s = _seq[0]
        out.append({"v": 1, "device_id": f"w{s % fleet}", "seq": s, "type": "gps",
                    "device_time": iso(T0 + timedelta(milliseconds=s)),
                    "payload": {"lat": 53.8, "lon": -1.55, "accuracy_m": 8.0, "source": "GPS"}})  # fmt: skip
    return json.dumps(out).encode()


def run(db: Database, copy: bool, per_batch: int, fleet: int, seconds: float, paced: bool) -> dict[str, Any]:
    lat: list[float] = []
    sent = 0
    cpu0, t0 = time.process_time(), time.perf_counter()
    tick = t0
    while time.perf_counter() - t0 < seconds:
        body = batch(per_batch, fleet)
        b0 = time.perf_counter()
        with db.uow() as uow:
            ingest_batch(uow.session, body, source="bench", copy=copy)
        lat.append(time.perf_counter() - b0)
        sent += per_batch
        if paced:
            tick += 1.0
            time.sleep(max(0.0, tick - time.perf_counter()))
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    p95 = statistics.quantiles(lat, n=20)[18] if len(lat) >= 20 else max(lat)
    return {
        "msgs_s": sent / wall,
        "p95_ms": p95 * 1000,
        "cpu_per_s": cpu / wall,
        "msgs_per_cpu_s": sent / cpu,
    }


async def gt06(db: Database, frames: int) -> dict[str, Any]:
    server = await serve("127.0.0.1", 0, store_in(db.sessions))
    port = server.sockets[0].getsockname()[1]
    cpu0, t0 = time.process_time(), time.perf_counter()
    _, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(d.login_frame("359710049095095"))
    t = T0
    for i in range(frames):
        w.write(d.location_frame(t + timedelta(seconds=i), 53.8, -1.55, serial=i % 65536))
    await w.drain()
    w.write(d.frame(0x13, b"\x40\x04\x00\x01", 1))

    await w.drain()
    w.close()
    # wait for the server to have stored everything: the connection handler ends after the last chunk
    while len(asyncio.all_tasks()) > 1:
        await asyncio.sleep(0.01)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    server.close()

    return {
        "msgs_s": frames / wall,
        "p95_ms": float("nan"),
        "cpu_per_s": cpu / wall,
        "msgs_per_cpu_s": frames / cpu,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--fleets", type=int, nargs="*", default=[29_000, 50_000])
    ap.add_argument(
        "--http", action="store_true", help="the HTTP end-to-end spike instead (ingest_http_spike.py)"
    )
    args, rest = ap.parse_known_args()
    if args.http:
        import sys

        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import ingest_http_spike

        sys.argv = [sys.argv[0], *rest]
        ingest_http_spike.main()
        return
    url = os.environ["OPENEM_TEST_PG_URL"]
    upgrade(url)
    db = Database(url)
    print(f"{'run':44} {'msgs/s':>8} {'p95 ms':>8} {'cpu/s':>6} {'msgs/cpu-s':>10}")
    for fleet in args.fleets:
        per = round(fleet / 60)
        for copy in (False, True):
            r = run(db, copy, per, fleet, args.seconds, paced=True)
            name = f"{fleet:,} wearers ({per}/s) {'COPY' if copy else 'INSERT'} paced"
            print(
                f"{name:44} {r['msgs_s']:8.0f} {r['p95_ms']:8.1f} {r['cpu_per_s']:6.2f} {r['msgs_per_cpu_s']:10.0f}"
            )
    for copy in (False, True):
        r = run(db, copy, 500, 50_000, args.seconds, paced=False)
        name = f"flat out, batches of 500, {'COPY' if copy else 'INSERT'}"
        print(
            f"{name:44} {r['msgs_s']:8.0f} {r['p95_ms']:8.1f} {r['cpu_per_s']:6.2f} {r['msgs_per_cpu_s']:10.0f}"
        )
    r = asyncio.run(gt06(db, 5000))
    print(
        f"{'GT06 over TCP, 5,000 frames, one tracker':44} {r['msgs_s']:8.0f} {'-':>8} {r['cpu_per_s']:6.2f} {r['msgs_per_cpu_s']:10.0f}"
    )
    db.dispose()


if __name__ == "__main__":
    main()
