"""The case-conference summary: one PDF of a person's window (orders and conditions, a map drawn on the
server without tiles, curfew nights with the ATV total, zone visits, appointments, alerts, recent notes),
made with WeasyPrint. Purpose-bound and audited like every export; refused (403) outside the caseload."""

from __future__ import annotations

import math
from typing import Any
from xml.sax.saxutils import escape

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from openem.core.time import utcnow
from openem.insights import rules, service
from openem.insights.repository import notes_of
from openem.insights.web.views import PersonRoute, lake_dir, person_data, windowed_route
from openem.orders.queries import map_context_of

router = APIRouter()
W, H, PAD = 640, 420, 24


def _label(zone: dict[str, Any]) -> str:
    return f"Restriction zone: {zone['name']}" if zone["kind"] == "restriction" else str(zone["name"])


def trail_svg(points: list[dict[str, Any]], drawn: list[dict[str, Any]], context: dict[str, Any],
              zones: list[dict[str, Any]]) -> str:  # fmt: skip
    """A plain SVG map (equirectangular, scaled for latitude): zones, the curfew address, the trail line and the
    key positions numbered. No tiles: everything drawn is openem's own data."""
    lats = [p["lat"] for p in drawn] + [a["lat"] for a in context["addresses"]]
    lons = [p["lon"] for p in drawn] + [a["lon"] for a in context["addresses"]]
    for z in zones:
        for lon, lat in (z["geometry"].get("coordinates") or [[]])[0]:
            lats.append(lat)
            lons.append(lon)
    if not lats:
        return ""
    k = math.cos(math.radians(sum(lats) / len(lats)))
    x0, x1 = min(lons) * k, max(lons) * k
    y0, y1 = min(lats), max(lats)
    span = max(x1 - x0, y1 - y0, 1e-4)
    s = min((W - 2 * PAD) / span, (H - 2 * PAD) / span)

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return round(PAD + (lon * k - x0) * s, 1), round(H - PAD - (lat - y0) * s, 1)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}">',
           f'<rect width="{W}" height="{H}" fill="#f8f8f8" stroke="#b1b4b6"/>']  # fmt: skip
    for z in zones:
        ring = " ".join("{},{}".format(*xy(lat, lon)) for lon, lat in z["geometry"]["coordinates"][0])
        colour = "#00703c" if z["kind"] == "inclusion" else "#d4351c"  # a restriction zone is kept out of
        out.append(f'<polygon points="{ring}" fill="{colour}" fill-opacity="0.15" stroke="{colour}"/>')
        cx, cy = xy(*_centre(z["geometry"]["coordinates"][0]))
        out.append(f'<text x="{cx}" y="{cy}" font-size="10" fill="{colour}">{escape(_label(z))}</text>')
    if len(drawn) > 1:
        line = " ".join("{},{}".format(*xy(p["lat"], p["lon"])) for p in drawn)
        out.append(f'<polyline points="{line}" fill="none" stroke="#d4351c" stroke-width="1"/>')
    for p in drawn:
        if p.get("key"):
            x, y = xy(p["lat"], p["lon"])
            out.append(f'<circle cx="{x}" cy="{y}" r="3" fill="#0b0c0c"/>'
                       f'<text x="{x + 4}" y="{y - 3}" font-size="7">{p["n"]}</text>')  # fmt: skip
    for a in context["addresses"]:
        x, y = xy(a["lat"], a["lon"])
        label = ("Curfew address: " if a["curfew"] else "") + a["label"]
        out.append(f'<circle cx="{x}" cy="{y}" r="6" fill="none" stroke="#1d70b8" stroke-width="3"/>'
                   f'<text x="{x + 8}" y="{y + 4}" font-size="10" fill="#1d70b8">{escape(label)}</text>')  # fmt: skip
    out.append("</svg>")
    return "".join(out)


def _centre(ring: list[list[float]]) -> tuple[float, float]:
    return sum(p[1] for p in ring) / len(ring), sum(p[0] for p in ring) / len(ring)


@router.get("/people/{person_id}/summary.pdf", include_in_schema=False)
def summary_pdf(route: PersonRoute = Depends(windowed_route)) -> Response:
    look = route.look()
    request, uow, caller, person_id, orders = route.parts()
    try:
        import weasyprint
    except (ImportError, OSError):  # a broken install says so; never a web page behind a PDF link
        return Response("PDF output is unavailable on this server (WeasyPrint cannot be imported).",
                        status_code=503, media_type="text/plain")  # fmt: skip
    data = person_data(request, uow, orders, person_id, look.frm, look.to)
    points = data["points"]
    drawn = service.map_points(uow.session, orders, points, look.frm, look.to, data["inside"], budget=600)
    context: dict[str, list[dict[str, Any]]] = {"addresses": [], "zones": [], "places": []}
    for o in orders:
        for k, v in map_context_of(o.document).items():
            context[k].extend(v)
    notes = notes_of(uow.session, person_id, limit=20)
    look.audit("export:pdf", positions=len(points), nights=len(data["nights"]), notes=len(notes))
    html = request.app.state.templates.get_template("insights/summary_pdf.html").render(
        person_id=person_id, name=orders[0].wearer_name, orders=[(o, service.conditions_summary(o)) for o in orders],
        frm=look.frm, to=look.to, why=look.why, actor=caller.principal.username if caller.principal else "",
        points=points, data=data, notes=notes, printed_at=utcnow(),
        stale=rules.freshness(points[-1]["time"] if points else None, utcnow()),
        svg=trail_svg(points, drawn, context, data["zones"]), lake=str(lake_dir(request)),
    )  # fmt: skip
    pdf = weasyprint.HTML(string=html).write_pdf()
    name = f"summary-{person_id}-{look.frm.date().isoformat()}-{look.to.date().isoformat()}.pdf"
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})  # fmt: skip
