"""An order in force: what its page shows besides the answers (the devices fitted, its latest alerts, a map
of its addresses and zones), and the monitoring centre ending it (a reason, a confirmation; the orders
service audits it and emits `OrderEnded`). Suspending an order is not in the lifecycle yet."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from openem.alerts.queries import alerts_for_order
from openem.devices.queries import activations_of_order
from openem.orders.model import OrderStatus
from openem.orders.service import OrderInvalid
from openem.orders.web.context import OrderContext, order_route
from openem.orders.web.zones import map_data
from openem.web.deps import csrf_protect, read_form
from openem.web.rendering import render

router = APIRouter(tags=["order pages"])
REVIEW = order_route("orders:review")
IN_FORCE = (OrderStatus.ACCEPTED, OrderStatus.ACTIVE)
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
    return {
        "in_force": True,
        "devices": devices,
        "show_devices": p.has("devices:read"),
        "alerts": alerts,
        "show_alerts": p.has("alerts:read"),
        "map_data": map_data(order.request, current.document),
        "can_end": p.has("orders:review") and order.record.latest.status in IN_FORCE,
    }


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
