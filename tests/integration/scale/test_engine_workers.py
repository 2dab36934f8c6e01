"""Engine scale-out through NATS JetStream: kill a worker mid-stream; its partitions resume elsewhere with
no lost and no duplicated alerts."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from tests.integration.scale.scale_world import nats_url

from openem.alerts.tables import AlertRow
from openem.bus.outbox import OutboxRow
from openem.demo_fleet import load_world_into
from openem.scale import (
    EngineCheckpointRow,
    TelemetryPublisher,
    load_partition_engine,
    partition_of,
    stream_name,
)
from openem.sim import generate_world
from openem.telemetry.ingest import ingest_batch

PARTITIONS = 4
pytestmark = pytest.mark.nats


def _pending(url, stream, prefix):
    async def q():
        import nats

        nc = await nats.connect(url)
        js = nc.jetstream()
        total = 0
        for k in range(PARTITIONS):
            try:
                info = await js.consumer_info(stream, f"engine-p{k}")
                total += info.num_pending + info.num_ack_pending
            except Exception:  # noqa: BLE001 - consumer not created yet: everything is pending
                total += 10**9
        await nc.close()
        return total

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, q()).result(30)


def _worker(db_url, url, prefix, tmp_path, name):
    env = {
        **os.environ,
        "OPENEM_DATABASE_URL": db_url,
        "OPENEM_VAR_DIR": str(tmp_path),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    return subprocess.Popen(
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
            "--prefix",
            prefix,
        ],
        env=env,
        stdout=open(tmp_path / f"{name}.log", "w"),
        stderr=subprocess.STDOUT,
    )


def test_killed_worker_partitions_resume_elsewhere_without_loss_or_duplicates(db, db_url, tmp_path):
    url = nats_url()
    prefix = "t" + os.urandom(3).hex()
    stream = stream_name(prefix)
    world = generate_world(wearers=40, days=1, seed=11)
    load_world_into(db, world, datetime.now(UTC))
    # what the server does: store each batch, then publish its new messages to their partitions
    wire = list(
        __import__("openem.sim.stream", fromlist=["table_to_wire"]).table_to_wire(
            world.telemetry.sort_by("receive_time")
            if hasattr(world.telemetry, "sort_by")
            else __import__("pyarrow").Table.from_pandas(
                world.telemetry.sort_values("receive_time"), preserve_index=False
            )
        )
    )
    import json

    pub = TelemetryPublisher(url, PARTITIONS, prefix=prefix)
    results = []
    for i in range(0, len(wire), 500):
        with db.uow() as uow:
            results.append(ingest_batch(uow.session, json.dumps(wire[i : i + 500]).encode(), source="test"))
    try:
        for r in results:
            pub(r)
    finally:
        pub.close()

    # reference: the same partitions processed in-process, uninterrupted, per partition in receive order
    expected = set()
    kinds = {}
    for k in range(PARTITIONS):
        eng = load_partition_engine(db, k, PARTITIONS)
        for r in results:
            msgs = [
                m.to_wire()
                for m in r.accepted
                if partition_of(
                    r.activation_of[m.message_id][2] if m.message_id in r.activation_of else m.device_id,
                    PARTITIONS,
                )
                == k
            ]
            for a in eng.process(msgs):
                expected.add(a["id"])
                kinds[a["id"]] = a["kind"]
    with db.uow() as uow:  # the reference run must not leave checkpoints for the workers
        uow.session.query(EngineCheckpointRow).delete()
    assert expected, "the simulated day should raise some alerts"

    a = _worker(db_url, url, prefix, tmp_path, "a")
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            with db.uow() as uow:
                done = uow.session.execute(
                    select(func.coalesce(func.sum(EngineCheckpointRow.messages), 0))
                ).scalar_one()
            if done > 0:
                break
            time.sleep(0.2)
        assert done > 0, (tmp_path / "a.log").read_text()[-2000:]
        a.send_signal(signal.SIGKILL)  # mid-stream, no clean shutdown
        a.wait(10)
        b = _worker(db_url, url, prefix, tmp_path, "b")
        deadline = time.time() + 120
        while time.time() < deadline and _pending(url, stream, prefix) > 0:
            time.sleep(0.5)
        assert _pending(url, stream, prefix) == 0, (tmp_path / "b.log").read_text()[-2000:]
        b.send_signal(signal.SIGTERM)
        b.wait(20)
    finally:
        for p in (a, locals().get("b")):
            if p is not None and p.poll() is None:
                p.kill()
    with db.uow() as uow:
        stored = set(uow.session.execute(select(AlertRow.alert_id)).scalars())
        raised_events = uow.session.execute(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.topic == "monitoring.AlertRaised")
        ).scalar_one()
    event_driven = {i for i in expected}
    assert stored == event_driven, (
        sorted(kinds[i] for i in event_driven - stored),
        len(stored - event_driven),
    )
    assert raised_events == len(stored)  # each alert published once, despite the redelivery after the kill
