"""The person search and person view, as pages and JSON (issue 15, decision 0026).

Least privilege: each route needs `location:read`, and the person must have at least one order the caller may
see (`auth.policy.can_view_case`: a practitioner's caseload, an officer's force); only those orders and their
wearer's data are shown. A person outside the caller's reach is answered exactly as a missing person (404, the
same words), and the refusal is audited. Every search, view and export is audited with the purpose the caller
gave (a police officer also gives a crime or incident reference) and what was returned.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from openem.auth import audit
from openem.auth.roles import Role
from openem.core.errors import Invalid
from openem.core.time import iso
from openem.insights import service
from openem.orders.queries import PersonOrder, map_context_of
from openem.store.db import UnitOfWork
from openem.web.deps import Caller, deny_as_missing, get_uow, require
from openem.web.rendering import render

router = APIRouter()
MISSING = "There is no such person"
#: Positions drawn on the page's map at most (the table and the exports carry every one).
MAP_POINTS = 2_000


def stated_purpose(caller: Caller, purpose: str, reference: str) -> str:
    """The purpose recorded with a look: asked of everyone; police also give a crime or incident reference."""
    assert caller.principal is not None
    purpose = " ".join(purpose.split())[:400]
    reference = " ".join(reference.split())[:60]
    if len(purpose) < 5:
        raise Invalid("Say why you are looking (at least 5 characters): it is recorded with what you see")
    if caller.principal.has_role(Role.POLICE_OFFICER) and not reference:
        raise Invalid("Give the crime or incident reference this look is for")
    return f"{purpose} [ref {reference}]" if reference else purpose


def load_person(request: Request, uow: UnitOfWork, caller: Caller, person_id: str) -> list[PersonOrder]:
    """The person's orders the caller may see; none (or no such person) is refused as missing, audited."""
    assert caller.principal is not None
    person_id = person_id[:40]
    orders, total = service.person_orders(uow.session, caller.principal, person_id)
    if not orders:
        deny_as_missing(
            request,
            caller,
            "person outside your cases" if total else "no such person",
            MISSING,
            records=[person_id],
        )
    return orders


def _audit(
    uow: UnitOfWork, caller: Caller, action: str, person_id: str, orders: list[PersonOrder], purpose: str,
    **details: Any,
) -> None:  # fmt: skip
    audit.record(
        uow.session,
        actor=caller.actor,
        action=f"insights:{action}",
        records=[person_id, *(o.ref for o in orders)],
        purpose=purpose,
        details=details,
    )


@dataclass(frozen=True)
class Look:
    """One stated look at a person: the orders the caller may see, the purpose recorded and the window."""

    uow: UnitOfWork
    caller: Caller
    person_id: str
    orders: list[PersonOrder]
    why: str
    frm: datetime
    to: datetime

    def audit(self, action: str, **details: Any) -> None:
        _audit(self.uow, self.caller, action, self.person_id, self.orders, self.why,
               **details, **{"from": iso(self.frm), "to": iso(self.to)})  # fmt: skip


def open_look(
    request: Request, uow: UnitOfWork, caller: Caller, person_id: str, orders: list[PersonOrder] | None,
    purpose: str, reference: str, start: str | None, end: str | None,
) -> Look:  # fmt: skip
    """Refused as missing first (audited), then the purpose, then the window: in that order on every route."""
    orders = load_person(request, uow, caller, person_id) if orders is None else orders
    why = stated_purpose(caller, purpose, reference)
    frm, to = service.window(start, end)
    return Look(uow, caller, person_id, orders, why, frm, to)


def _point_json(p: dict[str, Any]) -> dict[str, Any]:
    return {**p, "time": iso(p["time"])}


def person_data(
    uow: UnitOfWork, orders: list[PersonOrder], person_id: str, frm: datetime, to: datetime
) -> dict[str, Any]:
    points = service.trail(uow.session, person_id, frm, to)
    nights = [n for o in orders for n in service.curfew_nights(o, points, frm, to)]
    visits = [v for o in orders for v in service.zone_visits(o, points)]
    devices, alerts = service.devices_and_alerts(uow.session, orders)
    return {"points": points, "nights": nights, "visits": visits, "devices": devices, "alerts": alerts}


# --- search -------------------------------------------------------------------------------------------------


