"""Realistic order defects, each labelled with a stable code (listed in docs/world-format.md)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import numpy as np

from openem.core.time import iso, parse_instant
from openem.sim import places

Defect = Callable[[dict[str, Any], np.random.Generator], None]


def _missing_field(doc: dict[str, Any], rng: np.random.Generator) -> None:
    section, key = [("device_wearer", "date_of_birth"), ("device_wearer", "last_name"), ("interested_parties", "delivery_unit"),
                    ("interested_parties", "responsible_officer_name"), ("monitoring", "end")][int(rng.integers(5))]  # fmt: skip
    doc[section][key] = None


def _invalid_postcode(doc: dict[str, Any], rng: np.random.Generator) -> None:
    pc = doc["addresses"][0]["postcode"]
    doc["addresses"][0]["postcode"] = [
        pc.replace(" ", "")[:-1],
        pc[:2] + "#" + pc[3:],
        "N/A",
        pc.split(" ")[0] + " 1",
    ][int(rng.integers(4))]


def _postcode_outside(doc: dict[str, Any], rng: np.random.Generator) -> None:
    doc["addresses"][0]["postcode"] = places.postcode(
        rng, places.FOREIGN_POSTCODE_AREAS[int(rng.integers(len(places.FOREIGN_POSTCODE_AREAS)))]
    )


def _end_before_start(doc: dict[str, Any], rng: np.random.Generator) -> None:
    start = parse_instant(doc["monitoring"]["start"])
    doc["monitoring"]["end"] = iso(start - timedelta(days=int(rng.integers(1, 200))))


def _curfew_address(doc: dict[str, Any], rng: np.random.Generator) -> None:
    for slot in doc["conditions"]["curfew"]["timetable"]:
        slot["address_type"] = "SECONDARY"
    doc["conditions"]["curfew"]["release_day"]["address_type"] = "SECONDARY"


def _region_unit(doc: dict[str, Any], rng: np.random.Generator) -> None:
    region = doc["interested_parties"]["probation_region"]
    others = sorted(r for r in places.delivery_units_by_region() if r != region)
    units = places.delivery_units_by_region()[others[int(rng.integers(len(others)))]]
    doc["interested_parties"]["delivery_unit"] = units[int(rng.integers(len(units)))]


def _youth_alcohol(doc: dict[str, Any], rng: np.random.Generator) -> None:
    c = doc["conditions"]
    c["alcohol"] = {
        "mode": "ABSTINENCE",
        "start": doc["monitoring"]["start"],
        "end": doc["monitoring"]["end"],
    }


def _curfew_hours(doc: dict[str, Any], rng: np.random.Generator) -> None:
    start, end = [("07:00", "07:00"), ("03:00", "23:30"), ("19:00", "18:00"), ("12:00", "12:30")][
        int(rng.integers(4))
    ]
    for slot in [*doc["conditions"]["curfew"]["timetable"], doc["conditions"]["curfew"]["release_day"]]:
        slot["start"], slot["end"] = start, end


def _zone_self_intersecting(doc: dict[str, Any], rng: np.random.Generator) -> None:
    zone = doc["conditions"]["exclusion_zones"][0]
    ring = zone["geometry"]["coordinates"][0]
    a, b = ring[2], ring[len(ring) // 2]  # swapping two vertices makes a bow-tie
    ring[2], ring[len(ring) // 2] = b, a


# Places plainly outside England and Wales (lon, lat): Edinburgh, Glasgow, the North Sea, the Atlantic off Scilly.
_OUTSIDE = ((-3.19, 55.95), (-4.25, 55.86), (2.6, 54.0), (-7.0, 49.9))


def _zone_outside(doc: dict[str, Any], rng: np.random.Generator) -> None:
    zone = doc["conditions"]["exclusion_zones"][0]
    ring = zone["geometry"]["coordinates"][0]
    cx, cy = sum(p[0] for p in ring[:-1]) / (len(ring) - 1), sum(p[1] for p in ring[:-1]) / (len(ring) - 1)
    tx, ty = _OUTSIDE[int(rng.integers(len(_OUTSIDE)))]
    zone["geometry"]["coordinates"][0] = [[round(x - cx + tx, 6), round(y - cy + ty, 6)] for x, y in ring]


def _dob_adult(doc: dict[str, Any], rng: np.random.Generator) -> None:
    doc["device_wearer"]["is_adult"] = not doc["device_wearer"]["is_adult"]


# An agency that does not respond for the cohort (YJS is for youths only; specials are never youths).
_WRONG_AGENCY = {"COURT_BAIL": "HOME_OFFICE", "POST_RELEASE": "HOME_OFFICE", "COURT_SENTENCE": "HOME_OFFICE",
                 "IMMIGRATION_BAIL": "POLICE", "SPECIALS": "YJS"}  # fmt: skip


def _responsible_org(doc: dict[str, Any], rng: np.random.Generator) -> None:
    doc["interested_parties"]["responsible_organisation"] = _WRONG_AGENCY[doc["monitoring"]["cohort"]]


def _install_after_start(doc: dict[str, Any], rng: np.random.Generator) -> None:
    start = parse_instant(doc["monitoring"]["start"])
    doc["installation"]["appointment"] = iso(start + timedelta(days=int(rng.integers(1, 10))))


DEFECTS: dict[str, tuple[Defect, Callable[[dict[str, Any]], bool]]] = {
    "missing_field": (_missing_field, lambda d: True),
    "invalid_postcode": (_invalid_postcode, lambda d: True),
    "postcode_outside_england_wales": (_postcode_outside, lambda d: True),
    "end_before_start": (_end_before_start, lambda d: True),
    "curfew_address_not_listed": (_curfew_address, lambda d: "curfew" in d["conditions"]),
    "region_unit_mismatch": (_region_unit, lambda d: True),
    "youth_alcohol": (_youth_alcohol, lambda d: not d["device_wearer"]["is_adult"]),
    "curfew_hours_impossible": (_curfew_hours, lambda d: "curfew" in d["conditions"]),
    "zone_self_intersecting": (_zone_self_intersecting, lambda d: "exclusion_zones" in d["conditions"]),
    "zone_outside_england_wales": (_zone_outside, lambda d: "exclusion_zones" in d["conditions"]),
    "dob_adult_mismatch": (_dob_adult, lambda d: True),
    "responsible_org_mismatch": (_responsible_org, lambda d: True),
    "installation_after_start": (_install_after_start, lambda d: True),
}
DUPLICATE = "duplicate_active_order"


def inject(doc: dict[str, Any], rng: np.random.Generator) -> list[str]:
    """Apply one (sometimes two) applicable defects to `doc` in place; return their codes."""
    applicable = [code for code, (_, ok) in DEFECTS.items() if ok(doc)]
    if not doc["device_wearer"]["is_adult"]:
        applicable += ["youth_alcohol"] * 4  # youths are where this defect happens
    count = 2 if rng.random() < 0.15 else 1
    codes: list[str] = []
    while len(codes) < count:
        code = applicable[int(rng.integers(len(applicable)))]
        if code not in codes and not (code == "end_before_start" and doc["monitoring"]["end"] is None):
            DEFECTS[code][0](doc, rng)
            codes.append(code)
    return sorted(codes)


def duplicate(doc: dict[str, Any], new_ref: str) -> dict[str, Any]:
    """A second NEW order for a person already active (re-keyed by another agency)."""
    dup = copy.deepcopy(doc)
    dup["ref"] = new_ref
    dup["defects"] = [DUPLICATE]
    return dup
