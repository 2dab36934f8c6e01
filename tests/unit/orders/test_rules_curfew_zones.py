from __future__ import annotations

from datetime import date

import pytest

from openem.orders.rules import validate_order
from openem.orders.rules.curfew import clock_changes

from .conftest import NOW, codes, only_codes

DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")


def _timetable(start, end):
    return [{"day": d, "start": start, "end": end, "address_type": "PRIMARY"} for d in DAYS]


def test_clock_changes_are_last_sundays():
    assert clock_changes(date(2026, 11, 1), date(2027, 12, 31)) == [date(2027, 3, 28), date(2027, 10, 31)]


def test_community_order_curfew_at_most_20_hours_a_day(order):
    order["conditions"]["curfew"]["timetable"][0].update(start="06:00", end="03:00")  # 21 h on Monday
    errors = [e for e in validate_order(order, now=NOW) if e.code == "curfew_too_many_hours"]
    assert errors and errors[0].field == "conditions.curfew.timetable[0]" and "Monday" in errors[0].message


def test_community_order_curfew_at_least_2_hours(order):
    order["conditions"]["curfew"]["timetable"][3].update(start="19:00", end="20:00")
    assert ("curfew_too_few_hours", "conditions.curfew.timetable[3]") in codes(order)


def test_community_order_weekly_bound_112_hours(order):
    order["conditions"]["curfew"]["timetable"] = _timetable("18:00", "10:00")  # 16 h x 7 = 112 h: lawful
    assert "curfew_too_many_hours_week" not in only_codes(order)
    order["conditions"]["curfew"]["timetable"] = _timetable("17:00", "10:00")  # 17 h x 7 = 119 h
    assert "curfew_too_many_hours_week" in only_codes(order)


def test_hdc_curfew_at_least_9_hours_every_day(order):
    order["monitoring"].update(cohort="POST_RELEASE", order_type="POST_RELEASE", hdc=True)
    order["device_wearer"]["nomis_id"] = "A1234BC"
    order["conditions"]["curfew"]["timetable"] = _timetable("21:00", "06:00")  # 9 h
    assert not {"curfew_too_few_hours", "curfew_too_many_hours"} & only_codes(order)
    order["conditions"]["curfew"]["timetable"] = _timetable("22:00", "06:00")[:6]  # 8 h, and no Sunday
    found = codes(order)
    assert ("curfew_too_few_hours", "conditions.curfew.timetable[0]") in found
    assert any(c == "curfew_too_few_hours" for c, _ in found)


def test_court_bail_policy_bound(order):
    order["monitoring"].update(cohort="COURT_BAIL", order_type="BAIL")
    order["interested_parties"].update(responsible_organisation="POLICE", police_area="KENT")
    order["conditions"]["curfew"]["timetable"] = _timetable("18:00", "11:00")  # 17 h
    assert "curfew_too_many_hours" in only_codes(order)


def test_clock_change_night_is_measured_on_the_clock(order):
    # 20 h from 10:00 Saturday to 06:00 Sunday is lawful; on 31 Oct 2027 the clocks go back and that night
    # lasts 21 real hours, by law not by choice: no breach (issue 11; tests/unit/orders/test_order_entry_rules.py)
    order["monitoring"]["end"] = "2027-12-01T00:00:00Z"
    order["conditions"]["curfew"]["end"] = "2027-12-01T00:00:00Z"
    order["conditions"]["curfew"]["timetable"] = [
        {"day": "SATURDAY", "start": "10:00", "end": "06:00", "address_type": "PRIMARY"}
    ]
    assert validate_order(order, now=NOW) == []


def test_spring_clock_change_shortens_not_lengthens(order):
    order["monitoring"]["end"] = "2027-04-30T00:00:00Z"
    order["conditions"]["curfew"]["end"] = "2027-04-30T00:00:00Z"
    order["conditions"]["curfew"]["timetable"] = [
        {"day": "SATURDAY", "start": "10:00", "end": "06:00", "address_type": "PRIMARY"}
    ]
    assert validate_order(order, now=NOW) == []


