"""NATS JetStream adapter: the outbox publishes to subjects `openem.<topic>`, and `openem worker`
processes consume them through a shared durable pull consumer, so several workers split the load.

JetStream deduplicates on the `Nats-Msg-Id` header (the outbox message id), and handlers are idempotent
(`bus_processed`), so redelivery after a crash neither loses nor doubles work.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("openem.bus.nats")

STREAM = "OPENEM"
PREFIX = "openem"


def subject_for(topic: str, prefix: str = PREFIX) -> str:
    return f"{prefix}.{topic}"


class NatsPublisher:
    """A synchronous publisher (for the outbox dispatcher thread) over an asyncio NATS client."""

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

    def __call__(self, topic: str, message_id: str, payload: dict[str, Any]) -> None:
        body = json.dumps({"id": message_id, "topic": topic, "payload": payload}).encode()
        self._call(self._js.publish(subject_for(topic, self.prefix), body, headers={"Nats-Msg-Id": message_id},
                                    timeout=self.timeout_s))

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


async def consume(url: str, handle: Callable[[str, str, dict[str, Any]], None], *, durable: str = "openem-workers",
                  stream: str = STREAM, batch: int = 100, stop: asyncio.Event | None = None,
                  idle_timeout_s: float = 1.0, prefix: str = PREFIX) -> int:
    """Pull messages and hand each to `handle(topic, id, payload)` (run in a thread: handlers use the DB),
    acknowledging after it returns. Returns the number handled when `stop` is set."""
    import nats
    from nats.errors import TimeoutError as NatsTimeout

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
                try:
                    data = json.loads(m.data)
                    await asyncio.to_thread(handle, data["topic"], data["id"], data["payload"])
                    await m.ack()
                    handled += 1
                except Exception:  # noqa: BLE001 - leave it unacknowledged for redelivery
                    log.exception("handler failed; message will be redelivered")
                    await m.nak(delay=1)
    finally:
        await nc.close()  # unacknowledged messages are redelivered to another worker
    return handled
