"""One policy for engine input failures (docs/decisions/0017), in the server: a batch on which the engine
raises is retried from the checkpoint, then parked as an engine rejection an operator sees, and the batches
after it are still processed. SQLite and PostgreSQL."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from tests.integration.live.day import published
from tests.integration.scale.scale_world import ZONE, Device, add_order, zone

from openem.bus import outbox
from openem.bus.outbox import OutboxRow
from openem.core.time import utcnow
from openem.live import LiveMonitor
from openem.monitoring.engine import Engine
from openem.scale.failures import ATTEMPTS, REJECTED_KIND
from openem.telemetry.ingest import ingest_batch


@pytest.fixture
def poison(monkeypatch):
    """The engine raises on any batch with a message from GPS-BAD (`times` times in all, then no more)."""
    seen = {"left": 10**9, "raised": 0}
    process = Engine.process

    def failing(self, batch):
        if seen["left"] > 0 and any(getattr(m, "device_id", None) == "GPS-BAD" for m in batch):
            seen["left"] -= 1
            seen["raised"] += 1
            raise RuntimeError("a rule fell over")
        return process(self, batch)

    monkeypatch.setattr(Engine, "process", failing)
    return seen


def send(db, live, messages):
    with db.uow() as uow:
        result = ingest_batch(uow.session, json.dumps(messages).encode(), source="test")
    live.on_ingested(result)
    return result


def world(db):
    outbox.install(db)
    for ref, device in (("ORD-A", "GPS-A"), ("ORD-B", "GPS-BAD"), ("ORD-C", "GPS-C")):
        add_order(db, ref, zones=[zone()], device=device)
    live = LiveMonitor(db, checkpoint_every_s=0)  # a checkpoint after every batch
    live.load()
    return live


def test_a_batch_the_engine_keeps_failing_on_is_parked_and_the_next_ones_are_processed(db, poison):
    live = world(db)
    at = utcnow() - timedelta(minutes=20)
    send(db, live, Device("GPS-A").fixes(at, 8, ZONE))
    bad = send(db, live, Device("GPS-BAD").fixes(at, 8, ZONE))
    send(db, live, Device("GPS-C").fixes(at + timedelta(minutes=5), 8, ZONE))
    assert poison["raised"] == ATTEMPTS
    raised = published(db)
    assert sorted(raised.values()) == sorted(["exclusion_entry", "exclusion_entry", REJECTED_KIND]), raised
    with db.uow() as uow:
        rows = uow.session.execute(
            select(OutboxRow.payload).where(OutboxRow.topic == "monitoring.AlertRaised")
        )
        rejection = next(p for p in rows.scalars() if p["kind"] == REJECTED_KIND)
    assert sorted(map(tuple, rejection["evidence"])) == sorted(m.message_id for m in bad.accepted)
    assert rejection["severity"] == "HIGH" and "a rule fell over" in rejection["details"]["error"]
    again = LiveMonitor(db)  # a restart does not try the parked batch again
    again.load()
    assert poison["raised"] == ATTEMPTS and again.position.done(bad.batch_id)


def test_a_batch_that_fails_once_is_processed_on_its_retry(db, poison):
    poison["left"] = 1
    live = world(db)
    send(db, live, Device("GPS-BAD").fixes(utcnow() - timedelta(minutes=20), 8, ZONE))
    assert poison["raised"] == 1
    assert list(published(db).values()) == ["exclusion_entry"]  # the retry raised the batch's own alert
