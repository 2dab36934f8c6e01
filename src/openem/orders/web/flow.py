"""Order pages after data entry: check your answers, submit (errors and possible duplicates), confirmation and
receipt (HTML, and PDF when WeasyPrint is installed), the order overview with the monitoring centre's accept
or reject, variations with version history and field-by-field changes, and bulk import of court results."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from openem.auth.roles import Role
from openem.core.errors import Forbidden
from openem.core.time import iso
from openem.orders.bulk import COLUMNS, import_court_results
from openem.orders.diff import diff_orders
from openem.orders.lifecycle import OrderRecord, OrderVersion
from openem.orders.model import OrderStatus, RequestType
from openem.orders.rules.acknowledge import is_flag
from openem.orders.rules.base import ValidationError
from openem.orders.service import OrderInvalid, PossibleDuplicates
from openem.orders.web import active
from openem.orders.web.context import OrderContext, order_route, order_service
from openem.orders.web.documents import document_types
from openem.orders.web.forms import get_path, summary, zone_points, zone_when
from openem.orders.web.sections import (
    ADDRESS_LABELS,
    PAGES,
    REPEATED,
    ZONE_KINDS,
    dapo_relevant,
    page_for,
    question_for,
    timetable,
)
from openem.store.db import UnitOfWork
from openem.web.deps import Caller, csrf_protect, get_uow, read_form, require
from openem.web.rendering import render

router = APIRouter(tags=["order pages"])
WRITE = [Depends(csrf_protect)]
MAX_UPLOAD = 5 * 1024 * 1024
READ = order_route("orders:read")
RECEIPT = order_route("orders:read", "receipt")
CREATE = order_route("orders:create")
REVIEW = order_route("orders:review")


def answers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every section as a summary list: {"page", "rows": [(label, text, field path)]}."""
    out = []
    for page in PAGES:
        if page.slug == "responsible-adult" and get_path(doc, "device_wearer.is_adult") is not False:
            continue
        if page.slug == "dapo-clauses" and not dapo_relevant(doc):
            continue
        rows: list[tuple[str, str, str]] = []
        if page.slug == "zones":
            for kind, label in ZONE_KINDS.items():
                zones = get_path(doc, f"conditions.{kind}") or []
                for i, z in enumerate(z for z in zones if isinstance(z, dict)):
                    points = zone_points(z)
                    rows.append(
                        (
                            f"{label}: {z.get('name') or 'no name'}",
                            f"A polygon of {points} points. {zone_when(z)}",
                            f"conditions.{kind}[{i}]",
                        )
                    )
        elif page.slug == "curfew":
            for f in page.fields(doc)[:6]:
                rows.append((f.label, summary(f, get_path(doc, f.path)), f.path))
            slots = timetable(doc)
            text = "; ".join(
                f"{str(s.get('day', '')).capitalize()} {s.get('start', '')}–{s.get('end', '')}" for s in slots
            )
            rows.append(("Weekly timetable", text or "Not entered", "conditions.curfew.timetable"))
        else:
            items = get_path(doc, page.prefixes[0]) if page.slug in REPEATED else None
            count = len(items) if isinstance(items, list) else 0
            for f in page.fields(doc):
                label = f.label
                if page.slug in REPEATED:
                    index = int(f.path.split("]")[0].split("[")[1])
                    if index >= count:
                        continue  # the blank item offered for adding one
                    kind = (
                        str(get_path(doc, f"addresses[{index}].type") or "")
                        if page.slug == "addresses"
                        else ""
                    )
                    name = (
                        ADDRESS_LABELS.get(kind, "Address")
                        if kind
                        else f"{REPEATED[page.slug][1]} {index + 1}"
                    )
                    label = f"{name}: {f.label.lower()}"
                rows.append((label, summary(f, get_path(doc, f.path)), f.path))
        out.append({"page": page, "rows": rows})
    return out


def error_links(ref: str, errors: list[ValidationError]) -> list[tuple[str, str]]:
    """(href, message): each error links to the field on its section page."""
    links = []
    for e in errors:
        page = page_for(e.field)
        slug = page.slug if page else ""
        if e.field == "conditions":  # chosen by filling in a condition's section on the task list
            links.append((f"/orders/{ref}?check=1#conditions", e.message))
            continue
        if e.field == "documents":  # uploaded on the order's documents page, which shows the error too
            links.append((f"/orders/{ref}/documents?check=1#document_type", e.message))
            continue
        links.append((f"/orders/{ref}/{slug}?check=1#{e.field}" if slug else f"/orders/{ref}", e.message))
    return links


