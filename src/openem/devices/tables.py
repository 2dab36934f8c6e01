"""Device inventory and activations. An activation links one device to a person and an order for a period;
history is kept per activation because devices are reused."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from openem.store.base import Base
from openem.store.types import UTCDateTime


class DeviceRow(Base):
    __tablename__ = "devices"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_kind: Mapped[str] = mapped_column(
        String(20), index=True
    )  # RF_TAG, HMU, GPS_TAG, ALCOHOL_TAG, NFD, VICTIM
    model: Mapped[str] = mapped_column(String(80), default="")
    firmware: Mapped[str] = mapped_column(String(40), default="")
    serial: Mapped[str] = mapped_column(String(80), default="")
    status: Mapped[str] = mapped_column(String(20), default="IN_STOCK")  # devices.rules.STATES
    depot: Mapped[str] = mapped_column(String(40), default="")
    holder: Mapped[str] = mapped_column(
        String(80), default=""
    )  # migration 0020: the field officer holding it


class ActivationRow(Base):
    __tablename__ = "activations"
    activation_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64))
    device_kind: Mapped[str] = mapped_column(String(20))
    order_ref: Mapped[str] = mapped_column(String(40), index=True)
    person_id: Mapped[str] = mapped_column(String(40), index=True)
    role: Mapped[str] = mapped_column(String(10), default="WEARER")  # WEARER or VICTIM
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index("ix_activations_device_start", "device_id", "start"),
        Index("ix_activations_end", "end"),  # the activation probe's count of ended ones (migration 0023)
    )


class ActivationChangesRow(Base):
    """One row: a number that grows with every change to `activations` (a row inserted, updated or deleted, by
    any writer), bumped by the database's own triggers (migration 0028: once a transaction on PostgreSQL, once
    a row on SQLite); the activation probe reads it."""

    __tablename__ = "activation_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    changes: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (CheckConstraint("id = 1", name="ck_activation_changes_one_row"),)


class DeviceEventRow(Base):
    """Every state change of a device (who, when, why): the device's history in stock and in the field."""

    __tablename__ = "device_events"
    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class DeviceEnrolmentRow(Base):
    """A phone's enrolment (migration 0023): the SHA-256 of the token in its ingest URL, never the token; one
    live (unrevoked) enrolment per device at a time."""

    __tablename__ = "device_enrolments"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # NFD or VICTIM
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(80))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_by: Mapped[str] = mapped_column(String(80), default="")


class DeviceTransferRow(Base):
    """A move of devices from one depot to another (migration 0030): sent (the devices IN_TRANSIT, not
    allocatable), then received (IN_STOCK at the other depot). Each device's moves are in `device_events`."""

    __tablename__ = "device_transfers"
    transfer_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    from_depot: Mapped[str] = mapped_column(String(40))
    to_depot: Mapped[str] = mapped_column(String(40))
    devices: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(12), index=True)  # IN_TRANSIT, RECEIVED
    sent_by: Mapped[str] = mapped_column(String(80))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_by: Mapped[str] = mapped_column(String(80), default="")
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
