from __future__ import annotations

from datetime import date

import pytest

from openem.orders.rules import validate_order
from openem.orders.rules.dates import add_months, age_on

from .conftest import NOW, codes, only_codes


def test_end_before_start(order):
    order["monitoring"]["end"] = "2026-11-01T00:00:00Z"
    found = codes(order)
    assert ("end_before_start", "monitoring.end") in found
    assert ("end_in_past", "monitoring.end") in found


def test_unreadable_instant(order):
    order["conditions"]["curfew"]["end"] = "2027-02-30T19:00:00Z"
    assert ("invalid_date", "conditions.curfew.end") in codes(order)


def test_condition_outside_order_dates(order):
    order["conditions"]["curfew"]["end"] = "2035-01-01T00:00:00Z"
    assert ("outside_order_dates", "conditions.curfew.end") in codes(order)


def test_attendance_inside_order_dates(order):
    order["conditions"]["attendance"] = [
        {
            "id": "A1",
            "name": "Course",
            "lat": 51.5,
            "lon": -0.12,
            "radius_m": 100,
            "start": "2035-01-01T10:00:00Z",
            "end": "2035-01-01T12:00:00Z",
        }
    ]
    assert ("attendance_outside_order", "conditions.attendance[0]") in codes(order)


def test_install_appointment_before_monitoring_starts(order):
    order["installation"]["appointment"] = "2026-12-31T10:00:00Z"
    assert ("install_after_start", "installation.appointment") in codes(order)


def test_age_from_date_of_birth_must_match_adult_answer(order):
    order["device_wearer"]["date_of_birth"] = "2010-01-01"
    errors = [e for e in validate_order(order, now=NOW) if e.code == "age_adult_mismatch"]
    assert errors and "16" in errors[0].message


def test_youth_with_alcohol_is_refused(order):
    order["device_wearer"].update(date_of_birth="2010-01-01", is_adult=False)
    order["monitoring"]["is_youth"] = True
    order["responsible_adult"] = {"full_name": "Jo Parent", "relationship": "Mother", "phone": "07700 900123"}
    order["conditions"]["alcohol"] = {
        "mode": "ABSTINENCE",
        "start": order["monitoring"]["start"],
        "end": order["monitoring"]["start"].replace("2026-11-23", "2027-01-10"),
    }
    found = only_codes(order)
    assert "alcohol_youth" in found
    assert "age_adult_mismatch" not in found


def test_youth_needs_responsible_adult(order):
    order["device_wearer"].update(date_of_birth="2010-01-01", is_adult=False)
    order["monitoring"]["is_youth"] = True
    assert ("required", "responsible_adult.full_name") in codes(order)


def test_turns_18_before_installation_counts_as_adult(order):
    # 18th birthday on the install day (23 Nov 2026, local date)
    order["device_wearer"]["date_of_birth"] = "2008-11-23"
    order["installation"]["appointment"] = "2026-11-23T09:00:00Z"
    assert "age_adult_mismatch" not in only_codes(order)
    order["device_wearer"]["date_of_birth"] = "2008-11-24"
    assert "age_adult_mismatch" in only_codes(order)


def test_date_of_birth_in_future_and_invalid(order):
    order["device_wearer"]["date_of_birth"] = "2030-01-01"
    assert "date_of_birth_in_future" in only_codes(order)
    order["device_wearer"]["date_of_birth"] = "1990-02-30"
    assert ("invalid_date", "device_wearer.date_of_birth") in codes(order)


def test_acquisitive_crime_scheme_at_most_12_months(order):
    order["monitoring"].update(
        cohort="POST_RELEASE", order_type="POST_RELEASE", scheme="GPS_ACQUISITIVE_CRIME_PAROLE"
    )
    order["device_wearer"]["nomis_id"] = "A1234BC"
    order["monitoring"]["end"] = "2027-11-23T00:00:00Z"
    assert "duration_too_long" not in only_codes(order)
    order["monitoring"]["end"] = "2027-11-25T00:00:00Z"
    order["conditions"]["curfew"]["end"] = "2027-11-25T00:00:00Z"
    assert ("duration_too_long", "monitoring.end") in codes(order)


def test_prison_leaver_tag_under_30_days_refused(order):
    order["monitoring"].update(cohort="POST_RELEASE", order_type="POST_RELEASE", end="2026-12-10T00:00:00Z")
    order["device_wearer"]["nomis_id"] = "A1234BC"
    order["conditions"]["curfew"]["end"] = "2026-12-10T00:00:00Z"
    assert ("duration_too_short", "monitoring.end") in codes(order)


def test_alcohol_on_licence_at_most_12_months(order):
    order["monitoring"].update(cohort="POST_RELEASE", order_type="POST_RELEASE", end="2028-01-01T00:00:00Z")
    order["device_wearer"]["nomis_id"] = "A1234BC"
    order["conditions"]["curfew"]["end"] = "2027-01-01T00:00:00Z"
    order["conditions"]["alcohol"] = {
        "mode": "LIMIT",
        "start": order["monitoring"]["start"],
        "end": "2027-12-31T00:00:00Z",
    }
    assert ("duration_too_long", "conditions.alcohol.end") in codes(order)


@pytest.mark.parametrize(
    "d,months,expected",
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2026, 11, 23), 12, date(2027, 11, 23)),
    ],
)
def test_add_months(d, months, expected):
    assert add_months(d, months) == expected


def test_age_on_birthday():
    assert age_on(date(2008, 11, 23), date(2026, 11, 23)) == 18
    assert age_on(date(2008, 11, 24), date(2026, 11, 23)) == 17
