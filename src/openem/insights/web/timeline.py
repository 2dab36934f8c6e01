"""The person's timeline (orders and versions, devices, visits, alerts, incidents, notes; filtered by kind, as
the MOJ timeline and filter components show it) and practitioner notes, as pages and JSON. The same access
rules as the person view: refused (403, as for an unknown id) outside the caller's cases, a purpose for every read, every read
and every note audited."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from openem.core.errors import Invalid
from openem.core.time import iso
from openem.insights import rules, service
from openem.insights.web.views import READ, PersonRoute, _audit, load_person, person_route
from openem.store.db import UnitOfWork
from openem.web.deps import Caller, csrf_protect, get_uow, read_form
from openem.web.rendering import render

router = APIRouter()


def _entries(uow: UnitOfWork, orders: list[Any], person_id: str, kinds: list[str]) -> list[dict[str, Any]]:
    return rules.filter_timeline(service.timeline(uow.session, orders, person_id), kinds)


@router.get("/api/people/{person_id}/timeline", tags=["insights"])
def api_timeline(
    kind: list[str] = Query([], max_length=10), route: PersonRoute = Depends(person_route)
) -> dict[str, Any]:
    uow, caller, person_id, orders = route.uow, route.caller, route.person_id, route.orders
    why = route.why()
    kinds = [k for k in kind if k in rules.KINDS]
    entries = _entries(uow, orders, person_id, kinds)
    _audit(uow, caller, "timeline:read", person_id, orders, why, kinds=kinds, entries=len(entries))
    return {
        "person_id": person_id,
        "kinds": rules.KINDS,
        "entries": [{**e, "at": iso(e["at"])} for e in entries],
    }


@router.post("/api/people/{person_id}/notes", tags=["insights"], status_code=201,
             dependencies=[Depends(csrf_protect)])  # fmt: skip
def api_add_note(
    person_id: str,
    request: Request,
    body: dict[str, Any] = Body(...),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(READ),
) -> dict[str, Any]:
    assert caller.principal is not None
    orders = load_person(request, uow, caller, person_id, "practitioner note")
    text, ref = body.get("text"), body.get("order_ref") or ""
    if not isinstance(text, str) or not isinstance(ref, str):
        raise Invalid("text (and order_ref, if given) must be text")
    note = service.add_note(uow.session, caller.principal, orders, person_id, text[:10_000], ref[:40],
                            caller.principal.username)  # fmt: skip
    _audit(uow, caller, "note:write", person_id, orders, "practitioner note", note_id=note["note_id"],
           chars=len(note["text"]))  # fmt: skip
    return {**note, "written_at": iso(note["written_at"]), "author": caller.principal.username}


@router.get("/people/{person_id}/timeline", include_in_schema=False)
def timeline_page(
    kind: list[str] = Query([], max_length=10), route: PersonRoute = Depends(person_route)
) -> Response:
    request, uow, caller, person_id, orders = route.parts()
    purpose = route.purpose
    assert caller.principal is not None
    kinds = [k for k in kind if k in rules.KINDS]
    ctx = route.page_context() | {
        "kinds": rules.KINDS,
        "chosen": kinds,
        "orders": orders,
        "note_error": request.query_params.get("note_error", "")[:200],
    }
    try:
        why = route.why()
    except Invalid as e:
        ctx |= {"error": str(e), "error_field": e.field or "purpose"} if purpose else {}
        return render(request, "insights/timeline.html", ctx)
    entries = _entries(uow, orders, person_id, kinds)
    _audit(uow, caller, "timeline:read", person_id, orders, why, kinds=kinds, entries=len(entries))
    ctx |= {"shown": True, "entries": entries[:1000], "total": len(entries)}
    return render(request, "insights/timeline.html", ctx)


@router.post("/people/{person_id}/notes", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def add_note_page(
    person_id: str,
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(READ),
    form: Any = Depends(read_form),
) -> Response:
    assert caller.principal is not None
    back = {k: str(form.get(k, ""))[:400] for k in ("purpose", "reference")}
    orders = load_person(request, uow, caller, person_id, back["purpose"], back["reference"])
    try:
        note = service.add_note(uow.session, caller.principal, orders, person_id, str(form.get("text", ""))[:10_000],
                                str(form.get("order_ref", ""))[:40], caller.principal.username)  # fmt: skip
    except Invalid as e:
        q = urlencode({**back, "note_error": str(e)})
        return RedirectResponse(f"/people/{person_id}/timeline?{q}#note", status_code=303)
    _audit(uow, caller, "note:write", person_id, orders, "practitioner note", note_id=note["note_id"],
           chars=len(note["text"]))  # fmt: skip
    q = urlencode({**back, "kind": "note"})
    return RedirectResponse(f"/people/{person_id}/timeline?{q}", status_code=303)
