"""The person search and person view, as pages and JSON (issue 15, decision 0026).

Least privilege: each route needs `location:read`, and the person must have at least one order the caller may
see (`auth.policy.can_view_case`: a practitioner's caseload, an officer's force); only those orders and their
wearer's data are shown. A person outside the caller's reach and an id that names nobody get the same answer
(403, the same words and body: nothing says whether the person exists), and the refusal is audited with the id
asked and the purpose given. Every search, view and export is audited with the purpose the caller
gave (a police officer also gives a crime or incident reference) and what was returned.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from openem.auth import audit
from openem.auth.roles import Role
from openem.core.errors import Invalid
from openem.core.time import iso, utcnow
from openem.insights import rules, service
from openem.insights.web import calendar
from openem.orders.queries import PersonOrder, map_context_of
from openem.store.db import UnitOfWork
from openem.web.deps import Caller, deny_unseen, get_uow, require
from openem.web.rendering import render

router = APIRouter()
#: The one answer for a person outside the caller's cases and for an id that names nobody (decision 0031).
UNSEEN = "There is no person with this id that you may see. Check the id, or search for the person."
#: Positions a page of the trail API or of the position table carries.
API_PAGE = 20_000
TABLE_PAGE = 500


def _purpose_text(purpose: str, reference: str) -> tuple[str, str, str]:
    purpose = rules.printable(" ".join(purpose.split()), 400)
    reference = rules.printable(" ".join(reference.split()), 60)
    return purpose, reference, f"{purpose} [ref {reference}]" if reference else purpose


def stated_purpose(caller: Caller, purpose: str, reference: str) -> str:
    """The purpose recorded with a look: asked of everyone; police also give a crime or incident reference."""
    assert caller.principal is not None
    purpose, reference, text = _purpose_text(purpose, reference)
    if len(purpose) < 5:
        raise Invalid(
            "Say why you are looking (at least 5 characters): it is recorded with what you see",
            field="purpose",
        )
    if caller.principal.has_role(Role.POLICE_OFFICER) and not reference:
        raise Invalid("Give the crime or incident reference this look is for", field="reference")
    return text


def load_person(
    request: Request, uow: UnitOfWork, caller: Caller, person_id: str, purpose: str = "", reference: str = ""
) -> list[PersonOrder]:
    """The person's orders the caller may see. None visible, or no such person, or an id no person could have:
    the same 403 (`UNSEEN`), audited with the id asked and the purpose given (before the purpose is checked,
    so that a refusal never depends on what else was sent)."""
    assert caller.principal is not None
    orders, total = service.person_orders(uow.session, caller.principal, person_id)
    if not orders:
        deny_unseen(
            request,
            caller,
            "person outside your cases" if total else "no such person",
            UNSEEN,
            action="insights:person:denied",
            records=[rules.printable(person_id, 40)],
            purpose=_purpose_text(purpose, reference)[2],
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


@dataclass(frozen=True)
class PersonRoute:
    """A person route's request, loaded and authorised once (`person_route`): the orders the caller may see,
    the purpose and the window as sent. `look()` then asks for the purpose, then checks the window."""

    request: Request
    uow: UnitOfWork
    caller: Caller
    person_id: str
    orders: list[PersonOrder]
    purpose: str
    reference: str
    start: str | None = None
    end: str | None = None

    def parts(self) -> tuple[Request, UnitOfWork, Caller, str, list[PersonOrder]]:
        return self.request, self.uow, self.caller, self.person_id, self.orders

    def page_context(self) -> dict[str, Any]:
        """What every person page shows before the purpose is given: the person's name and the purpose form."""
        assert self.caller.principal is not None
        return {"person_id": self.person_id, "name": self.orders[0].wearer_name, "purpose": self.purpose,
                "reference": self.reference, "police": self.caller.principal.has_role(Role.POLICE_OFFICER),
                "error": "", "error_field": "", "shown": False}  # fmt: skip

    def why(self) -> str:
        return stated_purpose(self.caller, self.purpose, self.reference)

    def look(self) -> Look:
        why = self.why()
        frm, to = service.window(self.start, self.end)
        return Look(self.uow, self.caller, self.person_id, self.orders, why, frm, to)


READ = require("location:read")


def person_route(
    person_id: str,
    request: Request,
    purpose: str = Query("", max_length=500),
    reference: str = Query("", max_length=100),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(READ),
) -> PersonRoute:
    """Dependency of every person read: refused first (403, audited), before the purpose and window."""
    orders = load_person(request, uow, caller, person_id, purpose, reference)
    return PersonRoute(request, uow, caller, person_id, orders, purpose, reference)


def windowed_route(
    route: PersonRoute = Depends(person_route),
    start: str | None = Query(None, alias="from", max_length=40),
    end: str | None = Query(None, alias="to", max_length=40),
) -> PersonRoute:
    """`person_route` for a read over a window of time (`from`, `to`)."""
    return dataclasses.replace(route, start=start, end=end)


def _point_json(p: dict[str, Any]) -> dict[str, Any]:
    return {**p, "time": iso(p["time"])}


