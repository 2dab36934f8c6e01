"""NATS JetStream adapter: the outbox publishes to subjects `openem.<topic>`, and `openem worker`
processes consume them through a shared durable pull consumer, so several workers split the load.

JetStream deduplicates on the `Nats-Msg-Id` header (the outbox message id), and handlers are idempotent
(`bus_processed`), so redelivery after a crash neither loses nor doubles work.

A consumer does not retry a failing message forever: it is redelivered after a growing wait, and once
JetStream has delivered it `RetryPolicy.max_attempts` times (its `num_delivered`) it is parked in the outbox
for an operator (`bus.parking`) and terminated on the stream. The consumer's own `max_deliver` stays
unlimited on purpose: a message whose last delivery died with its worker is delivered again and parked by
us, instead of being dropped silently by the server.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from openem.bus import metrics
from openem.bus.parking import describe
from openem.bus.retry import DestinationUnavailable, RetryPolicy

log = logging.getLogger("openem.bus.nats")

STREAM = "OPENEM"
PREFIX = "openem"

#: park(topic, message_id, payload, error, deliveries): record a message given up on (bus.parking.park_consumed)
Parker = Callable[[str, str, dict[str, Any], str, int], None]


def subject_for(topic: str, prefix: str = PREFIX) -> str:
    return f"{prefix}.{topic}"


def _unavailable_errors() -> tuple[type[BaseException], ...]:
    """Errors meaning the broker is unreachable or not answering, as opposed to refusing this message."""
    import concurrent.futures

    from nats import errors
    from nats.js import errors as js_errors

    return (
        TimeoutError,
        concurrent.futures.TimeoutError,
        OSError,
        errors.TimeoutError,
        errors.ConnectionClosedError,
        errors.ConnectionReconnectingError,
        errors.NoServersError,
        errors.StaleConnectionError,
        errors.NoRespondersError,
        errors.OutboundBufferLimitError,
        js_errors.NoStreamResponseError,
        js_errors.ServiceUnavailableError,
    )


class NatsPublisher:
    """A synchronous publisher (for the outbox dispatcher thread) over an asyncio NATS client."""

    #: JetStream drops a repeated `Nats-Msg-Id` within its duplicate window: a re-queued message needs a fresh one
    drops_repeated_ids = True
    channel = "nats"  # the deliveries metric's label

    def __init__(self, url: str, stream: str = STREAM, timeout_s: float = 5.0, prefix: str = PREFIX) -> None:
        self.url = url
        self.stream = stream
        self.prefix = prefix
        self.timeout_s = timeout_s
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="nats-publisher", daemon=True)
        self._thread.start()
        self._nc: Any = None
        self._js: Any = None
        self._call(self._connect())

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(self.timeout_s + 5)

    async def _connect(self) -> None:
        import nats

        self._nc = await nats.connect(self.url, connect_timeout=self.timeout_s, max_reconnect_attempts=3)
        self._js = self._nc.jetstream()
        await ensure_stream(self._js, self.stream, self.prefix)

    def __call__(
        self, topic: str, message_id: str, payload: dict[str, Any], *, dedupe_id: str | None = None
    ) -> None:
        """Publish; `dedupe_id` replaces the message id as JetStream's duplicate key (the body keeps the id
        that handlers' idempotency records use). Raises DestinationUnavailable when the broker is down."""
        body = json.dumps({"id": message_id, "topic": topic, "payload": payload}).encode()
        try:
            self._call(
                self._js.publish(
                    subject_for(topic, self.prefix),
                    body,
                    headers={"Nats-Msg-Id": dedupe_id or message_id},
                    timeout=self.timeout_s,
                )
            )
        except _unavailable_errors() as exc:
            raise DestinationUnavailable(f"NATS at {self.url}: {describe(exc)}") from exc

    def close(self) -> None:
        try:
            self._call(self._nc.close())  # every publish was acknowledged: nothing to drain
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)


