"""Persistence for users, web sessions, API tokens and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from openem.store.base import Base
from openem.store.types import UTCDateTime


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True, index=True)
    display_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    extra_permissions: Mapped[list[str]] = mapped_column(JSON, default=list)
    organisation: Mapped[str] = mapped_column(String(120), default="")
    police_area: Mapped[str] = mapped_column(String(80), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: the password was given by someone else (a reset, a one-off): the next sign-in must choose a new one
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}


class CaseloadRow(Base):
    """A case (order) assigned to a user, e.g. a probation practitioner's caseload."""

    __tablename__ = "caseload"
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    order_ref: Mapped[str] = mapped_column(String(40), primary_key=True)


class WebSessionRow(Base):
    __tablename__ = "web_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    #: for device / gateway tokens used by telemetry ingest (no user behind them)
    device_scope: Mapped[str] = mapped_column(String(80), default="")
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditRow(Base):
    """Append-only. Each row's hash covers its content and the previous row's hash."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(80), index=True)
    action: Mapped[str] = mapped_column(String(200), index=True)
    records: Mapped[list[str]] = mapped_column(JSON, default=list)
    purpose: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(20), default="ok")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    #: HMAC-SHA256 under the key `key_id` (NULL: a row from before the keyed chain, plain sha256)
    hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(40), nullable=True)


class AuditHeadRow(Base):
    """One row: the last sequence number and hash. Writers lock it, so the chain never forks.

    `legacy_until`: rows up to this one were written before the keyed chain and keep the unkeyed digest; the
    boundary and the hash there are sealed (`legacy_seal`, an HMAC under `legacy_key_id`) so that nobody can
    move it forward to pass re-chained rows off as old ones."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    hash: Mapped[str] = mapped_column(String(64))
    legacy_until: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), default=0, server_default="0"
    )
    legacy_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    legacy_key_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    legacy_seal: Mapped[str | None] = mapped_column(String(64), nullable=True)


class SignInThrottleRow(Base):
    """Failed attempts counted per key (`account:NAME`, `signin-address:IP`, `token-address:IP`), so that
    lockouts hold across restarts and across server processes."""

    __tablename__ = "auth_throttle"
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lockouts: Mapped[int] = mapped_column(Integer, default=0)  # in a row, so that each lock lasts longer
    last_locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
