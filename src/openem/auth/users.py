"""Administering users: change roles and scopes, caseload, reset a password, reactivate.

Kept apart from `service.py` (sign-in, sessions, tokens) so the two change independently. Every change names
the acting administrator and writes an audit row `auth:<user id>:<action>`; a change made on a stale page
(someone else changed the user meanwhile) is refused with `Conflict` rather than overwriting theirs.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from openem.auth import audit
from openem.auth.roles import RESTRICTED, Role
from openem.auth.service import assign_case, check_roles, hash_password
from openem.auth.tables import CaseloadRow, UserRow, WebSessionRow
from openem.core.errors import Conflict, Invalid, NotFound

#: an order reference as orders issues them (letters, digits and hyphens)
ORDER_REF = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,39}$")


@dataclass(frozen=True)
class UserChange:
    """What an administrator may change about a user (the username is fixed: audit rows name it)."""

    display_name: str
    email: str
    roles: list[str]
    organisation: str
    police_area: str
    restricted: bool


def get_user(session: Session, user_id: str) -> UserRow:
    user = session.get(UserRow, user_id[:40])
    if user is None:
        raise NotFound("There is no such user")
    return user


def _check_version(user: UserRow, expected_version: int | None) -> None:
    if expected_version is not None and user.version != expected_version:
        raise Conflict(
            "Someone else changed this user while you were editing: check their details and try again"
        )


def update_user(
    session: Session, *, actor: str, user_id: str, change: UserChange, expected_version: int | None = None
) -> UserRow:
    """Change a user's name, email, roles and scopes (organisation, police force, restricted cases)."""
    user = get_user(session, user_id)
    _check_version(user, expected_version)
    check_roles(change.roles)
    if user.id == actor and Role.ADMIN.value in (user.roles or []) and Role.ADMIN.value not in change.roles:
        raise Invalid(
            "You cannot remove your own administrator role: ask another administrator", field="roles"
        )
    if change.email and "@" not in change.email:
        raise Invalid("Enter an email address in the correct format, like name@example.com", field="email")
    before = _scopes(user)
    extra = [p for p in (user.extra_permissions or []) if p != RESTRICTED]
    user.display_name = change.display_name.strip() or user.username
    user.email = change.email.strip()
    user.roles = list(dict.fromkeys(change.roles))
    user.organisation = change.organisation.strip()
    user.police_area = change.police_area.strip().upper()
    user.extra_permissions = extra + ([RESTRICTED] if change.restricted else [])
    session.flush()
    after = _scopes(user)
    changed = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    audit.record(
        session, actor=actor, action=f"auth:{user.id}:update", records=[user.id], details={"changed": changed}
    )
    return user


def _scopes(user: UserRow) -> dict[str, object]:
    return {
        "display_name": user.display_name,
        "email": user.email or "",
        "roles": list(user.roles or []),
        "organisation": user.organisation or "",
        "police_area": user.police_area or "",
        "restricted": RESTRICTED in (user.extra_permissions or []),
    }


def reset_password(session: Session, *, actor: str, user_id: str, password: str | None = None) -> str:
    """Give the user a new one-off password (returned once, stored only as a hash; a random one unless given)
    that must be changed at their next sign-in, and sign them out everywhere, so a stolen session does not
    outlive the reset."""
    user = get_user(session, user_id)
    password = password or "-".join(secrets.token_urlsafe(6) for _ in range(3))
    user.password_hash = hash_password(password)
    user.must_change_password = True
    ended = _end_sessions(session, user.id)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"auth:{user.id}:reset_password",
        records=[user.id],
        details={"sessions_ended": ended, "must_change_password": True},
    )
    return password


def _end_sessions(session: Session, user_id: str) -> int:
    rows = session.execute(select(WebSessionRow).where(WebSessionRow.user_id == user_id)).scalars().all()
    for s in rows:
        session.delete(s)
    return len(rows)


def caseload(session: Session, user_id: str) -> list[str]:
    return list(
        session.execute(
            select(CaseloadRow.order_ref)
            .where(CaseloadRow.user_id == user_id)
            .order_by(CaseloadRow.order_ref)
        ).scalars()
    )


def clean_order_ref(text: str) -> str:
    ref = (text or "").strip().upper()
    if not ref:
        raise Invalid("Enter an order reference", field="order_ref")
    if not ORDER_REF.match(ref):
        raise Invalid("Enter an order reference like ORD-A1B2C3", field="order_ref")
    return ref


def add_to_caseload(session: Session, *, actor: str, user_id: str, order_ref: str) -> str:
    user = get_user(session, user_id)
    ref = clean_order_ref(order_ref)
    if ref in caseload(session, user.id):
        raise Conflict(f"{ref} is already in this caseload", field="order_ref")
    assign_case(session, actor=actor, user_id=user.id, order_ref=ref)
    return ref


def remove_from_caseload(session: Session, *, actor: str, user_id: str, order_ref: str) -> None:
    user = get_user(session, user_id)
    row = session.get(CaseloadRow, (user.id, order_ref[:40]))
    if row is None:
        return  # removed meanwhile: nothing to do, nothing to audit
    session.delete(row)
    session.flush()
    audit.record(
        session, actor=actor, action=f"auth:{user.id}:unassign_case", records=[user.id, row.order_ref]
    )