def check_page(
    request: Request,
    record: OrderRecord,
    errors: list[tuple[str, str]] | None = None,
    duplicates: list[Any] | None = None,
    status_code: int = 200,
    flags: list[Any] | None = None,
) -> Response:
    return render(
        request,
        "orders/check_answers.html",
        {
            "title": ("Error: " if errors or duplicates else "") + "Check your answers",
            "record": record,
            "sections": answers(record.latest.document),
            "links": errors or [],
            "duplicates": duplicates or [],
            "duplicates_error": next((m for f, m in errors or [] if f == "dup-1"), ""),
            "flags": flags or [],
        },
        status=status_code,
    )


def court_creator(caller: Caller = Depends(require("orders:create"))) -> Caller:
    """Court results come from courts: the import is for court order creators only."""
    assert caller.principal is not None
    if not caller.principal.has_role(Role.ORDER_CREATOR_COURT):
        raise Forbidden("Only court users can import court results")
    return caller


@router.get("/orders/import")
def import_page(request: Request, caller: Caller = Depends(court_creator)) -> Response:
    return render(
        request,
        "orders/import.html",
        {"title": "Import court results", "columns": COLUMNS, "row_errors": [], "errors": [], "created": []},
    )


@router.post("/orders/import", dependencies=WRITE)
def import_upload(
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(court_creator),
    form: Any = Depends(read_form),
) -> Response:
    upload = form.get("file")
    data = upload.file.read(MAX_UPLOAD + 1) if upload is not None and hasattr(upload, "read") else b""
    ctx: dict[str, Any] = {
        "title": "Import court results",
        "columns": COLUMNS,
        "row_errors": [],
        "errors": [],
        "created": [],
    }
    if not data:
        ctx.update(title="Error: Import court results", errors=[("file", "Select a CSV file")])
        return render(request, "orders/import.html", ctx, status=422)
    result = import_court_results(data, now=datetime.now(UTC))
    if result.errors:
        file_level = [e for e in result.errors if e.row == 0]
        ctx.update(
            title="Error: Import court results",
            row_errors=[e for e in result.errors if e.row][:500],
            errors=[("file", e.message) for e in file_level]
            or [
                (
                    "row-errors",
                    f"{len({e.row for e in result.errors})} rows have errors. Nothing was imported",
                )
            ],
        )
        return render(request, "orders/import.html", ctx, status=422)
    created = []
    for doc in result.orders:
        res = order_service(uow).create_draft(caller.actor, doc)
        created.append(res.record.ref)
    ctx["created"] = created
    return render(request, "orders/import.html", ctx)


@router.get("/orders/{ref}/check-answers")
def check_answers(order: OrderContext = Depends(CREATE)) -> Response:
    return order.editable() or check_page(order.request, order.record)


@router.post("/orders/{ref}/submit", dependencies=WRITE)
def submit(order: OrderContext = Depends(CREATE), form: Any = Depends(read_form)) -> Response:
    order.must_own_draft()
    confirmed = [str(v)[:40] for v in form.getlist("confirmed_not_duplicates")][:50]
    checked = [str(v)[:200] for v in form.getlist("acknowledged")][:200]
    try:
        order.changed(
            order.service.submit(
                order.actor, order.ref, confirmed, checked, document_types(order.uow, order.ref)
            )
        )
    except OrderInvalid as exc:
        flags = [e for e in exc.errors if is_flag(e, "USER")]
        links = error_links(order.ref, [e for e in exc.errors if not is_flag(e, "USER")])
        if flags:
            # GOV.UK: the summary links to the first checkbox of the question it names
            links.append(("flag-1", f"Check {len(flags)} answer{'s' if len(flags) > 1 else ''} and confirm"))
        return check_page(order.request, order.record, links, status_code=422, flags=flags)
    except PossibleDuplicates as exc:
        return check_page(
            # GOV.UK: the summary links to the first checkbox; the box says the same beside it
            order.request,
            order.record,
            [("dup-1", exc.message)],
            exc.duplicates,
            status_code=409,
        )
    return order.redirect("/confirmation")


