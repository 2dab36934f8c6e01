"""An order in force: what its page shows besides the answers (the devices fitted, its latest alerts, a map
of its addresses and zones), and the monitoring centre ending it (a reason, a confirmation; the orders
service audits it and emits `OrderEnded`), suspending it (reason, planned resume date, confirmation; `OrderSuspended`)
and resuming it (`OrderResumed`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from openem.alerts.queries import alerts_for_order
from openem.devices.queries import activations_of_order
from openem.field.queries import photos_of_order, pins_of_order
from openem.orders.lifecycle import current_suspension
from openem.orders.model import OrderStatus
from openem.orders.queries import map_context_of
from openem.orders.service import OrderInvalid
from openem.orders.web.context import OrderContext, order_route
from openem.orders.web.zones import map_data
from openem.web.deps import csrf_protect, read_form
from openem.web.rendering import render

router = APIRouter(tags=["order pages"])
REVIEW = order_route("orders:review")
IN_FORCE = (OrderStatus.ACCEPTED, OrderStatus.ACTIVE, OrderStatus.SUSPENDED)
DEVICE_KINDS = {"RF_TAG": "Radio frequency tag", "HMU": "Home monitoring unit", "GPS_TAG": "GPS tag",
                "ALCOHOL_TAG": "Alcohol tag", "NFD": "Non-fitted device", "VICTIM": "Victim's device"}  # fmt: skip


def in_force_context(order: OrderContext) -> dict[str, Any]:
    """Devices, alerts and map for the page of an order in force (empty for any other order)."""
    current = order.record.current
    if current is None or current.status not in IN_FORCE:
        return {"in_force": False}
    p = order.caller.principal
    assert p is not None
    session = order.uow.session
    devices = (
        [
            {**r._mapping, "kind_label": DEVICE_KINDS.get(r.device_kind, r.device_kind)}
            for r in activations_of_order(session, order.ref)
        ]
        if p.has("devices:read")
        else []
    )
    alerts = alerts_for_order(session, order.ref) if p.has("alerts:read") else []
    pins = pins_of_order(
        session, order.ref
    )  # where field placed each address (postcode, or corrected by hand)
    return {
        "in_force": True,
        "devices": devices,
        "show_devices": p.has("devices:read"),
        "alerts": alerts,
        "show_alerts": p.has("alerts:read"),
        "map_data": map_data(order.request, current.document)
        if not pins
        else _pinned_map(current.document, pins),
        "pins": pins,
        "photos": photos_of_order(session, order.ref),  # field: photos of the fitted equipment (issue 14)
        "can_place": p.user_id == order.record.versions[0].created_by or p.has("orders:review"),
        "pin_moved": order.request.query_params.get("pin") == "moved",
        "can_end": p.has("orders:review") and order.record.latest.status in IN_FORCE,
        "can_suspend": p.has("orders:review") and order.record.latest.status is OrderStatus.ACTIVE,
        "can_resume": p.has("orders:review") and order.record.latest.status is OrderStatus.SUSPENDED,
        "suspension": current_suspension(order.record.latest),
    }


def _pinned_map(doc: dict[str, Any], pins: list[dict[str, Any]]) -> str:
    """The map with each address where field placed it: a corrected pin, or the postcode's position when the
    order gave no coordinates (the order's own coordinates otherwise)."""
    import copy
    import json

    placed = {p["address_type"]: p for p in pins if p["placed"]}
    doc = copy.deepcopy(doc)
    for a in doc.get("addresses") or []:
        if not isinstance(a, dict):
            continue
        pin = placed.get(a.get("type") or "PRIMARY")
        if pin is not None and (pin["check"] == "CORRECTED" or a.get("lat") is None or a.get("lon") is None):
            a["lat"], a["lon"] = pin["lat"], pin["lon"]
    return json.dumps(map_context_of(doc))


def end_page(
    order: OrderContext, errors: list[tuple[str, str]], reason: str = "", status: int = 200
) -> Response:
    return render(
        order.request,
        "orders/end.html",
        {
            "title": ("Error: " if errors else "") + f"End order {order.ref}",
            "record": order.record,
            "errors": errors,
            "reason": reason,
        },
        status=status,
    )


@router.get("/orders/{ref}/end")
def end_form(order: OrderContext = Depends(REVIEW)) -> Response:
    if order.record.latest.status not in IN_FORCE:
        return order.redirect()
    return end_page(order, [])


@router.post("/orders/{ref}/end", dependencies=[Depends(csrf_protect)])
def end_order(order: OrderContext = Depends(REVIEW), form: Any = Depends(read_form)) -> Response:
    reason = str(form.get("reason", ""))[:500].strip()
    errors = []
    if not reason:
        errors.append(("reason", "Enter why monitoring is ending"))
    if form.get("confirm") != "yes":
        errors.append(("confirm", "Confirm that monitoring should end and the equipment be collected"))
    if errors:
        return end_page(order, errors, reason, 422)
    try:
        order.changed(order.service.end(order.actor, order.ref, reason))
    except OrderInvalid as exc:
        return end_page(order, [(e.field, e.message) for e in exc.errors], reason, 422)
    return order.redirect("?decided=ended")


def suspend_page(
    order: OrderContext, errors: list[tuple[str, str]], form: dict[str, str] | None = None, status: int = 200
) -> Response:
    return render(
        order.request,
        "orders/suspend.html",
        {
            "title": ("Error: " if errors else "") + f"Suspend order {order.ref}",
            "record": order.record,
            "errors": errors,
            "form": form or {},
        },
        status=status,
    )


@router.get("/orders/{ref}/suspend")
def suspend_form(order: OrderContext = Depends(REVIEW)) -> Response:
    if order.record.latest.status is not OrderStatus.ACTIVE:
        return order.redirect()
    return suspend_page(order, [])


def _planned_date(form: Any) -> tuple[str | None, str | None]:
    """(ISO date or None, error) from the day/month/year inputs; all blank means no planned resume."""
    parts = [str(form.get(f"until-{k}", "")).strip()[:4] for k in ("day", "month", "year")]
    if not any(parts):
        return None, None
    if not all(p.isdigit() for p in parts):
        return None, "The planned resume date must be a real date, like 10 12 2026"
    d, m, y = (int(p) for p in parts)
    try:
        return date(y, m, d).isoformat(), None
    except ValueError:
        return None, "The planned resume date must be a real date, like 10 12 2026"


@router.post("/orders/{ref}/suspend", dependencies=[Depends(csrf_protect)])
def suspend_order(order: OrderContext = Depends(REVIEW), form: Any = Depends(read_form)) -> Response:
    reason = str(form.get("reason", ""))[:500].strip()
    values = {
        "reason": reason,
        **{f"until-{k}": str(form.get(f"until-{k}", ""))[:4] for k in ("day", "month", "year")},
    }
    errors = []
    if not reason:
        errors.append(("reason", "Enter why monitoring is being suspended"))
    until, problem = _planned_date(form)
    if problem:
        errors.append(("until-day", problem))
    if form.get("confirm") != "yes":
        errors.append(("confirm", "Confirm that monitoring should be suspended"))
    if errors:
        return suspend_page(order, errors, values, 422)
    try:
        order.changed(order.service.suspend(order.actor, order.ref, reason, until))
    except OrderInvalid as exc:
        fields = {"until": "until-day"}
        return suspend_page(
            order, [(fields.get(e.field, e.field), e.message) for e in exc.errors], values, 422
        )
    return order.redirect("?decided=suspended")


@router.post("/orders/{ref}/resume", dependencies=[Depends(csrf_protect)])
def resume_order(order: OrderContext = Depends(REVIEW)) -> Response:
    if order.record.latest.status is not OrderStatus.SUSPENDED:
        return order.redirect()
    order.changed(order.service.resume(order.actor, order.ref))
    return order.redirect("?decided=resumed")