def lake_dir(request: Request) -> Path:
    return Path(request.app.state.settings.var_dir) / "lake"


def person_data(
    request: Request, uow: UnitOfWork, orders: list[PersonOrder], person_id: str, frm: datetime, to: datetime
) -> dict[str, Any]:
    """Everything the person view shows for a window, the trail merged from the recent store and the lake."""
    tr = service.trail(uow.session, person_id, frm, to, lake_dir(request))
    points = tr.points
    zones = service.zones_of(orders)
    inside = service.inside_zones(zones, points)
    nights = [n for o in orders for n in service.curfew_nights(o, points, frm, to)]
    visits = service.zone_visits(zones, points, inside)
    devices, alerts = service.devices_and_alerts(uow.session, orders)
    return {
        "points": points,
        "from_lake": tr.from_lake,
        "unreadable_days": tr.unreadable_days,
        "missing_days": tr.missing_days,
        "inside": inside,
        "zones": zones,
        "nights": nights,
        "atv_minutes": rules.atv_minutes((n.status, n.away_minutes) for n in nights),
        "visits": visits,
        "zone_totals": service.zone_totals(visits),
        "appointments": service.appointments(orders, points, utcnow()),
        "devices": devices,
        "alerts": alerts,
    }


# --- search -------------------------------------------------------------------------------------------------


@router.get("/api/people", tags=["insights"])
def api_search(
    q: str = Query(..., min_length=1, max_length=100),
    purpose: str = Query("", max_length=500),
    reference: str = Query("", max_length=100),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("location:read")),
) -> list[dict[str, Any]]:
    return _search(uow, caller, q, stated_purpose(caller, purpose, reference))


def _search(uow: UnitOfWork, caller: Caller, q: str, why: str) -> list[dict[str, Any]]:
    """The people the caller may see matching `q`, the search audited with its purpose and what it found."""
    assert caller.principal is not None
    found = service.search(uow.session, caller.principal, q)
    audit.record(uow.session, actor=caller.actor, action="insights:search", records=[p["person_id"] for p in found],
                 purpose=why, details={"query": rules.printable(q, 100), "found": len(found)})  # fmt: skip
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
        "error_field": "",
    }
    if q.strip():
        try:
            why = stated_purpose(caller, purpose, reference)
        except Invalid as e:
            ctx |= {"error": str(e), "error_field": e.field or "purpose"}
        else:
            ctx["results"] = _search(uow, caller, q, why)
    return render(request, "insights/search.html", ctx)


# --- the person view ----------------------------------------------------------------------------------------


def _lake_note(data: dict[str, Any]) -> list[str]:
    return [d.isoformat() for d in data["unreadable_days"]]


@router.get("/api/people/{person_id}", tags=["insights"])
def api_person(route: PersonRoute = Depends(windowed_route)) -> dict[str, Any]:
    look = route.look()
    person_id, orders, frm, to = route.person_id, look.orders, look.frm, look.to
    data = person_data(route.request, route.uow, orders, person_id, frm, to)
    look.audit("person:read", positions=len(data["points"]))
    points = data["points"]
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
        "positions": len(points),
        "positions_from_lake": data["from_lake"],
        "lake_days_unreadable": _lake_note(data),
        "lake_days_missing": [d.isoformat() for d in data["missing_days"]],
        "newest_position": iso(points[-1]["time"]) if points else None,
        "freshness_warning": rules.freshness(points[-1]["time"] if points else None, utcnow()),
        "curfew": [_night_json(n) for n in data["nights"]],
        "atv_minutes": data["atv_minutes"],
        "zone_visits": [{**v, "start": iso(v["start"]), "end": iso(v["end"])} for v in data["visits"]],
        "zone_totals": data["zone_totals"],
        "appointments": [{**a, "start": iso(a["start"]), "end": iso(a["end"])} for a in data["appointments"]],
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
        "intervals": [{"from": iso(a), "to": iso(b), "at_home": h} for a, b, h in n.intervals],
    }


def _alert_json(a: dict[str, Any]) -> dict[str, Any]:
    return {k: iso(v) if isinstance(v, datetime) else v for k, v in a.items()}


