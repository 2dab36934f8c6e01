"""The outbox: events raised in a unit of work are written to `outbox` in the same transaction, then
delivered after commit. Nothing is lost on a crash: undelivered rows are picked up again on restart."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from openem.bus.messages import Message
from openem.core.ids import new_id
from openem.core.time import utcnow
from openem.store.base import Base
from openem.store.db import Database, register_event_writer
from openem.store.types import UTCDateTime


class OutboxRow(Base):
    __tablename__ = "outbox"
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    topic: Mapped[str] = mapped_column(String(120), index=True)
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")


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
        session.add(OutboxRow(id=new_id("MSG"), topic=ev.topic, payload=payload, created_at=utcnow()))


register_event_writer(write_events)


def install(db: Database) -> None:
    """Kept for callers written before every unit of work wrote its events: nothing to do any more."""


def undelivered(session: Session, limit: int = 500) -> list[OutboxRow]:
    return list(
        session.execute(
            select(OutboxRow).where(OutboxRow.delivered_at.is_(None)).order_by(OutboxRow.seq).limit(limit)
        ).scalars()
    )
