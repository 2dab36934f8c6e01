"""A supervisor plans a region's day with its officers ("Plan the day"): the routes on a map and as lists, a
two-officer visit on both officers' lists, and what could not be planned and why."""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from openem.auth import audit
from openem.core.errors import Invalid
from openem.core.time import local_date, utcnow
from openem.field import dayplan, queries
from openem.store.db import UnitOfWork
from openem.web.deps import Caller, csrf_protect, get_uow, read_form, require
from openem.web.rendering import render

router = APIRouter()
SUPERVISE = require("visits:supervise")
PLAN_SECONDS: float = 10.0  # a region's day in under 30 s
PLAN_ITERATIONS: int | None = None  # tests set an iteration limit: the same plan whatever the load
COLOURS = ["#1d70b8", "#d4351c", "#00703c", "#4c2c92", "#f47738", "#5694ca", "#912b88", "#28a197"]


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text) if text else local_date(utcnow())
    except ValueError:
        return local_date(utcnow())


@router.get("/field/supervise/day", include_in_schema=False)
def region_day(
    request: Request,
    region: str = Query("", max_length=40),
    day: str = Query("", max_length=10),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(SUPERVISE),
) -> Response:
    regions = dayplan.regions()
    code = region if region in regions else next(iter(regions))
    the_day = _day(day)
    officers = dayplan.officers_of(uow.session, code)
    names = queries.officer_names(uow.session, [o.name for o in officers])
    routes = []
    for i, o in enumerate(officers):
        visits = queries.todays_visits(uow.session, o.name, the_day.isoformat())
        partners = {v["partner"] if v["officer"] == o.name else v["officer"] for v in visits if v["partner"]}
        routes.append({"officer": o.name, "name": names.get(o.name, o.name), "skills": sorted(o.skills),
                       "visits": visits, "colour": COLOURS[i % len(COLOURS)],
                       "partners": [names.get(p, p) for p in sorted(partners)]})  # fmt: skip
    last = dayplan.last_region_plan(uow.session, code, the_day.isoformat())
    audit.record(uow.session, actor=caller.actor, action=f"field:plan:region:{code}:read",
                 records=[v["visit_id"] for r in routes for v in r["visits"]],
                 purpose="see a region's planned field visits")  # fmt: skip
    context = _map(regions[code], routes)
    return render(request, "field/region_day.html",
                  {"title": "Plan the day", "regions": regions, "region": regions[code], "day": the_day,
                   "routes": routes, "last": last, "map_context": context, "map_json": json.dumps(context),
                   "why": request.query_params.get("why", "")[:200]})  # fmt: skip


def _map(region: dayplan.Region, routes: list[dict[str, Any]]) -> dict[str, Any]:
    """Every route's stops as labelled addresses (officer, number), the depot as a place, each route a line."""
    addresses, lines, drawn = [], [], set()
    for r in routes:
        stops = [v for v in r["visits"] if v["lat"] is not None and v["lon"] is not None]
        key = tuple(v["visit_id"] for v in stops)
        if not stops or key in drawn:
            continue  # a pair's route is drawn once
        drawn.add(key)
        for i, v in enumerate(stops, 1):
            addresses.append({"label": f"{r['name']} {i}: {v['order_ref']}", "lat": v["lat"], "lon": v["lon"],
                              "curfew": False})  # fmt: skip
        points = [list(region.depot)] + [[v["lat"], v["lon"]] for v in stops] + [list(region.depot)]
        lines.append({"colour": r["colour"], "points": points})
    places = [{"label": region.depot_name, "lat": region.depot[0], "lon": region.depot[1]}]
    return {"addresses": addresses, "zones": [], "places": places, "routes": lines}


@router.post("/field/supervise/day", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def plan_the_day(
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(SUPERVISE),
    form: Any = Depends(read_form),
) -> Response:
    code, day = str(form.get("region", ""))[:40], str(form.get("day", ""))[:10]
    try:
        dayplan.plan_region_visits(uow.session, actor=caller.actor, code=code, day=day, now=utcnow(),
                                   seconds=PLAN_SECONDS, iterations=PLAN_ITERATIONS, publish=uow.add_event)  # fmt: skip
    except Invalid as exc:
        return RedirectResponse(f"/field/supervise/day?region={quote(code)}&why={quote(str(exc)[:200])}",
                                status_code=303)  # fmt: skip
    return RedirectResponse(f"/field/supervise/day?region={quote(code)}&day={quote(day)}", status_code=303)
