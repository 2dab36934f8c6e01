"""Parked messages page: what the bus gave up delivering after repeated failures, and retrying it.

Administrators see each parked message (topic, what it is about, the error, the attempts, when) with the
messages held behind it, and re-queue one or all of them; every retry is audited (`bus:<id>:retry`).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from openem.auth import audit
from openem.bus.parking import parked_count, parked_messages, requeue
from openem.store.db import UnitOfWork
from openem.web.deps import Caller, csrf_protect, get_uow, require
from openem.web.rendering import render

router = APIRouter(include_in_schema=False)

#: who may see and retry parked messages (administrators, as for the audit log)
PERMISSION = "bus:manage"
PATH = "/admin/parked-messages"


def parked_notice(session: Session, caller: Caller) -> int:
    """How many messages are parked, for a signed-in user allowed to act on them; 0 for everyone else."""
    if caller.principal is None or not caller.principal.has(PERMISSION):
        return 0
    return parked_count(session)


@router.get(PATH)
def parked_page(
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require(PERMISSION)),
) -> Response:
    retried = request.query_params.get("retried", "")
    return render(
        request,
        "admin_parked.html",
        {
            "parked": parked_messages(uow.session),
            "retried": int(retried) if retried.isdigit() else None,
            "not_parked": request.query_params.get("not_parked") == "1",
        },
    )


@router.post(f"{PATH}/retry-all", dependencies=[Depends(csrf_protect)])
def retry_all(
    uow: UnitOfWork = Depends(get_uow, scope="function"), caller: Caller = Depends(require(PERMISSION))
) -> Response:
    done = requeue(uow.session)
    audit.record(
        uow.session,
        actor=caller.actor,
        action="bus:parked:retry-all",
        records=done,
        details={"messages": len(done)},
    )
    return RedirectResponse(f"{PATH}?retried={len(done)}", status_code=303)


@router.post(PATH + "/{message_id}/retry", dependencies=[Depends(csrf_protect)])
def retry_one(
    message_id: str,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require(PERMISSION)),
) -> Response:
    done = requeue(uow.session, [message_id[:40]])
    if not done:  # retried meanwhile by someone else, or delivered: say so rather than fail
        return RedirectResponse(f"{PATH}?not_parked=1", status_code=303)
    audit.record(uow.session, actor=caller.actor, action=f"bus:{done[0]}:retry", records=done)
    return RedirectResponse(f"{PATH}?retried=1", status_code=303)
