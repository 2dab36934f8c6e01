"""National fleet over HTTP: a simulated day of 50,000 wearers, a window around the evening curfew start sent
to a real `openem serve` on PostgreSQL at real-time pace (1x) and faster, to find the highest pace whose
ingest backlog does not grow, with receipt-to-alert latency at each pace.

    .venv/bin/python benchmarks/monitor_fleet.py --wearers 50000 --paces 1 2 4 [--world DIR] [--pg ADMIN_URL]

- The world is written once (`write_world`, one simulated day ending this morning, so nothing is in the
  future) and reused with `--world DIR`. GPS tags report every 15 s while their wearer is in violation.
- A throwaway PostgreSQL 15 is started in a temporary directory (or `--pg` names a server's admin URL); the
  fleet's orders, devices and activations are loaded once into a template database, and every pace gets a
  fresh copy of it and a fresh server process (the same messages twice would be duplicates).
- The load generator runs on the same machine as the server and the database (2 cores shared by all three):
  a dispatcher releases each message at its simulated receive time / pace, in batches of at most `--batch`,
  and `--senders` threads (gateways) POST them concurrently, each waiting for the durable acknowledgement.
- Backlog: messages released but not yet acknowledged, and the lag (age of the oldest of them). A pace is
  sustainable when, as the last message is released, nothing older than 3 s waits and the last batch is
  acknowledged within 3 s of its release (the backlog did not grow; a spike worked off in time is allowed).
- Each pace first sends the `--warmup-minutes` before the window flat out and waits for the alerts to settle
  (a server starting cold raises every never-fitted order's alert at once), then measures the window.
- Latency: from the server's receive time of an alert's last evidence message to the alert row being stored
  (ingest commit -> engine -> outbox -> alerts store). Alerts without evidence (time-driven) and silence
  alerts (`no_comms`, whose evidence is the last message before the silence) are left out of p50/p99.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from types import SimpleNamespace

import httpx
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
from sqlalchemy import create_engine, text

from openem.core.time import local_date, local_to_utc
from openem.demo_fleet import load_world_into
from openem.sim.stream import table_to_wire
from openem.sim.world import write_world
from openem.store.db import Database, normalise_url
from openem.store.migrate import upgrade

sys.path.insert(0, str(Path(__file__).parent))
from monitor_live import free_port  # noqa: E402
from monitor_replay import Postgres  # noqa: E402

SILENCE_KINDS = {"no_comms", "unmonitored_silent", "unmonitored_no_device"}
SUSTAINED_DRAIN_S = 3.0
LOAD_CHUNK = 5000


def ensure_world(args: argparse.Namespace) -> Path:
    out = Path(args.world or tempfile.mkdtemp(prefix="openem-fleet-"))
    if (out / "manifest.json").exists():
        print(f"reusing the world in {out}", flush=True)
        return out
    start = local_date(datetime.now(UTC)) - timedelta(days=1)
    print(f"simulating {args.wearers:,} wearers, 1 day from {start} 07:00 into {out} ...", flush=True)
    t0, done = time.perf_counter(), [0]

    def progress(n: int) -> None:
        done[0] += n
        if done[0] % 10000 < n:
            print(f"  {done[0]:,} wearers ({time.perf_counter() - t0:.0f} s)", flush=True)

    write_world(out, args.wearers, 1, args.seed, start=start, progress=progress)
    print(f"world written in {time.perf_counter() - t0:.0f} s", flush=True)
    return out


def window_messages(world: Path, start_us: int, end_us: int) -> tuple[np.ndarray, list[bytes], dict]:
    """Messages received in [start, end): their offsets (s) from the window start and their encoded JSON."""
    data = ds.dataset(str(world / "telemetry"), format="parquet")
    rt = ds.field("receive_time")
    table = data.to_table(filter=(rt >= pa.scalar(start_us, pa.timestamp("us", "UTC")))
                          & (rt < pa.scalar(end_us, pa.timestamp("us", "UTC"))))  # fmt: skip
    table = table.sort_by("receive_time")
    offsets = (table.column("receive_time").cast(pa.int64()).to_numpy() - start_us) / 1e6
    encoded = []
    for m in table_to_wire(table):
        m.pop("receive_time")
        encoded.append(json.dumps(m, separators=(",", ":")).encode())
    types = pd.Series(table.column("type").to_numpy(zero_copy_only=False)).value_counts().to_dict()
    gps = table.select(["device_id", "type", "device_time"]).to_pandas()
    gps = gps[(gps["type"] == "gps") & gps["device_id"].str.startswith("GPS")].sort_values(
        ["device_id", "device_time"]
    )
    gap = gps.groupby("device_id")["device_time"].diff().dt.total_seconds()
    types["gps_at_15_s"] = int((gap < 59).sum())  # fixes of tags in violation (one a minute otherwise)
    types["gps_tags"] = int(gps["device_id"].nunique())
    return offsets, encoded, types


def load_template(admin_url: str, world: Path) -> tuple[str, str]:
    """The template database with the fleet's orders, devices and activations (reused when it was loaded from
    the same world); returns (url, gateway token)."""
    from openem.auth.service import issue_token

    url = _db_url(admin_url, "openem_fleet_base")
    eng = create_engine(normalise_url(admin_url))
    with eng.connect() as c:
        exists = c.execute(text("SELECT 1 FROM pg_database WHERE datname = 'openem_fleet_base'")).first()
    eng.dispose()
    if exists:
        eng = create_engine(url)
        with eng.connect() as c:
            marker = c.execute(text("SELECT to_regclass('fleet_loaded')")).scalar_one()
            same = marker and c.execute(text("SELECT world FROM fleet_loaded")).scalar_one() == str(world)
        eng.dispose()
        if same:
            db = Database(url)
            with db.uow() as uow:
                token = issue_token(
                    uow.session, actor="bench", name="fleet-gateway", device_scope="demo-gateway", days=2
                )
            db.dispose()
            print("reusing the loaded template database", flush=True)
            return url, token
    _sql(admin_url, "DROP DATABASE IF EXISTS openem_fleet_base", "CREATE DATABASE openem_fleet_base")
    upgrade(url)
    orders = [json.loads(line) for line in (world / "orders.jsonl").read_text().splitlines()]
    devices = pd.read_parquet(world / "devices.parquet")
    acts = pd.read_parquet(world / "activations.parquet")
    db, token, t0, counts = Database(url), "", time.perf_counter(), {}
    for i in range(0, len(orders), LOAD_CHUNK):
        part = orders[i : i + LOAD_CHUNK]
        refs = {o["ref"] for o in part}
        a = acts[acts["order_ref"].isin(refs)]
        sub = SimpleNamespace(
            orders=part, activations=a, devices=devices[devices["device_id"].isin(set(a["device_id"]))]
        )
        c, token = load_world_into(db, sub, datetime.now(UTC))
        counts = {k: counts.get(k, 0) + v for k, v in c.items()}
        print(
            f"  loaded {i + len(part):,}/{len(orders):,} orders ({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
    db.dispose()
    eng = create_engine(url)
    with eng.begin() as c:
        c.execute(text("CREATE TABLE fleet_loaded (world text)"))
        c.execute(text("INSERT INTO fleet_loaded VALUES (:w)"), {"w": str(world)})
    eng.dispose()
    print(f"template database ready: {counts}", flush=True)
    return url, token


def _db_url(admin_url: str, name: str) -> str:
    return normalise_url(admin_url).rsplit("/", 1)[0] + "/" + name


def _sql(admin_url: str, *statements: str) -> None:
    eng = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        for s in statements:
            c.execute(text(s))
    eng.dispose()


class Sender:
    """Releases messages at their due time (offset / pace) and POSTs them from `senders` threads."""

    def __init__(self, base: str, token: str, offsets: np.ndarray, encoded: list[bytes], pace: float,
                 batch: int, senders: int, flush_s: float) -> None:  # fmt: skip
        self.url, self.token = base + "/api/telemetry/batch", token
        self.offsets, self.encoded, self.pace = offsets, encoded, pace
        self.batch, self.senders, self.flush_s = batch, senders, flush_s
        self.q: queue.Queue = queue.Queue()
        self.lock = threading.Lock()
        # (release time, size) of the batches released and not yet acknowledged, oldest first
        self.pending: deque = deque()
        self.acked = self.released = 0
        self.last_ack_wall = 0.0
        self.errors = 0

    def _post_loop(self) -> None:
        with httpx.Client(timeout=120, headers={"Authorization": f"Bearer {self.token}"}) as client:
            while (item := self.q.get()) is not None:
                due, body, n = item
                for attempt in range(6):
                    try:
                        r = client.post(self.url, content=body, headers={"Content-Type": "application/json"})
                        if r.status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    self.errors += 1
                    time.sleep(0.5 * 2**attempt)
                with self.lock:
                    self.acked += n
                    self.pending.remove((due, n))
                    self.last_ack_wall = time.monotonic()

    def backlog(self, now: float) -> tuple[int, float]:
        with self.lock:
            lag = now - min(d for d, _ in self.pending) if self.pending else 0.0
            return self.released - self.acked, max(lag, 0.0)

    def run(self, label: str) -> dict:
        threads = [threading.Thread(target=self._post_loop, daemon=True) for _ in range(self.senders)]
        for t in threads:
            t.start()
        due_wall = self.offsets / self.pace
        n, i, t0 = len(self.encoded), 0, time.monotonic()
        last_release = t0
        samples, next_sample, next_print = [], 1.0, 10.0
        while i < n:
            now = time.monotonic() - t0
            j = int(np.searchsorted(due_wall, now, side="right"))
            while i < j:
                k = min(j, i + self.batch)
                body = b"[" + b",".join(self.encoded[i:k]) + b"]"
                item = (time.monotonic(), body, k - i)  # released now: the backlog is what waits after this
                with self.lock:
                    self.pending.append((item[0], item[2]))
                    self.released += k - i
                self.q.put(item)
                i, last_release = k, item[0]
            if now >= next_sample:
                size, lag = self.backlog(time.monotonic())
                samples.append((round(now), self.released, self.acked, size, round(lag, 2)))
                next_sample += 1.0
                if now >= next_print:
                    rate = self.acked / now
                    print(f"  {label}: {now:5.0f} s  offered {self.released:,}  acked {self.acked:,} ({rate:,.0f}/s)"
                          f"  backlog {size:,} msgs, lag {lag:.1f} s", flush=True)  # fmt: skip
                    next_print += 10.0
            time.sleep(self.flush_s)  # a gateway forwards what it holds every flush_s
        final_backlog, final_lag = self.backlog(last_release)
        for _ in threads:
            self.q.put(None)
        for t in threads:
            t.join()
        drain = self.last_ack_wall - last_release
        span = float(due_wall[-1]) or 1.0
        return {"samples": samples, "final_backlog": final_backlog, "final_lag_s": round(final_lag, 2),
                "drain_s": round(drain, 2), "offered_per_s": round(n / span),
                "achieved_per_s": round(n / (self.last_ack_wall - t0)), "post_errors": self.errors}  # fmt: skip


def run_pace(admin_url: str, template: str, token: str, window: tuple[np.ndarray, list[bytes]],
             warmup: tuple[np.ndarray, list[bytes]], pace: float, args: argparse.Namespace) -> dict:  # fmt: skip
    name = f"openem_fleet_{str(pace).replace('.', '_')}x"
    _sql(
        admin_url,
        f"DROP DATABASE IF EXISTS {name} WITH (FORCE)",
        f"CREATE DATABASE {name} TEMPLATE {template}",
    )
    url = _db_url(admin_url, name)
    port, var = free_port(), tempfile.mkdtemp(prefix="openem-fleet-srv-")
    env = {**os.environ, "OPENEM_DATABASE_URL": url, "OPENEM_VAR_DIR": var, "OPENEM_SECRET_KEY": "bench"}
    log = open(Path(var) / "server.log", "w")  # noqa: SIM115 - closed with the server
    cmd = [sys.executable, "-m", "openem.cli", "serve", "--port", str(port), "--no-migrate"]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        t_up = time.perf_counter()
        for _ in range(600):
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        print(
            f"  {pace}x: server up in {time.perf_counter() - t_up:.0f} s (fleet loaded into the engine)",
            flush=True,
        )
        if warmup[
            1
        ]:  # the minutes before the window, flat out: the engine starts cold (first scans, unmonitored)
            Sender(base, token, *warmup, 1e9, args.batch, args.senders, args.flush_s).run(f"{pace}x warm-up")
            _settled(url)
        since = datetime.now(UTC)
        offsets, encoded = window
        spy = None
        # sample the server's stacks (collapsed: one line per stack with its count)
        if args.py_spy_s and pace in (args.py_spy_paces or [pace]):
            prof = Path(tempfile.gettempdir()) / f"openem-fleet-{pace}x.pyspy.txt"
            spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(proc.pid),
                                    "--duration", str(args.py_spy_s), "--format", "raw", "--nonblocking",
                                    "--output", str(prof)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
            print(f"  {pace}x: profiling the server for {args.py_spy_s} s into {prof}", flush=True)
        sent = Sender(base, token, offsets, encoded, pace, args.batch, args.senders, args.flush_s).run(
            f"{pace}x"
        )
        last_ack = datetime.now(UTC)
        if spy is not None:
            spy.wait(args.py_spy_s + 30)
        out = {"pace": pace, **{k: v for k, v in sent.items() if k != "samples"}}
        out.update(_alerts(url, last_ack, since))
        out["sustainable"] = max(sent["drain_s"], sent["final_lag_s"]) <= SUSTAINED_DRAIN_S
        out["backlog_over_time"] = (
            sent["samples"][:: max(1, len(sent["samples"]) // 12)] + sent["samples"][-1:]
        )
        return out
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()
        _sql(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _settled(url: str) -> int:
    """Wait until the alert count has not changed for 3 s (the outbox has drained); returns it."""
    eng = create_engine(url)
    stable, last = 0, -1
    while stable < 6:
        time.sleep(0.5)
        with eng.connect() as c:
            n = c.execute(text("SELECT count(*) FROM alerts")).scalar_one()
        stable, last = (stable + 1 if n == last else 0), n
    eng.dispose()
    return last


def _alerts(url: str, last_ack: datetime, since: datetime) -> dict:
    """Alerts stored since the paced part began, and the latency of those whose evidence arrived in it."""
    _settled(url)
    eng = create_engine(url)
    with eng.connect() as c:
        rows = c.execute(text("""
            SELECT a.kind, a.stored_at, max(t.receive_time) AS received
            FROM alerts a
            CROSS JOIN LATERAL json_array_elements(a.evidence::json) e
            JOIN telemetry_messages t ON t.device_id = e->>0 AND t.seq = (e->>1)::bigint
            WHERE a.stored_at >= :since
            GROUP BY a.alert_id, a.kind, a.stored_at
            HAVING min(t.receive_time) >= :since"""), {"since": since}).all()  # fmt: skip
        q = "SELECT kind, count(*) FROM alerts WHERE stored_at >= :since GROUP BY kind"
        kinds = dict(c.execute(text(q), {"since": since}).all())
        stored_max = c.execute(text("SELECT max(stored_at) FROM alerts")).scalar_one()
    eng.dispose()
    lat = pd.DataFrame(rows, columns=["kind", "stored_at", "received"])
    lat["ms"] = (
        pd.to_datetime(lat["stored_at"], utc=True) - pd.to_datetime(lat["received"], utc=True)
    ).dt.total_seconds() * 1000
    msg = lat[~lat["kind"].isin(SILENCE_KINDS)]
    q = lambda s, p: round(float(np.percentile(s, p)), 1) if len(s) else None  # noqa: E731
    per_kind = {
        k: {"n": len(g), "p50_ms": q(g["ms"], 50), "p99_ms": q(g["ms"], 99)} for k, g in msg.groupby("kind")
    }
    return {"alerts": int(sum(kinds.values())), "alerts_by_kind": kinds, "latency_alerts": len(msg),
            "p50_ms": q(msg["ms"], 50), "p95_ms": q(msg["ms"], 95), "p99_ms": q(msg["ms"], 99), "max_ms": q(msg["ms"], 100),
            "latency_by_kind": per_kind,
            "alerts_stored_s_after_last_ack": round((stored_max - last_ack).total_seconds(), 1) if stored_max else None}  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wearers", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--world", help="a world directory to reuse (written there if missing)")
    ap.add_argument(
        "--window-start", default="18:54", help="local wall-clock start of the window, on the world's day"
    )
    ap.add_argument("--minutes", type=float, default=12.0, help="simulated minutes of telemetry to send")
    ap.add_argument(
        "--paces", type=float, nargs="+", default=[1, 2, 4], help="simulated seconds per real second"
    )
    ap.add_argument("--warmup-minutes", type=float, default=3.0, help="simulated minutes before the window")
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--senders", type=int, default=2, help="concurrent gateway connections")
    ap.add_argument("--flush-s", type=float, default=1.0, help="the gateways forward what is due this often")
    ap.add_argument("--pg", help="admin URL of a PostgreSQL server to use (default: a throwaway one)")
    ap.add_argument("--out", help="write the results as JSON here")
    ap.add_argument(
        "--py-spy-s", type=int, default=0, help="profile the server this many seconds at each pace"
    )
    ap.add_argument("--py-spy-paces", type=float, nargs="*", help="profile only at these paces")
    ap.add_argument(
        "--load-only", action="store_true", help="write the world and load the template, then stop"
    )
    args = ap.parse_args()
    world = ensure_world(args)
    manifest = json.loads((world / "manifest.json").read_text())
    day = date.fromisoformat(manifest["start"][:10])
    hh, mm = (int(x) for x in args.window_start.split(":"))
    w0 = local_to_utc(day, dtime(hh, mm))
    w0_us = int(w0.timestamp() * 1e6)
    offsets, encoded, types = window_messages(world, w0_us, w0_us + int(args.minutes * 60e6))
    print(f"window {w0.isoformat()} + {args.minutes} min: {len(encoded):,} messages "
          f"({len(encoded) / (args.minutes * 60):,.0f}/s at 1x) {types}", flush=True)  # fmt: skip
    warm_offsets, warm_encoded, _ = window_messages(world, w0_us - int(args.warmup_minutes * 60e6), w0_us)
    warm = (warm_offsets, warm_encoded)
    print(
        f"warm-up: the {args.warmup_minutes} min before, {len(warm_encoded):,} messages, sent flat out",
        flush=True,
    )
    pg = None
    admin = args.pg
    if admin is None:
        pg = Postgres(free_port())
        dsn = pg.start()
        admin = "postgresql+psycopg://postgres@127.0.0.1:" + dsn.split("port=")[1].split()[0] + "/postgres"
    try:
        t0 = time.perf_counter()
        _, token = load_template(admin, world)
        print(f"fleet loaded in {time.perf_counter() - t0:.0f} s", flush=True)
        if args.load_only:
            return 0
        results = []
        for pace in args.paces:
            r = run_pace(admin, "openem_fleet_base", token, (offsets, encoded), warm, pace, args)
            results.append(r)
            print(json.dumps(r), flush=True)
        print(
            "\npace | offered msgs/s | achieved msgs/s | drain s | p50 ms | p99 ms | alerts (with latency) | sustainable"
        )
        for r in results:
            print(f"{r['pace']}x | {r['offered_per_s']:,} | {r['achieved_per_s']:,} | {r['drain_s']} | {r['p50_ms']} | "
                  f"{r['p99_ms']} | {r['alerts']} ({r['latency_alerts']}) | {r['sustainable']}")  # fmt: skip
        ok = [r["pace"] for r in results if r["sustainable"]]
        print(f"highest sustainable pace tried: {max(ok) if ok else 'none'}x", flush=True)
        if args.out:
            Path(args.out).write_text(
                json.dumps({"window_messages": len(encoded), "types": types, "results": results}, indent=1)
            )
    finally:
        if pg is not None:
            pg.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
