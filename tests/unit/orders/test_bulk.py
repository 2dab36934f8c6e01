from __future__ import annotations

import csv
import io

import pytest

from openem.orders.bulk import COLUMNS, import_court_results, local_instant

from .conftest import NOW

GOOD = {
    "case_ref": "C1", "court_code": "ABERDARE_MAGISTRATES_COURT", "first_name": "Alex", "last_name": "Smith",
    "date_of_birth": "1990-01-01", "sex": "MALE", "gender": "MALE", "pnc": "2019/0123456A",
    "address_line1": "1 High Street", "address_town": "Cardiff", "postcode": "CF10 1EP", "cohort": "COURT_BAIL",
    "order_type": "BAIL", "start_date": "2026-11-23", "start_time": "12:00", "end_date": "2027-02-23",
    "end_time": "12:00", "curfew_start": "19:00", "curfew_end": "07:00", "curfew_days": "ALL",
    "responsible_organisation": "POLICE", "police_area": "SOUTH_WALES", "probation_region": "", "delivery_unit": "",
    "officer_name": "Pat Officer", "officer_email": "pat@example.gov.uk", "team_email": "court@example.gov.uk",
}  # fmt: skip


def _csv(*rows):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow([r[c] for c in COLUMNS])
    return buf.getvalue().encode("utf-8")


def test_good_file_imports_every_row():
    result = import_court_results(
        _csv(GOOD, {**GOOD, "case_ref": "C2", "curfew_days": "SATURDAY;SUNDAY"}), now=NOW
    )
    assert result.imported and len(result.orders) == 2
    assert result.orders[0]["monitoring"]["start"] == "2026-11-23T12:00:00Z"
    assert len(result.orders[1]["conditions"]["curfew"]["timetable"]) == 2


def test_one_bad_row_imports_nothing_and_names_the_row():
    result = import_court_results(_csv(GOOD, {**GOOD, "postcode": "NOPE"}), now=NOW)
    assert not result.imported and result.orders == ()
    assert [(e.row, e.code, e.field) for e in result.errors] == [
        (2, "postcode_format", "addresses[0].postcode")
    ]


def test_formula_injection_is_refused():
    result = import_court_results(_csv({**GOOD, "last_name": "=cmd|' /C calc'!A0"}), now=NOW)
    assert [(e.row, e.code, e.field) for e in result.errors] == [(1, "formula", "last_name")]


@pytest.mark.parametrize(
    "data,code",
    [
        ("Alex,Smith".encode("utf-16"), "encoding"),
        (b"\xff\xfe\x00bad", "encoding"),
        (b"name,dob\nAlex,1990-01-01\n", "header"),
        (b"", "header"),
        (b"x" * (6 * 1024 * 1024), "file_too_large"),
    ],
)
def test_hostile_files_are_refused_whole(data, code):
    result = import_court_results(data, now=NOW)
    assert not result.imported and result.errors[0].code == code


def test_huge_cell_is_reported():
    result = import_court_results(_csv({**GOOD, "address_line1": "x" * 10_000}), now=NOW)
    assert ("too_long", "address_line1") in {(e.code, e.field) for e in result.errors}


def test_local_times_across_clock_changes():
    assert local_instant("2027-03-28", "01:30")[1].startswith("does not exist")
    assert local_instant("2027-10-31", "01:30")[1].startswith("happens twice")
    assert local_instant("2027-03-28", "03:00") == ("2027-03-28T02:00:00Z", None)
    assert local_instant("2027-01-10", "19:00") == ("2027-01-10T19:00:00Z", None)


def test_start_in_the_spring_gap_is_a_row_error():
    result = import_court_results(_csv({**GOOD, "start_date": "2027-03-28", "start_time": "01:30"}), now=NOW)
    assert [(e.code, e.field) for e in result.errors] == [("invalid_local_time", "start_time")]
