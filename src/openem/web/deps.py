"""Request dependencies: the unit of work, who is asking (session cookie or bearer token), permission
checks (deny by default, refusals audited) and CSRF protection for cookie-authenticated writes."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from openem.auth import audit
from openem.auth.passwords import CHANGE_REQUIRED, PASSWORD_CHANGE_REQUIRED
from openem.auth.policy import Principal
from openem.auth.service import WebSession, check_token, load_session, token_failed, token_retry_after
from openem.auth.throttle import Limits
from openem.core.errors import Forbidden, NotFound, TooManyRequests, Unauthenticated
from openem.store.db import UnitOfWork

SESSION_COOKIE = "openem_session"
PRE_CSRF_COOKIE = "openem_csrf"
#: what a session that must choose a new password may still reach (everything else answers 403)
PASSWORD_CHANGE_PATHS = frozenset({"/change-password", "/sign-out", "/sign-in"})


@dataclass
class Caller:
    principal: Principal | None
    web_session: WebSession | None = None
    via_token: bool = False
    device_scope: str = ""

    @property
    def actor(self) -> str:
        if self.principal:
            return self.principal.user_id
        return f"device:{self.device_scope}" if self.device_scope else "anonymous"


def signer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.settings.secret_key, salt="openem-session")


def get_uow(request: Request) -> Iterator[UnitOfWork]:
    """One transaction per request. Always used as `Depends(get_uow, scope="function")`, so that the commit
    happens before the response is sent: a client never sees success for a change that did not commit."""
    db = request.app.state.db
    with db.uow() as uow:
        yield uow
        dispatcher = getattr(request.app.state, "dispatcher", None)
        if dispatcher is not None:
            uow.after_commit(dispatcher.wake)


def identify(request: Request, uow: UnitOfWork) -> Caller:
    cached: Caller | None = getattr(request.state, "caller", None)
    if cached is not None:
        return cached
    caller = Caller(None)
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        found = _checked_token(request, uow, auth[7:].strip())
        row, principal = found
        caller = Caller(principal, via_token=True, device_scope=row.device_scope)
    else:
        raw = request.cookies.get(SESSION_COOKIE)
        if raw:
            try:
                sid = signer(request).loads(raw, max_age=request.app.state.settings.session_max_age_s)
            except BadSignature:
                sid = None
            loaded = load_session(uow.session, sid) if sid else None
            if loaded is not None:
                if loaded[0].must_change_password and request.url.path not in PASSWORD_CHANGE_PATHS:
                    raise Forbidden(CHANGE_REQUIRED, code=PASSWORD_CHANGE_REQUIRED)
                caller = Caller(loaded[1], web_session=loaded[0])
            else:
                request.state.session_expired = True
    request.state.caller = caller
    return caller


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _checked_token(request: Request, uow: UnitOfWork, token: str) -> Any:
    """A bearer token, refused unchecked (429) while its client address is throttled for wrong tokens; each
    wrong one is counted in its own transaction, as the request's is rolled back."""
    address = client_address(request)
    wait = token_retry_after(uow.session, address)
    if not wait:
        found = check_token(uow.session, token)
        if found is not None:
            return found
        with request.app.state.db.uow() as own:
            wait = token_failed(own.session, address, Limits.from_settings(request.app.state.settings))
        if not wait:
            raise Unauthenticated("The API token is missing, wrong, revoked or expired")
    raise TooManyRequests(
        f"Too many requests with a wrong API token: try again in {wait} seconds", retry_after_s=wait
    )


def caller_dep(request: Request, uow: UnitOfWork = Depends(get_uow, scope="function")) -> Caller:
    return identify(request, uow)


def signed_in(request: Request, uow: UnitOfWork = Depends(get_uow, scope="function")) -> Caller:
    caller = identify(request, uow)
    if caller.principal is None:
        if getattr(request.state, "session_expired", False):
            raise Unauthenticated("Your session has expired: sign in again")
        raise Unauthenticated("Sign in to continue")
    return caller


