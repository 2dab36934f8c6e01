"""Engine partition workers follow orders and activations while they run (docs/decisions/0008): a variation,
an ending and a fitting made after a worker loaded its partitions reach it without a restart, and one a
killed worker applied but never checkpointed reaches the next owner. Real nats-server, SQLite and PostgreSQL."""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select
from tests.integration.scale.scale_world import (
    HOME,
    ZONE,
    Device,
    add_order,
    end,
    fit,
    nats_url,
    send,
    vary,
    zone,
)

from openem.alerts.tables import AlertRow
from openem.core.time import utcnow
from openem.scale import (
    EngineCheckpointRow,
    TelemetryPublisher,
    partition_of,
    restore_partition_engine,
    stream_name,
)
from openem.scale.follow import OrderFollower
from openem.scale.worker import run_engine_worker
from openem.store.db import Database

PARTITIONS = 2
pytestmark = pytest.mark.nats


# ---- workers and the broker --------------------------------------------------------------------------
def _on_nats(url, fn):
    async def q():
        import nats

        nc = await nats.connect(url)
        try:
            return await fn(nc.jetstream())
        finally:
            await nc.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, q()).result(30)


@pytest.fixture
def bus(db):
    url = nats_url()
    prefix = "f" + os.urandom(3).hex()
    pub = TelemetryPublisher(url, PARTITIONS, prefix=prefix)
    yield url, prefix, pub
    pub.close()
    _on_nats(url, lambda js: js.delete_stream(stream_name(prefix)))


class Worker:
    """`run_engine_worker` in a thread of this process, with its own database connection pool."""

    def __init__(self, db_url, url, prefix):
        self.db, self.lines, self.stats = Database(db_url), [], None
        self.url, self.prefix = url, prefix
        self.loop = asyncio.new_event_loop()
        self.stop = asyncio.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.stats = self.loop.run_until_complete(
            run_engine_worker(
                self.db,
                self.url,
                PARTITIONS,
                prefix=self.prefix,
                lease_s=2.0,
                stop=self.stop,
                settle_s=0.3,
                report=self.lines.append,
                owner=f"test-{id(self)}",
            )
        )

    def taken(self):
        assert self.thread.is_alive(), "the worker stopped"
        return taken(self.lines)

    def has(self, text):
        assert self.thread.is_alive(), "the worker stopped"
        return bool(self.applied(text))

    def applied(self, text):
        return [line for line in self.lines if text in line and "taken" not in line]

    def close(self):
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(30)
        self.db.dispose()