def _geojson(
    person_id: str, points: Sequence[dict[str, Any]], first: int = 0, **props: Any
) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "properties": {"person_id": person_id, **props},
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [p["lon"], p["lat"]]},
                "properties": {
                    "n": first + i + 1,
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
    page: int = Query(1, ge=1, le=1_000_000), route: PersonRoute = Depends(windowed_route)
) -> Response:
    """The window's positions as GeoJSON, 20,000 a page (`page`, from 1; `properties.pages` says how many)."""
    look, person_id = route.look(), route.person_id
    tr = service.trail(route.uow.session, person_id, look.frm, look.to, lake_dir(route.request))
    pages = max(1, -(-len(tr.points) // API_PAGE))
    if page > pages:
        raise Invalid(f"there are {pages} pages in this window")
    first = (page - 1) * API_PAGE
    chunk = tr.points[first : first + API_PAGE]
    look.audit("trail:read", positions=len(chunk), page=page, pages=pages)
    body = _geojson(person_id, chunk, first, page=page, pages=pages, positions=len(tr.points),
                    lake_days_unreadable=[d.isoformat() for d in tr.unreadable_days],
                    lake_days_missing=[d.isoformat() for d in tr.missing_days])  # fmt: skip
    # orjson: the standard encoder was a fifth of the request for a 20,000-position page
    return Response(orjson.dumps(body), media_type="application/geo+json")


@router.get("/api/people/{person_id}/curfew", tags=["insights"])
def api_curfew(route: PersonRoute = Depends(windowed_route)) -> list[dict[str, Any]]:
    look = route.look()
    points = service.trail(
        route.uow.session, route.person_id, look.frm, look.to, lake_dir(route.request)
    ).points
    nights = [n for o in look.orders for n in service.curfew_nights(o, points, look.frm, look.to)]
    look.audit("curfew:read", nights=len(nights))
    return [_night_json(n) for n in nights]


@router.get("/people/{person_id}/export.{fmt}", include_in_schema=False)
def export(fmt: str, route: PersonRoute = Depends(windowed_route)) -> Response:
    if fmt not in ("csv", "geojson"):
        raise Invalid("Exports are CSV or GeoJSON (the case-conference summary is a PDF: summary.pdf)")
    look, person_id = route.look(), route.person_id
    frm, to = look.frm, look.to
    points = service.trail(route.uow.session, person_id, frm, to, lake_dir(route.request)).points
    look.audit(f"export:{fmt}", positions=len(points))
    name = f"trail-{person_id}-{frm.date().isoformat()}-{to.date().isoformat()}"
    headers = {"Content-Disposition": f'attachment; filename="{name}.{fmt}"', "Cache-Control": "no-store"}
    if fmt == "geojson":
        return Response(orjson.dumps(_geojson(person_id, points)), media_type="application/geo+json",
                        headers=headers)  # fmt: skip
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


def _zone_json(z: dict[str, Any]) -> dict[str, Any]:
    """A zone as the shared map script draws it, its schedule in its label."""
    named = f"Restriction zone: {z['name']}" if z["kind"] == "restriction" else z["name"]
    return {"kind": f"{z['kind']}_zones", "name": f"{named} ({z['schedule'].lower()})",
            "geometry": z["geometry"]}  # fmt: skip


@router.get("/people/{person_id}", include_in_schema=False)
def person_page(
    page: int = Query(1, ge=1, le=1_000_000), route: PersonRoute = Depends(windowed_route)
) -> Response:
    request, uow, caller, person_id, orders = route.parts()
    purpose, start, end = route.purpose, route.start, route.end
    assert caller.principal is not None
    ctx = route.page_context() | {"start": start or "", "end": end or ""}
    try:
        look = route.look()
    except Invalid as e:  # said beside the field it is about, and in the summary at the top
        if purpose or start or end:
            ctx |= {"error": str(e), "error_field": e.field or "purpose"}
        return render(request, "insights/person.html", ctx)
    frm, to = look.frm, look.to
    data = person_data(request, uow, orders, person_id, frm, to)
    points = data["points"]
    pages = max(1, -(-len(points) // TABLE_PAGE))
    page = min(page, pages)
    first = (page - 1) * TABLE_PAGE
    table = service.describe(uow.session, points, list(range(first, min(len(points), first + TABLE_PAGE))))
    drawn = service.map_points(uow.session, orders, points, frm, to, data["inside"])
    look.audit("person:read", positions=len(points), drawn=len(drawn), table_page=page)
    context: dict[str, list[dict[str, Any]]] = {"addresses": [], "zones": [], "places": []}
    for o in orders:
        for k, v in map_context_of(o.document).items():
            context[k].extend(v)
    newest = points[-1]["time"] if points else None
    base_q = {k: v for k, v in request.query_params.items() if k != "page"}
    ctx |= {
        "shown": True,
        "from_": frm,
        "to_": to,
        "start": start or frm.date().isoformat(),
        "end": end or "",
        "orders": [(o, service.conditions_summary(o)) for o in orders],
        "points": points,
        "table": table,
        "page": page,
        "pages": pages,
        "page_query": urlencode(base_q),
        "nights": data["nights"],
        "weeks": calendar.weeks(data["nights"]),
        "chart": calendar.chart_rows(data["nights"]),
        "tags": calendar.TAGS,
        "atv_minutes": data["atv_minutes"],
        "visits": data["visits"],
        "zone_totals": data["zone_totals"],
        "zones": data["zones"],
        "appointments": data["appointments"],
        "devices": data["devices"],
        "alerts": data["alerts"],
        "from_lake": data["from_lake"],
        "unreadable_days": data["unreadable_days"],
        "missing_days": data["missing_days"],
        "geo_json": json.dumps([{**_point_json(p), "key": p["key"]} for p in drawn]),
        "context_json": json.dumps({**context, "zones": [_zone_json(z) for z in data["zones"]]}),
        "drawn": len(drawn),
        "thinned": len(drawn) < len(points),
        "newest": newest,
        "stale": rules.freshness(newest, utcnow()),
        "export_query": urlencode(base_q),
    }
    return render(request, "insights/person.html", ctx)
