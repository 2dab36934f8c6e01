"""HTTP end to end at a top-of-the-hour spike: `openem serve` (a real uvicorn process, engine in process) on
SQLite and on PostgreSQL with production durability (a cluster of its own, fsync and synchronous_commit on),
today's path (orjson, activations from memory) beside the path before it (json, activations queried per
batch: OPENEM_INGEST_PATH=legacy), in the same run.

The spike: a fleet of 50,000 fitted wearers (activations in the database) whose devices all report in the
same few seconds; here --messages (default 60,000) messages sent as fast as --clients gateways (threads, one
HTTP connection each, batches of --batch) can, the server, the database and this load generator sharing the
machine. A 503 (back-pressure) is waited out (Retry-After) and the batch resent, as the gateways do; its time
counts in that batch's acknowledgement latency. Prints acknowledged msgs/s, p95 and p99 per-batch
acknowledgement latency, and how many batches were told to wait.

    PYTHONPATH=src .venv/bin/python benchmarks/ingest_http_spike.py          # needs root for the PG cluster

`--paths baseline,fast --baseline REV` puts a git revision's `src/` (e.g. today's main) beside this checkout, each
on a fresh database; every row also gives the CPU seconds of the server, the PostgreSQL cluster and this load
generator during the measured spike, and the cluster's settings are printed first.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

from openem.auth.service import issue_token
from openem.core.time import iso
from openem.devices.tables import ActivationRow
from openem.sim.stream import retry_after_s
from openem.store.db import Database
from openem.store.migrate import upgrade

FLEET = 50_000
PG_BIN = "/usr/lib/postgresql/15/bin"
POSTMASTER = [0]  # the benchmark's PostgreSQL server process, for its CPU time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def durable_postgres(settings: str = "") -> Iterator[str]:
    """A PostgreSQL cluster of its own with the production defaults (fsync, synchronous_commit and
    full_page_writes on), unlike the test servers'; `settings`: more `-c name=value` options."""
    d = Path(tempfile.mkdtemp(prefix="openem-bench-pg-"))
    shutil.chown(d, "postgres", "postgres")
    d.chmod(0o755)
    port = free_port()
    su = ["su", "postgres", "-c"]
    subprocess.run(
        [*su, f"{PG_BIN}/initdb -D {d}/data -A trust -U postgres"], check=True, capture_output=True
    )
    subprocess.run([*su, f"{PG_BIN}/pg_ctl -D {d}/data -l {d}/log -w -o '-p {port} -k {d} "
                    f"-c listen_addresses=127.0.0.1 -c max_connections=100 {settings}' start"], check=True,
                   capture_output=True)  # fmt: skip
    try:
        psql = ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-qc"]
        subprocess.run([*psql, "CREATE DATABASE bench"], check=True, capture_output=True)
        subprocess.run([*psql[:-1], "-d", "bench", "-qc", "CREATE EXTENSION IF NOT EXISTS postgis"], check=True,
                       capture_output=True)  # fmt: skip
        POSTMASTER[0] = int((d / "data" / "postmaster.pid").read_text().split()[0])
        names = ("fsync", "synchronous_commit", "full_page_writes", "wal_level", "commit_delay", "shared_buffers",
                 "max_wal_size", "checkpoint_timeout", "server_version")  # fmt: skip
        shown = subprocess.run([*psql[:-1], "-At", "-c", "SELECT string_agg(name || '=' || setting, ', ') FROM "
                                f"pg_settings WHERE name IN ({', '.join(repr(n) for n in names)})"],
                               check=True, capture_output=True, text=True).stdout.strip()  # fmt: skip
        print(f"PostgreSQL: {shown}", flush=True)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/bench"
    finally:
        subprocess.run([*su, f"{PG_BIN}/pg_ctl -D {d}/data -m fast stop"], capture_output=True)
        shutil.rmtree(d, ignore_errors=True)


def fresh_database(url: str, name: str) -> str:
    """Another database on the benchmark's cluster (with PostGIS), its URL."""
    port = url.rsplit(":", 1)[1].split("/")[0]
    psql = ["psql", "-h", "127.0.0.1", "-p", port, "-U", "postgres"]
    subprocess.run([*psql, "-qc", f"CREATE DATABASE bench_{name}"], check=True, capture_output=True)
    subprocess.run([*psql, "-d", f"bench_{name}", "-qc", "CREATE EXTENSION IF NOT EXISTS postgis"], check=True,
                   capture_output=True)  # fmt: skip
    return url.rsplit("/", 1)[0] + f"/bench_{name}"


