"""Order-entry web pages (GOV.UK): order lists and search, starting a draft, the task list and one page per
section. Check your answers, submit, review, variation, zones and bulk import are in `flow.py` and
`zones.py`; the question definitions in `sections.py`; form conversion in `forms.py`.

Decisions stay in the orders service and rules; these handlers only turn forms into section values and
errors into GOV.UK error summaries.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from openem.auth import audit
from openem.auth.roles import Role
from openem.core.errors import NotFound
from openem.orders.lifecycle import OrderRecord
from openem.orders.model import DAYS, OrderStatus
from openem.orders.rules.base import ValidationError
from openem.orders.service import OrderInvalid
from openem.orders.web import active, flow, listing, zones
from openem.orders.web.context import OrderContext, order_route, order_service
from openem.orders.web.forms import Field, apply_form, display, get_path, prune
from openem.orders.web.listing import TABS
from openem.orders.web.sections import (
    BY_SLUG,
    CONDITIONS_GROUP,
    CURFEW_STATIC_FIELDS,
    GROUPS,
    HIDDEN_UNLESS_NEEDED,
    PAGES,
    REPEATED,
    Page,
    page_errors,
    page_for,
    slot_fields,
    status,
    timetable,
)
from openem.store.db import UnitOfWork
from openem.web.deps import Caller, csrf_protect, get_uow, read_form, require
from openem.web.rendering import render

router = APIRouter(tags=["order pages"])
WRITE = [Depends(csrf_protect)]
# the flow's and zones' fixed paths (/orders/import, /orders/{ref}/check-answers...) must match first
router.include_router(flow.router)
router.include_router(active.router)
router.include_router(zones.router)
READ = order_route("orders:read")
CREATE = order_route("orders:create")


@router.get("/orders")
def order_list(
    request: Request,
    tab: str = Query("", max_length=20),
    q: str = Query("", max_length=100),
    mine: bool = Query(False),
    page: int = Query(1, ge=1, le=10_000),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("orders:read")),
) -> Response:
    p = caller.principal
    assert p is not None
    needle = q.strip().lower()
    if tab not in TABS:
        # a search looks in every tab; the monitoring centre starts on the orders waiting for it
        tab = "all" if needle else ("submitted" if p.has("orders:review") else "all")
    result = listing.order_list(uow.session, p, tab, needle, mine, page)
    audit.record(
        uow.session,
        actor=caller.actor,
        action="orders:list:read",
        records=[r.ref for r in result.rows],
        details={"tab": tab, "q": needle[:100], "page": result.page},
    )
    return render(
        request,
        "orders/list.html",
        {
            "title": "Orders",
            "result": result,
            "rows": result.rows,
            "tabs": {k: label for k, (label, _) in TABS.items() if k != "draft" or p.has("orders:create")},
            "tab_label": TABS[tab][0],
            "tab": tab,
            "q": q,
            "mine": mine,
            "page_links": listing.page_links(result.pages, result.page),
            "can_create": p.has("orders:create"),
            "can_import": p.has_role(Role.ORDER_CREATOR_COURT),
        },
    )


@router.get("/orders/new")
def order_start(request: Request, caller: Caller = Depends(require("orders:create"))) -> Response:
    return render(request, "orders/start.html", {"title": "Start a new order"})


@router.post("/orders/new", dependencies=WRITE)
def order_new(
    uow: UnitOfWork = Depends(get_uow, scope="function"), caller: Caller = Depends(require("orders:create"))
) -> Response:
    result = order_service(uow).create_draft(caller.actor, {})
    return RedirectResponse(f"/orders/{result.record.ref}", status_code=303)


def task_rows(doc: dict[str, Any], errors: list[ValidationError]) -> list[tuple[str, list[tuple[Page, str]]]]:
    rows = [
        (title, [(BY_SLUG[s], status(BY_SLUG[s], doc, errors)) for s in slugs]) for title, slugs in GROUPS
    ]
    # the variation's own questions only on a variation, DAPO clauses only where they are asked
    rows = [
        (title, [(p, s) for p, s in tasks if not (s == "Not needed" and p.slug in HIDDEN_UNLESS_NEEDED)])
        for title, tasks in rows
    ]
    return [(title, tasks) for title, tasks in rows if tasks]


@router.get("/orders/{ref}")
def order_page(check: bool = Query(False), order: OrderContext = Depends(READ)) -> Response:
    record = order.record
    if record.latest.status is not OrderStatus.DRAFT:
        return flow.overview(order)
    p = order.caller.principal
    if p is not None and not p.has("orders:create"):
        # only creators edit: others get the answers read-only (the version in force while one is varied)
        return flow.overview(order, shown=record.current or record.latest)
    doc = record.latest.document
    errors = order.service.validate(record.ref)
    groups = task_rows(doc, errors)
    # no single page chooses the conditions: the task list's condition sections do, so the error is here
    conditions_error = next((e.message for e in errors if e.field == "conditions"), "") if check else ""
    done = sum(1 for _, tasks in groups for _, s in tasks if s == "Completed")  # sections with answers given
    total = sum(1 for _, tasks in groups for _, s in tasks if s not in ("Not needed", "Optional"))
    return render(
        order.request,
        "orders/task_list.html",
        {
            "title": "Order " + record.ref,
            "record": record,
            "doc": doc,
            "groups": groups,
            "conditions_group": CONDITIONS_GROUP,
            "done": done,
            "total": total,
            "wearer": wearer_name(doc),
            "this_version": record.latest,
            "changes": flow.changes(record, record.latest.version),
            "conditions_error": conditions_error,
            "errors": [("conditions", conditions_error)] if conditions_error else [],
        },
    )


def wearer_name(doc: dict[str, Any]) -> str:
    name = " ".join(
        str(get_path(doc, f"device_wearer.{k}") or "") for k in ("first_name", "last_name")
    ).strip()
    return name or "New order"


def page_or_404(slug: str) -> Page:
    page = BY_SLUG.get(slug[:40])
    if page is None or page.slug == "zones":
        raise NotFound("Page not found")
    return page


def render_section(
    request: Request,
    record: OrderRecord,
    page: Page,
    doc: dict[str, Any],
    errors: list[tuple[str, str]],
    raw: dict[str, Any] | None = None,
    fields: list[Field] | None = None,
    status_code: int = 200,
    saved: bool = False,
    elsewhere: list[tuple[str, str]] | None = None,
) -> Response:
    raw = raw or {}
    fields = fields if fields is not None else page.fields(doc)
    paths = {f.path for f in fields}
    first = fields[0].path if fields else "main-content"
    messages: dict[str, str] = {}
    summary = []
    for field, message in errors:
        target = field if field in paths else next((p for p in sorted(paths) if p.startswith(field)), first)
        messages.setdefault(target, message)
        summary.append((target, message))
    summary.extend(elsewhere or [])  # (url, message): errors on other pages this save caused
    values = {f.path: raw[f.path] if f.path in raw else display(f, get_path(doc, f.path)) for f in fields}
    template = "orders/curfew.html" if page.slug == "curfew" else "orders/section.html"
    groups = [("", fields)]
    if page.slug in REPEATED:
        size, legend = REPEATED[page.slug]
        groups = [(f"{legend} {i // size + 1}", fields[i : i + size]) for i in range(0, len(fields), size)]
    ctx = {
        "title": ("Error: " if errors else "") + page.title,
        "record": record,
        "page": page,
        "groups": groups,
        "fields": fields,
        "values": values,
        "messages": messages,
        "errors": summary,
        "saved": saved,
        "slots": timetable(doc) if page.slug == "curfew" else [],
        "static_count": CURFEW_STATIC_FIELDS,
    }
    return render(request, template, ctx, status=status_code)


@router.get("/orders/{ref}/{slug}")
def section_page(slug: str, check: bool = Query(False), order: OrderContext = Depends(CREATE)) -> Response:
    page = page_or_404(slug)
    redirect = order.editable()
    if redirect:
        return redirect
    errors = []
    if check:
        errors = [(e.field, e.message) for e in page_errors(page, order.service.validate(order.ref))]
    return render_section(order.request, order.record, page, order.record.latest.document, errors)


def save_sections(order: OrderContext, page: Page, doc: dict[str, Any]) -> None:
    """Save every top-level section the page writes (raises OrderInvalid with field errors)."""
    for top in sorted({p.split(".", 1)[0] for p in page.prefixes}):
        value = prune(doc.get(top))
        if top == "conditions" and isinstance(value, dict):
            name_items(value.get("attendance"), "A")
        if top == "addresses":
            value = [a for a in value or [] if any(a.get(k) for k in ("line1", "line2", "town", "postcode"))]
        order.changed(order.service.update_section(order.actor, order.ref, top, value))


def name_items(items: Any, prefix: str) -> None:
    """Give each new item of a list an id not used by the others (A1, A2...)."""
    if not isinstance(items, list):
        return
    used = {str(i.get("id")) for i in items if isinstance(i, dict) and i.get("id")}
    n = 1
    for item in items:
        if isinstance(item, dict) and not item.get("id"):
            while f"{prefix}{n}" in used:
                n += 1
            item["id"] = f"{prefix}{n}"
            used.add(item["id"])


def curfew_action(doc: dict[str, Any], action: str) -> None:
    """Add or remove a timetable slot, or copy Monday's slots to every day (in place)."""
    slots = timetable(doc)
    if action == "add":
        last = slots[-1].get("day") if slots else None
        day = DAYS[(DAYS.index(last) + 1) % 7] if last in DAYS else "MONDAY"
        slots.append({"day": day, "start": "19:00", "end": "07:00", "address_type": "PRIMARY"})
    elif action.startswith("remove-") and action[7:].isdigit() and int(action[7:]) < len(slots):
        slots.pop(int(action[7:]))
    elif action == "copy-monday":
        monday = [s for s in slots if s.get("day") == "MONDAY"]
        slots = [{**s, "day": d} for d in DAYS for s in monday]
    doc.setdefault("conditions", {})
    if not isinstance(doc["conditions"], dict):
        doc["conditions"] = {}
    curfew = doc["conditions"].get("curfew")
    doc["conditions"]["curfew"] = {**(curfew if isinstance(curfew, dict) else {}), "timetable": slots}


