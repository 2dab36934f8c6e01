"""Stock by depot and officer, the forecast per depot, a device's page (history, move it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from openem.auth import audit
from openem.core.errors import Conflict, Invalid, NotFound
from openem.core.time import local_date, utcnow
from openem.devices import queries, service, stock
from openem.devices.rules import ALLOWED, KIND_LABELS, STATE_LABELS
from openem.store.db import UnitOfWork
from openem.web.deps import Caller, csrf_protect, get_uow, read_form, require
from openem.web.rendering import render

router = APIRouter()
READ = require("devices:read")
MANAGE = require("devices:manage")
BY_TRANSFER = {"IN_TRANSIT"}  # sent and received with a transfer (web/transfers.py), not moved one by one


@router.get("/devices/stock", include_in_schema=False)
def stock_page(request: Request, uow: UnitOfWork = Depends(get_uow, scope="function"),
               caller: Caller = Depends(READ)) -> Response:  # fmt: skip
    rules = stock.load_stock_rules()
    by_depot = queries.stock_by_depot(uow.session)
    rows = []
    for depot in sorted(by_depot):
        for kind in sorted(by_depot[depot]):
            counts = by_depot[depot][kind]
            level = stock.threshold(rules, depot, kind)
            rows.append({"depot": depot or "No depot", "depot_id": depot, "kind": kind, "counts": counts,
                         "in_stock": counts.get("IN_STOCK", 0), "threshold": level,
                         "reorder": counts.get("IN_STOCK", 0) < level})  # fmt: skip
    audit.record(uow.session, actor=caller.actor, action="devices:stock:read", purpose="manage device stock")
    return render(request, "devices/stock.html", {"rows": rows, "states": STATE_LABELS, "kinds": KIND_LABELS,
                  "holders": queries.stock_by_holder(uow.session),
                  "can_manage": bool(caller.principal and caller.principal.has("devices:manage"))})  # fmt: skip


def forecast_for(uow: UnitOfWork, depot: str) -> list[dict[str, Any]]:
    rules = stock.load_stock_rules()
    now = utcnow()
    days = int(rules["history_days"])
    rates = queries.weekly_rates(uow.session, depot, now - timedelta(days=days), days)
    counts = queries.stock_by_depot(uow.session).get(depot, {})
    out = []
    for kind in sorted(set(counts) | set(rates)):
        fits, ends = rates.get(kind, (0.0, 0.0))
        if fits == 0.0:
            fits = float(rules["demand"]["default_weekly_fits"].get(kind, 0))
        level = stock.threshold(rules, depot, kind)
        weeks = stock.forecast(in_stock=counts.get(kind, {}).get("IN_STOCK", 0), weekly_fits=fits, weekly_ends=ends,
                               start=local_date(now), rules=rules, threshold_level=level)  # fmt: skip
        out.append({"kind": kind, "weeks": weeks, "threshold": level, "reorder": stock.reorder_week(weeks),
                    "fits": round(fits, 1), "chart": _chart(weeks, level)})  # fmt: skip
    return out


def _chart(weeks: list[stock.Week], level: int) -> dict[str, Any]:
    """An inline SVG line (no script, no tiles): stock per week, the threshold dashed."""
    w, h, pad = 600, 200, 30
    values = [wk.stock for wk in weeks] + [float(level), 0.0]
    top, low = max(values), min(values)
    span = (top - low) or 1.0

    def y(v: float) -> float:
        return round(h - pad - (v - low) / span * (h - 2 * pad), 1)

    step = (w - 2 * pad) / max(len(weeks) - 1, 1)
    points = " ".join(f"{round(pad + i * step, 1)},{y(wk.stock)}" for i, wk in enumerate(weeks))
    return {"w": w, "h": h, "points": points, "threshold_y": y(float(level)), "zero_y": y(0.0), "pad": pad}


@router.get("/devices/stock/{depot}/forecast", include_in_schema=False)
def forecast_page(depot: str, request: Request, uow: UnitOfWork = Depends(get_uow, scope="function"),
                  caller: Caller = Depends(READ)) -> Response:  # fmt: skip
    depot = depot.strip().upper()[:40]
    if depot not in queries.stock_by_depot(uow.session):
        raise NotFound("There is no such depot")
    rules = stock.load_stock_rules()
    audit.record(
        uow.session, actor=caller.actor, action=f"devices:stock:{depot}:forecast", purpose="plan stock"
    )
    return render(request, "devices/forecast.html", {"depot": depot, "kinds": KIND_LABELS,
                  "forecasts": forecast_for(uow, depot), "rise": round(stock.demand_rise(rules) * 100),
                  "rules": rules})  # fmt: skip


@router.get("/devices/{device_id}", include_in_schema=False)
def device_page(device_id: str, request: Request, uow: UnitOfWork = Depends(get_uow, scope="function"),
                caller: Caller = Depends(READ)) -> Response:  # fmt: skip
    return _device_page(request, uow, caller, device_id[:64], [], {})


def _device_page(request: Request, uow: UnitOfWork, caller: Caller, device_id: str,
                 errors: list[tuple[str, str]], form: dict[str, str], status: int = 200) -> Response:  # fmt: skip
    d = queries.device(uow.session, device_id)
    if d is None:
        raise NotFound("There is no such device in the inventory")
    audit.record(uow.session, actor=caller.actor, action=f"devices:{device_id}:read", records=[device_id],
                 purpose="manage device stock")  # fmt: skip
    moves = sorted(ALLOWED.get(d["status"], frozenset()) - {"FITTED", "AWAITING_RETURN", *BY_TRANSFER})
    if d["status"] == "IN_TRANSIT":
        moves = ["LOST"]  # it arrives by receiving its transfer
    return render(request, "devices/device.html", {"d": d, "history": queries.device_history(uow.session, device_id),
                  "states": STATE_LABELS, "kinds": KIND_LABELS, "moves": moves, "errors": errors, "form": form,
                  "can_manage": bool(caller.principal and caller.principal.has("devices:manage"))}, status)  # fmt: skip


@router.post("/devices/{device_id}", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def move_device(device_id: str, request: Request, uow: UnitOfWork = Depends(get_uow, scope="function"),
                caller: Caller = Depends(MANAGE), form: Any = Depends(read_form)) -> Response:  # fmt: skip
    device_id = device_id[:64]
    d = queries.device(uow.session, device_id)
    if d is None:
        raise NotFound("There is no such device in the inventory")
    values = {k: str(form.get(k, ""))[:300].strip() for k in ("to", "reason", "officer")}
    errors: list[tuple[str, str]] = []
    if values["to"] not in STATE_LABELS or values["to"] in ("FITTED", "AWAITING_RETURN"):
        errors.append(("to", "Select where the device goes (fittings are recorded on a visit)"))
    elif values["to"] in BY_TRANSFER or (d["status"] == "IN_TRANSIT" and values["to"] != "LOST"):
        errors.append(("to", "Devices move between depots by a transfer: see Move stock between depots"))
    if not values["reason"] or len(values["reason"]) > 200:
        errors.append(("reason", "Enter why, in 200 characters or fewer"))
    if values["to"] == "ALLOCATED" and not values["officer"]:
        errors.append(("officer", "Enter the officer the device goes to"))
    if not errors:
        try:
            if values["to"] == "ALLOCATED":
                service.allocate(uow.session, actor=caller.actor, device_id=device_id, officer=values["officer"],
                                 at=utcnow())  # fmt: skip
            else:
                service.transition(uow.session, actor=caller.actor, device_id=device_id, to=values["to"],
                                   at=utcnow(), reason=values["reason"])  # fmt: skip
        except (Invalid, Conflict) as exc:
            errors.append(("to", str(exc)))
    if errors:
        return _device_page(request, uow, caller, device_id, errors, values, 422)
    return RedirectResponse(f"/devices/{device_id}", status_code=303)
