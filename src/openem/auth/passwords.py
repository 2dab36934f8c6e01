"""Choosing a new password: the rules a new password must meet, and the forced change after a password was
given by someone else (an administrator's reset, `openem users reset-password`, the demo's one-off passwords).

A user with `must_change_password` set can use a signed-in session for nothing but choosing one (the web
layer refuses every other page and API call); choosing it clears the flag, is audited, and starts a fresh
session in place of the one signed in with the given password.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from openem.auth import audit
from openem.auth.service import MIN_PASSWORD_LENGTH, hash_password, password_matches
from openem.auth.tables import UserRow

#: a sign-in reads at most this much of a password (longer ones could never be typed back in)
MAX_PASSWORD_LENGTH = 200

#: the error code of that answer (the pages send the browser to /change-password instead)
PASSWORD_CHANGE_REQUIRED = "password_change_required"
#: the answer to a session that must choose a new password before anything else
CHANGE_REQUIRED = (
    "You must choose a new password before you can use openem: go to /change-password, "
    "signed in with the password you were given"
)


def must_change(session: Session, user_id: str) -> bool:
    user = session.get(UserRow, user_id)
    return bool(user is not None and user.must_change_password)


def password_problems(user: UserRow, password: str, confirm: str) -> list[tuple[str, str]]:
    """(field, message) for each rule the new password breaks, in GOV.UK's words; empty when it may be used."""
    problems: list[tuple[str, str]] = []
    if not password:
        problems.append(("password", "Enter a new password"))
    elif len(password) < MIN_PASSWORD_LENGTH:
        problems.append(("password", f"Password must be {MIN_PASSWORD_LENGTH} characters or more"))
    elif len(password) > MAX_PASSWORD_LENGTH:
        problems.append(("password", f"Password must be {MAX_PASSWORD_LENGTH} characters or fewer"))
    elif user.username.lower() in password.lower():
        problems.append(("password", "Password must not contain your username"))
    elif password_matches(user.password_hash, password):
        problems.append(("password", "Your new password must be different from the password you were given"))
    if not confirm:
        problems.append(("confirm", "Confirm your new password"))
    elif password and confirm != password:
        problems.append(("confirm", "The passwords do not match: enter the same password twice"))
    return problems


def choose_password(session: Session, user: UserRow, password: str, confirm: str) -> list[tuple[str, str]]:
    """Set the user's new password if it meets the rules, clearing a required change; audited either way.
    Returns the problems (none: changed)."""
    problems = password_problems(user, password, confirm)
    required = bool(user.must_change_password)
    if problems:
        audit.record(
            session,
            actor=user.id,
            action=f"auth:{user.id}:change_password",
            records=[user.id],
            outcome="denied",
            details={"required": required, "problems": [message for _, message in problems]},
        )
        return problems
    user.password_hash = hash_password(password)
    user.must_change_password = False
    session.flush()
    audit.record(
        session,
        actor=user.id,
        action=f"auth:{user.id}:change_password",
        records=[user.id],
        details={"required": required},
    )
    return []
