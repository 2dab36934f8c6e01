"""Workers consuming from NATS JetStream give up on a message after a few deliveries and park it where
operators see it; a retry sends it again (past JetStream's duplicate window) and the fixed handler runs."""

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from tests.integration.bus.events import OrderNoted

from openem.bus import outbox
from openem.bus.dispatch import OutboxDispatcher, deliver_locally
from openem.bus.parking import park_consumed, parked_messages, requeue
from openem.bus.registry import Registry
from openem.bus.retry import RetryPolicy


def nats_url() -> str:
    url = os.environ.get("OPENEM_TEST_NATS_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("OPENEM_TEST_NATS_URL not set")
        pytest.skip("no nats-server: run scripts/test.sh")
    return url


async def wait_for(condition, what: str, bound_s: float = 60) -> None:
    """Poll until `condition()` holds (it ends as soon as it does); fail after the bound."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + bound_s
    while not await asyncio.to_thread(condition):
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.mark.nats
def test_a_consumer_parks_a_message_after_its_deliveries_and_a_retry_reaches_the_fixed_handler(db):
    url = nats_url()
    from openem.bus.nats import NatsPublisher, consume

    outbox.install(db)
    stream = "P" + os.urandom(4).hex().upper()
    prefix = stream.lower()
    handled, broken = [], {"ORD-A"}

    def handler(payload, uow):
        if payload["order_ref"] in broken:
            raise RuntimeError(f"no order {payload['order_ref']} here")
        handled.append(payload["order_ref"])

    registry = Registry()
    registry.on(OrderNoted.topic, "recorder", handler)
    pub = NatsPublisher(url, stream=stream, prefix=prefix)
    policy = RetryPolicy(max_attempts=2, base_s=0.0)

    def parked():
        with db.uow() as uow:
            return parked_messages(uow.session)

    async def scenario():
        stop = asyncio.Event()
        worker = asyncio.create_task(
            consume(
                url,
                lambda t, i, p: deliver_locally(db, registry, t, i, p),
                park=lambda *a: park_consumed(db, *a),
                policy=policy,
                durable=f"w{stream}",
                stream=stream,
                batch=5,
                stop=stop,
                prefix=prefix,
                idle_timeout_s=0.2,
            )
        )
        for i, ref in enumerate(["ORD-A", "ORD-B", "ORD-C"]):
            await asyncio.to_thread(pub, OrderNoted.topic, f"MSG-{stream}-{i}", {"order_ref": ref, "n": i})
        await wait_for(lambda: len(parked()) == 1 and sorted(handled) == ["ORD-B", "ORD-C"], "the park")
        [message] = parked()
        assert (message.message_id, message.key, message.attempts) == (f"MSG-{stream}-0", "order:ORD-A", 2)
        assert message.error == "RuntimeError: no order ORD-A here"

        broken.clear()  # the handler is fixed; the retry goes out through the outbox, as the server's would
        with db.uow() as uow:
            assert requeue(uow.session) == [message.message_id]
        assert await asyncio.to_thread(OutboxDispatcher(db, pub, policy=policy).run_once) == 1
        await wait_for(lambda: "ORD-A" in handled, "the retried message to be handled")
        stop.set()
        await worker

    try:
        with ThreadPoolExecutor(1) as pool:  # a loop of its own (another test may own this thread's)
            pool.submit(asyncio.run, scenario()).result(timeout=120)
    finally:
        pub.close()
    assert sorted(handled) == ["ORD-A", "ORD-B", "ORD-C"] and parked() == []
