"""Orders JSON API: every section and action of an order, with access rules and audit.

Who may do what: order creators create and edit their drafts and submit them; the monitoring centre
(`orders:review`) accepts or rejects submitted orders and ends monitoring; anyone reading an order must hold
`orders:read` and pass the case rules (caseload, force, organisation, restricted). Reads are audited. Each
route on one order gets it loaded and authorised once (`context.order_route`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from openem.auth import audit
from openem.auth.policy import can_view_case
from openem.core.errors import Invalid
from openem.orders.cemo import CemoImportError, import_cemo
from openem.orders.fms import fms_payloads
from openem.orders.lifecycle import OrderRecord
from openem.orders.model import RequestType
from openem.orders.queries import case_scope
from openem.orders.repository import OrderRow
from openem.orders.rules.acknowledge import is_flag
from openem.orders.rules.curfew import dst_notices
from openem.orders.schema import order_json_schema
from openem.orders.service import OrderInvalid, PossibleDuplicates
from openem.orders.web.context import OrderContext, order_route, order_service
from openem.orders.web.documents import document_types
from openem.store.db import UnitOfWork
from openem.web.deps import Caller, csrf_protect, get_uow, require

router = APIRouter(tags=["orders"])
WRITE = [Depends(csrf_protect)]


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
        "ref": record.ref,
        "row_version": row_version,
        "person_id": record.person_id,
        "status": latest.status.value,
        "version": latest.version,
        "request_type": latest.request_type.value,
        "document": latest.document,
        "rejection_reasons": list(latest.rejection_reasons),
        "versions": [
            {
                "version": v.version,
                "status": v.status.value,
                "request_type": v.request_type.value,
                "created_by": v.created_by,
                "created_at": v.created_at,
                "submitted_at": v.submitted_at,
                "decided_at": v.decided_at,
            }
            for v in record.versions
        ],
    }


def invalid_response(exc: OrderInvalid) -> JSONResponse:
    return JSONResponse(
        {
            "error": exc.code,
            "message": exc.message,
            "errors": [
                e.to_dict() | ({"acknowledgeable": True} if is_flag(e, "USER") else {}) for e in exc.errors
            ],
        },
        status_code=422,
    )


@router.get("/api/schema/order", summary="JSON Schema of an order document")
def schema() -> dict[str, Any]:
    return order_json_schema()


@router.post("/api/orders", status_code=201, dependencies=WRITE)
def create(
    document: dict[str, Any] = Body(default_factory=dict),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("orders:create")),
) -> Any:
    try:
        result = order_service(uow).create_draft(caller.actor, document)
    except OrderInvalid as exc:
        return invalid_response(exc)
    return JSONResponse(record_json(result.record), status_code=201)


class OrderListItem(BaseModel):
    ref: str
    status: str
    wearer_name: str
    cohort: str
    updated_at: str


@router.get("/api/orders", response_model=list[OrderListItem])
def list_orders(
    request: Request,
    status: str | None = Query(None, max_length=20),
    q: str | None = Query(None, max_length=100),
    limit: int = Query(100, ge=1, le=1000),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("orders:read")),
) -> list[OrderListItem]:
    assert caller.principal is not None
    stmt = select(OrderRow).order_by(OrderRow.updated_at.desc()).limit(5000)
    if status:
        stmt = stmt.where(OrderRow.status == status.upper())
    items = []
    for row in uow.session.execute(stmt).scalars():
        if q and q.lower() not in (row.wearer_name.lower() + " " + row.ref.lower()):
            continue
        if can_view_case(caller.principal, case_scope(row)).allowed:
            items.append(
                OrderListItem(
                    ref=row.ref,
                    status=row.status,
                    wearer_name=row.wearer_name,
                    cohort=row.cohort,
                    updated_at=row.updated_at.isoformat(),
                )
            )
        if len(items) >= limit:
            break
    audit.record(
        uow.session,
        actor=caller.actor,
        action="orders:list:read",
        records=[i.ref for i in items][:200],
        details={"status": status, "q": (q or "")[:100]},
    )
    return items


READ = order_route("orders:read")
CREATE = order_route("orders:create")
REVIEW = order_route("orders:review")


@router.get("/api/orders/{ref}")
def get_order(
    order: OrderContext = Depends(order_route("orders:read", asked_purpose=True)),
) -> dict[str, Any]:
    return record_json(order.record, order.repo.row_version(order.ref))


@router.put("/api/orders/{ref}/sections/{name}", dependencies=WRITE)
def put_section(name: str, value: Any = Body(...), order: OrderContext = Depends(CREATE)) -> Any:
    order.must_own_draft()
    order.repo.expect_version(order.ref, if_match(order.request))
    try:
        order.changed(order.service.update_section(order.actor, order.ref, name[:40], value))
    except OrderInvalid as exc:
        return invalid_response(exc)
    return record_json(order.record, order.repo.row_version(order.ref))


@router.get("/api/orders/{ref}/validation")
def validation(order: OrderContext = Depends(READ)) -> dict[str, Any]:
    errors = order.service.validate(order.ref)
    notices = dst_notices(order.record.latest.document)
    return {
        "ref": order.ref,
        "valid": not errors,
        "errors": [e.to_dict() for e in errors],
        "notices": notices,
    }


class SubmitBody(BaseModel):
    confirmed_not_duplicates: list[str] = Field(default_factory=list, max_length=50)
    #: flags the submitter checked, each "code:field" (an error whose "acknowledgeable" is true)
    acknowledged: list[str] = Field(default_factory=list, max_length=200)


@router.post("/api/orders/{ref}/submit", dependencies=WRITE)
def submit(body: SubmitBody = Body(default_factory=SubmitBody), order: OrderContext = Depends(CREATE)) -> Any:
    order.must_own_draft()
    order.repo.expect_version(order.ref, if_match(order.request))
    try:
        order.changed(
            order.service.submit(
                order.actor,
                order.ref,
                body.confirmed_not_duplicates,
                body.acknowledged,
                document_types(order.uow, order.ref),
            )
        )
    except OrderInvalid as exc:
        return invalid_response(exc)
    except PossibleDuplicates as exc:
        return JSONResponse(
            {"error": exc.code, "message": exc.message, "duplicates": [d.to_dict() for d in exc.duplicates]},
            status_code=409,
        )
    return record_json(order.record)


class RejectBody(BaseModel):
    reasons: list[str] = Field(min_length=1, max_length=20)


class EndBody(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class VaryBody(BaseModel):
    request_type: RequestType = RequestType.VARIATION


@router.post("/api/orders/{ref}/accept", dependencies=WRITE)
def accept(order: OrderContext = Depends(REVIEW)) -> Any:
    order.changed(order.service.accept(order.actor, order.ref))
    return record_json(order.record)


@router.post("/api/orders/{ref}/reject", dependencies=WRITE)
def reject(body: RejectBody, order: OrderContext = Depends(REVIEW)) -> Any:
    try:
        order.changed(order.service.reject(order.actor, order.ref, body.reasons))
    except OrderInvalid as exc:
        return invalid_response(exc)
    return record_json(order.record)


@router.post("/api/orders/{ref}/vary", dependencies=WRITE)
def vary(body: VaryBody = Body(default_factory=VaryBody), order: OrderContext = Depends(CREATE)) -> Any:
    order.changed(order.service.vary(order.actor, order.ref, body.request_type))
    return record_json(order.record)


@router.post("/api/orders/{ref}/end", dependencies=WRITE)
def end(body: EndBody, order: OrderContext = Depends(REVIEW)) -> Any:
    order.changed(order.service.end(order.actor, order.ref, body.reason))
    return record_json(order.record)


# --- CEMO in, supplier out (issue 19; docs/order-format.md "CEMO in" and "Supplier out") ---


@router.post("/api/orders/import/cemo", status_code=201, dependencies=WRITE)
def import_cemo_order(
    cemo_order: Any = Body(...),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("orders:create")),
) -> Any:
    """A draft from an order in CEMO's API JSON shape, with the mapping report and what it still lacks."""
    service = order_service(uow)
    try:
        document, report = import_cemo(cemo_order, service.clock.now())
    except CemoImportError as exc:
        return JSONResponse({"error": "not_a_cemo_order", "message": str(exc), "errors": []}, status_code=422)
    try:
        result = service.create_draft(caller.actor, document)
    except OrderInvalid as exc:
        body = {"error": exc.code, "message": exc.message, "errors": [e.to_dict() for e in exc.errors]}
        return JSONResponse(body | {"mapping": report.to_dict()}, status_code=422)
    errors = service.validate(result.record.ref)
    body = record_json(result.record) | {
        "mapping": report.to_dict(),
        "valid": not errors,
        "errors": [e.to_dict() for e in errors],
    }
    return JSONResponse(body, status_code=201)


@router.get("/api/orders/{ref}/fms")
def fms_export(
    case_id: str = Query("", max_length=100),
    order: OrderContext = Depends(order_route("orders:read", "supplier export")),
) -> dict[str, Any]:
    """The order as the two payloads CEMO sends the field-monitoring supplier (device wearer, then order)."""
    return {"ref": order.ref} | fms_payloads(order.record.latest.document, order.service.clock.now(), case_id)