def gateway(request: Request, uow: UnitOfWork = Depends(get_uow, scope="function")) -> Caller:
    """A telemetry gateway (a device-scoped bearer token); users' sessions and tokens are refused."""
    caller = identify(request, uow)
    if not caller.via_token:
        if caller.principal is not None:
            raise Forbidden("Only a telemetry gateway's token may send device messages")
        raise Unauthenticated("Send a telemetry gateway's bearer token")
    if not caller.device_scope:
        raise Forbidden("Only a telemetry gateway's token may send device messages")
    return caller


def require(permission: str) -> Callable[..., Caller]:
    """Dependency: the caller must be signed in and hold the permission; a refusal is audited."""

    def dep(
        request: Request,
        uow: UnitOfWork = Depends(get_uow, scope="function"),
        caller: Caller = Depends(signed_in),
    ) -> Caller:
        assert caller.principal is not None
        if not caller.principal.has(permission):
            deny(request, uow, caller, f"needs {permission}")
        return caller

    return dep


def deny(
    request: Request, uow: UnitOfWork, caller: Caller, reason: str, records: list[str] | None = None
) -> None:
    """Audit a refusal (in its own transaction so it survives the request's rollback) and raise 403."""
    db = request.app.state.db
    with db.uow() as own:
        audit.record(
            own.session,
            actor=caller.actor,
            action=f"web:{request.url.path[:150]}:denied",
            records=records or [],
            outcome="denied",
            details={"reason": reason},
        )
    raise Forbidden(
        "You do not have permission to see this page"
        if not request.url.path.startswith("/api")
        else f"Forbidden: {reason}"
    )


async def read_form(request: Request) -> Any:
    """The parsed form, read on the event loop so that the endpoint itself can be a plain (threadpool) function
    doing blocking database work without stalling other requests."""
    return await request.form()


async def csrf_protect(request: Request, uow: UnitOfWork = Depends(get_uow, scope="function")) -> None:
    """Cookie-authenticated writes need the session's CSRF token (form field or X-CSRF-Token header)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    caller = identify(request, uow)
    if caller.via_token:
        return  # bearer tokens are not sent automatically by browsers
    expected: str | None = (
        caller.web_session.csrf_token if caller.web_session else request.cookies.get(PRE_CSRF_COOKIE)
    )
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value: Any = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise Forbidden(
            "The form has expired or was not sent from this site: go back, reload the page and try again"
        )


def deny_as_missing(
    request: Request, caller: Caller, reason: str, message: str, records: list[str] | None = None
) -> None:
    """Refuse a record outside the caller's reach exactly as if it did not exist (404, the same message), so
    that ids cannot be probed; the refusal is audited in its own transaction (it survives the rollback)."""
    with request.app.state.db.uow() as own:
        audit.record(
            own.session,
            actor=caller.actor,
            action=f"web:{request.url.path[:150]}:denied",
            records=records or [],
            outcome="denied",
            details={"reason": reason, "answered": "not_found"},
        )
    raise NotFound(message)


def deny_unseen(
    request: Request,
    caller: Caller,
    reason: str,
    message: str,
    *,
    action: str,
    records: list[str] | None = None,
    purpose: str = "",
) -> NoReturn:
    """Refuse a record outside the caller's reach with 403 and one neutral message, the same words for a record
    that does not exist, so the answer says nothing about whether it exists (`deny_as_missing` answers 404
    instead, for capabilities that keep that rule). Audited in its own transaction (it survives the rollback)
    with the id asked, the purpose the caller gave and the path made printable."""
    path = "".join(c for c in request.url.path[:300] if c.isprintable())[:150]
    with request.app.state.db.uow() as own:
        audit.record(
            own.session,
            actor=caller.actor,
            action=action,
            records=records or [],
            purpose=purpose,
            outcome="denied",
            details={"reason": reason, "answered": "forbidden", "path": path},
        )
    raise Forbidden(message)
