"""Breach storage (private to breaches): breaches, their pack versions (never overwritten) and responses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from openem.store.base import Base
from openem.store.types import UTCDateTime


class BreachRow(Base):
    __tablename__ = "breaches"
    breach_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    incident_id: Mapped[str] = mapped_column(String(40), unique=True)
    person_id: Mapped[str] = mapped_column(String(40), default="", index=True)
    order_ref: Mapped[str] = mapped_column(String(40), default="", index=True)
    cohort: Mapped[str] = mapped_column(String(30), default="")
    template: Mapped[str] = mapped_column(String(10), default="non_bail")
    agency: Mapped[str] = mapped_column(String(30), index=True)
    team: Mapped[str] = mapped_column(String(200), index=True)
    officer: Mapped[str] = mapped_column(String(200), default="", index=True)
    urgency: Mapped[str] = mapped_column(String(12), default="standard")
    route_rule: Mapped[str] = mapped_column(String(60), default="")
    route_version: Mapped[int] = mapped_column(Integer, default=1)
    kinds: Mapped[list[Any]] = mapped_column(JSON, default=list)
    situation: Mapped[str] = mapped_column(String(120), default="")
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    violation_start: Mapped[datetime] = mapped_column(UTCDateTime())
    detected_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    incident_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    confirmed_by: Mapped[str] = mapped_column(String(120), default="")
    pack_version: Mapped[int] = mapped_column(Integer, default=0)
    pack_sha256: Mapped[str] = mapped_column(String(64), default="")
    pack_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decision: Mapped[str] = mapped_column(String(40), default="")
    state: Mapped[str] = mapped_column(String(20), default="open", index=True)  # open | decided | closed
    reminders: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": row_version}


class BreachPackRow(Base):
    """One version of a breach pack in its three forms with their hashes. A new version never replaces an old one."""

    __tablename__ = "breach_packs"
    breach_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(200), default="")
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    json_text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256_json: Mapped[str] = mapped_column(String(64))
    sha256_html: Mapped[str] = mapped_column(String(64))
    sha256_pdf: Mapped[str] = mapped_column(String(64))
    evidence_key: Mapped[str] = mapped_column(
        String(64), default=""
    )  # what evidence this version was made from


class BreachResponseRow(Base):
    __tablename__ = "breach_responses"
    response_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    breach_id: Mapped[str] = mapped_column(String(40), index=True)
    agency: Mapped[str] = mapped_column(String(30))
    step: Mapped[str] = mapped_column(String(30))
    value: Mapped[str] = mapped_column(String(40), default="")
    note: Mapped[str] = mapped_column(String(2000), default="")
    by: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    submission_key: Mapped[str] = mapped_column(String(80))
    __table_args__ = (
        UniqueConstraint("breach_id", "agency", "step", name="uq_breach_responses_step"),
        UniqueConstraint("breach_id", "submission_key", name="uq_breach_responses_submission"),
    )
