"""Use cases for identity: users, password sign-in, web sessions, API tokens.

Identity is behind `IdentityProvider`: the password provider here, an OIDC provider later.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from openem.auth import audit, throttle
from openem.auth.policy import Principal
from openem.auth.roles import RESTRICTED, Role
from openem.auth.tables import ApiTokenRow, CaseloadRow, UserRow, WebSessionRow
from openem.auth.throttle_rules import minutes
from openem.core.errors import Conflict, Invalid, TooManyRequests, Unauthenticated
from openem.core.ids import new_id
from openem.core.time import utcnow


def _make_hasher() -> PasswordHasher:
    # OPENEM_ARGON2_PROFILE=test lowers the cost for the test suite only; production uses argon2's defaults.
    if os.environ.get("OPENEM_ARGON2_PROFILE") == "test":
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()


_hasher = _make_hasher()
# A valid hash verified when the user does not exist, so that timing does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 12


class IdentityProvider(Protocol):
    def authenticate(
        self, session: Session, username: str, password: str, *, client: str = ""
    ) -> Principal: ...


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def principal_for(session: Session, user: UserRow) -> Principal:
    caseload = frozenset(
        session.execute(select(CaseloadRow.order_ref).where(CaseloadRow.user_id == user.id)).scalars().all()
    )
    return Principal(
        user_id=user.id,
        username=user.username,
        roles=tuple(user.roles or ()),
        email=user.email or "",
        organisation=user.organisation or "",
        police_area=user.police_area or "",
        extra_permissions=tuple(user.extra_permissions or ()),
        caseload=caseload,
    )


def check_roles(roles: list[str]) -> None:
    """At least one role, each a role openem knows."""
    if not roles:
        raise Invalid("Select at least one role", field="roles")
    for r in roles:
        try:
            Role(r)
        except ValueError:
            raise Invalid(f"Unknown role: {r}", field="roles") from None


def create_user(
    session: Session,
    *,
    actor: str,
    username: str,
    password: str,
    roles: list[str],
    display_name: str = "",
    email: str = "",
    organisation: str = "",
    police_area: str = "",
    restricted: bool = False,
) -> UserRow:
    username = username.strip().lower()
    if not username or len(username) > 80 or not all(c.isalnum() or c in "._-@" for c in username):
        raise Invalid("Enter a username of letters, numbers, dots, hyphens or underscores", field="username")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"Password must be {MIN_PASSWORD_LENGTH} characters or more", field="password")
    check_roles(roles)
    if session.execute(select(UserRow).where(UserRow.username == username)).scalar_one_or_none():
        raise Conflict(f"A user called {username} already exists", field="username")
    user = UserRow(
        id=new_id("USR"),
        username=username,
        display_name=display_name or username,
        email=email,
        password_hash=hash_password(password),
        roles=list(roles),
        extra_permissions=[RESTRICTED] if restricted else [],
        organisation=organisation,
        police_area=police_area,
        active=True,
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"auth:{user.id}:create_user",
        records=[user.id],
        details={"username": username, "roles": roles, "restricted": restricted},
    )
    return user


def set_active(
    session: Session, *, actor: str, user_id: str, active: bool, expected_version: int | None = None
) -> None:
    user = session.get(UserRow, user_id)
    if user is None:
        raise Invalid("No such user", field="user_id")
    if expected_version is not None and user.version != expected_version:
        raise Conflict("Someone else changed this user; reload and try again")
    user.active = active
    if not active:
        for s in session.execute(select(WebSessionRow).where(WebSessionRow.user_id == user_id)).scalars():
            session.delete(s)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"auth:{user_id}:{'activate' if active else 'deactivate'}",
        records=[user_id],
    )


def assign_case(session: Session, *, actor: str, user_id: str, order_ref: str) -> None:
    if session.get(CaseloadRow, (user_id, order_ref)) is None:
        session.add(CaseloadRow(user_id=user_id, order_ref=order_ref))
        session.flush()
        audit.record(session, actor=actor, action=f"auth:{user_id}:assign_case", records=[user_id, order_ref])


class PasswordIdentity:
    """Password sign-in with lockout per account (by the name typed) and throttling per client address.

    While an account or address is locked, every attempt gets the same answer whatever the password, and
    the password is not checked (a dummy hash is, so the answer takes as long): a locked account's right
    password reveals nothing."""

    def __init__(self, limits: throttle.Limits | None = None) -> None:
        self.limits = limits or throttle.Limits()

    def authenticate(self, session: Session, username: str, password: str, *, client: str = "") -> Principal:
        name = (username or "").strip().lower()
        now = utcnow()
        account, address = throttle.account_key(name), throttle.signin_address_key(client or "unknown")
        wait = max(throttle.retry_after(session, account, now), throttle.retry_after(session, address, now))
        if wait:
            _verify(_DUMMY_HASH, password)
            return self._refuse(session, username, address, now, wait)
        user = session.execute(select(UserRow).where(UserRow.username == name)).scalar_one_or_none()
        if (
            not _verify(user.password_hash if user else _DUMMY_HASH, password)
            or user is None
            or not user.active
        ):
            return self._failed(session, username, account, address, now)
        wait = throttle.still_locked(session, account, now)  # a parallel attempt may have locked it meanwhile
        if wait:
            return self._refuse(session, username, address, now, wait)
        throttle.succeeded(session, account)
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        audit.record(session, actor=user.id, action=f"auth:{user.id}:login")
        return principal_for(session, user)

    def _failed(
        self, session: Session, username: str, account: str, address: str, now: datetime
    ) -> Principal:
        locked = max(
            throttle.failed(session, account, self.limits.account, now),
            throttle.failed(session, address, self.limits.signin_address, now),
        )
        audit.record(
            session,
            actor=(username or "")[:80] or "anonymous",
            action="auth:login:failed",
            outcome="denied",
            details={"locked_s": locked} if locked else None,
        )
        if locked:
            raise TooManyRequests(_too_many(locked), retry_after_s=locked, field="username")
        raise Unauthenticated("Enter a correct username and password")

    def _refuse(self, session: Session, username: str, address: str, now: datetime, wait: int) -> Principal:
        """Refused unchecked while locked; still counted against the address, so one address cannot spray
        locked accounts for ever."""
        throttle.failed(session, address, self.limits.signin_address, now)
        audit.record(
            session,
            actor=(username or "")[:80] or "anonymous",
            action="auth:login:throttled",
            outcome="denied",
            details={"retry_after_s": wait},
        )
        raise TooManyRequests(_too_many(wait), retry_after_s=wait, field="username")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(password_hash, password or ""))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_matches(password_hash: str, password: str) -> bool:
    return _verify(password_hash, password)


def _too_many(wait_s: int) -> str:
    # The same words for an account lockout and an address throttle, for names that exist and names that do not.
    return (
        f"There have been too many attempts to sign in. Wait {minutes(wait_s)} and try again, or ask an "
        "administrator to unlock your account."
    )


@dataclass(frozen=True)
class WebSession:
    id: str
    user_id: str
    csrf_token: str
    expires_at: datetime
    #: the user signed in with a password someone else gave them: only choosing a new one is allowed
    must_change_password: bool = False


def start_session(session: Session, user_id: str, max_age_s: int) -> WebSession:
    now = utcnow()
    row = WebSessionRow(
        id=secrets.token_urlsafe(32),
        user_id=user_id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + timedelta(seconds=max_age_s),
    )
    session.add(row)
    session.flush()
    return WebSession(row.id, row.user_id, row.csrf_token, row.expires_at)


def load_session(session: Session, session_id: str) -> tuple[WebSession, Principal] | None:
    row = session.get(WebSessionRow, session_id)
    if row is None:
        return None
    if row.expires_at <= utcnow():
        session.delete(row)
        return None
    user = session.get(UserRow, row.user_id)
    if user is None or not user.active:
        return None
    ws = WebSession(row.id, row.user_id, row.csrf_token, row.expires_at, bool(user.must_change_password))
    return ws, principal_for(session, user)


def end_session(session: Session, session_id: str) -> None:
    row = session.get(WebSessionRow, session_id)
    if row is not None:
        audit.record(session, actor=row.user_id, action=f"auth:{row.user_id}:logout")
        session.delete(row)


def issue_token(
    session: Session,
    *,
    actor: str,
    name: str,
    user_id: str | None = None,
    device_scope: str = "",
    days: int | None = 365,
) -> str:
    """Create an API bearer token; only its hash is stored, so the value is shown once."""
    token = "oem_" + secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        ApiTokenRow(
            id=new_id("TOK"),
            user_id=user_id,
            device_scope=device_scope,
            name=name,
            token_hash=_token_digest(token),
            created_at=now,
            expires_at=now + timedelta(days=days) if days else None,
        )
    )
    session.flush()
    audit.record(
        session, actor=actor, action=f"auth:{user_id or device_scope}:issue_token", details={"name": name}
    )
    return token


def token_retry_after(session: Session, client: str) -> int:
    """Seconds this client address must wait before sending bearer tokens again (0: now)."""
    return throttle.retry_after(session, throttle.token_address_key(client or "unknown"), utcnow())


def token_failed(session: Session, client: str, limits: throttle.Limits) -> int:
    """Count a wrong, revoked or expired token from this address; seconds locked if it reached the limit."""
    key = throttle.token_address_key(client or "unknown")
    locked = throttle.failed(session, key, limits.token_address, utcnow())
    if locked:
        audit.record(
            session,
            actor=f"address:{(client or 'unknown')[:60]}",
            action="auth:token:throttled",
            outcome="denied",
            details={"retry_after_s": locked},
        )
    return locked


def check_token(session: Session, token: str) -> tuple[ApiTokenRow, Principal | None] | None:
    if not token or len(token) > 200:
        return None
    row = session.execute(
        select(ApiTokenRow).where(ApiTokenRow.token_hash == _token_digest(token))
    ).scalar_one_or_none()
    if row is None or row.revoked or not hmac.compare_digest(row.token_hash, _token_digest(token)):
        return None
    if row.expires_at is not None:
        if row.expires_at <= utcnow():
            return None
    if row.user_id is None:
        return row, None
    user = session.get(UserRow, row.user_id)
    if user is None or not user.active:
        return None
    return row, principal_for(session, user)