async def ensure_stream(js: Any, stream: str = STREAM, prefix: str = PREFIX) -> None:
    from nats.js.errors import NotFoundError

    try:
        await js.stream_info(stream)
    except NotFoundError:
        await js.add_stream(name=stream, subjects=[f"{prefix}.>"], duplicate_window=120.0)


async def consume(
    url: str,
    handle: Callable[[str, str, dict[str, Any]], None],
    *,
    park: Parker,
    policy: RetryPolicy | None = None,
    durable: str = "openem-workers",
    stream: str = STREAM,
    batch: int = 100,
    stop: asyncio.Event | None = None,
    idle_timeout_s: float = 1.0,
    prefix: str = PREFIX,
) -> int:
    """Pull messages and hand each to `handle(topic, id, payload)` (run in a thread: handlers use the DB),
    acknowledging after it returns; a failure is redelivered after a backoff and parked with `park` after
    `policy.max_attempts` deliveries. Returns the number handled when `stop` is set."""
    import nats
    from nats.errors import TimeoutError as NatsTimeout

    policy = policy or RetryPolicy.from_env()
    nc = await nats.connect(url, max_reconnect_attempts=3)
    js = nc.jetstream()
    await ensure_stream(js, stream, prefix)
    sub = await js.pull_subscribe(f"{prefix}.>", durable=durable, stream=stream)
    handled = 0
    stop = stop or asyncio.Event()
    try:
        while not stop.is_set():
            try:
                msgs = await sub.fetch(batch, timeout=idle_timeout_s)
            except (TimeoutError, NatsTimeout):
                continue
            for m in msgs:
                handled += await _consume_one(m, handle, park, policy, prefix)
    finally:
        await nc.close()  # unacknowledged messages are redelivered to another worker
    return handled


async def _consume_one(
    m: Any, handle: Callable[[str, str, dict[str, Any]], None], park: Parker, policy: RetryPolicy, prefix: str
) -> int:
    """Handle one message: ack (1), or nak for a later redelivery, or park and terminate it (0)."""
    try:
        data = json.loads(m.data)
        topic, mid, payload = data["topic"], data["id"], data["payload"]
    except (ValueError, KeyError, TypeError) as exc:  # no redelivery can fix it: park it as it came
        topic = m.subject.removeprefix(f"{prefix}.")
        mid = f"NATS-{m.metadata.stream}-{m.metadata.sequence.stream}"[:40]
        await _give_up(
            m,
            park,
            topic,
            mid,
            {"undecodable": bytes(m.data).decode("utf-8", "replace")[:20000]},
            describe(exc),
            m.metadata.num_delivered,
        )
        return 0
    try:
        await asyncio.to_thread(handle, topic, mid, payload)
    except Exception as exc:  # noqa: BLE001 - redeliver later, or park once the deliveries are used up
        deliveries = m.metadata.num_delivered
        metrics.FAILURES.labels(topic, "consumer").inc()
        log.warning(
            "handler failed (delivery %d of %d)",
            deliveries,
            policy.max_attempts,
            exc_info=exc,
            extra={"message_id": mid, "topic": topic},
        )
        if policy.exhausted(deliveries):
            await _give_up(m, park, topic, mid, payload, describe(exc), deliveries)
        else:
            await m.nak(delay=policy.backoff(deliveries).total_seconds())
        return 0
    await m.ack()
    return 1


async def _give_up(
    m: Any, park: Parker, topic: str, mid: str, payload: dict[str, Any], error: str, deliveries: int
) -> None:
    try:
        await asyncio.to_thread(park, topic, mid, payload, error, deliveries)
    except Exception:  # noqa: BLE001 - not parked (e.g. the database is down): keep it on the stream
        log.exception("could not park a message; it will be redelivered", extra={"message_id": mid})
        await m.nak(delay=1)
        return
    await m.term()  # parked: the stream must not deliver it again
