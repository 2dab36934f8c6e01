"""A field officer's day: the visits planned for them today in route order, and a visit's page with the form
to record an attempt and its outcome. An officer sees only visits planned for them (least privilege); every
read of a visit (an address's position, a person) is audited with its purpose."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from openem.auth import audit
from openem.core.errors import Conflict, Invalid, NotFound
from openem.core.time import utcnow
from openem.field import queries, service
from openem.field.rules import OUTCOMES, SUCCESS
from openem.store.db import UnitOfWork
from openem.web.deps import Caller, csrf_protect, get_uow, read_form, require
from openem.web.rendering import render

router = APIRouter()
HANDLE = require("visits:handle")
LABELS = {
    "FITTED": "Fitted",
    "RECOVERED": "Equipment recovered",
    "CHECKED": "Checked",
    "NOT_AT_HOME": "Not at home",
    "NO_ACCESS": "No access",
    "REFUSED": "Refused",
    "WRONG_ADDRESS": "Wrong address",
    "UNSAFE_ADDRESS": "Unsafe address",
    "EQUIPMENT_FAULT": "Equipment fault",
    "ORDER_ERROR": "Error in the order",
}
KIND_LABELS = {"FIT": "Fit tag", "REFIT": "Refit", "RECOVER": "Recover equipment", "CHECK": "Check"}


def _outcomes(kind: str) -> list[tuple[str, str]]:
    return [(o, LABELS[o]) for o in OUTCOMES if o not in SUCCESS.values() or SUCCESS.get(kind) == o]


def _own_visit(uow: UnitOfWork, caller: Caller, visit_id: str) -> dict[str, Any]:
    v = queries.visit(uow.session, visit_id[:60])
    if v is None or v["officer"] != caller.actor:  # another officer's visit is answered as missing
        raise NotFound("There is no such visit in your plan")
    return v


@router.get("/field/visits", include_in_schema=False)
def todays_visits(
    request: Request,
    day: str = Query("", max_length=10),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(HANDLE),
) -> Response:
    try:
        the_day = date.fromisoformat(day) if day else utcnow().date()
    except ValueError:
        the_day = utcnow().date()
    visits = queries.todays_visits(uow.session, caller.actor, the_day.isoformat())
    audit.record(uow.session, actor=caller.actor, action="field:visits:list:read",
                 records=[v["visit_id"] for v in visits], purpose="plan the day's field visits")  # fmt: skip
    return render(request, "field/today.html",
                  {"visits": visits, "day": the_day, "kinds": KIND_LABELS, "labels": LABELS})  # fmt: skip


def _visit_page(request: Request, v: dict[str, Any], errors: list[tuple[str, str]], form: dict[str, str],
                status: int = 200) -> Response:  # fmt: skip
    return render(request, "field/visit.html",
                  {"v": v, "errors": errors, "form": form, "outcomes": _outcomes(v["kind"]), "kinds": KIND_LABELS,
                   "labels": LABELS}, status)  # fmt: skip


@router.get("/field/visits/{visit_id}", include_in_schema=False)
def visit_page(
    visit_id: str,
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(HANDLE),
) -> Response:
    v = _own_visit(uow, caller, visit_id)
    audit.record(uow.session, actor=caller.actor, action=f"field:{v['visit_id']}:read",
                 records=[v["visit_id"], v["order_ref"], v["person_id"]], purpose="carry out a field visit")  # fmt: skip
    return _visit_page(request, v, [], {})


@router.post("/field/visits/{visit_id}", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def record_outcome(
    visit_id: str,
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(HANDLE),
    form: Any = Depends(read_form),
) -> Response:
    v = _own_visit(uow, caller, visit_id)
    values = {k: str(form.get(k, ""))[:600].strip() for k in ("outcome", "device_id", "note")}
    errors: list[tuple[str, str]] = []
    if values["outcome"] not in dict(_outcomes(v["kind"])):
        errors.append(("outcome", "Select what happened at the visit"))
    if values["outcome"] == "FITTED" and not values["device_id"]:
        errors.append(("device_id", "Enter the serial of the device fitted"))
    if len(values["note"]) > 500:
        errors.append(("note", "The note must be 500 characters or fewer"))
    if not errors:
        try:
            service.record_attempt(uow.session, actor=caller.actor, visit_id=v["visit_id"],
                                   outcome=values["outcome"], at=utcnow(), device_id=values["device_id"],
                                   note=values["note"])  # fmt: skip
        except (Invalid, Conflict) as exc:
            field = getattr(exc, "field", None) or "device_id"
            errors.append((field if field in values else "device_id", str(exc)))
    if errors:
        return _visit_page(request, v, errors, values, 422)
    return RedirectResponse("/field/visits?recorded=" + v["visit_id"], status_code=303)
