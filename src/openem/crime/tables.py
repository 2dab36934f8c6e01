"""Crime matching's tables (private to the capability): batches as received with their errors, crimes by
(force, reference) with every version, match runs and their results, and evidence reports issued."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openem.store.base import Base
from openem.store.types import UTCDateTime


class CrimeBatchRow(Base):
    __tablename__ = "crime_batches"
    batch_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    force: Mapped[str] = mapped_column(String(40), default="", index=True)
    batch_id: Mapped[str] = mapped_column(String(60), default="")
    filename: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(20))  # upload, api, cli, mailbox
    sender: Mapped[str] = mapped_column(String(200), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    received_by: Mapped[str] = mapped_column(String(80))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)
    new_versions: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(12))  # successful, partial, failed
    file_errors: Mapped[list[Any]] = mapped_column(JSON, default=list)


class CrimeRowErrorRow(Base):
    __tablename__ = "crime_row_errors"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_key: Mapped[str] = mapped_column(ForeignKey("crime_batches.batch_key"), index=True)
    row: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(40))
    field: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(300))


class CrimeRow(Base):
    __tablename__ = "crimes"
    crime_key: Mapped[str] = mapped_column(String(100), primary_key=True)  # FORCE|REFERENCE (upper case)
    force: Mapped[str] = mapped_column(String(40), index=True)
    reference: Mapped[str] = mapped_column(String(60))
    latest_version: Mapped[int] = mapped_column(Integer)
    first_received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CrimeVersionRow(Base):
    __tablename__ = "crime_versions"
    version_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    crime_key: Mapped[str] = mapped_column(ForeignKey("crimes.crime_key"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))  # new, changed, duplicate
    batch_key: Mapped[str] = mapped_column(ForeignKey("crime_batches.batch_key"), index=True)
    row: Mapped[int] = mapped_column(Integer)
    crime_type: Mapped[str] = mapped_column(String(8))
    date_from: Mapped[datetime] = mapped_column(UTCDateTime())
    date_to: Mapped[datetime] = mapped_column(UTCDateTime())
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    easting: Mapped[float | None] = mapped_column(Float, nullable=True)
    northing: Mapped[float | None] = mapped_column(Float, nullable=True)
    text: Mapped[str] = mapped_column(Text, default="")
    changed: Mapped[list[Any]] = mapped_column(JSON, default=list)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CrimeMatchRunRow(Base):
    __tablename__ = "crime_match_runs"
    run_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    batch_key: Mapped[str] = mapped_column(String(40), index=True, default="")
    algorithm: Mapped[str] = mapped_column(String(40))
    policy_version: Mapped[str] = mapped_column(String(40))
    trigger: Mapped[str] = mapped_column(String(12))  # automatic, manual
    status: Mapped[str] = mapped_column(String(12))  # done, failed
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    timings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    crimes: Mapped[int] = mapped_column(Integer, default=0)
    matches: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(String(500), default="")
    started_by: Mapped[str] = mapped_column(String(80), default="")


class CrimeMatchRow(Base):
    __tablename__ = "crime_matches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_key: Mapped[str] = mapped_column(ForeignKey("crime_match_runs.run_key"), index=True)
    version_key: Mapped[str] = mapped_column(ForeignKey("crime_versions.version_key"), index=True)
    status: Mapped[str] = mapped_column(String(12))  # match, unknown, summary
    person_id: Mapped[str] = mapped_column(String(40), default="")
    device_id: Mapped[str] = mapped_column(String(64), default="")
    pass_label: Mapped[str] = mapped_column(String(8), default="")
    closest_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    first_seen: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    confidence: Mapped[str] = mapped_column(String(10), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_crime_matches_person", "person_id"),)


class CrimeEvidenceRow(Base):
    __tablename__ = "crime_evidence"
    evidence_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("crime_matches.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    issued_by: Mapped[str] = mapped_column(String(80))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
