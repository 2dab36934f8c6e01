"""Alert storage."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from openem.store.base import Base
from openem.store.types import UTCDateTime


class AlertRow(Base):
    __tablename__ = "alerts"
    alert_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    severity: Mapped[str] = mapped_column(String(10))
    person_id: Mapped[str] = mapped_column(String(40), default="", index=True)
    order_ref: Mapped[str] = mapped_column(String(40), default="", index=True)
    device_id: Mapped[str] = mapped_column(String(64), default="")
    condition_id: Mapped[str] = mapped_column(String(80), default="")
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime())
    late_detected: Mapped[bool] = mapped_column(Boolean, default=False)
    evidence: Mapped[list[Any]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="NEW")  # NEW; triage states come next
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": row_version}

    __table_args__ = (Index("ix_alerts_order_start", "order_ref", "start"),)


class IncidentRow(Base):
    """A triage incident: episodes grouped by wearer + order + situation. Never deleted; `decisions` keeps
    every automatic and human decision with its rule and version (why it did or did not reach a person)."""

    __tablename__ = "alert_incidents"
    incident_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    group_key: Mapped[str] = mapped_column(String(200), index=True)
    person_id: Mapped[str] = mapped_column(String(40), default="", index=True)
    order_ref: Mapped[str] = mapped_column(String(40), default="")
    situation: Mapped[str] = mapped_column(String(120), default="")
    state: Mapped[str] = mapped_column(String(20), index=True)
    needs_person: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    priority: Mapped[int] = mapped_column(Integer, default=0, index=True)
    severity: Mapped[str] = mapped_column(String(10), default="LOW")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    assignee: Mapped[str] = mapped_column(String(80), default="")
    resolution: Mapped[str] = mapped_column(String(40), default="")
    kinds: Mapped[list[Any]] = mapped_column(JSON, default=list)
    episodes: Mapped[list[Any]] = mapped_column(JSON, default=list)  # latest revision of each episode
    decisions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    notes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": row_version}


class EpisodeRow(Base):
    """An episode (monitoring.EpisodeOpened/Updated/Closed): the latest revision seen of each, by id."""

    __tablename__ = "alert_episodes"
    episode_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the alert id that opened it
    kind: Mapped[str] = mapped_column(String(40), index=True)
    severity: Mapped[str] = mapped_column(String(10))
    person_id: Mapped[str] = mapped_column(String(40), default="", index=True)
    order_ref: Mapped[str] = mapped_column(String(40), default="", index=True)
    device_id: Mapped[str] = mapped_column(String(64), default="")
    condition_id: Mapped[str] = mapped_column(String(80), default="")
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    state: Mapped[str] = mapped_column(String(10), default="open", index=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    closed_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)
    confidence: Mapped[str] = mapped_column(String(10), default="confirmed")
    measure: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    evidence: Mapped[list[Any]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_alert_episodes_order_start", "order_ref", "start"),)


class NoiseRuleRow(Base):
    """One version of a noise rule as an operator wrote it (the built-in rules are version 1 in code). A new
    version is a new row; nothing is updated or deleted, so every decision's rule and version can be read back."""

    __tablename__ = "alert_noise_rules"
    rule_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    match: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    action: Mapped[str] = mapped_column(String(30))
    window_minutes: Mapped[int] = mapped_column(Integer, default=0)
    mode: Mapped[str] = mapped_column(String(10))  # active | monitor | retired
    description: Mapped[str] = mapped_column(String(200), default="")
    author: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SilenceRow(Base):
    """A time-boxed silence with its author and reason; ending one early sets `ended_by`, never deletes it."""

    __tablename__ = "alert_silences"
    silence_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    match: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    starts: Mapped[datetime] = mapped_column(UTCDateTime())
    ends: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    author: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_by: Mapped[str] = mapped_column(String(80), default="")
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": row_version}


#: the queue's order (most urgent first) walked in the index, so a page of 100 reads 100 rows, not a sort of all
Index("ix_alert_incidents_queue", IncidentRow.needs_person, IncidentRow.priority.desc(), IncidentRow.opened_at,
      IncidentRow.incident_id)  # fmt: skip
Index("ix_alert_incidents_assignee", IncidentRow.assignee, IncidentRow.needs_person)
Index("ix_alert_incidents_person_key", IncidentRow.person_id, IncidentRow.group_key)
