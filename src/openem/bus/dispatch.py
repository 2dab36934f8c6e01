"""Delivery of outbox rows: to in-process handlers (default) or to a broker (NATS JetStream).

`deliver_locally` runs each handler for a message in its own transaction together with the idempotency
record, so a handler's effects and "this message was handled" commit or fail together.

`OutboxDispatcher` keeps delivery order per key (the order or person a message is about), never globally:
a failing message holds back only the later messages of its key, is tried again after a growing wait, and
after `RetryPolicy.max_attempts` failures is parked for an operator to retry (decision 0014).

Its loop sends only while it holds the database's dispatcher lock (`leadership`): with several server
processes on one database, one dispatcher is active and the others stand by, taking over when it dies.
`run_once` and `drain` called directly deliver for the caller, lock or not (tests, one-off tools).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from openem.bus import metrics
from openem.bus.leadership import Leadership, leadership_for
from openem.bus.loop import WakeableLoop
from openem.bus.outbox import OutboxRow, ProcessedRow, ready
from openem.bus.parking import describe, record_failure, refresh_gauges
from openem.bus.registry import Handler, Registry
from openem.bus.retry import DestinationUnavailable, RetryPolicy
from openem.core.time import utcnow
from openem.store.db import Database

log = logging.getLogger("openem.bus")

#: publish(topic, message_id, payload) -> None ; raises on failure (DestinationUnavailable when the broker
#: is down). A publisher whose broker drops repeated ids sets `drops_repeated_ids = True` and takes a
#: `dedupe_id=` keyword, so that a message an operator re-queues is not dropped as a repeat.
Publisher = Callable[..., None]


def deliver_locally(
    db: Database, registry: Registry, topic: str, message_id: str, payload: dict[str, Any]
) -> int:
    """Run every handler for the message once. Returns how many handlers ran (0 when all had already run).
    A handler that raises rolls back its own work and raises: the message is not handled."""
    return sum(_handle_once(db, name, fn, message_id, payload) for name, fn in registry.for_topic(topic))


def _handle_once(db: Database, name: str, fn: Handler, message_id: str, payload: dict[str, Any]) -> bool:
    with db.uow() as uow:
        session = uow.session
        if session.get(ProcessedRow, (name, message_id)) is not None:
            return False
        session.add(ProcessedRow(handler=name, message_id=message_id, at=utcnow()))
        try:
            # the marker is the only change pending, so a conflict in this flush is the marker's own: another
            # worker is handling this message right now. A conflict in the handler's own inserts is a failure.
            session.flush()
        except IntegrityError:
            session.rollback()
            return False
        fn(payload, uow)
    return True


@dataclass(frozen=True)
class _Outgoing:
    seq: int
    id: str
    topic: str
    key: str
    retries: int
    payload: dict[str, Any]


class OutboxDispatcher(WakeableLoop):
    """Sends ready outbox rows through a publisher, oldest first, in order per key; parks what keeps failing."""

    def __init__(
        self,
        db: Database,
        publish: Publisher,
        policy: RetryPolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
        leadership: Leadership | None = None,
    ) -> None:
        self.db = db
        self.publish = publish
        self.policy = policy or RetryPolicy.from_env()
        self.clock = clock
        self.leadership = leadership or leadership_for(db)
        #: "stopped" (loop not running), "standby" (another dispatcher holds the lock) or "active"
        self.role = "stopped"
        super().__init__()
        self._lock = threading.Lock()

    def run_once(self, limit: int = 500) -> int:
        """One pass over the ready rows. Returns how many were delivered."""
        with self._lock:
            with self.db.uow() as uow:
                batch = [
                    _Outgoing(r.seq, r.id, r.topic, r.key, r.retries, dict(r.payload))
                    for r in ready(uow.session, self.clock(), limit)
                ]
            sent = 0
            failed_keys: set[str] = set()
            for m in batch:
                if m.key in failed_keys:
                    continue  # keep order within the key: do not overtake its failed message
                try:
                    self._send(m)
                except DestinationUnavailable as exc:
                    self._note_unavailable(m, exc)
                    break  # every later row would fail the same way: wait for the broker
                except Exception as exc:  # noqa: BLE001 - count it against the message; other keys go on
                    failed_keys.add(m.key)
                    self._note_failure(m, exc)
                    continue
                self._mark_delivered(m.seq)
                metrics.DELIVERED.labels(m.topic, getattr(self.publish, "channel", "inprocess")).inc()
                sent += 1
            return sent

    def _send(self, m: _Outgoing) -> None:
        if m.retries and getattr(self.publish, "drops_repeated_ids", False):
            self.publish(m.topic, m.id, m.payload, dedupe_id=f"{m.id}.retry{m.retries}")
        else:
            self.publish(m.topic, m.id, m.payload)

    def _note_failure(self, m: _Outgoing, exc: Exception) -> None:
        log.warning(
            "outbox delivery failed",
            exc_info=exc,
            extra={"message_id": m.id, "topic": m.topic, "key": m.key, "error": str(exc)[:500]},
        )
        with self.db.uow() as uow:
            row = uow.session.get(OutboxRow, m.seq)
            if row is not None and row.parked_at is None and row.delivered_at is None:
                record_failure(row, describe(exc), self.policy, self.clock())

    def _note_unavailable(self, m: _Outgoing, exc: Exception) -> None:
        log.warning("outbox destination unavailable; will try again", extra={"error": str(exc)[:500]})
        metrics.FAILURES.labels(m.topic, "unavailable").inc()
        with self.db.uow() as uow:
            row = uow.session.get(OutboxRow, m.seq)
            if row is not None:
                row.last_error = describe(exc)

    def _mark_delivered(self, seq: int) -> None:
        with self.db.uow() as uow:
            row = uow.session.get(OutboxRow, seq)
            if row is not None:
                row.delivered_at = self.clock()
                row.next_attempt_at = None

    def drain(self) -> int:
        total = 0
        while True:
            n = self.run_once()
            total += n
            if n == 0:
                return total

    def refresh_metrics(self) -> int:
        """Set the parked/held gauges from the table. Returns how many messages are parked."""
        with self.db.uow() as uow:
            return refresh_gauges(uow.session)

    loop_name = "outbox-dispatcher"

    def step(self) -> None:
        # the lock is checked again before every batch: a dispatcher that lost it mid-drain stops sending
        while self._lead() and self.run_once():
            pass
        self.refresh_metrics()  # every process's /metrics shows what is parked, standing by or not

    def _lead(self) -> bool:
        held = self.leadership.try_acquire()
        role = "active" if held else "standby"
        if role != self.role:
            log.info("outbox dispatcher %s", role, extra={"role": role, "lock": self.leadership.kind})
            self.role = role
        return held

    def status(self) -> dict[str, str]:
        """For /health: whether this process's dispatcher is the one sending, and how the lock is held."""
        return {"role": self.role, "lock": self.leadership.kind}

    def finished(self) -> None:
        self.leadership.release()
        self.role = "stopped"

    def stop(self) -> None:
        super().stop()
        if self._thread is None or not self._thread.is_alive():
            self.finished()  # never started, or ended: its thread cannot be sending
