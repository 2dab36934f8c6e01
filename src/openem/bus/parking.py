"""Parked messages (the dead letters): what failed too often, why, and re-queuing them.

A parked message stays in the outbox in its place (decision 0014): later messages about the same order or
person wait behind it, shown as held, and a retry sends it before them. Consumers of a broker park the
message they took in the same row (it came from this outbox), or add one for a message they did not send.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from openem.bus import metrics
from openem.bus.messages import key_of_payload
from openem.bus.outbox import OutboxRow
from openem.bus.retry import RetryPolicy
from openem.core.time import utcnow
from openem.store.db import Database

log = logging.getLogger("openem.bus")

ERROR_LENGTH = 2000


@dataclass(frozen=True)
class ParkedMessage:
    message_id: str
    topic: str
    key: str
    error: str
    attempts: int
    created_at: datetime
    parked_at: datetime
    held: int  # later messages of the same key waiting behind it


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:ERROR_LENGTH]


def record_failure(
    row: OutboxRow, error: str, policy: RetryPolicy, now: datetime, stage: str = "outbox"
) -> bool:
    """Count a failed delivery of `row`: back off, or park it once the attempts are used up. True if parked."""
    row.attempts += 1
    row.last_error = error[:ERROR_LENGTH]
    metrics.FAILURES.labels(row.topic, stage).inc()
    if policy.exhausted(row.attempts):
        row.parked_at = now
        row.next_attempt_at = None
        metrics.PARKED_TOTAL.labels(row.topic).inc()
        log.error(
            "bus message parked after %d failed deliveries",
            row.attempts,
            extra={"message_id": row.id, "topic": row.topic, "key": row.key, "error": row.last_error},
        )
        return True
    row.next_attempt_at = now + policy.backoff(row.attempts)
    return False


def park_consumed(
    db: Database, topic: str, message_id: str, payload: dict[str, Any], error: str, attempts: int
) -> None:
    """A broker consumer gave up on a message after `attempts` deliveries: park it in the outbox, where it is
    listed and can be re-queued like any other."""
    now = utcnow()
    with db.uow() as uow:
        row = uow.session.execute(select(OutboxRow).where(OutboxRow.id == message_id)).scalar_one_or_none()
        if row is None:  # not sent from this outbox: adopt it, so that a retry can send it again
            row = OutboxRow(
                id=message_id[:40],
                topic=topic[:120],
                key=key_of_payload(topic, payload),
                payload=payload,
                created_at=now,
                retries=0,
            )
            uow.session.add(row)
        row.delivered_at = None
        row.next_attempt_at = None
        row.attempts = attempts
        row.last_error = error[:ERROR_LENGTH]
        row.parked_at = now
    metrics.PARKED_TOTAL.labels(topic).inc()
    log.error(
        "bus message parked by its consumer after %d deliveries",
        attempts,
        extra={"message_id": message_id, "topic": topic, "error": error[:ERROR_LENGTH]},
    )


def _parked_query() -> Select[OutboxRow]:
    return select(OutboxRow).where(OutboxRow.delivered_at.is_(None), OutboxRow.parked_at.is_not(None))


def held_by_key(session: Session, keys: set[str] | None = None) -> dict[str, int]:
    """Per key with a parked message: how many of its other undelivered messages wait behind it."""
    parked_keys = select(OutboxRow.key).where(
        OutboxRow.delivered_at.is_(None), OutboxRow.parked_at.is_not(None)
    )
    query = (
        select(OutboxRow.key, func.count())
        .where(
            OutboxRow.delivered_at.is_(None), OutboxRow.parked_at.is_(None), OutboxRow.key.in_(parked_keys)
        )
        .group_by(OutboxRow.key)
    )
    if keys is not None:
        query = query.where(OutboxRow.key.in_(sorted(keys)))
    return {k: int(n) for k, n in session.execute(query)}


def parked_messages(session: Session, limit: int = 500) -> list[ParkedMessage]:
    """Parked messages, oldest first; the first parked message of a key carries the count held behind it."""
    rows = session.execute(_parked_query().order_by(OutboxRow.seq).limit(limit)).scalars().all()
    held = held_by_key(session, {r.key for r in rows})
    out, counted = [], set()
    for r in rows:
        out.append(
            ParkedMessage(
                r.id,
                r.topic,
                r.key,
                r.last_error,
                r.attempts,
                r.created_at,
                r.parked_at or r.created_at,
                0 if r.key in counted else held.get(r.key, 0),
            )
        )
        counted.add(r.key)
    return out


def parked_count(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(_parked_query().subquery())).scalar_one())


def refresh_gauges(session: Session) -> int:
    """Set the parked and held gauges from the table (every process sees the same numbers). Returns parked."""
    parked = parked_count(session)
    metrics.PARKED.set(parked)
    metrics.HELD.set(sum(held_by_key(session).values()) if parked else 0)
    return parked


def requeue(session: Session, message_ids: list[str] | None = None) -> list[str]:
    """Send parked messages again, from their place in their key's order, with a fresh count of attempts.
    `None` re-queues every parked message. Returns the ids re-queued (an id not parked is left out)."""
    where = [OutboxRow.delivered_at.is_(None), OutboxRow.parked_at.is_not(None)]
    if message_ids is not None:
        where.append(OutboxRow.id.in_([m[:40] for m in message_ids]))
    result = session.execute(
        update(OutboxRow)
        .where(*where)
        .values(parked_at=None, next_attempt_at=None, attempts=0, retries=OutboxRow.retries + 1)
        .returning(OutboxRow.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(result.scalars())
