"""Crime matching's domain objects and reference data: the forces in the scheme, the crime types, a crime as a
force sends it, the errors a file can earn, and the matcher's policy. Pure: no I/O beyond reading the package's
own data files."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Force:
    identifier: str  # as the force writes it in column 1 (e.g. "AvonSomerset")
    code: str  # three-letter code (e.g. "AVS"), also accepted as a batch id prefix
    name: str
    police_area: str  # openem's police area code: a police officer sees their own force's batches


FORCES_SOURCE = (
    "MoJ crime-matching service, public repository ministryofjustice/hmpps-electronic-monitoring-crime-matching-api "
    "(enum PoliceForce), read 2026-12-02; see openem/crime/SOURCE.md"
)

CRIME_TYPES: dict[str, str] = {
    "RB": "Robbery",
    "BIAD": "Burglary in a dwelling",
    "AB": "Aggravated burglary",
    "BOTD": "Burglary other than a dwelling",
    "TOMV": "Theft of a motor vehicle",
    "TFP": "Theft from the person",
    "TFMV": "Theft from a motor vehicle",
}

#: The 13 columns of a force's file, in order (no header line).
COLUMNS = (
    "police_force",
    "crime_type_id",
    "crime_type_description",
    "batch_id",
    "crime_reference",
    "date_from",
    "date_to",
    "easting",
    "northing",
    "latitude",
    "longitude",
    "datum",
    "crime_text",
)


@cache
def forces() -> tuple[Force, ...]:
    text = resources.files("openem.crime").joinpath("forces.csv").read_text(encoding="utf-8")
    return tuple(Force(**row) for row in csv.DictReader(text.splitlines()))


def force_by_identifier(value: str) -> Force | None:
    v = value.strip().lower()
    for f in forces():
        if v in (f.identifier.lower(), f.code.lower()):
            return f
    return None


def force_by_police_area(area: str) -> Force | None:
    return next((f for f in forces() if f.police_area == area), None)


@cache
def policy() -> dict[str, Any]:
    """Matching and intake rules as data (radius, accuracy cap, gaps, speeds, sizes): versioned in the file."""
    loaded: dict[str, Any] = json.loads(
        resources.files("openem.crime").joinpath("policy.json").read_text(encoding="utf-8")
    )
    return loaded


@dataclass(frozen=True)
class Crime:
    """One accepted row: a crime as the force reported it, its place always in WGS84 (converted from OSGB36
    when the force gave easting/northing; the original is kept)."""

    row: int
    force: str  # Force.identifier
    crime_type: str
    batch_id: str
    reference: str
    date_from: datetime
    date_to: datetime
    lat: float
    lon: float
    easting: float | None
    northing: float | None
    text: str

    def fields(self) -> dict[str, Any]:
        """What identifies a version's content (compared between versions of the same crime)."""
        return {
            "crime_type": self.crime_type,
            "date_from": self.date_from.isoformat(),
            "date_to": self.date_to.isoformat(),
            "lat": round(self.lat, 6),
            "lon": round(self.lon, 6),
            "easting": self.easting,
            "northing": self.northing,
            "text": self.text,
        }


@dataclass(frozen=True)
class RowError:
    row: int  # line number in the file, from 1
    type: str
    field: str
    value: str
    action: str  # what the force must do


@dataclass(frozen=True)
class FileError:
    type: str
    message: str
    action: str


@dataclass
class ParsedFile:
    crimes: list[Crime] = field(default_factory=list)
    row_errors: list[RowError] = field(default_factory=list)
    file_errors: list[FileError] = field(default_factory=list)
    rows: int = 0  # non-blank lines read
    force: str = ""
    batch_id: str = ""

    @property
    def outcome(self) -> str:
        """successful (every row accepted), partial (some refused), failed (the file refused: nothing kept)."""
        if self.file_errors or not self.crimes:
            return "failed"
        return "partial" if self.row_errors else "successful"
