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


# A lookup grid over Great Britain for the hot path: BNG at every node of a 0.02-degree lattice, computed once
# by pyproj, then bilinear interpolation inside the cell. The map is smooth, so the interpolation error is
# the second derivative times h^2/8: about 5 cm at h = 0.02 deg (tested), far inside GPS accuracy, and it
# costs a few numpy operations per fix instead of pyproj's per-point Helmert + transverse Mercator.
GRID_STEP_DEG = 0.02
# lon_min, lat_min, lon_max, lat_max: inside the area where pyproj uses the OSGB36 Helmert shift (49.79-60.94 N,
# 8.82 W-1.92 E); beyond it pyproj switches to a ballpark transformation 40-70 m away, so a cell straddling
# that edge would blend the two. Points outside go to pyproj.
GRID_BOUNDS = (-8.8, 49.8, 1.9, 60.9)


@lru_cache(maxsize=1)
def _bng_grid() -> tuple[NDArray[np.float64], NDArray[np.float64], int]:
    lon0, lat0, lon1, lat1 = GRID_BOUNDS
    nx = int(round((lon1 - lon0) / GRID_STEP_DEG)) + 1
    ny = int(round((lat1 - lat0) / GRID_STEP_DEG)) + 1
    lon = lon0 + GRID_STEP_DEG * np.arange(nx)
    lat = lat0 + GRID_STEP_DEG * np.arange(ny)
    glon, glat = np.meshgrid(lon, lat, indexing="ij")  # node (i, j) at flat index i * ny + j
    gx, gy = _to_bng().transform(glon.ravel(), glat.ravel())
    return np.asarray(gx, dtype=np.float64), np.asarray(gy, dtype=np.float64), ny


def _bilinear(g: NDArray[np.float64], k: NDArray[np.int64], ny: int, s: NDArray[np.float64],
              t: NDArray[np.float64]) -> NDArray[np.float64]:  # fmt: skip
    """Node values at the cell's four corners (k is the lower-left node), weighted by the position in it."""
    south = g.take(k) + (g.take(k + ny) - g.take(k)) * s
    north = g.take(k + 1) + (g.take(k + ny + 1) - g.take(k + 1)) * s
    out: NDArray[np.float64] = south + (north - south) * t
    return out


def wgs84_to_bng_grid(lon: NDArray[np.float64], lat: NDArray[np.float64]
                      ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:  # fmt: skip
    """`wgs84_to_bng` for arrays, by bilinear interpolation in a precomputed lattice (within ~5 cm of
    pyproj inside GRID_BOUNDS; points outside it, and NaN, go through pyproj / stay NaN)."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    gx, gy, ny = _bng_grid()
    lon0, lat0, lon1, lat1 = GRID_BOUNDS
    with np.errstate(invalid="ignore"):
        inside = (lon >= lon0) & (lon < lon1) & (lat >= lat0) & (lat < lat1)
    u = np.where(inside, (lon - lon0) * (1.0 / GRID_STEP_DEG), 0.0)
    v = np.where(inside, (lat - lat0) * (1.0 / GRID_STEP_DEG), 0.0)
    i, j = u.astype(np.int64), v.astype(np.int64)
    s: NDArray[np.float64] = u - np.floor(u)
    t: NDArray[np.float64] = v - np.floor(v)
    k: NDArray[np.int64] = i * ny + j
    x, y = _bilinear(gx, k, ny, s, t), _bilinear(gy, k, ny, s, t)
    out = ~inside
    if out.any():
        ox, oy = _to_bng().transform(lon[out], lat[out])
        x[out], y[out] = ox, oy
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
