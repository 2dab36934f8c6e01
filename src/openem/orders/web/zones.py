"""The zones page: exclusion, inclusion and restriction zones drawn on a Leaflet map (points clicked into a hidden
GeoJSON field by /static/orders/zone-map.js) or, as the accessible alternative, GeoJSON pasted or uploaded. Every
geometry goes through `orders.documents.zone_from_geojson` (size, type, polygon and area checks). Zones that
came as map files (CEMO's, `conditions.zones_to_draw`) are listed as awaiting a shape: drawing one moves it to
its kind's list, where the engine judges it."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from openem.orders import policy as policy_data
from openem.orders.documents import MAX_GEOJSON_BYTES, zone_from_geojson
from openem.orders.lifecycle import OrderRecord
from openem.orders.model import DAYS
from openem.orders.queries import map_context_of
from openem.orders.rules.base import Context
from openem.orders.service import OrderInvalid
from openem.orders.web.context import OrderContext, order_route
from openem.orders.web.forms import Field, apply_form, display, get_path, zone_points, zone_when
from openem.orders.web.sections import BY_SLUG, ZONE_KINDS, days, page_errors
from openem.web.deps import csrf_protect, read_form
from openem.web.rendering import render

router = APIRouter(tags=["order pages"])
CREATE = order_route("orders:create")
FIELDS = [
    Field("zone.name", "Name of the zone"),
    Field(
        "zone.description",
        "Description of the zone (optional)",
        "textarea",
        hint="What the zone covers, in words, for the people who read the order",
    ),
    Field(
        "zone.duration",
        "How long the zone applies, in words (optional)",
        hint="For example, until the final hearing. Monitoring follows the dates and days below",
    ),
    Field("zone.start", "Zone applies from", "instant"),
    Field("zone.end", "Zone applies until", "instant"),
    Field(
        "zone.days",
        "Days the zone applies (optional)",
        "checkboxes",
        days,
        hint="Leave empty if the zone applies all the time",
    ),
    Field("zone.from_time", "From (optional)", "time"),
    Field("zone.to_time", "Until (optional)", "time"),
    Field(
        "zone.size_override_reason",
        "Why the zone needs to be this large (optional)",
        "textarea",
        hint="Only for a zone larger than 100 km², for example a whole county the court excluded",
    ),
]


TO_DRAW = "zones_to_draw"
#: a zone to draw's CEMO kind -> the list it moves to once drawn
DRAWN_INTO = {
    "EXCLUSION": "exclusion_zones",
    "INCLUSION": "inclusion_zones",
    "RESTRICTION": "restriction_zones",
}


def zones_of(doc: dict[str, Any], kinds: Any = ZONE_KINDS) -> list[tuple[str, int, dict[str, Any]]]:
    out = []
    for kind in kinds:
        value = get_path(doc, f"conditions.{kind}")
        for i, zone in enumerate(value if isinstance(value, list) else []):
            if isinstance(zone, dict):
                out.append((kind, i, zone))
    return out


def map_data(request: Request, doc: dict[str, Any]) -> str:
    """The order's addresses, curfew address and zones for the map (the base map comes from the page)."""
    return json.dumps(map_context_of(doc))


def zone_at(doc: dict[str, Any], target: str) -> tuple[str, int, dict[str, Any]] | None:
    """The zone named by "<kind>-<index>" (as the page's Change links and Save button say), if it exists."""
    kind, _, index = str(target).rpartition("-")
    for k, i, zone in zones_of(doc, [*ZONE_KINDS, TO_DRAW]):
        if k == kind and index.isdigit() and i == int(index):
            return k, i, zone
    return None


def form_for_zone(kind: str, zone: dict[str, Any]) -> dict[str, Any]:
    """The add/change form filled in with a zone's details, so that a person can change one part of it."""
    raw: list[Any] = zone["schedule"] if isinstance(zone.get("schedule"), list) else []
    sched = [s for s in raw if isinstance(s, dict)]
    values = {"zone": {"name": zone.get("name"), "description": zone.get("description"),
                       "duration": zone.get("duration"), "start": zone.get("start"), "end": zone.get("end"),
                       "days": [s.get("day") for s in sched] or None,
                       "from_time": sched[0].get("start") if sched else None,
                       "to_time": sched[0].get("end") if sched else None,
                       "size_override_reason": zone.get("size_override_reason")}}  # fmt: skip
    shown: dict[str, Any] = {f.path: display(f, get_path(values, f.path)) for f in FIELDS}
    geometry = zone.get("geometry")
    if kind == TO_DRAW:  # its type as CEMO gave it, if it did: the person chooses otherwise
        kind = DRAWN_INTO.get(str(zone.get("kind")), "")
    shown.update(kind=kind, geojson=json.dumps(geometry) if isinstance(geometry, dict) else "")
    return shown


def render_zones(
    request: Request,
    record: OrderRecord,
    errors: list[tuple[str, str]],
    form: dict[str, Any] | None,
    status_code: int = 200,
    editing: str = "",
) -> Response:
    doc = record.latest.document
    target = zone_at(doc, editing) if editing else None
    if form is None and target is not None:
        form = form_for_zone(target[0], target[2])
    form = form or {}
    values = {f.path: form.get(f.path, display(f, None)) for f in FIELDS}
    messages: dict[str, str] = {}
    for field, message in errors:
        messages.setdefault(field, message)
    return render(
        request,
        "orders/zones.html",
        {
            "title": ("Error: " if errors else "") + BY_SLUG["zones"].title,
            "heading": BY_SLUG["zones"].title,
            "record": record,
            "zones": [(k, i, z, zone_points(z), zone_when(z)) for k, i, z in zones_of(doc)],
            "to_draw": [
                (i, z, ZONE_KINDS.get(DRAWN_INTO.get(str(z.get("kind")), ""), "Not given"))
                for _, i, z in zones_of(doc, [TO_DRAW])
            ],  # fmt: skip
            "kinds": ZONE_KINDS,
            "fields": FIELDS,
            "values": values,
            "messages": messages,
            "errors": errors,
            "kind": form.get("kind", "exclusion_zones"),
            "geometry": form.get("geometry", ""),
            "geojson": form.get("geojson", ""),
            "map_data": map_data(request, doc),
            "editing": editing if target is not None else "",
            "drawing": target is not None and target[0] == TO_DRAW,
            "editing_name": (target[2].get("name") or target[2].get("id") or "") if target else "",
        },
        status=status_code,
    )


