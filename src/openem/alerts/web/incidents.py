"""The operator queue: incidents needing a person, most urgent first, with an SLA countdown; an incident's
decisions (why it did or did not reach a person); operator actions with optimistic locking. JSON API + page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from openem.alerts import queries
from openem.alerts.service import RESOLUTION_CODES, IncidentConflict, act_on_incident
from openem.auth import audit
from openem.auth.policy import can_view_case
from openem.core.time import utcnow
from openem.orders.queries import case_scopes
from openem.store.db import UnitOfWork
from openem.web.deps import Caller, csrf_protect, get_uow, require
from openem.web.rendering import london_time, render

router = APIRouter()
WRITE = [Depends(csrf_protect)]
#: minutes to first action by priority band (higher priority, shorter SLA)
SLA_MINUTES = ((90, 5), (60, 15), (30, 30), (0, 60))


def sla_due(inc: dict[str, Any]) -> Any:
    minutes = next(m for floor, m in SLA_MINUTES if int(inc["priority"]) >= floor)
    return inc["opened_at"] + timedelta(minutes=minutes)


def _visible(uow: UnitOfWork, caller: Caller, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assert caller.principal is not None
    if caller.principal.has("cases:all") and caller.principal.has("cases:restricted"):
        return rows
    scopes = case_scopes(uow.session, {r["order_ref"] for r in rows})
    out = []
    for r in rows:
        scope = scopes.get(r["order_ref"])
        if (scope is None and caller.principal.has("cases:all")) or (
            scope is not None and can_view_case(caller.principal, scope).allowed
        ):
            out.append(r)
    return out


def incident_json(inc: dict[str, Any]) -> dict[str, Any]:
    now = utcnow()
    due = sla_due(inc)
    return {
        "incident_id": inc["incident_id"], "person_id": inc["person_id"], "order_ref": inc["order_ref"],
        "situation": inc["situation"], "state": inc["state"], "needs_person": inc["needs_person"],
        "priority": inc["priority"], "severity": inc["severity"], "kinds": inc["kinds"],
        "opened_at": inc["opened_at"].isoformat(), "opened": london_time(inc["opened_at"]),
        "sla_due": due.isoformat(), "sla_minutes_left": int((due - now).total_seconds() // 60),
        "assignee": inc["assignee"], "decisions": inc["decisions"], "version": inc["row_version"],
    }  # fmt: skip


@router.get("/api/incidents", tags=["alerts"])
def list_incidents(
    all: bool = False,  # noqa: A002 (the query parameter's name)
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("alerts:read")),
) -> dict[str, Any]:
    rows = _visible(uow, caller, queries.incident_queue(uow.session, limit=500, include_all=all))
    audit.record(uow.session, actor=caller.actor, action="alerts:incidents:list:read",
                 records=[r["order_ref"] for r in rows][:200], details={"purpose": "monitoring centre queue"})  # fmt: skip
    return {"incidents": [incident_json(r) for r in rows], "resolution_codes": list(RESOLUTION_CODES)}


@router.get("/api/incidents/{incident_id}", tags=["alerts"])
def get_incident(
    incident_id: str,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("alerts:read")),
) -> Any:
    inc = queries.incident(uow.session, incident_id)
    if inc is None or not _visible(uow, caller, [inc]):
        return JSONResponse({"detail": "not found"}, status_code=404)
    audit.record(uow.session, actor=caller.actor, action=f"alerts:incident:{incident_id}:read",
                 records=[inc["order_ref"], inc["person_id"]], details={"purpose": "incident review"})  # fmt: skip
    return {**incident_json(inc), "notes": inc["notes"], "episodes": inc["episodes"],
            "closed_at": inc["closed_at"].isoformat() if inc["closed_at"] else None, "resolution": inc["resolution"]}  # fmt: skip


class ActionBody(BaseModel):
    action: str = Field(max_length=20)
    version: int
    reason: str = Field(default="", max_length=200)
    assignee: str = Field(default="", max_length=80)
    note: str = Field(default="", max_length=2000)


@router.post("/api/incidents/{incident_id}/actions", tags=["alerts"], dependencies=WRITE)
def incident_action(
    incident_id: str,
    body: ActionBody,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("alerts:handle")),
) -> Any:
    inc = queries.incident(uow.session, incident_id)
    if inc is None or not _visible(uow, caller, [inc]):
        return JSONResponse({"detail": "not found"}, status_code=404)
    try:
        return act_on_incident(uow, incident_id, body.version, caller.actor, body.action, body.reason,
                               body.assignee, body.note)  # fmt: skip
    except IncidentConflict as exc:
        return JSONResponse({"detail": str(exc)}, status_code=409)
    except ValueError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=422)


@router.get("/incidents", include_in_schema=False)
def incidents_page(
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("alerts:read")),
) -> Response:
    rows = _visible(uow, caller, queries.incident_queue(uow.session, limit=200))
    audit.record(uow.session, actor=caller.actor, action="alerts:incidents:page:read",
                 records=[r["order_ref"] for r in rows][:200], details={"purpose": "monitoring centre queue"})  # fmt: skip
    return render(request, "alerts/incidents.html", {"incidents": [incident_json(r) for r in rows]})