@router.get("/orders/{ref}/confirmation")
def confirmation(order: OrderContext = Depends(READ)) -> Response:
    return render(
        order.request, "orders/confirmation.html", {"title": "Order submitted", "record": order.record}
    )


def receipt_ctx(record: OrderRecord) -> dict[str, Any]:
    return {
        "title": f"Receipt for order {record.ref}",
        "record": record,
        "this_version": record.latest,
        "sections": answers(record.latest.document),
        "printed_at": iso(datetime.now(UTC)),
    }


@router.get("/orders/{ref}/receipt")
def receipt(order: OrderContext = Depends(RECEIPT)) -> Response:
    return render(order.request, "orders/receipt.html", {**receipt_ctx(order.record), "pdf": pdf_available()})


def pdf_available() -> bool:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


@router.get("/orders/{ref}/receipt.pdf")
def receipt_pdf(order: OrderContext = Depends(RECEIPT)) -> Response:
    if not pdf_available():  # a broken install must say so, never answer a PDF link with a web page
        return Response(
            "PDF output is unavailable: WeasyPrint (a dependency of openem) cannot be imported on "
            "this server. Reinstall openem's dependencies; the receipt page still shows the order.",
            status_code=503,
            media_type="text/plain",
        )
    import weasyprint

    html = order.request.app.state.templates.get_template("orders/receipt_pdf.html").render(
        receipt_ctx(order.record)
    )
    pdf = weasyprint.HTML(string=html).write_pdf()
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="order-{order.ref}.pdf"'},
    )


def changes(record: OrderRecord, version: int) -> list[Any]:
    """Field-by-field changes made by `version` compared with the version before it."""
    if version < 2 or version > len(record.versions):
        return []
    doc = record.versions[version - 1].document
    return [
        {"field": c.field, "before": c.before, "after": c.after, "question": question_for(doc, c.field)}
        for c in diff_orders(record.versions[version - 2].document, doc)
    ]


def overview(
    order: OrderContext,
    errors: list[tuple[str, str]] | None = None,
    status_code: int = 200,
    shown: OrderVersion | None = None,
) -> Response:
    """The order's page after entry; `shown` is the version to show when it is not the latest."""
    p = order.caller.principal
    assert p is not None
    record = order.record
    latest = shown or record.latest
    ctx = {
        "title": ("Error: " if errors else "") + f"Order {record.ref}",
        "record": record,
        "this_version": latest,
        "sections": answers(latest.document),
        "errors": errors or [],
        "changes": changes(record, latest.version),
        "can_review": p.has("orders:review") and latest.status is OrderStatus.SUBMITTED,
        "can_vary": p.has("orders:create") and latest.status in (OrderStatus.ACCEPTED, OrderStatus.ACTIVE),
        "can_amend": p.has("orders:create") and latest.status is OrderStatus.REJECTED,
        **active.in_force_context(order),
    }
    return render(order.request, "orders/overview.html", ctx, status=status_code)


@router.post("/orders/{ref}/accept", dependencies=WRITE)
def accept(order: OrderContext = Depends(REVIEW)) -> Response:
    order.changed(order.service.accept(order.actor, order.ref))
    return order.redirect("?decided=accepted")


@router.post("/orders/{ref}/reject", dependencies=WRITE)
def reject(order: OrderContext = Depends(REVIEW), form: Any = Depends(read_form)) -> Response:
    raw = str(form.get("reasons", ""))[:4000]
    reasons = [line.strip()[:500] for line in raw.splitlines() if line.strip()][:20]
    try:
        order.changed(order.service.reject(order.actor, order.ref, reasons))
    except OrderInvalid as exc:
        return overview(order, [("reasons", e.message) for e in exc.errors], 422)
    return order.redirect("?decided=rejected")


@router.post("/orders/{ref}/vary", dependencies=WRITE)
def vary(order: OrderContext = Depends(CREATE), form: Any = Depends(read_form)) -> Response:
    kind = str(form.get("request_type", "VARIATION"))[:30]
    request_type = RequestType.AMEND_REJECTED if kind == "AMEND_REJECTED" else RequestType.VARIATION
    order.changed(order.service.vary(order.actor, order.ref, request_type))
    return order.redirect()
