"""Raw telemetry store: every batch as received, every message with its flags, every rejection.
Flags, never deletion: nothing here is updated or deleted by processing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openem.store.base import Base
from openem.store.types import UTCDateTime

BIGINT = BigInteger().with_variant(Integer, "sqlite")


class TelemetryBatchRow(Base):
    __tablename__ = "telemetry_batches"
    id: Mapped[int] = mapped_column(BIGINT, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    source: Mapped[str] = mapped_column(String(20))  # http, mqtt, replay
    sender: Mapped[str] = mapped_column(String(80), default="")
    size_bytes: Mapped[int] = mapped_column(Integer)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    body: Mapped[bytes] = mapped_column(LargeBinary)  # zlib-compressed body as received


class TelemetryMessageRow(Base):
    __tablename__ = "telemetry_messages"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    device_time: Mapped[datetime] = mapped_column(UTCDateTime())
    receive_time: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    activation_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    person_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    batch_id: Mapped[int] = mapped_column(BIGINT, index=True)

    __table_args__ = (
        Index("ix_telemetry_person_time", "person_id", "device_time"),
        Index("ix_telemetry_receive_time", "receive_time"),
    )


class TelemetryRejectionRow(Base):
    __tablename__ = "telemetry_rejections"
    id: Mapped[int] = mapped_column(BIGINT, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(BIGINT, index=True)
    code: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    device_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    seq: Mapped[int | None] = mapped_column(BIGINT, nullable=True)
    raw: Mapped[str] = mapped_column(Text, default="")


class TrailPointRow(Base):
    """Positions for recent trail queries by person and time (history at scale goes to the Parquet lake)."""

    __tablename__ = "trail_points"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    person_id: Mapped[str] = mapped_column(String(40))
    activation_id: Mapped[str] = mapped_column(String(40))
    device_time: Mapped[datetime] = mapped_column(UTCDateTime())
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float] = mapped_column(Float)

    # covering (issue 15, migration 0026): a person's trail for a window is read from the index alone, in order
    __table_args__ = (
        Index("ix_trail_person_time_cover", "person_id", "device_time", "seq", "device_id", "lat", "lon",
              "accuracy_m"),
    )  # fmt: skip
