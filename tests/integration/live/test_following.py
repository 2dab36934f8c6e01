"""The in-server engine follows orders and activations as the partition workers do (one reconciler,
docs/decisions/0008 and 0017): a device fitted after the server started is monitored, with the alerts a worker
gives; a variation and an ending reach it without a restart. SQLite and PostgreSQL."""

import json
import time
from datetime import timedelta

from tests.integration.live.day import published
from tests.integration.scale.scale_world import ZONE, Device, add_order, end, fit, vary, zone

from openem.bus import outbox
from openem.core.time import utcnow
from openem.live import LiveMonitor
from openem.scale import load_partition_engine, partition_of
from openem.scale.follow import OrderFollower, process_in_order
from openem.telemetry.ingest import ingest_batch

PARTITIONS = 4


def send(db, live, messages):
    with db.uow() as uow:
        result = ingest_batch(uow.session, json.dumps(messages).encode(), source="test")
    assert len(result.accepted) == len(messages), result.rejections
    live.on_ingested(result)
    return result


def test_a_device_fitted_after_the_start_is_monitored_with_the_alerts_a_worker_gives(db):
    outbox.install(db)
    add_order(db, "ORD-LATE", zones=[zone()])  # accepted, nobody fitted yet
    live = LiveMonitor(db)
    live.load()
    k = partition_of("ORD-LATE", PARTITIONS)
    worker_engine = load_partition_engine(db, k, PARTITIONS)  # a worker running since before the fitting too
    with db.uow() as uow:
        fit(uow.session, "ORD-LATE", "GPS-LATE", utcnow() - timedelta(minutes=30))
    fixes = Device("GPS-LATE").fixes(utcnow() - timedelta(minutes=10), 12, ZONE)
    result = send(db, live, fixes)
    raised = published(db)
    assert "exclusion_entry" in raised.values(), raised  # it was flagged no_activation and never judged
    changes = OrderFollower(db, lambda ref: partition_of(ref, PARTITIONS)).changes({k: worker_engine})
    by_worker = process_in_order(worker_engine, [m.to_wire() for m in result.accepted], changes.get(k, []))
    assert {a["id"] for a in by_worker} == set(raised)


def test_a_variation_and_an_ending_reach_the_running_engine_without_their_events(db):
    outbox.install(db)
    add_order(db, "ORD-VARY", device="GPS-VARY")  # no zone yet
    live = LiveMonitor(db)  # no bus here: only the reconciler can tell it
    live.load()
    gps = Device("GPS-VARY")
    send(db, live, gps.fixes(utcnow() - timedelta(minutes=40), 4, ZONE))
    assert published(db) == {}
    vary(db, "ORD-VARY", utcnow() - timedelta(minutes=30), [zone()])
    until(lambda: live.tick() is not None and version(live, "ORD-VARY") == 2, "the variation to be followed")
    send(db, live, gps.fixes(utcnow() - timedelta(minutes=20), 8, ZONE))
    assert list(published(db).values()) == ["exclusion_entry"]
    end(db, "ORD-VARY")
    until(lambda: live.tick() is not None and "_ended_at" in live.engine.orders["ORD-VARY"].doc, "the ending")


def version(live, ref):
    return live.engine.orders[ref].doc.get("version")


def until(check, what, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
