"""The operator queue: incidents needing a person, most urgent first, filterable by kind, priority, assignee
and state, with an SLA countdown and live updates (a small digest polled, the rows fetched only on change);
the JSON API with optimistic locking. The incident page and its forms are in `incident_page.py`."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from openem.alerts import queries
from openem.alerts.service import RESOLUTION_CODES, IncidentConflict, act_on_incident
from openem.auth import audit
from openem.auth.policy import can_view_case
from openem.core.time import utcnow
from openem.orders.queries import case_scopes, order_documents
from openem.store.db import UnitOfWork
from openem.web.deps import Caller, csrf_protect, get_uow, require
from openem.web.rendering import london_time, render

router = APIRouter()
WRITE = [Depends(csrf_protect)]
#: minutes to first action by priority band (higher priority, shorter SLA)
SLA_MINUTES = ((90, 5), (60, 15), (30, 30), (0, 60))
PAGE_SIZE = 100
STATE_LABELS = {"open": "New", "acknowledged": "Acknowledged", "escalated": "Escalated", "resolved": "Resolved",
                "confirmed": "Sent to an official", "suppressed": "Suppressed by a rule", "held": "Held for evidence",
                "inhibited": "Explained by a device fault", "auto_closed": "Closed by policy",
                "suspended": "Waiting to see if it resolves"}  # fmt: skip
KIND_LABELS = {"": "All kinds", "curfew": "Curfew", "zone": "Zones", "tamper": "Tamper", "proximity": "Victim proximity",
               "alcohol": "Alcohol", "device": "Device faults"}  # fmt: skip
BAND_LABELS = {"": "All priorities", "urgent": "Urgent (90 or more)", "high": "High (60 to 89)",
               "medium": "Medium (30 to 59)", "low": "Low (under 30)"}  # fmt: skip
QUEUE_STATE_LABELS = {"waiting": "Waiting for a person", "open": "New", "acknowledged": "Acknowledged",
                      "escalated": "Escalated", "confirmed": "Sent to an official", "resolved": "Resolved",
                      "held_back": "Held back by rules (never reached a person)"}  # fmt: skip


def sla_due(inc: dict[str, Any]) -> Any:
    minutes = next(m for floor, m in SLA_MINUTES if int(inc["priority"]) >= floor)
    return inc["opened_at"] + timedelta(minutes=minutes)


def visible(uow: UnitOfWork, caller: Caller, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
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
        "state_label": STATE_LABELS.get(inc["state"], inc["state"].capitalize()),
        "priority": inc["priority"], "severity": inc["severity"], "kinds": inc["kinds"],
        "opened_at": inc["opened_at"].isoformat(), "opened": london_time(inc["opened_at"]),
        "sla_due": due.isoformat(), "sla_minutes_left": int((due - now).total_seconds() // 60),
        "assignee": inc["assignee"], "decisions": inc["decisions"], "version": inc["row_version"],
    }  # fmt: skip


class QueueFilters(BaseModel):
    kind: str = ""
    band: str = ""
    assignee: str = ""
    state: str = "waiting"
    page: int = 1

    def clean(self, actor: str) -> QueueFilters:
        return QueueFilters(
            kind=self.kind if self.kind in KIND_LABELS else "",
            band=self.band if self.band in BAND_LABELS else "",
            assignee=actor if self.assignee == "me" else self.assignee.strip()[:80],
            state=self.state if self.state in QUEUE_STATE_LABELS else "waiting",
            page=max(1, min(self.page, 10_000)),
        )

    def query(self) -> dict[str, Any]:
        return {"kind": self.kind, "band": self.band, "assignee": self.assignee, "state": self.state}


def filters(
    kind: str = Query("", max_length=20),
    band: str = Query("", max_length=20),
    assignee: str = Query("", max_length=80),
    state: str = Query("waiting", max_length=20),
    page: int = Query(1, ge=1, le=10_000),
    caller: Caller = Depends(require("alerts:read")),
) -> QueueFilters:
    return QueueFilters(kind=kind, band=band, assignee=assignee, state=state, page=page).clean(_me(caller))


def _me(caller: Caller) -> str:
    """Incidents are assigned by user name (what an operator types and reads)."""
    return caller.principal.username if caller.principal else caller.actor


def queue_rows(uow: UnitOfWork, caller: Caller, f: QueueFilters) -> tuple[list[dict[str, Any]], int]:
    rows = queries.incident_queue(uow.session, limit=PAGE_SIZE, offset=(f.page - 1) * PAGE_SIZE, **f.query())
    shown = visible(uow, caller, rows)
    total = queries.incident_count(uow.session, **f.query())
    docs = order_documents(uow.session, {r["order_ref"] for r in shown if r["order_ref"]})
    out = []
    for r in shown:
        wearer = (
            (docs.get(r["order_ref"], ({}, None))[0].get("device_wearer") or {}) if r["order_ref"] else {}
        )
        name = f"{wearer.get('first_name') or ''} {wearer.get('last_name') or ''}".strip()
        out.append({**incident_json(r), "wearer": name or "Not linked to an order"})
    return out, total


def digest(rows: list[dict[str, Any]], total: int) -> str:
    text = "|".join(f"{r['incident_id']}:{r['version']}:{r['sla_minutes_left'] < 0}" for r in rows)
    return hashlib.sha256(f"{total}|{text}".encode()).hexdigest()[:16]


@router.get("/api/incidents", tags=["alerts"])
def list_incidents(
    all: bool = False,  # noqa: A002 (the query parameter's name)
    f: QueueFilters = Depends(filters),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("alerts:read")),
) -> dict[str, Any]:
    if all:
        rows = visible(uow, caller, queries.incident_queue(uow.session, limit=500, include_all=True))
        items, total = [incident_json(r) for r in rows], len(rows)
    else:
        items, total = queue_rows(uow, caller, f)
    audit.record(uow.session, actor=caller.actor, action="alerts:incidents:list:read",
                 records=[r["order_ref"] for r in items][:200], details={"purpose": "monitoring centre queue"})  # fmt: skip
    return {"incidents": items, "total": total, "digest": digest(items, total),
            "resolution_codes": list(RESOLUTION_CODES)}  # fmt: skip


@router.get("/api/incidents/digest", tags=["alerts"])
def queue_digest(
    f: QueueFilters = Depends(filters),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("alerts:read")),
) -> dict[str, Any]:
    """What the live queue polls: a digest of the rows it would show and their count (no personal data)."""
    items, total = queue_rows(uow, caller, f)
    return {"digest": digest(items, total), "total": total}


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
    inc = queries.incident(uow.session, incident_id[:40])
    if inc is None or not visible(uow, caller, [inc]):
        return JSONResponse({"detail": "not found"}, status_code=404)
    try:
        return act_on_incident(uow, incident_id, body.version, caller.actor, body.action, body.reason,
                               body.assignee, body.note)  # fmt: skip
    except IncidentConflict as exc:
        return JSONResponse({"detail": str(exc)}, status_code=409)
    except ValueError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=422)


def _queue_context(uow: UnitOfWork, caller: Caller, f: QueueFilters) -> dict[str, Any]:
    items, total = queue_rows(uow, caller, f)
    audit.record(uow.session, actor=caller.actor, action="alerts:incidents:page:read",
                 records=[r["order_ref"] for r in items][:200], details={"purpose": "monitoring centre queue"})  # fmt: skip
    pages = max(1, -(-total // PAGE_SIZE))
    return {"incidents": items, "total": total, "f": f, "pages": pages, "digest": digest(items, total),
            "kinds": KIND_LABELS, "bands": BAND_LABELS, "states": QUEUE_STATE_LABELS,
            "assignees": queries.assignees(uow.session), "me": _me(caller)}  # fmt: skip


@router.get("/incidents", include_in_schema=False)
def incidents_page(
    request: Request,
    f: QueueFilters = Depends(filters),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("alerts:read")),
) -> Response:
    return render(request, "alerts/incidents.html", _queue_context(uow, caller, f))


@router.get("/incidents/rows", include_in_schema=False)
def incidents_rows(
    request: Request,
    f: QueueFilters = Depends(filters),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("alerts:read")),
) -> Response:
    """The queue's rows alone, for the live update (the same template as the page)."""
    return render(request, "alerts/_incident_rows.html", _queue_context(uow, caller, f))
