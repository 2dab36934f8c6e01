"""Valid example orders (synthetic, no real people) for tests, the benchmark and documentation.

`sample_order(now, rng)` returns a complete, lawful order document starting a day after `now`; with an `rng`
it varies the cohort, place, names and conditions while staying valid.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from openem.core.time import iso

# (town, postcode, lat, lon, probation region, delivery unit, police area)
PLACES = (
    ("Leeds", "LS1 4AP", 53.7997, -1.5492, "YORKSHIRE_AND_THE_HUMBER", "LEEDS", "WEST_YORKSHIRE"),
    ("Cardiff", "CF10 1EP", 51.4816, -3.1791, "WALES", "CARDIFF_AND_THE_VALE", "SOUTH_WALES"),
    ("Norwich", "NR2 1NH", 52.6309, 1.2974, "EAST_OF_ENGLAND", "NORFOLK", "NORFOLK"),
    ("Plymouth", "PL1 2AA", 50.3755, -4.1427, "SOUTH_WEST", "PLYMOUTH", "DEVON_AND_CORNWALL"),
    ("Carlisle", "CA3 8QG", 54.8925, -2.9329, "NORTH_WEST", "CUMBRIA", "CUMBRIA"),
    ("Camden", "NW1 2DB", 51.5390, -0.1426, "LONDON", "CAMDEN_AND_ISLINGTON", "METROPOLITAN_POLICE"),
)
FIRST = (
    "Alex",
    "Sam",
    "Jordan",
    "Casey",
    "Robin",
    "Morgan",
    "Jamie",
    "Taylor",
    "Rhys",
    "Siân",
    "Zoë",
    "Connor",
)
LAST = ("Smith", "Jones", "O'Neill", "Price-Davies", "Khan", "Nowak", "Evans", "Walker", "Ahmed", "Hughes")

COHORTS = ("POST_RELEASE", "COURT_BAIL", "COURT_SENTENCE", "IMMIGRATION_BAIL")


def _square(lat: float, lon: float, half_deg: float) -> dict[str, Any]:
    ring = [
        [lon - half_deg, lat - half_deg],
        [lon + half_deg, lat - half_deg],
        [lon + half_deg, lat + half_deg],
        [lon - half_deg, lat + half_deg],
        [lon - half_deg, lat - half_deg],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def sample_order(
    now: datetime, rng: random.Random | None = None, *, cohort: str | None = None
) -> dict[str, Any]:
    rng = rng or random.Random(0)
    cohort = cohort or rng.choice(COHORTS)
    town, postcode, lat, lon, region, unit, police = rng.choice(PLACES)
    start = now.replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    days = rng.randint(60, 300)
    end = start + timedelta(days=days)
    age = rng.randint(19, 70)
    dob = (now - timedelta(days=int(age * 365.25) + rng.randint(1, 300))).date().isoformat()
    n = rng.randint(100000, 999999)
    wearer: dict[str, Any] = {
        "first_name": rng.choice(FIRST),
        "last_name": rng.choice(LAST),
        "aliases": [],
        "date_of_birth": dob,
        "is_adult": True,
        "sex": rng.choice(("MALE", "FEMALE")),
        "gender": rng.choice(("MALE", "FEMALE", "NON_BINARY")),
        "pnc": f"{rng.randint(2000, 2025)}/{n:07d}{rng.choice('ABCDEFGHJK')}",
        "crn": f"X{n}",
        "language": "English",
        "interpreter_required": False,
        "disabilities": [],
        "no_fixed_abode": False,
    }
    ip: dict[str, Any] = {
        "notifying_team_email": "team@example.gov.uk",
        "responsible_officer_name": "Pat Officer",
        "responsible_officer_email": "pat.officer@example.gov.uk",
    }
    monitoring: dict[str, Any] = {
        "cohort": cohort,
        "is_youth": False,
        "start": iso(start),
        "end": iso(end),
        "scheme": None,
    }
    if cohort == "POST_RELEASE":
        wearer["nomis_id"] = f"A{n % 10000:04d}BC"
        ip |= {
            "notifying_organisation": "PRISON",
            "notifying_organisation_name": "ALTCOURSE_PRISON",
            "responsible_organisation": "PROBATION",
        }
        monitoring |= {
            "order_type": "POST_RELEASE",
            "condition_type": "LICENSE_CONDITION_OF_A_CUSTODIAL_ORDER",
            "sentence_type": "STANDARD_DETERMINATE_SENTENCE",
        }
        install = {"location": "PRISON", "appointment": iso(start - timedelta(hours=3))}
    elif cohort == "COURT_BAIL":
        ip |= {
            "notifying_organisation": "MAGISTRATES_COURT",
            "notifying_organisation_name": "ABERDARE_MAGISTRATES_COURT",
            "responsible_organisation": "POLICE",
        }
        monitoring |= {"order_type": "BAIL", "sentence_type": "BAIL"}
        install = {"location": "HOME", "appointment": iso(start - timedelta(hours=2))}
    elif cohort == "COURT_SENTENCE":
        ip |= {
            "notifying_organisation": "CROWN_COURT",
            "notifying_organisation_name": "AYLESBURY_CROWN_COURT",
            "responsible_organisation": "PROBATION",
        }
        monitoring |= {"order_type": "COMMUNITY", "sentence_type": "COMMUNITY_SUSPENDED_SENTENCE"}
        install = {"location": "HOME", "appointment": iso(start - timedelta(hours=2))}
    else:
        wearer["home_office_reference"] = f"HO-{n}"
        ip |= {"notifying_organisation": "HOME_OFFICE", "responsible_organisation": "HOME_OFFICE"}
        monitoring |= {"order_type": "IMMIGRATION"}
        install = {"location": "HOME", "appointment": iso(start - timedelta(hours=2))}
    if ip["responsible_organisation"] == "PROBATION":
        ip |= {"probation_region": region, "delivery_unit": unit}
    if ip["responsible_organisation"] == "POLICE":
        ip["police_area"] = police
    curfew_start, curfew_end = rng.choice((("19:00", "07:00"), ("21:00", "06:00"), ("20:00", "08:00")))
    conditions: dict[str, Any] = {
        "curfew": {
            "start": iso(start),
            "end": iso(end),
            "release_day": {"start": "17:00", "end": "07:00", "address_type": "PRIMARY"},
            "timetable": [
                {"day": d, "start": curfew_start, "end": curfew_end, "address_type": "PRIMARY"}
                for d in ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
            ],
            "grace_minutes": 5,
        },
        "exclusion_zones": [],
        "inclusion_zones": [],
        "attendance": [],
    }
    if rng.random() < 0.5:
        conditions["exclusion_zones"].append(
            {
                "id": "Z1",
                "name": "Town centre",
                "geometry": _square(lat + 0.02, lon + 0.02, 0.004),
                "start": iso(start),
                "end": iso(end),
                "schedule": None,
            }
        )
        conditions["trail"] = {"start": iso(start), "end": iso(end)}
    if rng.random() < 0.3:
        appt = start + timedelta(days=7, hours=10)
        conditions["attendance"].append(
            {
                "id": "A1",
                "name": "Programme",
                "lat": lat + 0.01,
                "lon": lon,
                "radius_m": 100,
                "start": iso(appt),
                "end": iso(appt + timedelta(hours=2)),
            }
        )
    if cohort in ("POST_RELEASE", "COURT_SENTENCE") and rng.random() < 0.2:
        conditions["alcohol"] = {
            "mode": "ABSTINENCE",
            "start": iso(start),
            "end": iso(start + timedelta(days=min(days, 80))),
        }
    return {
        "ref": f"ORD-SAMPLE{rng.randint(0, 10**9):09d}",
        "version": 1,
        "request_type": "NEW",
        "person_id": f"PER-SAMPLE{n}",
        "device_wearer": wearer,
        "responsible_adult": None,
        "contact": {"phone": f"07700 900{rng.randint(0, 999):03d}"},
        "addresses": [
            {
                "type": "PRIMARY",
                "line1": f"{rng.randint(1, 200)} High Street",
                "line2": "",
                "town": town,
                "postcode": postcode,
                "lat": lat,
                "lon": lon,
            }
        ],
        "interested_parties": ip,
        "offence_risk": {
            "offence_category": "THEFT_OFFENCES",
            "risk_categories": [],
            "risk_level": "MEDIUM",
            "mappa_level": None,
            "specials": False,
        },
        "monitoring": monitoring,
        "conditions": conditions,
        "installation": install,
    }
