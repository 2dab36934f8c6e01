"""Order documents (docs/order-format.md) for simulated people: genuinely valid when clean."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

import numpy as np

from openem.core import reference
from openem.core.time import iso, local_to_utc, parse_instant
from openem.sim import places
from openem.sim.population import COHORTS, PLANS, Geography

DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
AAMR_MAX_DAYS = 120  # alcohol abstinence monitoring requirement of a community order
MAX_DAYS = {"GPS_AC": 365, "GPS_DA": 365, "ALCOHOL": 365, "HDC": 365}
_ORGS = {
    "POST_RELEASE": ("PRISON", "prisons", "PROBATION", "POST_RELEASE"),
    "COURT_BAIL": ("MAGISTRATES_COURT", "magistrates_courts", "POLICE", "BAIL"),
    "IMMIGRATION_BAIL": ("HOME_OFFICE", None, "HOME_OFFICE", "IMMIGRATION"),
    "COURT_SENTENCE": ("CROWN_COURT", "crown_courts", "PROBATION", "COMMUNITY"),
    "SPECIALS": ("PROBATION", None, "PROBATION", "SPECIAL"),
}
# the Youth Justice Service region covering each probation region (CEMO reference youthJusticeServiceRegions)
_YJS_REGION = {
    "NORTH_EAST": "NORTH_EAST_AND_CUMBRIA",
    "NORTH_WEST": "NORTH_WEST",
    "GREATER_MANCHESTER": "NORTH_WEST",
    "YORKSHIRE_AND_THE_HUMBER": "YORKSHIRE_AND_HUMBERSIDE",
    "EAST_MIDLANDS": "MIDLANDS",
    "WEST_MIDLANDS": "MIDLANDS",
    "WALES": "WALES",
    "SOUTH_WEST": "SOUTH_WEST_AND_SOUTH_CENTRAL",
    "SOUTH_CENTRAL": "SOUTH_WEST_AND_SOUTH_CENTRAL",
    "LONDON": "LONDON",
    "EAST_OF_ENGLAND": "EAST_AND_SOUTH_EAST",
    "KENT_SURREY_SUSSEX": "EAST_AND_SOUTH_EAST",
}
_OFFENCE = {
    "GPS_AC": "ROBBERY",
    "GPS_DA": "VIOLENCE_AGAINST_THE_PERSON",
    "ALCOHOL": "PUBLIC_ORDER_OFFENCES",
    "NFD": "NO_OFFENCE_COMMITTED",
}
_SCHEME = {
    "GPS_AC": "GPS_ACQUISITIVE_CRIME_PAROLE",
    "GPS_DA": "DOMESTIC_ABUSE_PERPETRATOR_ON_LICENCE_DAPOL",
    "HDC": "GPS_ACQUISITIVE_CRIME_HOME_DETENTION_CURFEW",
}


class Names:
    """Pools of synthetic en_GB names and streets drawn once from Faker, combined at random (fast)."""

    def __init__(self, seed: int, size: int = 1500) -> None:
        from faker import Faker

        fake = Faker("en_GB")
        fake.seed_instance(seed)
        self.male = [fake.first_name_male() for _ in range(size)]
        self.female = [fake.first_name_female() for _ in range(size)]
        self.last = [fake.last_name() for _ in range(size)]
        self.street = [fake.street_name() for _ in range(size)]

    def pick(self, rng: np.random.Generator, pool: list[str]) -> str:
        return pool[int(rng.integers(len(pool)))]

    def full(self, rng: np.random.Generator) -> str:
        return (
            f"{self.pick(rng, self.male if rng.random() < 0.5 else self.female)} {self.pick(rng, self.last)}"
        )


@lru_cache(maxsize=4)
def names_for(seed: int) -> Names:
    return Names(seed)


def identifiers(g: int, seed: int) -> dict[str, str]:
    """PNC, NOMIS number and CRN unique per person in a world (bijective in the person index below 10^6)."""
    k = (g * 7919 + seed * 104_729) % 6_760_000  # 7919 is coprime with 10^6, 10^7 and 6,760,000
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    return {
        "pnc": f"{2000 + g % 26}/{(g * 7919 + seed) % 10**7:07d}{letters[g % 24]}",
        "nomis_id": f"A{k // 676:04d}{chr(65 + (k % 676) // 26)}{chr(65 + k % 26)}",
        "crn": f"{letters[seed % 24]}{(g * 7919 + seed * 31) % 10**6:06d}",
    }


def hhmm(wall_min_after_7: int) -> str:
    m = (int(wall_min_after_7) + 7 * 60) % (24 * 60)
    return f"{m // 60:02d}:{m % 60:02d}"


def build_order(
    fake: Names,
    rng: np.random.Generator,
    i: int,
    ref: str,
    person_id: str,
    cohort: int,
    plan: int,
    is_youth: bool,
    geo: Geography,
    world_start: date,
    world_days: int,
    victim_device: str | None,
) -> dict[str, Any]:
    cname, pname = COHORTS[cohort], PLANS[plan]
    t = places.towns()
    town = int(geo.town[i])
    region = t.region[town]
    notifying, court_list, responsible, order_type = _ORGS[cname]
    if is_youth:
        notifying, court_list, responsible = "YOUTH_COURT", "youth_courts", "YJS"
    names = sorted(reference.codes(court_list)) if court_list else []
    # a name only for a court or prison (CEMO: none for the Home Office; blank for probation)
    notifying_name = names[int(rng.integers(len(names)))] if names else None
    max_days = MAX_DAYS.get(pname, 365)
    if pname == "ALCOHOL" and cname == "COURT_SENTENCE":
        max_days = AAMR_MAX_DAYS
    duration = int(rng.integers(min(max_days, max(60, world_days + 40)), max_days + 1))
    elapsed = int(rng.integers(1, max(2, duration - world_days - 5)))
    start_day = world_start - timedelta(days=elapsed)
    start = local_to_utc(start_day, time(12, 0))
    end = start + timedelta(days=duration)
    # adults are 19+ at the world's start so that they were adults when the order began
    age = int(rng.integers(14, 18)) if is_youth else int(rng.integers(19, 70))
    dob = world_start - timedelta(days=round(365.2425 * (age + 1)) - int(rng.integers(5, 355)))
    sex = "MALE" if rng.random() < 0.88 else "FEMALE"
    first = fake.pick(rng, fake.male if sex == "MALE" else fake.female)
    area = places.POSTCODE_AREAS[region][int(rng.integers(len(places.POSTCODE_AREAS[region])))]
    units = places.delivery_units_by_region()[region]
    officer = fake.full(rng)
    doc: dict[str, Any] = {
        "ref": ref,
        "version": 1,
        "request_type": "NEW",
        "person_id": person_id,
        "device_wearer": {
            "first_name": first,
            "last_name": fake.pick(rng, fake.last),
            "aliases": [],
            "date_of_birth": dob.isoformat(),
            "is_adult": not is_youth,
            "sex": sex,
            "gender": sex.lower(),
            **identifiers(int(person_id[-7:]), int(person_id[4:8])),
            "home_office_reference": f"HO{(int(person_id[-7:]) * 7919 + 17) % 10**7:07d}"
            if cname == "IMMIGRATION_BAIL"
            else None,
            "language": "English",
            "interpreter_required": False,
            "disabilities": [],
            "no_fixed_abode": False,
        },
        "responsible_adult": {
            "full_name": fake.full(rng),
            "relationship": "parent",
            "phone": f"07{int(rng.integers(10**8, 10**9))}",
        }
        if is_youth
        else None,
        "contact": {"phone": f"07{int(rng.integers(10**8, 10**9))}"},
        "addresses": [
            {
                "type": "PRIMARY",
                "line1": f"{int(rng.integers(1, 240))} {fake.pick(rng, fake.street)}",
                "line2": "",
                "town": t.name[town],
                "postcode": places.postcode(rng, area),
                "lat": round(float(geo.home_lat[i]), 6),
                "lon": round(float(geo.home_lon[i]), 6),
            }
        ],
        "interested_parties": {
            "notifying_organisation": notifying,
            "notifying_organisation_name": notifying_name,
            "notifying_team_email": f"team{int(rng.integers(1, 99))}@example.gov.uk",
            "responsible_organisation": responsible,
            "probation_region": region,
            "delivery_unit": units[int(rng.integers(len(units)))],
            "police_area": places.POLICE_AREAS[region][int(rng.integers(len(places.POLICE_AREAS[region])))],
            "responsible_officer_name": officer,
            **({"youth_justice_region": _YJS_REGION[region]} if responsible == "YJS" else {}),
            "responsible_officer_email": officer.lower().replace(" ", ".").replace("'", "")
            + "@example.gov.uk",
        },
        "offence_risk": {
            "offence_category": _OFFENCE.get(pname, "THEFT_OFFENCES"),
            "risk_categories": ["SAFEGUARDING_DOMESTIC_ABUSE"] if pname == "GPS_DA" else [],
            "risk_level": "VERY_HIGH"
            if cname == "SPECIALS"
            else ["LOW", "MEDIUM", "HIGH"][int(rng.integers(3))],
            "mappa_level": 2 if cname == "SPECIALS" else None,
            "specials": cname == "SPECIALS",
        },
        "monitoring": {
            "cohort": cname,
            "order_type": order_type,
            "condition_type": "LICENSE_CONDITION_OF_A_CUSTODIAL_ORDER" if cname == "POST_RELEASE" else None,
            "sentence_type": "COMMUNITY_YRO" if is_youth and cname == "COURT_SENTENCE" else None,
            "scheme": _SCHEME.get(pname),
            "is_youth": bool(is_youth),
            "start": iso(start),
            "end": iso(end),
        },  # fmt: skip
        "conditions": {},
        "installation": {
            "location": "PRISON" if cname == "POST_RELEASE" else "HOME",
            "appointment": iso(start - timedelta(hours=3)),
        },
    }
    _conditions(doc, rng, i, pname, geo, start, end, world_start, victim_device)
    return doc


def _conditions(
    doc: dict[str, Any],
    rng: np.random.Generator,
    i: int,
    pname: str,
    geo: Geography,
    start: datetime,
    end: datetime,
    world_start: date,
    victim: str | None,
) -> None:
    c = doc["conditions"]
    s, e = iso(start), iso(end)
    if pname in ("HDC", "RF_CURFEW", "GPS_DA", "GPS_BAIL", "SPECIAL"):
        cs, ce = hhmm(int(geo.curfew_start_min[i])), hhmm(int(geo.curfew_end_min[i]))
        slot = {"start": cs, "end": ce, "address_type": "PRIMARY"}
        c["curfew"] = {
            "start": s,
            "end": e,
            "release_day": dict(slot),
            "timetable": [{"day": d, **slot} for d in DAYS],
            "grace_minutes": 5,
        }
    lat0, lon0 = float(geo.home_lat[i]), float(geo.home_lon[i])
    if pname in ("GPS_AC", "GPS_DA", "GPS_BAIL", "SPECIAL"):
        zlat, zlon = places.offset_to_lonlat(lat0, lon0, geo.zone_xy[i, 0], geo.zone_xy[i, 1])
        ring = places.circle_polygon(float(zlat), float(zlon), float(geo.zone_r[i]))
        name = "Victim address" if pname == "GPS_DA" else "Retail park"
        c["exclusion_zones"] = [
            {
                "id": "Z1",
                "name": name,
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "start": s,
                "end": e,
                "schedule": None,
            }
        ]
        c["trail"] = {"start": s, "end": e}
    if pname in ("GPS_IMM",):
        c["trail"] = {"start": s, "end": e}
    if pname == "SPECIAL":
        ring = places.circle_polygon(lat0, lon0, float(geo.incl_r[i]))
        c["inclusion_zones"] = [
            {
                "id": "I1",
                "name": "Home area",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "start": s,
                "end": e,
                "schedule": None,
            }
        ]
    if pname == "GPS_DA":
        olat, olon = places.offset_to_lonlat(lat0, lon0, geo.office_xy[i, 0], geo.office_xy[i, 1])
        day = world_start + timedelta(days=1)
        c["attendance"] = [{"id": "A1", "name": "Probation office", "lat": round(float(olat), 6), "lon": round(float(olon), 6), "radius_m": 100,
                            "start": iso(local_to_utc(day, time(10, 0))), "end": iso(local_to_utc(day, time(11, 0)))}]  # fmt: skip
        if victim:
            c["proximity"] = {"victim_device_id": victim, "pre_alert_m": 1000, "alert_m": 500}
    if pname == "ALCOHOL":
        c["alcohol"] = {
            "mode": "ABSTINENCE" if doc["monitoring"]["cohort"] == "POST_RELEASE" else "LIMIT",
            "start": s,
            "end": e,
        }
        if (
            doc["monitoring"]["cohort"] == "POST_RELEASE"
        ):  # licence alcohol monitoring is reviewed every 3 months
            a0, a1 = parse_instant(s), parse_instant(e)
            c["alcohol"]["review_dates"] = [
                iso(a0 + timedelta(days=85 * k)) for k in range(1, 6) if a0 + timedelta(days=85 * k) < a1
            ]