@router.post("/orders/{ref}/{slug}", dependencies=WRITE)
def section_save(
    slug: str, order: OrderContext = Depends(CREATE), form: Any = Depends(read_form)
) -> Response:
    page = page_or_404(slug)
    redirect = order.editable()
    if redirect:
        return redirect
    request, record = order.request, order.record
    doc = copy.deepcopy(record.latest.document)
    fields = page.fields(doc)
    action = str(form.get("action", "save"))[:20]
    if page.slug == "curfew":
        count = str(form.get("slot_count", "0"))[:2]
        fields = fields[:CURFEW_STATIC_FIELDS] + slot_fields(int(count) if count.isdigit() else 0)
        # slots beyond the submitted ones are dropped (a removed row is simply not sent)
        curfew = get_path(doc, "conditions.curfew")
        if isinstance(curfew, dict):
            curfew["timetable"] = []
    parse_errors, raw = apply_form(doc, fields, form)
    if parse_errors:
        return render_section(request, record, page, doc, parse_errors, raw, fields, status_code=422)
    if page.slug == "curfew" and action != "save":
        curfew_action(doc, action)
    before = {(e.field, e.message) for e in order.service.validate(order.ref)}
    try:
        save_sections(order, page, doc)
    except OrderInvalid as exc:
        return render_section(
            request,
            record,
            page,
            doc,
            [(e.field, e.message) for e in exc.errors],
            fields=fields,
            status_code=422,
        )
    if page.slug == "curfew" and action != "save":
        return order.redirect("/curfew#timetable")
    after = order.service.validate(order.ref)
    problems = page_errors(page, after)
    # a rule across sections (the responsible organisation a cohort needs) that this save broke is shown
    # now, linked to the question on the other page, not first at check your answers
    elsewhere = [
        e
        for e in after
        if e.code != "required"
        and page_for(e.field) not in (page, None)
        and (e.field, e.message) not in before
    ]
    if problems or elsewhere:
        record = order.reload()
        return render_section(
            request,
            record,
            page,
            record.latest.document,
            [(e.field, e.message) for e in problems],
            status_code=422,
            saved=True,
            elsewhere=flow.error_links(order.ref, elsewhere),
        )
    return order.redirect()


__all__ = ["router", "PAGES"]