@router.get("/api/people", tags=["insights"])
def api_search(
    q: str = Query(..., min_length=1, max_length=100),
    purpose: str = Query("", max_length=500),
    reference: str = Query("", max_length=100),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("location:read")),
) -> list[dict[str, Any]]:
    assert caller.principal is not None
    why = stated_purpose(caller, purpose, reference)
    found = service.search(uow.session, caller.principal, q)
    audit.record(
        uow.session,
        actor=caller.actor,
        action="insights:search",
        records=[p["person_id"] for p in found],
        purpose=why,
        details={"query": q[:100], "found": len(found)},
    )
    return found


@router.get("/people", include_in_schema=False)
def search_page(
    request: Request,
    q: str = Query("", max_length=100),
    purpose: str = Query("", max_length=500),
    reference: str = Query("", max_length=100),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("location:read")),
) -> Response:
    assert caller.principal is not None
    ctx: dict[str, Any] = {
        "q": q,
        "purpose": purpose,
        "reference": reference,
        "police": caller.principal.has_role(Role.POLICE_OFFICER),
        "results": None,
        "error": "",
    }
    if q.strip():
        try:
            why = stated_purpose(caller, purpose, reference)
        except Invalid as e:
            ctx["error"] = str(e)
        else:
            found = service.search(uow.session, caller.principal, q)
            audit.record(
                uow.session,
                actor=caller.actor,
                action="insights:search",
                records=[p["person_id"] for p in found],
                purpose=why,
                details={"query": q[:100], "found": len(found)},
            )
            ctx["results"] = found
    return render(request, "insights/search.html", ctx)


# --- the person view ----------------------------------------------------------------------------------------


@router.get("/api/people/{person_id}", tags=["insights"])
def api_person(
    person_id: str,
    request: Request,
    start: str | None = Query(None, alias="from", max_length=40),
    end: str | None = Query(None, alias="to", max_length=40),
    purpose: str = Query("", max_length=500),
    reference: str = Query("", max_length=100),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("location:read")),
) -> dict[str, Any]:
    look = open_look(request, uow, caller, person_id, None, purpose, reference, start, end)
    orders, frm, to = look.orders, look.frm, look.to
    data = person_data(uow, orders, person_id, frm, to)
    look.audit("person:read", positions=len(data["points"]))
    return {
        "person_id": person_id,
        "from": iso(frm),
        "to": iso(to),
        "orders": [
            {
                "ref": o.ref,
                "status": o.status,
                "name": o.wearer_name,
                "conditions": dict(service.conditions_summary(o)),
            }
            for o in orders
        ],
        "positions": len(data["points"]),
        "curfew": [_night_json(n) for n in data["nights"]],
        "zone_visits": [{**v, "start": iso(v["start"]), "end": iso(v["end"])} for v in data["visits"]],
        "devices": [
            {**d, "start": iso(d["start"]), "end": iso(d["end"]) if d["end"] else None}
            for d in data["devices"]
        ],
        "alerts": [_alert_json(a) for a in data["alerts"]],
    }


def _night_json(n: service.Night) -> dict[str, Any]:
    return {
        "night_of": n.day.isoformat(),
        "start": iso(n.start),
        "end": iso(n.end),
        "status": n.status,
        "positions": n.positions,
        "away_minutes": n.away_minutes,
    }


def _alert_json(a: dict[str, Any]) -> dict[str, Any]:
    return {k: iso(v) if isinstance(v, datetime) else v for k, v in a.items()}


def _geojson(person_id: str, points: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "properties": {"person_id": person_id},
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [p["lon"], p["lat"]]},
                "properties": {
                    "n": i + 1,
                    "time": iso(p["time"]),
                    "accuracy_m": p["accuracy_m"],
                    "device_id": p["device_id"],
                    "seq": p["seq"],
                },
            }
            for i, p in enumerate(points)
        ],
    }


@router.get("/api/people/{person_id}/trail", tags=["insights"])
def api_trail(
    person_id: str,
    request: Request,
    start: str | None = Query(None, alias="from", max_length=40),
    end: str | None = Query(None, alias="to", max_length=40),
    purpose: str = Query("", max_length=500),
    reference: str = Query("", max_length=100),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("location:read")),
) -> JSONResponse:
    look = open_look(request, uow, caller, person_id, None, purpose, reference, start, end)
    points = service.trail(uow.session, person_id, look.frm, look.to)
    look.audit("trail:read", positions=len(points))
    return JSONResponse(_geojson(person_id, points), media_type="application/geo+json")


