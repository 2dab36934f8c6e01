"""Notify storage (private to notify): inbox messages, channels per inbox, deliveries and their attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openem.store.base import Base
from openem.store.types import UTCDateTime


class InboxMessageRow(Base):
    """A message in an in-app inbox (a team `agency:...` or an officer's email address)."""

    __tablename__ = "notify_inbox"
    message_id: Mapped[str] = mapped_column(
        String(80), primary_key=True
    )  # idempotent: subject + version + inbox
    inbox: Mapped[str] = mapped_column(String(200), index=True)
    subject_kind: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[str] = mapped_column(String(40), index=True)
    subject_version: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(300), default="")
    urgency: Mapped[str] = mapped_column(String(12), default="standard")
    order_ref: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    acknowledged_by: Mapped[str] = mapped_column(String(120), default="")


class ChannelRow(Base):
    """Where an inbox's messages also go: an email address or a webhook URL with its signing secret."""

    __tablename__ = "notify_channels"
    channel_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    inbox: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # email | webhook
    address: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeliveryRow(Base):
    """One message to one channel: pending until sent, tried again with backoff, never dropped."""

    __tablename__ = "notify_deliveries"
    delivery_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(String(500))
    subject_id: Mapped[str] = mapped_column(String(40), index=True)
    subject_version: Mapped[int] = mapped_column(Integer, default=1)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | delivered
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    receipt: Mapped[str] = mapped_column(String(500), default="")
    __table_args__ = (Index("ix_notify_deliveries_due", "status", "next_attempt_at"),)


class AttemptRow(Base):
    """A delivery receipt: every attempt, its outcome and what the other side answered."""

    __tablename__ = "notify_attempts"
    attempt_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(String(100), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    ok: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(String(500), default="")
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
