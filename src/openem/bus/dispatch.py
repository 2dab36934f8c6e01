"""Delivery of outbox rows: to in-process handlers (default) or to a broker (NATS JetStream).

`deliver_locally` runs each handler for a message in its own transaction together with the idempotency
record, so a handler's effects and "this message was handled" commit or fail together.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError

from openem.bus.outbox import OutboxRow, ProcessedRow, undelivered
from openem.bus.registry import Registry
from openem.core.time import utcnow
from openem.store.db import Database

log = logging.getLogger("openem.bus")

#: publish(topic, message_id, payload) -> None ; raises on failure
Publisher = Callable[[str, str, dict[str, Any]], None]


def deliver_locally(db: Database, registry: Registry, topic: str, message_id: str, payload: dict[str, Any]) -> int:
    """Run every handler for the message once. Returns how many handlers ran (0 when all had already run)."""
    ran = 0
    for name, fn in registry.for_topic(topic):
        try:
            with db.uow() as uow:
                if uow.session.get(ProcessedRow, (name, message_id)) is not None:
                    continue
                uow.session.add(ProcessedRow(handler=name, message_id=message_id, at=utcnow()))
                uow.session.flush()
                fn(payload, uow)
            ran += 1
        except IntegrityError:
            # another worker handled it concurrently: that is the idempotency guard doing its job
            continue
    return ran


class OutboxDispatcher:
    """Sends undelivered outbox rows through a publisher, oldest first; retries on failure."""

    def __init__(self, db: Database, publish: Publisher) -> None:
        self.db = db
        self.publish = publish
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def run_once(self, limit: int = 500) -> int:
        with self._lock:
            sent = 0
            with self.db.uow() as uow:
                rows: list[OutboxRow] = undelivered(uow.session, limit)
                batch = [(r.seq, r.id, r.topic, dict(r.payload)) for r in rows]
            for seq, mid, topic, payload in batch:
                try:
                    self.publish(topic, mid, payload)
                except Exception as exc:  # noqa: BLE001 - keep the row, record the error, retry later
                    log.warning("outbox delivery failed", extra={"message_id": mid, "error": str(exc)})
                    with self.db.uow() as uow:
                        row = uow.session.get(OutboxRow, seq)
                        if row is not None:
                            row.attempts += 1
                            row.last_error = str(exc)[:2000]
                    break  # keep order: do not overtake a failed message
                with self.db.uow() as uow:
                    row = uow.session.get(OutboxRow, seq)
                    if row is not None:
                        row.delivered_at = utcnow()
                        row.attempts += 1
                sent += 1
            return sent

    def drain(self) -> int:
        total = 0
        while True:
            n = self.run_once()
            total += n
            if n == 0:
                return total

    def wake(self) -> None:
        self._wake.set()

    def start(self, interval_s: float = 1.0) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.drain()
                except Exception:  # noqa: BLE001
                    log.exception("outbox dispatcher error")
                self._wake.wait(interval_s)
                self._wake.clear()

        self._thread = threading.Thread(target=loop, name="outbox-dispatcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=5)
