"""Field visits and their attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from openem.store.base import Base
from openem.store.types import UTCDateTime


class VisitRow(Base):
    __tablename__ = "field_visits"
    visit_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # field.rules.KINDS
    order_ref: Mapped[str] = mapped_column(String(40), index=True)
    person_id: Mapped[str] = mapped_column(String(40), default="")
    device_id: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(12), default="OPEN")  # OPEN, DONE, CANCELLED
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_by: Mapped[datetime] = mapped_column(UTCDateTime())
    officer: Mapped[str] = mapped_column(String(80), default="", index=True)
    planned_for: Mapped[str] = mapped_column(String(10), default="")  # ISO date of the day it is planned on
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_outcome: Mapped[str] = mapped_column(String(20), default="")
    reminders: Mapped[int] = mapped_column(Integer, default=0)
    last_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # migration 0020: where the address is, the contract rule, install at source, the booked appointment
    postcode: Mapped[str] = mapped_column(String(12), default="")
    address_check: Mapped[str] = mapped_column(
        String(20), default=""
    )  # "", LOCATED, GIVEN, UNKNOWN, MALFORMED
    address_message: Mapped[str] = mapped_column(String(200), default="")
    location: Mapped[str] = mapped_column(String(20), default="HOME")  # HOME, PRISON, COURT, PROBATION_OFFICE
    rule: Mapped[str] = mapped_column(String(10), default="ADULT")  # field/data/contract.json rules
    priority: Mapped[int] = mapped_column(Integer, default=0)
    appointment_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    appointment_by: Mapped[str] = mapped_column(String(80), default="")
    reminders_sent: Mapped[str] = mapped_column(String(40), default="")  # "24,2": hours-before reminders due
    # migration 0021: what the visit needs of its officers
    needs_skill: Mapped[str] = mapped_column(String(20), default="")  # "ALCOHOL": alcohol-tag training
    officers_needed: Mapped[int] = mapped_column(Integer, default=1)  # 2: a high-risk address
    # migration 0030: the second officer of a two-officer visit planned with the region's day
    partner: Mapped[str] = mapped_column(String(80), default="")

    __table_args__ = (Index("ix_field_visits_status_kind", "status", "kind"),)


class AttemptRow(Base):
    __tablename__ = "field_attempts"
    attempt_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    visit_id: Mapped[str] = mapped_column(String(60), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    officer: Mapped[str] = mapped_column(String(80))
    outcome: Mapped[str] = mapped_column(String(20))
    device_id: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(String(500), default="")


class ReplanRow(Base):
    """Each re-plan of an officer's day: when, why, the new order of visits and what could not be fitted in."""

    __tablename__ = "field_replans"
    replan_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    officer: Mapped[str] = mapped_column(String(80), index=True)
    day: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(200))
    visits: Mapped[list[str]] = mapped_column(JSON, default=list)
    unplanned: Mapped[list[list[str]]] = mapped_column(JSON, default=list)


class AddressPinRow(Base):
    """Where each address of an order is (migration 0025): placed by field from the postcode (or coordinates
    given with the address) when the order is accepted or varied, and corrected by the order's creator on the
    order's page. A corrected pin holds until the address's postcode changes."""

    __tablename__ = "field_address_pins"
    order_ref: Mapped[str] = mapped_column(String(40), primary_key=True)
    address_type: Mapped[str] = mapped_column(
        String(20), primary_key=True
    )  # PRIMARY, SECONDARY, INSTALLATION..
    postcode: Mapped[str] = mapped_column(String(12), default="")
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    check: Mapped[str] = mapped_column(String(20), default="")  # LOCATED, GIVEN, CORRECTED, UNKNOWN, ...
    source: Mapped[str] = mapped_column(String(60), default="")  # the geocoder's name, "order", "corrected"
    message: Mapped[str] = mapped_column(String(200), default="")
    corrected_by: Mapped[str] = mapped_column(String(80), default="")
    corrected_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OfficerRow(Base):
    """A field officer's record (migration 0021): their trainings as data, e.g. ["ALCOHOL"] (alcohol-tag
    training: only a trained officer is given an alcohol visit)."""

    __tablename__ = "field_officers"
    officer: Mapped[str] = mapped_column(String(80), primary_key=True)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    region: Mapped[str] = mapped_column(String(40), default="")  # migration 0030: field/data/regions.json
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(80), default="")


class AttemptPhotoRow(Base):
    """A photo of the fitted equipment, stored with its attempt (migration 0021): JPEG or PNG, at most 5 MB."""

    __tablename__ = "field_attempt_photos"
    photo_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    attempt_id: Mapped[int] = mapped_column(Integer, index=True)
    visit_id: Mapped[str] = mapped_column(String(60), index=True)
    media_type: Mapped[str] = mapped_column(String(20))  # image/jpeg, image/png
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(80))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
