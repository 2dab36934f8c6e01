"""A probation practitioner or police officer sees a person on their caseload themselves, in one request: the
trail, curfew nights, zone visits, alerts and devices. A person outside their caseload is refused on every
route exactly as an unknown id is (403), and every look (search, view, API, export) writes an audit row with its purpose."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from openem.auth.tables import AuditRow
from openem.core.time import local_to_utc
from openem.orders.samples import _square, sample_order
from openem.orders.seeding import load_orders
from openem.telemetry.tables import TrailPointRow

MINE = "PER-INS-MINE"
THEIRS = "PER-INS-THEIRS"
HOME = (53.8, -1.55)
ZONE_AT = (53.83, -1.50)
PURPOSE = {"purpose": "risk review before visit", "reference": "CR-123/26"}


def _doc(person: str, ref: str, email: str, force: str, seed: int) -> dict:
    import random

    doc = sample_order(datetime.now(UTC), random.Random(seed))
    doc["ref"], doc["person_id"] = ref, person
    doc["device_wearer"] |= {"first_name": "Alex", "last_name": "Mine" if person == MINE else "Theirs"}
    doc["interested_parties"] |= {"responsible_officer_email": email, "police_area": force}
    doc["addresses"][0] |= {"lat": HOME[0], "lon": HOME[1]}
    doc["offence_risk"]["specials"] = False
    doc["monitoring"]["cohort"] = "COURT_SENTENCE"
    days = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
    doc["conditions"]["curfew"] = {
        "start": doc["monitoring"]["start"],
        "end": doc["monitoring"]["end"],
        "timetable": [{"day": d, "start": "19:00", "end": "07:00", "address_type": "PRIMARY"} for d in days],
        "grace_minutes": 5,
    }
    doc["conditions"]["exclusion_zones"] = [{"name": "Park", "geometry": _square(*ZONE_AT, 0.005)}]
    return doc


@pytest.fixture
def people(world):
    now = datetime.now(UTC)
    with world.db.uow() as uow:
        active, _ = load_orders(
            uow.session,
            [
                _doc(MINE, "ORD-INSMINE01", "probation.demo@openem.example", "WEST_YORKSHIRE", 1),
                _doc(THEIRS, "ORD-INSTHEIR1", "someone.else@example.gov.uk", "MERSEYSIDE", 2),
            ],
            actor="test",
            now=now,
        )
        assert len(active) == 2
        # three nights ago: at home all curfew, except the night before last, out 21:00-22:00 in the zone
        day = (now - timedelta(days=3)).date()
        for person in (MINE, THEIRS):
            seq = 0
            for night in range(2):
                start = local_to_utc(day + timedelta(days=night), datetime.strptime("19:00", "%H:%M").time())
                for minute in range(0, 12 * 60, 10):
                    t = start + timedelta(minutes=minute)
                    out = night == 1 and 120 <= minute <= 180
                    lat, lon = ZONE_AT if out else HOME
                    seq += 1
                    uow.session.add(
                        TrailPointRow(device_id=f"DEV-{person}", seq=seq, person_id=person, activation_id="ACT-1",
                                      device_time=t, lat=lat, lon=lon, accuracy_m=10.0)
                    )  # fmt: skip
    return world


def audit_rows(world, action_prefix: str) -> list:
    with world.db.uow() as uow:
        return [
            r
            for r in uow.session.execute(select(AuditRow).order_by(AuditRow.seq)).scalars()
            if r.action.startswith(action_prefix)
        ]


WINDOW = {"from": (datetime.now(UTC) - timedelta(days=5)).date().isoformat()}


def routes(person: str) -> list[str]:
    return [
        f"/people/{person}",
        f"/api/people/{person}",
        f"/api/people/{person}/trail",
        f"/api/people/{person}/curfew",
        f"/people/{person}/export.csv",
        f"/people/{person}/export.geojson",
    ]


def test_the_practitioner_finds_their_person_and_sees_trail_curfew_and_zone_visits(people):
    c = people.signed_in("demo-probation-practitioner")
    found = c.get("/api/people", params={"q": "alex", **PURPOSE}).json()
    assert [p["person_id"] for p in found] == [MINE]  # the other Alex is not on this caseload
    assert c.get("/api/people", params={"q": "ORD-INSTHEIR1", **PURPOSE}).json() == []
    view = c.get(f"/api/people/{MINE}", params={**WINDOW, **PURPOSE})
    assert view.status_code == 200, view.text
    body = view.json()
    assert [o["ref"] for o in body["orders"]] == ["ORD-INSMINE01"]
    assert body["positions"] == 144
    statuses = [n["status"] for n in body["curfew"]]
    assert statuses.count("absent") == 1 and statuses.count("complied") == 1
    assert [v["zone"] for v in body["zone_visits"]] == ["Park"] and body["zone_visits"][0]["minutes"] == 60
    trail = c.get(f"/api/people/{MINE}/trail", params={**WINDOW, **PURPOSE})
    assert trail.headers["content-type"].startswith("application/geo+json")
    assert len(trail.json()["features"]) == 144
    rows = list(
        csv.DictReader(io.StringIO(c.get(f"/people/{MINE}/export.csv", params={**WINDOW, **PURPOSE}).text))
    )
    assert len(rows) == 144 and rows[0]["n"] == "1"
    page = c.get(f"/people/{MINE}", params={**WINDOW, **PURPOSE})
    assert page.status_code == 200 and "Curfew, night by night" in page.text and "Absent" in page.text


@pytest.mark.parametrize(
    "user",
    ["demo-probation-practitioner", "demo-police-officer", "demo-youth-justice-worker",
     "demo-home-office-caseworker", "demo-crime-matching-caseworker"],
)  # fmt: skip
def test_a_person_outside_the_caseload_is_refused_on_every_route_as_nobody_is_and_audited(people, user):
    c = people.signed_in(user)
    for url in routes(THEIRS) + routes("PER-NOSUCH"):
        r = c.get(url, params={**WINDOW, **PURPOSE})
        assert r.status_code == 403, url
        assert THEIRS not in r.text.replace(url, "") and "Theirs" not in r.text
    denied = audit_rows(people, "insights:person:denied")
    assert len([r for r in denied if r.outcome == "denied" and THEIRS in r.records]) == 6
    assert not audit_rows(people, "insights:person:read") and not audit_rows(people, "insights:export")


def test_users_without_location_access_are_refused(people):
    for user in ("demo-order-creator-court", "demo-analyst", "demo-admin"):
        c = people.signed_in(user)
        for url in routes(MINE):
            assert c.get(url, params={**WINDOW, **PURPOSE}).status_code == 403, (user, url)


def test_every_read_writes_one_audit_row_with_the_purpose_and_what_was_returned(people):
    c = people.signed_in("demo-police-officer")  # same force as MINE
    for url in routes(MINE):
        assert c.get(url, params={**WINDOW, **PURPOSE}).status_code == 200, url
    rows = audit_rows(people, "insights:")
    assert [r.action for r in rows] == [
        "insights:person:read",
        "insights:person:read",
        "insights:trail:read",
        "insights:curfew:read",
        "insights:export:csv",
        "insights:export:geojson",
    ]
    for r in rows:
        assert r.purpose == "risk review before visit [ref CR-123/26]"
        assert r.records == [MINE, "ORD-INSMINE01"]


def test_no_purpose_no_data_and_police_need_a_crime_reference(people):
    pp = people.signed_in("demo-probation-practitioner")
    r = pp.get(f"/api/people/{MINE}/trail", params=WINDOW)
    assert r.status_code == 422 and "Say why you are looking" in r.text
    page = pp.get(f"/people/{MINE}")
    assert page.status_code == 200 and "Why are you looking?" in page.text and "Positions (" not in page.text
    police = people.signed_in("demo-police-officer")
    r = police.get(f"/api/people/{MINE}/trail", params={**WINDOW, "purpose": "suspect elimination"})
    assert r.status_code == 422 and "crime or incident reference" in r.text
    assert not audit_rows(people, "insights:trail")


@pytest.mark.parametrize("fmt", ["export.csv", "export.geojson", "summary.pdf"])
@pytest.mark.parametrize("purpose", [{}, {"purpose": "   "}, {"purpose": "why"}])
def test_an_export_without_a_purpose_gives_no_positions_and_records_no_export(people, fmt, purpose):
    c = people.signed_in("demo-probation-practitioner")
    r = c.get(f"/people/{MINE}/{fmt}", params={**WINDOW, **purpose})
    assert r.status_code == 422 and "Say why you are looking" in r.text
    assert "attachment" not in r.headers.get("content-disposition", "")
    assert not any(w in r.text for w in ("time_utc", "FeatureCollection", "%PDF"))
    assert not audit_rows(people, "insights:export")


@pytest.mark.parametrize(
    "window,words",
    [
        ({"from": "2026-11-10", "to": "2026-11-01"}, "from must be before to"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "at most 731 days"),
        ({"from": "2999-01-01", "to": "2999-01-02"}, "in the future"),
        ({"from": "yesterday"}, "is not a date"),
    ],
)
def test_bad_windows_get_a_clear_answer(people, window, words):
    c = people.signed_in("demo-probation-practitioner")
    r = c.get(f"/api/people/{MINE}/trail", params={**window, **PURPOSE})
    assert r.status_code == 422 and words in r.text
