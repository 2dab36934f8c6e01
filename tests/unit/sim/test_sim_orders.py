"""Clean orders must be genuinely valid; defective ones carry honest labels."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import numpy as np
import shapely
from shapely.geometry import Polygon

from openem.core import reference
from openem.core.geo import haversine_m, in_england_wales_bbox
from openem.core.time import parse_instant
from openem.sim.defects import DEFECTS, inject
from openem.sim.orders import MAX_DAYS

from .sim_fixtures import small_world

POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][ABD-HJLNP-UW-Z]{2}$")
RESPONSIBLE = {
    "COURT_BAIL": "POLICE",
    "POST_RELEASE": "PROBATION",
    "COURT_SENTENCE": "PROBATION",
    "IMMIGRATION_BAIL": "HOME_OFFICE",
    "SPECIALS": "PROBATION",
}


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def problems(doc: dict) -> list[str]:
    """An independent check of the rules the brief lists for a clean order."""
    out = []
    w, ip, mon, cond = doc["device_wearer"], doc["interested_parties"], doc["monitoring"], doc["conditions"]
    for key in ("first_name", "last_name", "date_of_birth"):
        if not w.get(key):
            out.append(f"missing {key}")
    for key in ("delivery_unit", "responsible_officer_name", "probation_region"):
        if not ip.get(key):
            out.append(f"missing {key}")
    if not mon.get("start") or not mon.get("end"):
        return [*out, "missing dates"]
    for a in doc["addresses"]:
        if not POSTCODE.match(a["postcode"] or "") or a["postcode"][:2].rstrip("0123456789") in (
            "EH",
            "G",
            "AB",
            "DD",
            "KY",
            "BT",
            "IV",
            "PA",
        ):
            out.append("postcode")
    if w.get("date_of_birth"):
        start = parse_instant(mon["start"]).date()
        dob = date.fromisoformat(w["date_of_birth"])
        age = start.year - dob.year - ((start.month, start.day) < (dob.month, dob.day))
        if (age >= 18) != w["is_adult"]:
            out.append("dob/is_adult")
    if reference.delivery_unit_regions().get(ip.get("delivery_unit")) != ip["probation_region"]:
        out.append("region/unit")
    expected = "YJS" if not w["is_adult"] else RESPONSIBLE[mon["cohort"]]
    if ip["responsible_organisation"] != expected:
        out.append("responsible org")
    start, end = parse_instant(mon["start"]), parse_instant(mon["end"])
    days = (end - start).days
    if days < 30 or (mon["scheme"] and days > 366) or days > 366:
        out.append("duration")
    if parse_instant(doc["installation"]["appointment"]) >= start:
        out.append("installation")
    if "curfew" in cond:
        types = {a["type"] for a in doc["addresses"]}
        for slot in [*cond["curfew"]["timetable"], cond["curfew"]["release_day"]]:
            if slot["address_type"] not in types:
                out.append("curfew address")
            s, e = _minutes(slot["start"]), _minutes(slot["end"])
            hours = ((e - s) % 1440) / 60
            in_window = (s >= 7 * 60 or s < 7 * 60 and e <= 7 * 60) and (e <= 7 * 60 or e > s)
            if not (2 <= hours <= 16) or not in_window:
                out.append("curfew hours")
    if "alcohol" in cond and mon["cohort"] == "COURT_SENTENCE" and days > 120:
        out.append("alcohol abstinence monitoring requirement over 120 days")
    if "alcohol" in cond and not w["is_adult"]:
        out.append("youth alcohol")
    for z in cond.get("exclusion_zones", []) + cond.get("inclusion_zones", []):
        ring = z["geometry"]["coordinates"][0]
        poly = Polygon(ring)
        if not shapely.is_valid(poly) or not all(in_england_wales_bbox(x, y) for x, y in ring):
            out.append("zone")
            continue
        x0, y0, x1, y1 = poly.bounds
        across = haversine_m(y0, x0, y1, x1)
        if not 50 <= across <= 5000 * 1.42:  # the bbox diagonal of a 5 km circle
            out.append("zone size")
    return out


def test_clean_orders_are_genuinely_valid() -> None:
    w = small_world()
    clean = [o for o in w.orders if not o["defects"]]
    assert len(clean) > 300
    bad = {o["ref"]: problems(o) for o in clean if problems(o)}
    assert bad == {}


def test_defective_orders_fail_the_independent_check_for_their_labelled_reason() -> None:
    w = small_world()
    defective = [o for o in w.orders if o["defects"] and o["defects"] != ["duplicate_active_order"]]
    assert defective
    detectable = [
        o
        for o in defective
        if not set(o["defects"]) <= {"zone_outside_england_wales", "installation_after_start"}
    ]
    caught = [o for o in detectable if problems(o)]
    assert len(caught) == len(detectable)


def test_defect_rate_and_labels() -> None:
    w = small_world()
    rate = sum(1 for o in w.orders if o["defects"]) / len(w.orders)
    assert 0.21 <= rate <= 0.25
    codes = Counter(c for o in w.orders for c in o["defects"])
    assert set(codes) <= set(DEFECTS) | {"duplicate_active_order"}
    assert len(codes) >= 8
    # a duplicate is a second active order for a person who already has one
    per_person = Counter(o["person_id"] for o in w.orders)
    for o in w.orders:
        if "duplicate_active_order" in o["defects"]:
            assert per_person[o["person_id"]] == 2


def test_every_defect_changes_an_applicable_order() -> None:
    w = small_world()
    base = next(
        o
        for o in w.orders
        if not o["defects"] and "curfew" in o["conditions"] and "exclusion_zones" in o["conditions"]
    )
    import copy

    for code, (apply, applicable) in DEFECTS.items():
        doc = copy.deepcopy(base)
        if code == "youth_alcohol":
            doc["device_wearer"]["is_adult"] = False
        if not applicable(doc):
            continue
        apply(doc, np.random.default_rng(1))
        assert doc != base, code
    doc = copy.deepcopy(base)
    assert inject(doc, np.random.default_rng(3))


def test_scheme_maxima_and_references() -> None:
    w = small_world()
    prisons = reference.codes("prisons")
    for o in w.orders:
        if o["monitoring"]["cohort"] == "POST_RELEASE":
            assert o["interested_parties"]["notifying_organisation_name"] in prisons
        assert o["interested_parties"]["police_area"] in reference.codes("police_areas")
    assert max(MAX_DAYS.values()) <= 365


def test_person_identifiers_are_unique_and_a_youth_agency_never_fits_specials() -> None:
    w = small_world()
    firsts = [o for o in w.orders if not o["ref"].endswith("-D")]
    for key in ("crn", "pnc", "nomis_id"):
        values = [o["device_wearer"][key] for o in firsts]
        assert len(set(values)) == len(values), key
    from openem.sim.defects import _WRONG_AGENCY

    assert _WRONG_AGENCY["SPECIALS"] == "YJS" and all(RESPONSIBLE[c] != a for c, a in _WRONG_AGENCY.items())
