"""Orders JSON API: every section and action of an order, with access rules and audit.

Who may do what: order creators create and edit their drafts and submit them; the monitoring centre
(`orders:review`) accepts or rejects submitted orders and ends monitoring; anyone reading an order must hold
`orders:read` and pass the case rules (caseload, force, organisation, restricted). Reads are audited.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from openem.auth import audit
from openem.auth.policy import CaseScope, can_view_case
from openem.core.errors import Forbidden, Invalid, NotFound
from openem.orders.lifecycle import OrderRecord
from openem.orders.model import RequestType
from openem.orders.repository import OrderRow, SqlOrderRepository
from openem.orders.schema import order_json_schema
from openem.orders.service import OrderInvalid, OrderService, PossibleDuplicates, ServiceResult
from openem.store.db import UnitOfWork
from openem.web.deps import Caller, csrf_protect, deny, get_uow, require

router = APIRouter(tags=["orders"])
WRITE = [Depends(csrf_protect)]


def case_scope(row: OrderRow) -> CaseScope:
    return CaseScope(order_ref=row.ref, responsible_officer_email=row.responsible_officer_email,
                     police_area=row.police_area, notifying_organisation_name=row.notifying_organisation_name,
                     created_by=row.created_by, restricted=row.restricted)


def load_visible(request: Request, uow: UnitOfWork, caller: Caller, ref: str, purpose: str = "") -> OrderRecord:
    """The order if the caller may see it (404 when it does not exist, 403 audited when not theirs)."""
    assert caller.principal is not None
    row = uow.session.get(OrderRow, ref[:40])
    if row is None:
        raise NotFound(f"There is no order {ref[:40]}")
    decision = can_view_case(caller.principal, case_scope(row))
    if not decision.allowed:
        deny(request, uow, caller, decision.reason, records=[row.ref])
    record = SqlOrderRepository(uow.session).get(row.ref)
    assert record is not None
    audit.record(uow.session, actor=caller.actor, action=f"orders:{row.ref}:read", records=[row.ref],
                 purpose=purpose[:500], details={"reason": decision.reason})
    return record


def if_match(request: Request) -> int | None:
    """The order version a client edits from (`If-Match: <row_version>`), for optimistic locking."""
    raw = request.headers.get("if-match", "").strip().strip('"').removeprefix("W/").strip('"')
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise Invalid("If-Match must be the order's row_version, a number", field="If-Match") from None


def record_json(record: OrderRecord, row_version: int | None = None) -> dict[str, Any]:
    latest = record.latest
    return {
        "ref": record.ref, "row_version": row_version, "person_id": record.person_id, "status": latest.status.value,
        "version": latest.version, "request_type": latest.request_type.value, "document": latest.document,
        "rejection_reasons": list(latest.rejection_reasons),
        "versions": [{"version": v.version, "status": v.status.value, "request_type": v.request_type.value,
                      "created_by": v.created_by, "created_at": v.created_at, "submitted_at": v.submitted_at,
                      "decided_at": v.decided_at} for v in record.versions],
    }


def commit_result(uow: UnitOfWork, result: ServiceResult) -> None:
    for event in result.events:
        uow.add_event(event)
    action, actor, details = result.audit
    audit.record(uow.session, actor=actor, action=action, records=[result.record.ref], details=details)


def must_own_draft(caller: Caller, record: OrderRecord) -> None:
    p = caller.principal
    assert p is not None
    if record.versions[0].created_by != p.user_id and not p.has("orders:review"):
        raise Forbidden("Only the person who created this order can change it")


def invalid_response(exc: OrderInvalid) -> JSONResponse:
    return JSONResponse({"error": exc.code, "message": exc.message,
                         "errors": [e.to_dict() for e in exc.errors]}, status_code=422)


@router.get("/api/schema/order", summary="JSON Schema of an order document")
def schema() -> dict[str, Any]:
    return order_json_schema()


@router.post("/api/orders", status_code=201, dependencies=WRITE)
def create(document: dict[str, Any] = Body(default_factory=dict), uow: UnitOfWork = Depends(get_uow, scope="function"),
           caller: Caller = Depends(require("orders:create"))) -> Any:
    try:
        result = OrderService(SqlOrderRepository(uow.session)).create_draft(caller.actor, document)
    except OrderInvalid as exc:
        return invalid_response(exc)
    commit_result(uow, result)
    return JSONResponse(record_json(result.record), status_code=201)


class OrderListItem(BaseModel):
    ref: str
    status: str
    wearer_name: str
    cohort: str
    updated_at: str


@router.get("/api/orders", response_model=list[OrderListItem])
def list_orders(request: Request, status: str | None = Query(None, max_length=20),
                q: str | None = Query(None, max_length=100), limit: int = Query(100, ge=1, le=1000),
                uow: UnitOfWork = Depends(get_uow, scope="function"), caller: Caller = Depends(require("orders:read"))) -> list[OrderListItem]:
    assert caller.principal is not None
    stmt = select(OrderRow).order_by(OrderRow.updated_at.desc()).limit(5000)
    if status:
        stmt = stmt.where(OrderRow.status == status.upper())
    items = []
    for row in uow.session.execute(stmt).scalars():
        if q and q.lower() not in (row.wearer_name.lower() + " " + row.ref.lower()):
            continue
        if can_view_case(caller.principal, case_scope(row)).allowed:
            items.append(OrderListItem(ref=row.ref, status=row.status, wearer_name=row.wearer_name, cohort=row.cohort,
                                       updated_at=row.updated_at.isoformat()))
        if len(items) >= limit:
            break
    audit.record(uow.session, actor=caller.actor, action="orders:list:read", records=[i.ref for i in items][:200],
                 details={"status": status, "q": (q or "")[:100]})
    return items


@router.get("/api/orders/{ref}")
def get_order(ref: str, request: Request, purpose: str = Query("", max_length=500), uow: UnitOfWork = Depends(get_uow, scope="function"),
              caller: Caller = Depends(require("orders:read"))) -> dict[str, Any]:
    record = load_visible(request, uow, caller, ref, purpose)
    return record_json(record, SqlOrderRepository(uow.session).row_version(record.ref))


@router.put("/api/orders/{ref}/sections/{name}", dependencies=WRITE)
def put_section(ref: str, name: str, request: Request, value: Any = Body(...), uow: UnitOfWork = Depends(get_uow, scope="function"),
                caller: Caller = Depends(require("orders:create"))) -> Any:
    record = load_visible(request, uow, caller, ref)
    must_own_draft(caller, record)
    repo = SqlOrderRepository(uow.session)
    repo.expect_version(record.ref, if_match(request))
    try:
        result = OrderService(repo).update_section(caller.actor, record.ref, name[:40], value)
    except OrderInvalid as exc:
        return invalid_response(exc)
    commit_result(uow, result)
    return record_json(result.record, repo.row_version(record.ref))


@router.get("/api/orders/{ref}/validation")
def validation(ref: str, request: Request, uow: UnitOfWork = Depends(get_uow, scope="function"),
               caller: Caller = Depends(require("orders:read"))) -> dict[str, Any]:
    record = load_visible(request, uow, caller, ref)
    errors = OrderService(SqlOrderRepository(uow.session)).validate(record.ref)
    return {"ref": record.ref, "valid": not errors, "errors": [e.to_dict() for e in errors]}


class SubmitBody(BaseModel):
    confirmed_not_duplicates: list[str] = Field(default_factory=list, max_length=50)


@router.post("/api/orders/{ref}/submit", dependencies=WRITE)
def submit(ref: str, request: Request, body: SubmitBody = Body(default_factory=SubmitBody),
           uow: UnitOfWork = Depends(get_uow, scope="function"), caller: Caller = Depends(require("orders:create"))) -> Any:
    record = load_visible(request, uow, caller, ref)
    must_own_draft(caller, record)
    repo = SqlOrderRepository(uow.session)
    repo.expect_version(record.ref, if_match(request))
    try:
        result = OrderService(repo).submit(caller.actor, record.ref, body.confirmed_not_duplicates)
    except OrderInvalid as exc:
        return invalid_response(exc)
    except PossibleDuplicates as exc:
        return JSONResponse({"error": exc.code, "message": exc.message,
                             "duplicates": [d.to_dict() for d in exc.duplicates]},
                            status_code=409)
    commit_result(uow, result)
    return record_json(result.record)


class RejectBody(BaseModel):
    reasons: list[str] = Field(min_length=1, max_length=20)


class EndBody(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class VaryBody(BaseModel):
    request_type: RequestType = RequestType.VARIATION


@router.post("/api/orders/{ref}/accept", dependencies=WRITE)
def accept(ref: str, request: Request, uow: UnitOfWork = Depends(get_uow, scope="function"),
           caller: Caller = Depends(require("orders:review"))) -> Any:
    record = load_visible(request, uow, caller, ref)
    result = OrderService(SqlOrderRepository(uow.session)).accept(caller.actor, record.ref)
    commit_result(uow, result)
    return record_json(result.record)


@router.post("/api/orders/{ref}/reject", dependencies=WRITE)
def reject(ref: str, body: RejectBody, request: Request, uow: UnitOfWork = Depends(get_uow, scope="function"),
           caller: Caller = Depends(require("orders:review"))) -> Any:
    record = load_visible(request, uow, caller, ref)
    try:
        result = OrderService(SqlOrderRepository(uow.session)).reject(caller.actor, record.ref, body.reasons)
    except OrderInvalid as exc:
        return invalid_response(exc)
    commit_result(uow, result)
    return record_json(result.record)


@router.post("/api/orders/{ref}/vary", dependencies=WRITE)
def vary(ref: str, request: Request, body: VaryBody = Body(default_factory=VaryBody), uow: UnitOfWork = Depends(get_uow, scope="function"),
         caller: Caller = Depends(require("orders:create"))) -> Any:
    record = load_visible(request, uow, caller, ref)
    result = OrderService(SqlOrderRepository(uow.session)).vary(caller.actor, record.ref, body.request_type)
    commit_result(uow, result)
    return record_json(result.record)


@router.post("/api/orders/{ref}/end", dependencies=WRITE)
def end(ref: str, body: EndBody, request: Request, uow: UnitOfWork = Depends(get_uow, scope="function"),
        caller: Caller = Depends(require("orders:review"))) -> Any:
    record = load_visible(request, uow, caller, ref)
    result = OrderService(SqlOrderRepository(uow.session)).end(caller.actor, record.ref, body.reason)
    commit_result(uow, result)
    return record_json(result.record)