def seed(url: str) -> str:
    """A migrated database with FLEET fitted devices; returns a gateway token."""
    upgrade(url)
    db = Database(url)
    start = datetime.now(UTC) - timedelta(days=30)
    with db.uow() as uow:
        rows = [{"activation_id": f"ACT-{i}", "device_id": f"w{i}", "device_kind": "GPS_TAG",
                 "order_ref": f"ORD-{i}", "person_id": f"PER-{i}", "role": "WEARER", "start": start, "end": None}
                for i in range(FLEET)]  # fmt: skip
        for i in range(0, FLEET, 5000):
            uow.session.execute(insert(ActivationRow), rows[i : i + 5000])
        token = issue_token(uow.session, actor="bench", name="bench-gw", device_scope="bench-gw")
    db.dispose()
    return token


def bodies(n: int, batch: int, offset: int, first_device: int = 0) -> list[bytes]:
    """The spike: every wearer's device at once (a fix, and at the top of the hour a heartbeat and battery),
    devices from `first_device` on, each sending consecutive sequence numbers (as a tracker does)."""
    t = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
    out, cur = [], []
    kinds = ("gps", "heartbeat", "battery")
    for i in range(n):
        kind = kinds[i % 3]
        payload: dict[str, Any] = {
            "gps": {"lat": 53.8 + (i % 100) * 1e-4, "lon": -1.55, "accuracy_m": 8.0, "source": "GPS"},
            "heartbeat": {},
            "battery": {"level_pct": 80.0, "charging": False},
        }[kind]
        cur.append({"v": 1, "device_id": f"w{(first_device + i // 3) % FLEET}", "seq": offset + i, "type": kind,
                    "device_time": iso(t + timedelta(milliseconds=i)), "payload": payload})  # fmt: skip
        if len(cur) == batch:
            out.append(json.dumps(cur).encode())
            cur = []
    if cur:
        out.append(json.dumps(cur).encode())
    return out


TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int, children: bool = False) -> float:
    """CPU seconds of a process (user + system), with its reaped children's when `children`."""
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(f[11]) + int(f[12]) + ((int(f[13]) + int(f[14])) if children else 0)) / TICK


def tree_cpu_s(root: int) -> float:
    """CPU seconds of a process and all its descendants, live or reaped (e.g. a postmaster and its backends)."""
    kids: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                kids.setdefault(int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]), []).append(
                    int(d.name)
                )
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += cpu_s(pid, children=True)
        todo += kids.get(pid, [])
    return total