@router.get("/api/people/{person_id}/curfew", tags=["insights"])
def api_curfew(
    person_id: str,
    request: Request,
    start: str | None = Query(None, alias="from", max_length=40),
    end: str | None = Query(None, alias="to", max_length=40),
    purpose: str = Query("", max_length=500),
    reference: str = Query("", max_length=100),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("location:read")),
) -> list[dict[str, Any]]:
    look = open_look(request, uow, caller, person_id, None, purpose, reference, start, end)
    points = service.trail(uow.session, person_id, look.frm, look.to)
    nights = [n for o in look.orders for n in service.curfew_nights(o, points, look.frm, look.to)]
    look.audit("curfew:read", nights=len(nights))
    return [_night_json(n) for n in nights]


@router.get("/people/{person_id}/export.{fmt}", include_in_schema=False)
def export(
    person_id: str,
    fmt: str,
    request: Request,
    start: str | None = Query(None, alias="from", max_length=40),
    end: str | None = Query(None, alias="to", max_length=40),
    purpose: str = Query("", max_length=500),
    reference: str = Query("", max_length=100),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("location:read")),
) -> Response:
    orders = load_person(request, uow, caller, person_id)
    if fmt not in ("csv", "geojson"):
        raise Invalid("Exports are CSV or GeoJSON")
    look = open_look(request, uow, caller, person_id, orders, purpose, reference, start, end)
    frm, to = look.frm, look.to
    points = service.trail(uow.session, person_id, frm, to)
    look.audit(f"export:{fmt}", positions=len(points))
    name = f"trail-{person_id}-{frm.date().isoformat()}-{to.date().isoformat()}"
    headers = {"Content-Disposition": f'attachment; filename="{name}.{fmt}"', "Cache-Control": "no-store"}
    if fmt == "geojson":
        return Response(
            json.dumps(_geojson(person_id, points)), media_type="application/geo+json", headers=headers
        )
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["n", "time_utc", "lat", "lon", "accuracy_m", "device_id", "seq"])
    for i, p in enumerate(points):
        w.writerow(
            [
                i + 1,
                iso(p["time"]),
                f"{p['lat']:.6f}",
                f"{p['lon']:.6f}",
                p["accuracy_m"],
                p["device_id"],
                p["seq"],
            ]
        )
    return Response(buf.getvalue(), media_type="text/csv", headers=headers)


@router.get("/people/{person_id}", include_in_schema=False)
def person_page(
    person_id: str,
    request: Request,
    start: str | None = Query(None, alias="from", max_length=40),
    end: str | None = Query(None, alias="to", max_length=40),
    purpose: str = Query("", max_length=500),
    reference: str = Query("", max_length=100),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("location:read")),
) -> Response:
    assert caller.principal is not None
    orders = load_person(request, uow, caller, person_id)
    ctx: dict[str, Any] = {
        "person_id": person_id,
        "name": orders[0].wearer_name,
        "purpose": purpose,
        "reference": reference,
        "police": caller.principal.has_role(Role.POLICE_OFFICER),
        "start": start or "",
        "end": end or "",
        "error": "",
        "shown": False,
    }
    try:
        look = open_look(request, uow, caller, person_id, orders, purpose, reference, start, end)
    except Invalid as e:
        ctx["error"] = str(e) if purpose or start or end else ""
        return render(request, "insights/person.html", ctx)
    frm, to = look.frm, look.to
    data = person_data(uow, orders, person_id, frm, to)
    look.audit("person:read", positions=len(data["points"]))
    points = data["points"]
    step = max(1, len(points) // MAP_POINTS)
    drawn = [_point_json(p) for p in points[::step]]
    context: dict[str, list[dict[str, Any]]] = {"addresses": [], "zones": [], "places": []}
    for o in orders:
        for k, v in map_context_of(o.document).items():
            context[k].extend(v)
    ctx |= {
        "shown": True,
        "from_": frm,
        "to_": to,
        "start": start or frm.date().isoformat(),
        "end": end or "",
        "orders": [(o, service.conditions_summary(o)) for o in orders],
        "points": points,
        "nights": data["nights"],
        "visits": data["visits"],
        "devices": data["devices"],
        "alerts": data["alerts"],
        "geo_json": json.dumps(drawn),
        "context_json": json.dumps(context),
        "thinned": step > 1,
        "newest": points[-1]["time"] if points else None,
        "export_query": request.url.query,
    }
    return render(request, "insights/person.html", ctx)
