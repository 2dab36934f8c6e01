"""Documents of an order (licence, court order, grant of bail, photo ID, zone map): upload with the type
sniffed from the bytes and size limits (`orders/documents.py`), list, and download (access-checked, audited)."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from openem.auth import audit
from openem.core.errors import NotFound
from openem.core.ids import new_id
from openem.core.time import utcnow
from openem.orders.documents import (
    DOCUMENT_TYPES,
    check_document,
    missing_documents,
    required_document,
    sniff,
)
from openem.orders.repository import OrderDocumentRow
from openem.orders.web.context import OrderContext, order_route
from openem.store.db import UnitOfWork
from openem.web.deps import csrf_protect, read_form
from openem.web.rendering import render

router = APIRouter()
READ = order_route("orders:read")
DOWNLOAD = order_route("orders:read", "download a document")
CREATE = order_route("orders:create")
MEDIA = {"pdf": "application/pdf", "png": "image/png", "jpeg": "image/jpeg"}
LABELS = {
    "LICENCE": "Licence",
    "COURT_ORDER": "Court order",
    "GRANT_OF_BAIL": "Grant of bail",
    "PHOTO_ID": "Photo identification",
    "ZONE_MAP": "Zone map",
}


def _safe_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return re.sub(r"[^A-Za-z0-9._ -]", "_", base)[:200] or "document"


def document_types(uow: UnitOfWork, ref: str) -> set[str]:
    """The types of the documents uploaded to the order (any version): what submit checks."""
    rows = uow.session.execute(
        select(OrderDocumentRow.document_type).where(OrderDocumentRow.ref == ref)
    ).scalars()
    return set(rows)


def _listing(uow: UnitOfWork, ref: str) -> list[dict[str, Any]]:
    rows = uow.session.execute(
        select(OrderDocumentRow).where(OrderDocumentRow.ref == ref).order_by(OrderDocumentRow.uploaded_at)
    ).scalars()
    return [
        {
            "id": r.id,
            "document_type": r.document_type,
            "label": LABELS.get(r.document_type, r.document_type),
            "filename": r.filename,
            "kind": r.kind,
            "size_bytes": r.size_bytes,
            "sha256": r.sha256,
            "uploaded_at": r.uploaded_at.isoformat(),
        }
        for r in rows
    ]


def _upload(order: OrderContext, form: Any) -> list[tuple[str, str]]:
    order.must_own_draft()
    document_type = str(form.get("document_type", ""))[:30]
    upload = form.get("file")
    limit = max(size for _, size in DOCUMENT_TYPES.values()) + 1
    data = upload.file.read(limit) if hasattr(upload, "file") else b""
    errors = check_document(document_type, data, field="file")
    if errors:
        return [("file" if e.field == "file" else "document_type", e.message) for e in errors]
    row = OrderDocumentRow(
        id=new_id("DOC"),
        ref=order.ref,
        document_type=document_type,
        filename=_safe_name(str(getattr(upload, "filename", "") or "")),
        kind=sniff(data) or "",
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        uploaded_by=order.actor,
        uploaded_at=utcnow(),
    )
    order.uow.session.add(row)
    order.uow.session.flush()
    audit.record(
        order.uow.session,
        actor=order.actor,
        action=f"orders:{order.ref}:upload_document",
        records=[order.ref, row.id],
        details={"type": document_type, "bytes": len(data), "sha256": row.sha256},
    )
    return []


@router.post(
    "/api/orders/{ref}/documents", tags=["orders"], dependencies=[Depends(csrf_protect)], status_code=201
)
def api_upload(order: OrderContext = Depends(CREATE), form: Any = Depends(read_form)) -> Any:
    errors = _upload(order, form)
    if errors:
        return JSONResponse(
            {
                "error": "invalid",
                "message": errors[0][1],
                "errors": [{"field": f, "message": m} for f, m in errors],
            },
            status_code=422,
        )
    return JSONResponse(_listing(order.uow, order.ref), status_code=201)


@router.get("/api/orders/{ref}/documents", tags=["orders"])
def api_list(order: OrderContext = Depends(READ)) -> list[dict[str, Any]]:
    return _listing(order.uow, order.ref)


@router.get("/orders/{ref}/documents/{doc_id}", tags=["orders"])
def download(doc_id: str, order: OrderContext = Depends(DOWNLOAD)) -> Response:
    row = order.uow.session.get(OrderDocumentRow, doc_id[:40])
    if row is None or row.ref != order.ref:
        raise NotFound("There is no such document on this order")
    audit.record(
        order.uow.session,
        actor=order.actor,
        action=f"orders:{order.ref}:read_document",
        records=[order.ref, row.id],
    )
    return Response(
        row.data,
        media_type=MEDIA.get(row.kind, "application/octet-stream"),
        headers={
            "Content-Disposition": f'attachment; filename="{row.filename}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/orders/{ref}/documents", include_in_schema=False)
def page(check: bool = Query(False), order: OrderContext = Depends(READ)) -> Response:
    """`check`: reached from a submit refused for a missing document, whose error is shown on the type of
    document, with the type it needs chosen."""
    doc = order.record.latest.document
    missing = missing_documents(doc, document_types(order.uow, order.ref)) if check else []
    return render(
        order.request,
        "orders/documents.html",
        {
            "record": order.record,
            "documents": _listing(order.uow, order.ref),
            "types": LABELS,
            "errors": [("document_type", e.message) for e in missing],
            "chosen": required_document(doc) if missing else "",
        },
    )


@router.post("/orders/{ref}/documents", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def page_upload(order: OrderContext = Depends(CREATE), form: Any = Depends(read_form)) -> Response:
    errors = _upload(order, form)
    if errors:
        return render(
            order.request,
            "orders/documents.html",
            {
                "record": order.record,
                "documents": _listing(order.uow, order.ref),
                "types": LABELS,
                "errors": errors,
                "chosen": str(form.get("document_type", ""))[:30],
            },
            status=422,
        )
    return order.redirect("/documents?uploaded=1")
