"""The one policy for engine input failures (docs/decisions/0017), in a partition worker: a batch the engine
keeps failing on is retried from the checkpoint, then parked as an engine rejection (stored, with its messages
as evidence, acknowledged) and the partition goes on with the next batches. Real nats-server; both stores."""

from datetime import timedelta

import pytest
from tests.integration.scale.scale_world import ZONE, Device, add_order, send, zone
from tests.integration.scale.test_worker_follows_orders import Worker, alerts, drained, until
from tests.integration.scale.test_worker_follows_orders import bus as bus  # noqa: F401 - the fixture

from openem.core.time import utcnow
from openem.monitoring.engine import Engine
from openem.scale.failures import ATTEMPTS, REJECTED_KIND

pytestmark = pytest.mark.nats


def test_a_batch_a_worker_keeps_failing_on_is_parked_and_the_partition_goes_on(db, db_url, bus, monkeypatch):
    url, prefix, pub = bus
    raised = []
    process = Engine.process

    def failing(self, batch):
        if any(m.get("device_id") == "GPS-BAD" for m in batch if isinstance(m, dict)):
            raised.append(1)
            raise RuntimeError("a rule fell over")
        return process(self, batch)

    monkeypatch.setattr(Engine, "process", failing)
    add_order(db, "ORD-BAD", [zone()], device="GPS-BAD")
    add_order(db, "ORD-GOOD", [zone()], device="GPS-GOOD")
    w = Worker(db_url, url, prefix)
    try:
        until(w.taken, "the worker to take its partitions")
        at = utcnow() - timedelta(minutes=5)
        bad = Device("GPS-BAD").fixes(at, 6, ZONE)
        send(db, pub, bad)
        parked = until(lambda: alerts(db, "", REJECTED_KIND), "the batch to be parked", timeout=60)
        send(db, pub, Device("GPS-GOOD").fixes(at, 6, ZONE))
        until(lambda: alerts(db, "ORD-GOOD"), "the next batch's exclusion_entry")
        until(lambda: drained(url, prefix), "every message to be acknowledged")
    finally:
        w.close()
    assert len(raised) == ATTEMPTS
    assert {tuple(e) for e in parked[0].evidence} == {("GPS-BAD", m["seq"]) for m in bad}
    assert alerts(db, "ORD-BAD") == [] and w.stats["parked"] == len(bad)
