"""A map drawn server-side as SVG, without tiles: the trail (a line and dots, the breach part in red) against
the zones and the curfew address, with a scale bar. Plain geometry: an equirectangular projection scaled by
the cosine of the latitude is exact enough over the few kilometres of a pack's map."""

from __future__ import annotations

import math
from html import escape
from typing import Any

WIDTH, HEIGHT, PAD = 640, 400, 24


def _rings(geometry: Any) -> list[list[tuple[float, float]]]:
    """(lon, lat) rings of a GeoJSON Polygon / MultiPolygon / circle {lat, lon, radius_m}."""
    if not isinstance(geometry, dict):
        return []
    kind = geometry.get("type")
    coords: Any = geometry.get("coordinates")
    try:
        if kind == "Polygon":
            return [[(float(x), float(y)) for x, y, *_ in coords[0]]]
        if kind == "MultiPolygon":
            return [[(float(x), float(y)) for x, y, *_ in poly[0]] for poly in coords]
        if "radius_m" in geometry:
            lat, lon, r = float(geometry["lat"]), float(geometry["lon"]), float(geometry["radius_m"])
            dlat = r / 111_320
            dlon = dlat / max(0.01, math.cos(math.radians(lat)))
            return [[(lon + dlon * math.cos(t / 18 * math.pi), lat + dlat * math.sin(t / 18 * math.pi))
                     for t in range(37)]]  # fmt: skip
    except (TypeError, ValueError, IndexError):
        return []
    return []


def draw(trail: list[dict[str, Any]], zones: list[dict[str, Any]], addresses: list[dict[str, Any]],
         breach_window: tuple[Any, Any] | None = None, title: str = "Map") -> str:  # fmt: skip
    """The SVG text. `trail` items: lat, lon, device_time (datetime); zones: name, geometry; addresses: label,
    lat, lon, curfew. Every label is escaped (people's text never becomes markup)."""
    pts = [(float(p["lon"]), float(p["lat"])) for p in trail if _finite(p.get("lat"), p.get("lon"))]
    zone_rings = [(_zone_name(z), r) for z in zones for r in _rings(z.get("geometry"))]
    addr = [a for a in addresses if _finite(a.get("lat"), a.get("lon"))]
    every = pts + [pt for _, r in zone_rings for pt in r] + [(float(a["lon"]), float(a["lat"])) for a in addr]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
             f'height="{HEIGHT}" role="img" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>",
             f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#f3f2f1" stroke="#b1b4b6"/>']  # fmt: skip
    if not every:
        parts.append(f'<text x="{WIDTH // 2}" y="{HEIGHT // 2}" text-anchor="middle" font-size="16" '
                     'fill="#0b0c0c">No positions or places to draw</text></svg>')  # fmt: skip
        return "".join(parts)
    lons, lats = [p[0] for p in every], [p[1] for p in every]
    lat0 = (min(lats) + max(lats)) / 2
    kx = math.cos(math.radians(lat0))
    span_x = max((max(lons) - min(lons)) * kx, 1e-4)
    span_y = max(max(lats) - min(lats), 1e-4)
    scale = min((WIDTH - 2 * PAD) / span_x, (HEIGHT - 2 * PAD - 20) / span_y)
    cx, cy = (min(lons) + max(lons)) / 2, lat0

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return (WIDTH / 2 + (lon - cx) * kx * scale, (HEIGHT - 20) / 2 - (lat - cy) * scale)

    for name, ring in zone_rings:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(*p) for p in ring))
        parts.append(f'<polygon points="{path}" fill="#d4351c" fill-opacity="0.15" stroke="#d4351c" '
                     f'stroke-width="2"><title>{escape(name)}</title></polygon>')  # fmt: skip
        lx, ly = xy(*ring[0])
        parts.append(
            f'<text x="{lx:.1f}" y="{ly - 4:.1f}" font-size="12" fill="#942514">{escape(name)}</text>'
        )
    if len(pts) > 1:
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(*p) for p in pts))
        parts.append(f'<polyline points="{line}" fill="none" stroke="#1d70b8" stroke-width="2"/>')
    for p in trail:
        if not _finite(p.get("lat"), p.get("lon")):
            continue
        x, y = xy(float(p["lon"]), float(p["lat"]))
        inside = (
            breach_window is not None
            and p.get("device_time") is not None
            and (breach_window[0] <= p["device_time"] <= (breach_window[1] or breach_window[0]))
        )
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{4 if inside else 2.5}" '
                     f'fill="{"#d4351c" if inside else "#1d70b8"}"/>')  # fmt: skip
    for a in addr:
        x, y = xy(float(a["lon"]), float(a["lat"]))
        label = ("Curfew address: " if a.get("curfew") else "Address: ") + str(a.get("label") or "")
        parts.append(f'<rect x="{x - 6:.1f}" y="{y - 6:.1f}" width="12" height="12" fill="#00703c"/>'
                     f'<text x="{x + 9:.1f}" y="{y + 4:.1f}" font-size="12" fill="#0b0c0c">{escape(label)}</text>')  # fmt: skip
    metres = span_x * 111_320
    bar_m = _nice(metres / 4)
    bar_px = bar_m / 111_320 * scale
    parts.append(f'<line x1="{PAD}" y1="{HEIGHT - 12}" x2="{PAD + bar_px:.1f}" y2="{HEIGHT - 12}" '
                 f'stroke="#0b0c0c" stroke-width="3"/><text x="{PAD + bar_px + 6:.1f}" y="{HEIGHT - 8}" '
                 f'font-size="12" fill="#0b0c0c">{_metres(bar_m)}</text></svg>')  # fmt: skip
    return "".join(parts)


def _zone_name(zone: dict[str, Any]) -> str:
    """A zone's label: its name; a restriction zone's (CEMO's, judged as an exclusion zone) says so."""
    name = str(zone.get("name") or "")
    return f"Restriction zone: {name or 'unnamed'}" if zone.get("kind") == "restriction_zones" else name


def _finite(*values: Any) -> bool:
    try:
        return all(math.isfinite(float(v)) for v in values)
    except (TypeError, ValueError):
        return False


def _nice(m: float) -> float:
    if m <= 0:
        return 10.0
    base = 10 ** math.floor(math.log10(m))
    return float(next(b * base for b in (5, 2, 1) if b * base <= m) if m >= base else base)


def _metres(m: float) -> str:
    return f"{m / 1000:g} km" if m >= 1000 else f"{m:g} m"