def spike(base: str, token: str, payloads: list[bytes], clients: int) -> dict[str, float]:
    latencies: list[float] = []
    waited = [0]
    lock = threading.Lock()
    queue = list(enumerate(payloads))
    acked = [0]

    def gateway() -> None:
        with httpx.Client(timeout=120, headers={"Authorization": f"Bearer {token}"}) as c:
            while True:
                with lock:
                    if not queue:
                        return
                    _, body = queue.pop()
                t0 = time.perf_counter()
                while True:
                    r = c.post(base + "/api/telemetry/batch", content=body)
                    if r.status_code in (429, 503):
                        with lock:
                            waited[0] += 1
                        time.sleep(retry_after_s(r.headers.get("retry-after")))
                        continue
                    r.raise_for_status()
                    break
                with lock:
                    latencies.append(time.perf_counter() - t0)
                    acked[0] += r.json()["accepted"] + r.json()["duplicates"]

    t0 = time.perf_counter()
    threads = [threading.Thread(target=gateway) for _ in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    q = statistics.quantiles(latencies * 2 if len(latencies) < 2 else latencies, n=100)
    return {"msgs_s": acked[0] / wall, "p95_ms": q[94] * 1000, "p99_ms": q[98] * 1000, "waits": waited[0],
            "acked": acked[0], "wall": wall}  # fmt: skip


BASELINE_SRC: list[str] = []  # --baseline: the extracted src/ of that revision


def baseline_src(rev: str) -> str:
    """The `src/` of a git revision of this repository, extracted to a temporary folder (the code a
    "baseline" server runs: today's path as committed there, beside this checkout's)."""
    out = Path(tempfile.mkdtemp(prefix="openem-bench-baseline-"))
    repo = Path(__file__).resolve().parents[1]
    tar = subprocess.run(
        ["git", "-C", str(repo), "archive", rev, "src"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(out)], input=tar, check=True)
    return str(out / "src")


def serve(url: str, path: str, tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    here = [p for p in sys.path if not (Path(p) / "openem").is_dir()] if path == "baseline" else sys.path
    pythonpath = os.pathsep.join((BASELINE_SRC if path == "baseline" else []) + here)
    env = {**os.environ, "OPENEM_DATABASE_URL": url, "OPENEM_VAR_DIR": str(tmp),
           "OPENEM_INGEST_PATH": "fast" if path == "baseline" else path,
           "OPENEM_SECRET_KEY": "bench-" + "x" * 32, "PYTHONPATH": pythonpath,
           # no engine checkpoint during a run: today's checkpoint (the whole engine as JSON) stalls every
           # acknowledgement for tens of seconds at 50,000 activations on SQLite, and would fall in one run only
           "OPENEM_ENGINE_CHECKPOINT_S": "100000"}  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "openem.cli", "serve", "--port", str(port), "--no-migrate"],
                            env=env, stdout=open(tmp / f"serve-{path}.log", "w"), stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(base + "/health", timeout=2).status_code < 600:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


PATH_NAMES = {"legacy": "before 0027 (json, queried)", "baseline": "baseline rev (today's)",
              "fast": "this checkout"}  # fmt: skip


def run(label: str, fresh_url: Callable[[str], str], args: argparse.Namespace) -> None:
    """Each path on a database (and engine) of its own: run one after the other on one database, the second
    server restored the first's engine checkpoint, so its devices' sequences jumped (a gap per device, which
    sends every device through the engine's slow path for late data) and its tables were larger: that, not the
    path, made "now" look 0.45x of "before" in the figures of 2026-12-02 17:39."""
    for path in args.paths.split(","):
        url = fresh_url(path)
        token = seed(url)
        tmp = Path(tempfile.mkdtemp(prefix="openem-bench-"))
        proc, base = serve(url, path, tmp)
        try:
            bench = bodies(args.messages, args.batch, offset=10**9)
            warm = bodies(2000, args.batch, offset=10**9, first_device=FLEET - 1000)  # devices not measured
            spike(base, token, warm, 1)
            spy = None
            if args.profile:  # py-spy on the server for the measured spike only (collapsed stacks, idle kept)
                spy = subprocess.Popen(["py-spy", "record", "--format", "raw", "--threads",
                                        *(["--idle"] if args.profile_idle else ["--gil"]), "--rate", "100", "-o", f"{args.profile}/{label[:6]}-{path}.txt", "--pid",
                                        str(proc.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
                time.sleep(1)  # py-spy attaches
            cpu0 = (tree_cpu_s(proc.pid), tree_cpu_s(POSTMASTER[0]) if POSTMASTER[0] else 0.0, os.times())
            r = spike(base, token, bench, args.clients)
            own = os.times()
            r["cpu"] = (tree_cpu_s(proc.pid) - cpu0[0],
                        (tree_cpu_s(POSTMASTER[0]) - cpu0[1]) if POSTMASTER[0] else 0.0,
                        own.user + own.system - cpu0[2].user - cpu0[2].system)  # fmt: skip
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(60)
        finally:
            proc.terminate()  # a clean stop writes the engine's checkpoint: give it time, then kill
            try:
                proc.wait(120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        name = f"{label}, {PATH_NAMES.get(path, path)}, batch {args.batch}"
        print(
            f"{name:58} {r['msgs_s']:8.0f} {r['p95_ms']:8.0f} {r['p99_ms']:8.0f} {r['waits']:6d}"
            f"  cpu s: server {r['cpu'][0]:.1f} pg {r['cpu'][1]:.1f} client {r['cpu'][2]:.1f} wall {r['wall']:.1f}",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=60_000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument(
        "--profile", default="", help="a folder: py-spy the server during each spike, stacks there"
    )
    ap.add_argument(
        "--profile-idle",
        action="store_true",
        help="with --profile: every thread's samples, waiting too (default: the thread holding the GIL)",
    )
    ap.add_argument("--paths", default="legacy,fast", help="which paths, in this order (comma-separated)")
    ap.add_argument("--only", choices=["sqlite", "postgres"], default=None)
    ap.add_argument("--baseline", default="", help="a git revision: the path named 'baseline' runs its src/")
    args = ap.parse_args()
    if args.baseline:
        BASELINE_SRC.append(baseline_src(args.baseline))
        PATH_NAMES["baseline"] = f"baseline {args.baseline}"
    print(f"{'run (HTTP, ' + str(args.messages) + ' msgs, ' + str(args.clients) + ' gateways)':58} "
          f"{'msgs/s':>8} {'p95 ms':>8} {'p99 ms':>8} {'503s':>6}")  # fmt: skip
    if args.only in (None, "sqlite"):
        d = tempfile.mkdtemp(prefix="openem-bench-sqlite-")
        run("SQLite", lambda path: f"sqlite:///{d}/bench-{path}.db", args)
        shutil.rmtree(d, ignore_errors=True)
    if args.only in (None, "postgres"):
        with durable_postgres() as url:
            run("PostgreSQL (fsync, synchronous_commit on)", lambda path: fresh_database(url, path), args)


if __name__ == "__main__":
    main()
