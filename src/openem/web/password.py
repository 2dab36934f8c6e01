"""Choose a new password: where a user signed in with a password someone else gave them (a reset, the demo's
one-off passwords) is sent before anything else (`deps.identify` refuses their session everywhere else)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from openem.auth.passwords import choose_password
from openem.auth.service import end_session, start_session
from openem.auth.tables import UserRow
from openem.store.db import UnitOfWork
from openem.web.deps import Caller, csrf_protect, get_uow, signed_in
from openem.web.pages import safe_next, set_session_cookie
from openem.web.rendering import render

router = APIRouter(include_in_schema=False)


@router.get("/change-password")
def change_password_page(request: Request, next: str = "/", caller: Caller = Depends(signed_in)) -> Response:
    if caller.web_session is None or not caller.web_session.must_change_password:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "change_password.html", {"next": safe_next(next), "errors": []})


@router.post("/change-password", dependencies=[Depends(csrf_protect)])
def change_password(
    request: Request,
    password: str = Form(""),
    confirm: str = Form(""),
    next: str = Form("/"),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(signed_in),
) -> Response:
    ws = caller.web_session
    if ws is None or not ws.must_change_password:
        return RedirectResponse(safe_next(next), status_code=303)
    user = uow.session.get(UserRow, ws.user_id)
    assert user is not None  # load_session found the session's user
    problems = choose_password(uow.session, user, password[:1000], confirm[:1000])
    if problems:
        return render(
            request, "change_password.html", {"next": safe_next(next), "errors": problems}, status=422
        )
    # a fresh session in place of the one signed in with the given password
    end_session(uow.session, ws.id)
    fresh = start_session(uow.session, user.id, request.app.state.settings.session_max_age_s)
    resp = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(request, resp, fresh.id)
    return resp
