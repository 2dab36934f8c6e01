"""Brute-force protection kept in the database (`auth_throttle`), so that it holds across restarts and
across server processes: sign-in failures per account and per client address, bearer-token failures per
client address. Accounts are counted by the username typed, whether or not it exists, so that a lockout
says nothing about which accounts exist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from openem.auth import audit
from openem.auth.tables import SignInThrottleRow, UserRow
from openem.auth.throttle_rules import Attempts, Rule, after_failure, retry_after_s
from openem.config import Settings


@dataclass(frozen=True)
class Limits:
    account: Rule = Rule(5, 15 * 60, 15 * 60, grows=True)
    signin_address: Rule = Rule(20, 10 * 60, 10 * 60)
    token_address: Rule = Rule(20, 10 * 60, 10 * 60)

    @classmethod
    def from_settings(cls, s: Settings) -> Limits:
        return cls(
            Rule(s.signin_account_failures, s.signin_account_window_s, s.signin_lock_s, grows=True),
            Rule(s.signin_address_failures, s.signin_address_window_s, s.signin_address_window_s),
            Rule(s.token_address_failures, s.token_address_window_s, s.token_address_window_s),
        )


def account_key(username: str) -> str:
    return "account:" + (username or "").strip().lower()[:80]


def signin_address_key(address: str) -> str:
    return "signin-address:" + address[:100]


def token_address_key(address: str) -> str:
    return "token-address:" + address[:100]


def _state(row: SignInThrottleRow | None) -> Attempts | None:
    if row is None:
        return None
    return Attempts(row.failures, row.window_start, row.locked_until, row.lockouts, row.last_locked_at)


def retry_after(session: Session, key: str, now: datetime) -> int:
    """Seconds until `key` may try again (0: now). A plain read: nothing is locked."""
    return retry_after_s(_state(session.get(SignInThrottleRow, key)), now)


def _locked_row(session: Session, key: str, now: datetime) -> SignInThrottleRow:
    """The counter row, made if missing and locked against concurrent attempts until the transaction ends
    (on SQLite the insert takes the database's write lock; on PostgreSQL the row is locked)."""
    dialect = session.get_bind().dialect.name
    ins = (sqlite_insert if dialect == "sqlite" else pg_insert)(SignInThrottleRow)
    session.execute(ins.values(key=key, failures=0, window_start=now, lockouts=0).on_conflict_do_nothing())
    stmt = (
        select(SignInThrottleRow)
        .where(SignInThrottleRow.key == key)
        .execution_options(populate_existing=True)
    )
    if dialect != "sqlite":
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one()


def failed(session: Session, key: str, rule: Rule, now: datetime) -> int:
    """Count a failure; returns the seconds locked for if this failure reached the limit (else 0)."""
    row = _locked_row(session, key, now)
    state = after_failure(_state(row), rule, now)
    row.failures, row.window_start, row.locked_until = state.failures, state.window_start, state.locked_until
    row.lockouts, row.last_locked_at = state.lockouts, state.last_locked_at
    session.flush()
    return retry_after_s(state, now)


def still_locked(session: Session, key: str, now: datetime) -> int:
    """Under the row lock: is `key` locked now (a parallel attempt may just have locked it)?"""
    if session.get(SignInThrottleRow, key) is None:
        return 0
    return retry_after_s(_state(_locked_row(session, key, now)), now)


def succeeded(session: Session, key: str) -> None:
    """A correct sign-in clears the account's count (never the address's: one good account must not let an
    address go on guessing others)."""
    session.execute(delete(SignInThrottleRow).where(SignInThrottleRow.key == key))


def locked_usernames(session: Session, now: datetime) -> set[str]:
    rows = session.execute(
        select(SignInThrottleRow).where(
            SignInThrottleRow.key.like("account:%"), SignInThrottleRow.locked_until > now
        )
    ).scalars()
    return {r.key.removeprefix("account:") for r in rows}


def unlock_account(session: Session, *, actor: str, username: str) -> bool:
    """Lift a lockout and clear the failures (audited). Returns whether the account was locked."""
    from openem.core.time import utcnow

    key = account_key(username)
    row = session.get(SignInThrottleRow, key)
    was_locked = bool(row and retry_after_s(_state(row), utcnow()))
    session.execute(delete(SignInThrottleRow).where(SignInThrottleRow.key == key))
    name = key.removeprefix("account:")
    user = session.execute(select(UserRow).where(UserRow.username == name)).scalar_one_or_none()
    subject = user.id if user else name
    audit.record(
        session,
        actor=actor,
        action=f"auth:{subject}:unlock",
        records=[subject],
        details={"username": name, "was_locked": was_locked},
    )
    return was_locked