@router.get("/orders/{ref}/zones")
def zones_page(check: bool = False, edit: str = "", order: OrderContext = Depends(CREATE)) -> Response:
    redirect = order.editable()
    if redirect:
        return redirect
    errors: list[tuple[str, str]] = []
    if check:
        found = order.service.validate(order.ref)
        errors = [("zone.name", e.message) for e in page_errors(BY_SLUG["zones"], found)]
    return render_zones(order.request, order.record, errors, None, editing=edit[:80])


def next_id(doc: dict[str, Any]) -> str:
    used = {str(z.get("id")) for _, _, z in zones_of(doc)}
    n = 1
    while f"Z{n}" in used:
        n += 1
    return f"Z{n}"


def schedule(chosen: Any, start: str | None, end: str | None) -> list[dict[str, Any]] | None:
    """The zone's weekly schedule: the chosen days, each from `start` to `end` (all day if no times)."""
    if not chosen:
        return None
    return [{"day": d, "start": start or "00:00", "end": end or "23:59"} for d in DAYS if d in chosen]


def geometry_from(form: Any) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    """The polygon from the uploaded file, else the map drawing, else the pasted GeoJSON (when a zone is
    changed, the GeoJSON box holds its current shape: a new drawing replaces it)."""
    upload = form.get("geojson_file")
    data = b""
    if upload is not None and hasattr(upload, "read"):
        data = upload.file.read(MAX_GEOJSON_BYTES + 1)
    field = "geojson_file" if data else "geojson"
    if not data:
        pasted = str(form.get("geojson", ""))[: MAX_GEOJSON_BYTES + 1]
        drawn = str(form.get("geometry", ""))[: MAX_GEOJSON_BYTES + 1]
        data = (drawn.strip() or pasted.strip()).encode()
        field = "map" if drawn.strip() else "geojson"
    if not data:
        return None, [("map", "Draw the zone on the map, or paste or upload it as GeoJSON")]
    ctx = Context(now=datetime.now(UTC), policy=policy_data.load())
    try:
        geometry, errors = zone_from_geojson(data, ctx, field=field)
    except ValueError:  # json refuses integers of more than 4,300 digits with a plain ValueError
        return None, [(field, "The zone must be GeoJSON: a Polygon or a Feature holding one polygon")]
    return geometry, [(field, e.message) for e in errors]


@router.post("/orders/{ref}/zones", dependencies=[Depends(csrf_protect)])
def zones_save(order: OrderContext = Depends(CREATE), form: Any = Depends(read_form)) -> Response:
    redirect = order.editable()
    if redirect:
        return redirect
    request, record = order.request, order.record
    action = str(form.get("action", "add"))[:60]
    doc = copy.deepcopy(record.latest.document)
    conditions: dict[str, Any] = doc["conditions"] if isinstance(doc.get("conditions"), dict) else {}
    if action.startswith("remove-"):
        kind, _, index = action[7:].rpartition("-")
        zones = conditions.get(kind) if kind in (*ZONE_KINDS, TO_DRAW) else None
        if isinstance(zones, list) and index.isdigit() and int(index) < len(zones):
            zones.pop(int(index))
    else:
        editing = action[5:] if action.startswith("save-") else ""
        target = zone_at(doc, editing) if editing else None
        if editing and target is None:  # the zone went (removed in another tab): nothing to change
            return order.redirect("/zones")
        kind = str(form.get("kind", ""))
        values: dict[str, Any] = {}
        errors, raw = apply_form(values, FIELDS, form)
        if kind not in ZONE_KINDS:
            errors.insert(0, ("kind", "Select the type of zone"))
        geometry, geo_errors = geometry_from(form)
        errors += geo_errors
        if errors:
            shown = {k: str(form.get(k, ""))[:MAX_GEOJSON_BYTES] for k in ("kind", "geometry", "geojson")}
            for f in FIELDS:
                shown[f.path] = raw.get(f.path, display(f, get_path(values, f.path)))
            return render_zones(request, record, errors, shown, 422, editing=editing)
        zone_id = str(target[2].get("id") or next_id(doc)) if target else next_id(doc)
        zone = {"id": zone_id, **values.get("zone", {}), "geometry": geometry}
        zone["schedule"] = schedule(
            zone.pop("days", None), zone.pop("from_time", None), zone.pop("to_time", None)
        )
        conditions.setdefault(kind, [])
        if not isinstance(conditions[kind], list):
            conditions[kind] = []
        if target is not None and target[0] == kind:
            conditions[kind][target[1]] = zone  # changed in place: same id, same position
        else:
            if target is not None:  # a zone changed type, or a zone to draw was drawn
                conditions[target[0]].pop(target[1])
            conditions[kind].append(zone)
    if conditions.get(TO_DRAW) == []:
        conditions.pop(TO_DRAW)
    try:
        order.changed(order.service.update_section(order.actor, order.ref, "conditions", conditions))
    except OrderInvalid as exc:
        return render_zones(request, record, [("zone.name", e.message) for e in exc.errors], None, 422)
    return order.redirect("/zones")
