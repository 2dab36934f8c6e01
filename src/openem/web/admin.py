"""User administration pages: the users list and adding a user, one user's page (roles and scopes, caseload,
password reset, deactivation with a confirmation step, reactivation).

Every change is a CSRF-protected POST, audited by the service (`auth:<user id>:<action>`), and followed by a
success banner on the page it returns to. The banner's words are chosen here from a fixed list (`DONE`), never
taken from the address bar, so a link cannot make the page say something else.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from openem.auth.roles import RESTRICTED, Role
from openem.auth.service import create_user, set_active
from openem.auth.tables import UserRow
from openem.auth.throttle import locked_usernames, unlock_account
from openem.auth.users import (
    UserChange,
    add_to_caseload,
    caseload,
    clean_order_ref,
    get_user,
    remove_from_caseload,
    reset_password,
    update_user,
)
from openem.core.errors import Conflict, Invalid
from openem.core.time import utcnow
from openem.store.db import UnitOfWork
from openem.web.deps import Caller, csrf_protect, get_uow, read_form, require
from openem.web.rendering import render

router = APIRouter(include_in_schema=False)
MANAGE = require("users:manage")
USER_FIELDS = ("display_name", "email", "organisation", "police_area")

#: success banners: code -> words (with the user's name put in)
DONE = {
    "added": "{name} has been added",
    "updated": "Roles and scopes changed for {name}",
    "case_added": "Order added to the caseload of {name}",
    "case_removed": "Order removed from the caseload of {name}",
    "deactivated": "{name} has been deactivated and signed out",
    "reactivated": "{name} has been reactivated",
    "unlocked": "{name} can sign in again: the lockout has been lifted",
}


def _banner(request: Request, user: UserRow | None) -> str:
    code = request.query_params.get("done", "")
    if code not in DONE or user is None:
        return ""
    return DONE[code].format(name=user.display_name or user.username)


def _users(uow: UnitOfWork) -> list[UserRow]:
    return list(uow.session.execute(select(UserRow).order_by(UserRow.username)).scalars())


def _list_page(
    request: Request,
    uow: UnitOfWork,
    *,
    form: dict[str, Any],
    errors: list[tuple[str, str]],
    status: int = 200,
) -> Response:
    added = request.query_params.get("user", "")
    user = uow.session.get(UserRow, added[:40]) if added else None
    return render(
        request,
        "admin_users.html",
        {
            "users": _users(uow),
            "roles": list(Role),
            "errors": errors,
            "form": form,
            "banner": _banner(request, user),
            "banner_user": user,
            "locked": locked_usernames(uow.session, utcnow()),
        },
        status=status,
    )


@router.get("/admin/users")
def users_page(
    request: Request, uow: UnitOfWork = Depends(get_uow, scope="function"), caller: Caller = Depends(MANAGE)
) -> Response:
    return _list_page(request, uow, form={}, errors=[])


@router.post("/admin/users", dependencies=[Depends(csrf_protect)])
def users_create(
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(MANAGE),
    form: Any = Depends(read_form),
) -> Response:
    data = {k: str(form.get(k, ""))[:300] for k in ("username", "password", *USER_FIELDS)}
    roles = [str(r) for r in form.getlist("roles")][:12]
    try:
        user = create_user(
            uow.session, actor=caller.actor, roles=roles, restricted=form.get("restricted") == "yes", **data
        )
        user.must_change_password = True  # a temporary password: the user chooses their own at first sign-in
    except (Invalid, Conflict) as exc:
        uow.session.rollback()
        data.pop("password")
        return _list_page(
            request,
            uow,
            form={**data, "roles": roles},
            status=422,
            errors=[(exc.field or "username", exc.message)],
        )
    return RedirectResponse(f"/admin/users?done=added&user={user.id}", status_code=303)


def _user_page(
    request: Request,
    uow: UnitOfWork,
    caller: Caller,
    user: UserRow,
    *,
    errors: list[tuple[str, str]] | None = None,
    order_ref: str = "",
    status: int = 200,
) -> Response:
    return render(
        request,
        "admin_user.html",
        {
            "user": user,
            "caseload": caseload(uow.session, user.id),
            "restricted": RESTRICTED in (user.extra_permissions or []),
            "banner": _banner(request, user),
            "errors": errors or [],
            "order_ref": order_ref,
            "is_self": user.id == caller.actor,
            "locked": user.username in locked_usernames(uow.session, utcnow()),
        },
        status=status,
    )


@router.get("/admin/users/{user_id}")
def user_page(
    user_id: str,
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(MANAGE),
) -> Response:
    return _user_page(request, uow, caller, get_user(uow.session, user_id))


def _edit_page(
    request: Request, user: UserRow, form: dict[str, Any], errors: list[tuple[str, str]], status: int = 200
) -> Response:
    return render(
        request,
        "admin_user_edit.html",
        {"user": user, "form": form, "roles": list(Role), "errors": errors},
        status=status,
    )


@router.get("/admin/users/{user_id}/edit")
def user_edit_page(
    user_id: str,
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(MANAGE),
) -> Response:
    user = get_user(uow.session, user_id)
    form = {k: getattr(user, k) or "" for k in USER_FIELDS}
    form.update(
        roles=list(user.roles or []),
        restricted=RESTRICTED in (user.extra_permissions or []),
        version=user.version,
    )
    return _edit_page(request, user, form, [])


@router.post("/admin/users/{user_id}/edit", dependencies=[Depends(csrf_protect)])
def user_edit(
    user_id: str,
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(MANAGE),
    form: Any = Depends(read_form),
) -> Response:
    user = get_user(uow.session, user_id)
    data = {k: str(form.get(k, ""))[:200] for k in USER_FIELDS}
    roles = [str(r) for r in form.getlist("roles")][:12]
    version = str(form.get("version", ""))
    change = UserChange(roles=roles, restricted=form.get("restricted") == "yes", **data)
    try:
        update_user(
            uow.session,
            actor=caller.actor,
            user_id=user.id,
            change=change,
            expected_version=int(version) if version.isdigit() else None,
        )
    except (Invalid, Conflict) as exc:
        uow.session.rollback()
        user = get_user(uow.session, user_id)
        form_back = {**data, "roles": roles, "restricted": change.restricted, "version": user.version}
        return _edit_page(
            request,
            user,
            form_back,
            [(exc.field or "display_name", exc.message)],
            status=409 if isinstance(exc, Conflict) else 422,
        )
    return RedirectResponse(f"/admin/users/{user.id}?done=updated", status_code=303)


@router.post("/admin/users/{user_id}/caseload", dependencies=[Depends(csrf_protect)])
def caseload_add(
    user_id: str,
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(MANAGE),
    form: Any = Depends(read_form),
) -> Response:
    user = get_user(uow.session, user_id)
    typed = str(form.get("order_ref", ""))[:60]
    try:
        ref = clean_order_ref(typed)
        # The shell cannot ask orders itself (it sits below the capabilities): the app gives it the lookup.
        lookup = getattr(request.app.state, "case_scopes", None)
        if lookup is not None and ref not in lookup(uow.session, [ref]):
            raise Invalid(f"There is no order {ref}", field="order_ref")
        add_to_caseload(uow.session, actor=caller.actor, user_id=user.id, order_ref=ref)
    except (Invalid, Conflict) as exc:
        uow.session.rollback()
        return _user_page(
            request,
            uow,
            caller,
            get_user(uow.session, user_id),
            order_ref=typed,
            status=422,
            errors=[(exc.field or "order_ref", exc.message)],
        )
    return RedirectResponse(f"/admin/users/{user.id}?done=case_added#caseload", status_code=303)


@router.post("/admin/users/{user_id}/caseload/remove", dependencies=[Depends(csrf_protect)])
def caseload_remove(
    user_id: str,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(MANAGE),
    form: Any = Depends(read_form),
) -> Response:
    user = get_user(uow.session, user_id)
    remove_from_caseload(
        uow.session, actor=caller.actor, user_id=user.id, order_ref=str(form.get("order_ref", ""))
    )
    return RedirectResponse(f"/admin/users/{user.id}?done=case_removed#caseload", status_code=303)


@router.post("/admin/users/{user_id}/reset-password", dependencies=[Depends(csrf_protect)])
def password_reset(
    user_id: str,
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(MANAGE),
) -> Response:
    user = get_user(uow.session, user_id)
    password = reset_password(uow.session, actor=caller.actor, user_id=user.id)
    # Shown on this answer only (a POST result, not a page that can be reloaded or bookmarked), never stored.
    resp = render(request, "admin_user_password.html", {"user": user, "password": password})
    resp.headers["Cache-Control"] = "no-store"
    return resp


@router.get("/admin/users/{user_id}/deactivate")
def deactivate_confirm(
    user_id: str,
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(MANAGE),
) -> Response:
    user = get_user(uow.session, user_id)
    return render(request, "admin_user_deactivate.html", {"user": user, "is_self": user.id == caller.actor})


@router.post("/admin/users/{user_id}/deactivate", dependencies=[Depends(csrf_protect)])
def users_deactivate(
    user_id: str, uow: UnitOfWork = Depends(get_uow, scope="function"), caller: Caller = Depends(MANAGE)
) -> Response:
    user = get_user(uow.session, user_id)
    if user.id == caller.actor:
        raise Invalid("You cannot deactivate yourself: ask another administrator", field="user_id")
    set_active(uow.session, actor=caller.actor, user_id=user.id, active=False)
    return RedirectResponse(f"/admin/users/{user.id}?done=deactivated", status_code=303)


@router.post("/admin/users/{user_id}/reactivate", dependencies=[Depends(csrf_protect)])
def users_reactivate(
    user_id: str, uow: UnitOfWork = Depends(get_uow, scope="function"), caller: Caller = Depends(MANAGE)
) -> Response:
    user = get_user(uow.session, user_id)
    set_active(uow.session, actor=caller.actor, user_id=user.id, active=True)
    return RedirectResponse(f"/admin/users/{user.id}?done=reactivated", status_code=303)


@router.post("/admin/users/{user_id}/unlock", dependencies=[Depends(csrf_protect)])
def users_unlock(
    user_id: str, uow: UnitOfWork = Depends(get_uow, scope="function"), caller: Caller = Depends(MANAGE)
) -> Response:
    """Lift a sign-in lockout (audited `auth:<user id>:unlock` by the throttle)."""
    user = get_user(uow.session, user_id)
    unlock_account(uow.session, actor=caller.actor, username=user.username)
    return RedirectResponse(f"/admin/users?done=unlocked&user={user.id}", status_code=303)
