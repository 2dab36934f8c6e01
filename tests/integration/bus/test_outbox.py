"""Outbox: events are written in the same transaction, delivered after commit, handled once."""

import asyncio
import dataclasses
import os

import pytest
from sqlalchemy import func, select

from openem.bus import outbox
from openem.bus.dispatch import OutboxDispatcher, deliver_locally
from openem.bus.messages import Event, from_dict, message_type
from openem.bus.outbox import OutboxRow, ProcessedRow
from openem.bus.parking import park_consumed
from openem.bus.registry import Registry


def park_consumed_in(db):
    return lambda topic, mid, payload, error, attempts: park_consumed(
        db, topic, mid, payload, error, attempts
    )


@message_type
@dataclasses.dataclass(frozen=True)
class ThingHappened(Event):
    topic = "test.ThingHappened"
    thing_id: str
    size: int = 0


def _count(db, model):
    with db.uow() as uow:
        return uow.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_events_are_written_with_the_transaction_and_not_on_rollback(db):
    outbox.install(db)
    with db.uow() as uow:
        uow.add_event(ThingHappened("a", 1))
    with pytest.raises(RuntimeError):
        with db.uow() as uow:
            uow.add_event(ThingHappened("b", 2))
            raise RuntimeError("boom")
    with db.uow() as uow:
        rows = uow.session.execute(select(OutboxRow)).scalars().all()
    assert [r.payload["thing_id"] for r in rows] == ["a"]
    assert from_dict(rows[0].topic, rows[0].payload) == ThingHappened("a", 1)


def test_dispatcher_delivers_in_order_and_handlers_run_once(db):
    outbox.install(db)
    seen = []
    registry = Registry()
    registry.on(ThingHappened.topic, "recorder", lambda payload, uow: seen.append(payload["thing_id"]))
    with db.uow() as uow:
        for i in range(5):
            uow.add_event(ThingHappened(f"t{i}"))
    d = OutboxDispatcher(db, lambda t, mid, p: deliver_locally(db, registry, t, mid, p))
    assert d.drain() == 5
    assert seen == ["t0", "t1", "t2", "t3", "t4"]
    # redelivery of an already handled message runs no handler again
    with db.uow() as uow:
        first = uow.session.execute(select(OutboxRow).order_by(OutboxRow.seq)).scalars().first()
        mid, payload = first.id, dict(first.payload)
    assert deliver_locally(db, registry, ThingHappened.topic, mid, payload) == 0
    assert seen == ["t0", "t1", "t2", "t3", "t4"] and _count(db, ProcessedRow) == 5


def test_a_failing_publish_keeps_the_message_for_retry(db):
    from openem.bus.retry import RetryPolicy

    outbox.install(db)
    with db.uow() as uow:
        uow.add_event(ThingHappened("x"))
    calls = {"n": 0}

    def flaky(topic, mid, payload):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("broker down")

    d = OutboxDispatcher(db, flaky, policy=RetryPolicy(base_s=0))  # no wait before the second try
    assert d.run_once() == 0
    with db.uow() as uow:
        row = uow.session.execute(select(OutboxRow)).scalar_one()
        assert row.delivered_at is None and "broker down" in row.last_error
    assert d.run_once() == 1


def test_a_failing_handler_rolls_back_its_effects_and_is_retried(db):
    outbox.install(db)
    registry = Registry()
    state = {"fail": True, "ran": 0}

    def handler(payload, uow):
        state["ran"] += 1
        if state["fail"]:
            raise ValueError("not yet")

    registry.on(ThingHappened.topic, "h", handler)
    with pytest.raises(ValueError):
        deliver_locally(db, registry, ThingHappened.topic, "MSG-1", {"thing_id": "q", "size": 0})
    assert _count(db, ProcessedRow) == 0
    state["fail"] = False
    assert deliver_locally(db, registry, ThingHappened.topic, "MSG-1", {"thing_id": "q", "size": 0}) == 1
    assert _count(db, ProcessedRow) == 1


@pytest.mark.nats
def test_nats_jetstream_delivers_to_workers_once_despite_duplicate_publishes(db):
    url = os.environ.get("OPENEM_TEST_NATS_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("OPENEM_TEST_NATS_URL not set")
        pytest.skip("no nats-server: run scripts/test.sh")
    from openem.bus.nats import NatsPublisher, consume

    stream = "T" + os.urandom(4).hex().upper()
    seen = []
    registry = Registry()
    registry.on(ThingHappened.topic, "rec", lambda payload, uow: seen.append(payload["thing_id"]))
    pub = NatsPublisher(url, stream=stream, prefix=stream.lower())
    try:
        for i in range(20):
            pub(ThingHappened.topic, f"MSG-{stream}-{i}", {"thing_id": f"n{i}", "size": i})
        pub(
            ThingHappened.topic, f"MSG-{stream}-3", {"thing_id": "n3", "size": 3}
        )  # duplicate id: deduplicated
    finally:
        pub.close()

    async def run_two_workers():
        stop = asyncio.Event()

        def handle(topic, mid, payload):
            deliver_locally(db, registry, topic, mid, payload)

        tasks = [
            asyncio.create_task(
                consume(
                    url,
                    handle,
                    park=park_consumed_in(db),
                    durable=f"w{stream}",
                    stream=stream,
                    batch=5,
                    stop=stop,
                    prefix=stream.lower(),
                    idle_timeout_s=0.3,
                )
            )
            for _ in range(2)
        ]
        for _ in range(100):
            await asyncio.sleep(0.1)
            if len(seen) >= 20:
                break
        await asyncio.sleep(0.3)
        stop.set()
        return sum(await asyncio.gather(*tasks))

    # a thread of its own: another test in this process (Playwright's sync API) may own a running loop
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        handled = pool.submit(asyncio.run, run_two_workers()).result(timeout=60)
    assert sorted(seen) == sorted(f"n{i}" for i in range(20))
    assert handled == 20
