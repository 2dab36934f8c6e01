"""Geometry helpers: WGS84 and British National Grid (EPSG:27700), distances, England and Wales bounds.

pyproj ships without the OSTN15 grid here, so WGS84 -> BNG uses the Helmert fallback (about 2 m error),
which is well inside GPS accuracy for monitoring decisions.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

EARTH_RADIUS_M = 6_371_008.8

# A generous bounding box of England and Wales (lon_min, lat_min, lon_max, lat_max), Scilly to Berwick.
ENGLAND_WALES_BBOX = (-6.45, 49.85, 1.80, 55.82)


@lru_cache(maxsize=1)
def _to_bng() -> Any:
    import warnings

    from pyproj import Transformer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


@lru_cache(maxsize=1)
def _from_bng() -> Any:
    import warnings

    from pyproj import Transformer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def wgs84_to_bng(lon: Any, lat: Any) -> tuple[Any, Any]:
    """Longitude/latitude (degrees) to BNG easting/northing (metres); scalars or numpy arrays."""
    x, y = _to_bng().transform(lon, lat)
    return x, y


def bng_to_wgs84(easting: Any, northing: Any) -> tuple[Any, Any]:
    lon, lat = _from_bng().transform(easting, northing)
    return lon, lat


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def haversine_m_np(
    lat1: NDArray[np.float64], lon1: NDArray[np.float64], lat2: NDArray[np.float64], lon2: NDArray[np.float64]
) -> NDArray[np.float64]:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    result: NDArray[np.float64] = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a)))
    return result


def in_england_wales_bbox(lon: float, lat: float) -> bool:
    x0, y0, x1, y1 = ENGLAND_WALES_BBOX
    return x0 <= lon <= x1 and y0 <= lat <= y1


def valid_lat_lon(lat: float, lon: float) -> bool:
    return (
        isinstance(lat, int | float)
        and isinstance(lon, int | float)
        and math.isfinite(lat)
        and math.isfinite(lon)
        and -90.0 <= lat <= 90.0
        and -180.0 <= lon <= 180.0
    )
