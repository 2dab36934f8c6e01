"""Pages: sign in, sign out, a home page per role (user administration is in `admin.py`, the audit log in
`admin_audit.py`)."""

from __future__ import annotations

import secrets
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from openem.auth.passwords import must_change
from openem.auth.roles import ROLE_LABELS, Role
from openem.auth.service import PasswordIdentity, end_session, start_session
from openem.auth.throttle import Limits
from openem.core.errors import TooManyRequests, Unauthenticated
from openem.store.db import UnitOfWork
from openem.web.deps import (
    PRE_CSRF_COOKIE,
    SESSION_COOKIE,
    Caller,
    caller_dep,
    client_address,
    csrf_protect,
    get_uow,
    signed_in,
    signer,
)
from openem.web.figures import figures_for
from openem.web.rendering import render

router = APIRouter(include_in_schema=False)

#: What each role's home page offers: (title, href, description).
HOME_LINKS: dict[str, list[tuple[str, str, str]]] = {
    "orders": [
        ("Create an order", "/orders/new", "Start a new electronic monitoring order"),
        ("Your orders", "/orders", "Drafts, submitted and rejected orders"),
    ],
    "monitoring": [
        ("Alerts", "/alerts", "Alerts raised by the monitoring engine, as they arrive"),
        ("Orders", "/orders", "Orders to check and accept"),
    ],
    "cases": [
        ("Your cases", "/orders", "People you supervise and their monitoring"),
        (
            "Find a person",
            "/people",
            "A person's trail, curfew nights, zone visits and alerts, for a purpose",
        ),
    ],
    "field": [("Orders awaiting installation", "/orders", "Orders accepted and waiting for a fitting")],
    "crime": [("Crime matching", "/", "Coming with the crime-matching capability")],
    "mi": [("Management information", "/", "Coming with the management-information capability")],
    "breaches": [
        ("Breaches", "/breaches", "Breaches of your cases' orders, their packs and your responses"),
        (
            "Find a person",
            "/people",
            "A person's trail, curfew nights, zone visits and alerts, for a purpose",
        ),
    ],
    "admin": [
        ("Manage users", "/admin/users", "Add users, change roles, scopes and caseloads, reset passwords"),
        ("Check the audit log", "/admin/audit", "Who did what and when; check the audit chain is intact"),
        ("Parked messages", "/admin/parked-messages", "Messages that failed every delivery: retry them"),
    ],
}
ROLE_HOME = {
    Role.ORDER_CREATOR_COURT: "orders",
    Role.ORDER_CREATOR_PRISON: "orders",
    Role.ORDER_CREATOR_PROBATION: "orders",
    Role.ORDER_CREATOR_HOME_OFFICE: "orders",
    Role.MC_OPERATOR: "monitoring",
    Role.FIELD_OFFICER: "field",
    Role.PROBATION_PRACTITIONER: "cases",
    Role.POLICE_OFFICER: "cases",
    Role.CRIME_MATCHING_CASEWORKER: "crime",
    Role.CRIME_MATCHING_MANAGER: "crime",
    Role.ANALYST: "mi",
    Role.ADMIN: "admin",
    Role.YOUTH_JUSTICE_WORKER: "breaches",
    Role.HOME_OFFICE_CASEWORKER: "breaches",
}


def safe_next(value: str | None) -> str:
    if (
        value
        and value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        and len(value) < 300
    ):
        return value
    return "/"


@router.get("/sign-in")
def sign_in_page(request: Request, next: str = "/", caller: Caller = Depends(caller_dep)) -> Response:
    pre = request.cookies.get(PRE_CSRF_COOKIE) or secrets.token_urlsafe(24)
    request.cookies[PRE_CSRF_COOKIE] = pre
    expired = getattr(request.state, "session_expired", False)
    resp = render(
        request,
        "sign_in.html",
        {"next": safe_next(next), "errors": [], "username": "", "expired": expired, "pre_csrf": pre},
    )
    resp.set_cookie(
        PRE_CSRF_COOKIE,
        pre,
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.secure_cookies,
    )
    return resp


@router.post("/sign-in", dependencies=[Depends(csrf_protect)])
def sign_in(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
) -> Response:
    errors = []
    status, headers = 422, {}
    if not username.strip():
        errors.append(("username", "Enter your username"))
    if not password:
        errors.append(("password", "Enter your password"))
    if not errors:
        identity = PasswordIdentity(Limits.from_settings(request.app.state.settings))
        try:
            principal = identity.authenticate(
                uow.session, username[:200], password[:200], client=client_address(request)
            )
        except TooManyRequests as exc:
            errors.append(("username", exc.message))
            status, headers = 429, {"Retry-After": str(exc.retry_after_s)}
        except Unauthenticated as exc:
            errors.append(("username", exc.message))
            status = 401
        else:
            settings = request.app.state.settings
            ws = start_session(uow.session, principal.user_id, settings.session_max_age_s)
            target = safe_next(next)
            if must_change(uow.session, principal.user_id):  # a password someone else gave them
                target = f"/change-password?next={quote(target)}"
            resp: Response = RedirectResponse(target, status_code=303)
            set_session_cookie(request, resp, ws.id)
            resp.delete_cookie(PRE_CSRF_COOKIE)
            return resp
    resp = render(
        request,
        "sign_in.html",
        {
            "next": safe_next(next),
            "errors": errors,
            "username": username[:80],
            "expired": False,
            "pre_csrf": request.cookies.get(PRE_CSRF_COOKIE, ""),
        },
        status=status,
    )
    resp.headers.update(headers)
    return resp


def set_session_cookie(request: Request, resp: Response, session_id: str) -> None:
    settings = request.app.state.settings
    resp.set_cookie(
        SESSION_COOKIE,
        signer(request).dumps(session_id),
        max_age=settings.session_max_age_s,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )


@router.post("/sign-out", dependencies=[Depends(csrf_protect)])
def sign_out(
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(caller_dep),
) -> Response:
    if caller.web_session:
        end_session(uow.session, caller.web_session.id)
    resp = RedirectResponse("/sign-in?signed_out=1", status_code=303)
    resp.delete_cookie(SESSION_COOKIE)
    return resp


@router.get("/")
def home(
    request: Request,
    caller: Caller = Depends(signed_in),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
) -> Response:
    from openem.web.admin_parked import parked_notice

    p = caller.principal
    assert p is not None
    sections = []
    seen = set()
    for r in p.roles:
        try:
            key = ROLE_HOME[Role(r)]
        except (ValueError, KeyError):
            continue
        if key not in seen:
            seen.add(key)
            sections.append((ROLE_LABELS[Role(r)], HOME_LINKS[key]))
    return render(
        request,
        "home.html",
        {
            "sections": sections,
            "parked": parked_notice(uow.session, caller),
            "figures": figures_for(uow.session, p),
        },
    )
