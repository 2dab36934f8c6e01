"""Reference lists (code -> name) loaded from the CSV files in `openem/reference/`.

Lists are data, not code: a list can change by editing its file. `REFERENCE_VERSION` names the source
snapshot so that an order can record which lists it was validated against.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources

REFERENCE_VERSION = "cemo-ui-aceb623c-api-9c698f78-2026-08"

COURT_LISTS = (
    "crown_courts",
    "magistrates_courts",
    "civil_county_courts",
    "family_courts",
    "youth_courts",
    "military_courts",
)


@lru_cache(maxsize=64)
def rows(name: str) -> tuple[dict[str, str], ...]:
    """All rows of a reference list, e.g. rows("prisons")."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"bad reference list name: {name!r}")
    text = resources.files("openem.reference").joinpath(f"{name}.csv").read_text(encoding="utf-8")
    return tuple(dict(r) for r in csv.DictReader(text.splitlines()))


@lru_cache(maxsize=64)
def codes(name: str) -> dict[str, str]:
    """code -> name for a reference list."""
    return {r["code"]: r["name"] for r in rows(name)}


@lru_cache(maxsize=1)
def all_courts() -> dict[str, str]:
    merged: dict[str, str] = {}
    for name in COURT_LISTS:
        merged.update(codes(name))
    return merged


@lru_cache(maxsize=1)
def delivery_unit_regions() -> dict[str, str]:
    """probation delivery unit code -> probation region code."""
    return {r["code"]: r["region_code"] for r in rows("probation_delivery_units")}
