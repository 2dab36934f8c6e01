"""The outbox: events raised in a unit of work are written to `outbox` in the same transaction, then
delivered after commit. Nothing is lost on a crash: undelivered rows are picked up again on restart.

A row is pending (`delivered_at` and `parked_at` unset), waiting out a backoff (`next_attempt_at` in the
future), parked after too many failures (`parked_at` set: the dead letter, kept in its place so that a retry
restores its order among its key's messages), or delivered.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, Select, String, Text, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from openem.bus.messages import KEY_LENGTH, Message
from openem.core.ids import new_id
from openem.core.time import utcnow
from openem.store.base import Base
from openem.store.db import Database, register_event_writer
from openem.store.types import UTCDateTime


class OutboxRow(Base):
    __tablename__ = "outbox"
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[str] = mapped_column(String(40), unique=True)
    topic: Mapped[str] = mapped_column(String(120), index=True)
    #: what the message is about (`order:<ref>`, `person:<id>` or the topic): order is kept per key
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), index=True, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    #: failed deliveries since it was written or last re-queued
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    #: not before this instant (backoff after a failure)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: parked after too many failures: delivered again only when an operator re-queues it
    parked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    #: how many times an operator re-queued it (a broker that drops repeated ids is sent a fresh one)
    retries: Mapped[int] = mapped_column(Integer, default=0)


class ProcessedRow(Base):
    """(handler, message id) pairs already handled: makes every handler idempotent under redelivery."""

    __tablename__ = "bus_processed"
    handler: Mapped[str] = mapped_column(String(120), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


def write_events(session: Session, events: list[Any]) -> None:
    """Write a unit of work's events into the outbox, in its transaction (called by the unit of work)."""
    for ev in events:
        if not isinstance(ev, Message) or not ev.topic:
            raise TypeError(f"not a publishable message: {ev!r}")
        payload = json.loads(json.dumps(ev.to_dict(), default=str))
        session.add(
            OutboxRow(id=new_id("MSG"), topic=ev.topic, key=ev.key(), payload=payload, created_at=utcnow())
        )


register_event_writer(write_events)


def install(db: Database) -> None:
    """Kept for callers written before every unit of work wrote its events: nothing to do any more."""


def held_keys(now: datetime) -> Select[str]:
    """Keys with an undelivered message that is parked or waiting out its backoff: their later messages wait."""
    return select(OutboxRow.key).where(
        OutboxRow.delivered_at.is_(None),
        or_(OutboxRow.parked_at.is_not(None), OutboxRow.next_attempt_at > now),
    )


def ready(session: Session, now: datetime, limit: int = 500) -> list[OutboxRow]:
    """Undelivered rows that may be sent now, oldest first: not parked, not in backoff, and not behind a
    parked or backing-off message of the same key."""
    return list(
        session.execute(
            select(OutboxRow)
            .where(
                OutboxRow.delivered_at.is_(None),
                OutboxRow.parked_at.is_(None),
                or_(OutboxRow.next_attempt_at.is_(None), OutboxRow.next_attempt_at <= now),
                OutboxRow.key.not_in(held_keys(now)),
            )
            .order_by(OutboxRow.seq)
            .limit(limit)
        ).scalars()
    )


def backlog(session: Session, now: datetime) -> tuple[int, float | None]:
    """(how many, the oldest's age in seconds) of the undelivered messages that should be moving: not parked and
    not held behind a parked message of their key (those are counted as parked and held)."""
    parked_keys = select(OutboxRow.key).where(
        OutboxRow.delivered_at.is_(None), OutboxRow.parked_at.is_not(None)
    )
    count, oldest = session.execute(
        select(func.count(), func.min(OutboxRow.created_at)).where(
            OutboxRow.delivered_at.is_(None), OutboxRow.parked_at.is_(None), OutboxRow.key.not_in(parked_keys)
        )
    ).one()
    return int(count), (max(0.0, (now - oldest).total_seconds()) if oldest is not None else None)
