"""Exclusion and inclusion zones: a closed, valid (not self-intersecting) polygon inside England and Wales
and of a plausible size; a schedule with real times; attendance appointments with a location."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Polygon

from openem.core.geo import wgs84_to_bng
from openem.orders.rules.base import (
    Context,
    ValidationError,
    items,
    number,
    path,
    section,
    text,
    wall_minutes,
)


@lru_cache(maxsize=4)
def _envelope(key: tuple[tuple[float, float], ...]) -> Polygon:
    poly = Polygon(key)
    shapely.prepare(poly)
    return poly


def england_wales(policy: Any) -> Polygon:
    """A coarse, generous outline of England and Wales (policy data), excluding Scotland, Ireland,
    the Isle of Man and France."""
    return _envelope(tuple(tuple(p) for p in policy["england_wales_envelope"]))


def in_england_wales(lon: float, lat: float, policy: Any) -> bool:
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return False
    return bool(shapely.contains_xy(england_wales(policy), lon, lat))


def _ring(geometry: dict[str, Any]) -> list[Any] | None:
    coords = geometry.get("coordinates")
    if not isinstance(coords, list) or not coords or not isinstance(coords[0], list):
        return None
    return coords[0]


def check_zone_geometry(
    geometry: Any, field: str, ctx: Context, override_reason: str | None = None, check_plausible: bool = True
) -> list[ValidationError]:
    """Errors for one zone polygon (GeoJSON Polygon, [lon, lat] pairs, WGS84). A zone larger than the
    plausible size (policy `zone_plausible_km2`) needs `override_reason` (the zone's `size_override_reason`)."""
    if not isinstance(geometry, dict) or geometry.get("type") != "Polygon":
        return [
            ValidationError(
                "zone_not_polygon", field, "Draw the zone on the map or upload it as a GeoJSON polygon"
            )
        ]
    rings = geometry.get("coordinates")
    ring = _ring(geometry)
    if ring is None:
        return [
            ValidationError(
                "zone_not_polygon", field, "Draw the zone on the map or upload it as a GeoJSON polygon"
            )
        ]
    points = []
    for p in ring:
        if not (
            isinstance(p, list)
            and len(p) in (2, 3)
            and all(isinstance(c, int | float) and not isinstance(c, bool) for c in p)
        ):
            return [
                ValidationError(
                    "zone_bad_coordinates", field, "Each point of the zone must be a longitude and a latitude"
                )
            ]
        lon, lat = float(p[0]), float(p[1])
        if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
            return [
                ValidationError(
                    "zone_bad_coordinates", field, "Each point of the zone must be a longitude and a latitude"
                )
            ]
        points.append((lon, lat))
    if len(points) < 4 or len(set(points)) < 3:
        return [ValidationError("zone_too_few_points", field, "A zone must have at least 3 corners")]
    if points[0] != points[-1]:
        return [
            ValidationError(
                "zone_not_closed",
                field,
                "The zone's boundary must be closed: its last point must be the same as its first",
            )
        ]
    out: list[ValidationError] = []
    holes = [h for h in rings[1:] if isinstance(h, list)] if isinstance(rings, list) else []
    try:
        poly = Polygon(
            points,
            [
                [(float(q[0]), float(q[1])) for q in h]
                for h in holes
                if all(isinstance(q, list) and len(q) >= 2 for q in h)
            ],
        )
    except (ValueError, TypeError, shapely.errors.GEOSException):
        return [ValidationError("zone_invalid", field, "The zone's shape is not valid. Draw it again")]
    if not poly.is_valid:
        reason = shapely.is_valid_reason(poly)
        if "Self-intersection" in reason or "Ring Self-intersection" in reason:
            return [
                ValidationError("zone_self_intersects", field, "The zone's boundary must not cross itself")
            ]
        return [ValidationError("zone_invalid", field, "The zone's shape is not valid. Draw it again")]
    env = england_wales(ctx.policy)
    if not env.contains(poly):
        out.append(
            ValidationError("zone_outside_england_wales", field, "The zone must be inside England and Wales")
        )
    xs, ys = wgs84_to_bng(np.array([p[0] for p in points]), np.array([p[1] for p in points]))
    area = abs(Polygon(list(zip(xs, ys, strict=True))).area)
    bounds = ctx.policy["zone_area_m2"]
    if area < bounds["min"]:
        out.append(
            ValidationError(
                "zone_too_small",
                field,
                f"The zone is too small ({area:,.0f} m²). It must be at least {bounds['min']:,} m²",
            )
        )
    elif area > bounds["max"]:
        out.append(
            ValidationError(
                "zone_too_large",
                field,
                f"The zone is too large ({area / 1e6:,.0f} km²). It must be {bounds['max'] / 1e6:,.0f} km² or less",
            )
        )
    elif (
        check_plausible
        and (plausible := ctx.policy.get("zone_plausible_km2"))
        and area > plausible * 1e6
        and not override_reason
    ):
        out.append(
            ValidationError(
                "zone_implausibly_large",
                field,
                f"The zone is {area / 1e6:,.0f} km², larger than the {plausible:,} km² a zone usually is. "
                "Check the zone, or give the reason it needs to be this large",
            )
        )
    return out


def check_zones(doc: Any, ctx: Context) -> list[ValidationError]:
    out: list[ValidationError] = []
    cond = section(doc, "conditions")
    for kind in ("exclusion_zones", "inclusion_zones", "restriction_zones"):
        seen: set[str] = set()
        for i, zone in items(cond, kind):
            base = path("conditions", kind, i)
            zid = text(zone, "id")
            if zid is not None:
                if zid in seen:
                    out.append(
                        ValidationError(
                            "duplicate_zone_id", f"{base}.id", "Each zone must have a different ID"
                        )
                    )
                seen.add(zid)
            if zone.get("geometry") is None:
                out.append(
                    ValidationError(
                        "required",
                        f"{base}.geometry",
                        "Draw the zone on the map or upload it as a GeoJSON polygon",
                    )
                )
            else:
                out.extend(
                    check_zone_geometry(
                        zone.get("geometry"), f"{base}.geometry", ctx, text(zone, "size_override_reason")
                    )
                )
            for j, slot in items(zone, "schedule"):
                for key in ("start", "end"):
                    if wall_minutes(slot.get(key)) is None:
                        out.append(
                            ValidationError(
                                "invalid_time",
                                path(base, "schedule", j, key),
                                "The zone time must be a real time, like 08:30",
                            )
                        )
    for i, zone in items(cond, "zones_to_draw"):
        base = path("conditions", "zones_to_draw", i)
        if text(zone, "name") is None:
            out.append(ValidationError("required", f"{base}.name", "Enter the name of the zone"))
        if text(zone, "kind") is None:
            out.append(ValidationError("required", f"{base}.kind", "Select the type of zone"))
        out.append(
            ValidationError(
                "zone_not_drawn",
                base,
                "The zone is a map file and is not monitored until it is drawn. Draw it on the map, or confirm"
                " that it is not monitored until then",
            )
        )
    proximity = section(cond, "proximity")
    if proximity:
        if text(proximity, "victim_device_id") is None:
            out.append(
                ValidationError(
                    "required",
                    "conditions.proximity.victim_device_id",
                    "Enter the ID of the victim's device",
                )
            )
        pre, alert = number(proximity, "pre_alert_m"), number(proximity, "alert_m")
        if pre is not None and alert is not None and alert >= pre:
            out.append(
                ValidationError(
                    "proximity_rings_order",
                    "conditions.proximity.alert_m",
                    "The alert distance must be smaller than the pre-alert distance",
                )
            )
    for i, a in items(cond, "attendance"):
        base = path("conditions", "attendance", i)
        lat, lon = number(a, "lat"), number(a, "lon")
        if lat is None or lon is None:
            out.append(ValidationError("required", f"{base}.lat", "Enter the appointment's location"))
        elif not in_england_wales(lon, lat, ctx.policy):
            out.append(
                ValidationError(
                    "location_outside_england_wales",
                    f"{base}.lat",
                    "The appointment must be in England or Wales",
                )
            )
        for key, word in (("start", "start"), ("end", "end")):
            if text(a, key) is None:
                out.append(
                    ValidationError(
                        "required", f"{base}.{key}", f"Enter the appointment {word} date and time"
                    )
                )
    return out