def until(check, what, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def taken(lines):
    return sum("taken" in line for line in list(lines)) >= PARTITIONS


def drained(url, prefix):
    async def q(js):
        total = 0
        for k in range(PARTITIONS):
            info = await js.consumer_info(stream_name(prefix), f"engine-p{k}")
            total += info.num_pending + info.num_ack_pending
        return total

    return _on_nats(url, q) == 0


def alerts(db, ref, kind="exclusion_entry"):
    with db.uow() as uow:
        return (
            uow.session.execute(select(AlertRow).where(AlertRow.order_ref == ref, AlertRow.kind == kind))
            .scalars()
            .all()
        )


def checkpoint_version(db, ref):
    with db.uow() as uow:
        cp = uow.session.get(EngineCheckpointRow, partition_of(ref, PARTITIONS))
        docs = [d for d in (cp.snapshot["orders"] if cp else []) if d["ref"] == ref]
    return docs[0].get("version") if docs else None


# ---- the tests ---------------------------------------------------------------------------------------
def test_a_variation_adding_an_exclusion_zone_reaches_a_running_worker(db, db_url, bus):
    url, prefix, pub = bus
    add_order(db, "ORD-VAR", device="GPS-VAR")
    w = Worker(db_url, url, prefix)
    try:
        until(w.taken, "the worker to take its partitions")
        t0, dev = utcnow() - timedelta(seconds=120), Device("GPS-VAR")
        send(db, pub, dev.fixes(t0, 3, HOME))
        until(lambda: checkpoint_version(db, "ORD-VAR") == 1, "the order to be loaded and checkpointed")
        effective = t0 + timedelta(seconds=45)
        vary(db, "ORD-VAR", effective, [zone()])
        send(db, pub, dev.fixes(t0 + timedelta(seconds=60), 4, ZONE))  # the 1.5 km walk takes 30 s: plausible
        raised = until(lambda: alerts(db, "ORD-VAR"), "an exclusion_entry after the variation")
    finally:
        w.close()
    assert [a.condition_id for a in raised] == ["Z1"]
    assert raised[0].start >= effective.replace(microsecond=0)
    assert w.stats["takeovers"] == PARTITIONS  # no restart, no retake
    assert len(w.applied("ORD-VAR v2")) == 1
    assert checkpoint_version(db, "ORD-VAR") == 2


def test_an_order_ended_while_the_worker_runs_raises_no_more_alerts(db, db_url, bus):
    url, prefix, pub = bus
    add_order(db, "ORD-END", [zone()], device="GPS-END")
    add_order(db, "ORD-KEEP", [zone()], device="GPS-KEEP")  # the same zone, not ended: the control
    w = Worker(db_url, url, prefix)
    try:
        until(lambda: w.has("order ORD-END v1"), "the worker to load the order")
        end(db, "ORD-END")
        at = utcnow() + timedelta(seconds=1)
        send(db, pub, Device("GPS-END").fixes(at, 4, ZONE) + Device("GPS-KEEP").fixes(at, 4, ZONE))
        until(lambda: alerts(db, "ORD-KEEP"), "the control order's exclusion_entry")
        until(lambda: drained(url, prefix), "every message to be processed and acknowledged")
    finally:
        w.close()
    assert alerts(db, "ORD-END") == []
    assert len(w.applied("end ORD-END")) == 1


def test_a_device_fitted_after_the_worker_started_is_monitored(db, db_url, bus):
    url, prefix, pub = bus
    add_order(db, "ORD-FIT", [zone()])  # accepted, no device yet
    w = Worker(db_url, url, prefix)
    try:
        until(lambda: w.has("order ORD-FIT v1"), "the worker to load the order")
        with db.uow() as uow:
            fit(uow.session, "ORD-FIT", "GPS-FIT", utcnow() - timedelta(minutes=10))
        send(db, pub, Device("GPS-FIT").fixes(utcnow() - timedelta(seconds=60), 4, ZONE))
        raised = until(lambda: alerts(db, "ORD-FIT"), "an exclusion_entry from the newly fitted device")
    finally:
        w.close()
    assert raised[0].device_id == "GPS-FIT"
    assert len(w.applied("activation ACT-GPS-FIT")) == 1


def test_a_variation_applied_by_a_killed_worker_before_its_checkpoint_reaches_the_next_owner(
    db, db_url, bus, tmp_path
):
    url, prefix, pub = bus
    add_order(db, "ORD-KILL", device="GPS-KILL")
    log = tmp_path / "a.log"
    env = {
        **os.environ,
        "OPENEM_DATABASE_URL": db_url,
        "OPENEM_VAR_DIR": str(tmp_path),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    a = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "openem.cli",
            "worker",
            "--engine",
            "--nats",
            url,
            "--partitions",
            str(PARTITIONS),
            "--lease",
            "2",
            "--settle",
            "0.3",
            "--prefix",
            prefix,
        ],
        env=env,
        stdout=open(log, "w"),
        stderr=subprocess.STDOUT,
    )
    b = None
    try:
        until(lambda: taken(log.read_text().splitlines()), "worker A to take its partitions", timeout=30)
        t0, dev = utcnow() - timedelta(seconds=120), Device("GPS-KILL")
        send(db, pub, dev.fixes(t0, 3, HOME))
        until(
            lambda: checkpoint_version(db, "ORD-KILL") == 1 and drained(url, prefix),
            "worker A's first checkpoint",
        )
        vary(db, "ORD-KILL", t0 + timedelta(seconds=45), [zone()])
        until(lambda: "order ORD-KILL v2" in log.read_text(), "worker A to apply the variation")
        a.send_signal(signal.SIGKILL)  # after the variation, before any checkpoint that includes it
        a.wait(10)
        assert checkpoint_version(db, "ORD-KILL") == 1
        b = Worker(db_url, url, prefix)
        until(b.taken, "worker B to take the partitions over")
        send(db, pub, dev.fixes(t0 + timedelta(seconds=60), 4, ZONE))
        raised = until(lambda: alerts(db, "ORD-KILL"), "an exclusion_entry from the next owner")
    finally:
        if a.poll() is None:
            a.kill()
        if b is not None:
            b.close()
    assert [x.condition_id for x in raised] == ["Z1"]
    assert checkpoint_version(db, "ORD-KILL") == 2
    assert len(b.applied("ORD-KILL v2")) == 1
    # the checkpoint now includes the variation: a later owner has nothing to apply for this order
    k = partition_of("ORD-KILL", PARTITIONS)
    again = OrderFollower(db, lambda ref: partition_of(ref, PARTITIONS)).changes(
        {k: restore_partition_engine(db, k)}, takeover=True
    )
    assert [c for c in again.get(k, []) if c.key in ("ORD-KILL", "ACT-GPS-KILL")] == []