@pytest.mark.parametrize("bad", ["24:00", "7pm", "19:60", "", "1900"])
def test_curfew_times_must_be_real(order, bad):
    order["conditions"]["curfew"]["timetable"][1]["start"] = bad
    found = only_codes(order)
    assert {"invalid_time", "required"} & found


def test_overlapping_slots(order):
    order["conditions"]["curfew"]["timetable"].append(
        {"day": "MONDAY", "start": "22:00", "end": "23:00", "address_type": "PRIMARY"}
    )
    assert "curfew_slots_overlap" in only_codes(order)


def test_several_slots_a_day_are_fine(order):
    order["conditions"]["curfew"]["timetable"] = _timetable("21:00", "07:00") + [
        {"day": "SATURDAY", "start": "12:00", "end": "14:00", "address_type": "PRIMARY"}
    ]
    assert validate_order(order, now=NOW) == []


def _zone(ring):
    return {
        "id": "Z9",
        "name": "Zone",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "start": None,
        "end": None,
        "schedule": None,
    }


LEEDS = [[-1.56, 53.79], [-1.54, 53.79], [-1.54, 53.81], [-1.56, 53.81], [-1.56, 53.79]]


def test_valid_zone(order):
    order["conditions"]["exclusion_zones"] = [_zone(LEEDS)]
    assert validate_order(order, now=NOW) == []


@pytest.mark.parametrize(
    "ring,code",
    [
        (LEEDS[:-1], "zone_not_closed"),
        (
            [[-1.56, 53.79], [-1.54, 53.81], [-1.54, 53.79], [-1.56, 53.81], [-1.56, 53.79]],
            "zone_self_intersects",
        ),
        (
            [[-3.2, 55.94], [-3.18, 55.94], [-3.18, 55.96], [-3.2, 55.96], [-3.2, 55.94]],
            "zone_outside_england_wales",
        ),  # Edinburgh
        (
            [[-4.5, 54.15], [-4.48, 54.15], [-4.48, 54.17], [-4.5, 54.17], [-4.5, 54.15]],
            "zone_outside_england_wales",
        ),  # Isle of Man
        (
            [[-1.5, 53.8], [-1.4999, 53.8], [-1.4999, 53.8001], [-1.5, 53.8001], [-1.5, 53.8]],
            "zone_too_small",
        ),
        ([[-5, 50], [1.5, 50.5], [1.5, 53], [-3, 54.5], [-5, 50]], "zone_too_large"),
        ([[-1.5, 53.8], [-1.4, 53.8], [-1.5, 53.8]], "zone_too_few_points"),
        ([[-1.5, "x"], [-1.4, 53.8], [-1.5, 53.9], [-1.5, "x"]], "wrong_type"),
    ],
)
def test_bad_zones(order, ring, code):
    order["conditions"]["exclusion_zones"] = [_zone(ring)]
    assert code in only_codes(order)


def test_zone_fields_report_their_path(order):
    order["conditions"]["inclusion_zones"] = [_zone(LEEDS[:-1])]
    assert ("zone_not_closed", "conditions.inclusion_zones[0].geometry") in codes(order)


@pytest.mark.parametrize(
    "lon,lat,inside",
    [
        (-0.12, 51.5, True),
        (-3.18, 51.48, True),
        (-2.94, 54.89, True),
        (-5.54, 50.12, True),
        (1.3, 52.63, True),
        (-4.63, 53.31, True),
        (-3.19, 55.95, False),
        (-6.26, 53.35, False),
        (-5.93, 54.6, False),
        (1.85, 50.95, False),
        (-3.6, 55.07, False),
        (2.35, 48.86, False),
    ],
)
def test_england_wales_outline(lon, lat, inside):
    from openem.orders import policy
    from openem.orders.rules.zones import in_england_wales

    assert in_england_wales(lon, lat, policy.load()) is inside
