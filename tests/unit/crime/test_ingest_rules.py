"""A force's file as the hub receives it: what is accepted, and every refusal with the field, the value and
what the force must do. Bad files are refused whole."""

from __future__ import annotations

import csv
import io

import pytest

from openem.crime.rules import errors_csv_rows, parse_file

LEEDS_EN = ("430000", "433000")  # OSGB36 easting/northing near Leeds
BRUM = ("52.4800", "-1.9000")


def row(ref="CR-1/26", force="WestMidlands", kind="BIAD", batch="WMP20261201", frm="20261201100000",
        to="20261201120000", en=("", ""), ll=BRUM, text="Side door forced, laptop taken") -> str:  # fmt: skip
    return ",".join([force, kind, "Burglary", batch, ref, frm, to, en[0], en[1], ll[0], ll[1], "WGS84", text])


def parse(*lines: str, sep: str = "\n") -> object:
    return parse_file(sep.join(lines).encode())


def test_a_clean_file_with_bom_crlf_and_blank_lines_is_accepted_whole():
    data = "\ufeff" + "\r\n".join([row("A1"), "", row("A2", en=LEEDS_EN, ll=("", "")), "  ", ""])
    p = parse_file(data.encode("utf-8"))
    assert p.outcome == "successful" and [c.reference for c in p.crimes] == ["A1", "A2"]
    assert p.force == "WestMidlands" and p.batch_id == "WMP20261201"
    leeds = p.crimes[1]
    assert 53.7 < leeds.lat < 53.9 and -1.6 < leeds.lon < -1.3  # converted from OSGB36, original kept
    assert leeds.easting == 430000.0


def test_stray_quotes_are_read_as_characters():
    p = parse(row("Q1", text='He said "get in'), row("Q2", text='"quoted, with comma"'))
    assert p.outcome == "successful", p.row_errors
    assert p.crimes[0].text == 'He said "get in'


@pytest.mark.parametrize(
    "line, kind, field",
    [
        (row(force="Narnia"), "unknown_force", "police_force"),
        (row(kind="MURDER"), "unknown_crime_type", "crime_type_id"),
        (row(batch="WMP2026"), "bad_batch_id", "batch_id"),
        (row(batch="KNT20261201"), "bad_batch_id", "batch_id"),
        (row(ref=""), "missing_field", "crime_reference"),
        (row(ref="A;DROP TABLE"), "bad_reference", "crime_reference"),
        (row(frm="2026-12-01 10:00"), "bad_date", "date_from"),
        (row(to="20261301120000"), "bad_date", "date_to"),
        (row(to="20261201090000"), "window_reversed", "date_to"),
        (row(to="20261201230000"), "window_too_long", "date_to"),
        (row(en=LEEDS_EN), "both_locations", "easting"),
        (row(ll=("", "")), "no_location", "easting"),
        (row(ll=("52.48", "")), "half_location", "longitude"),
        (row(ll=("fifty", "-1.9")), "bad_number", "latitude"),
        (row(ll=("", ""), en=("700000", "100000")), "out_of_range", "easting"),
        (row(ll=("62.0", "-1.9")), "out_of_range", "latitude"),
        (row(ll=("55.9533", "-3.1883")), "outside_england_wales", "latitude"),  # Edinburgh
        (
            row(ll=("", ""), en=("325000", "674000")),
            "outside_england_wales",
            "easting",
        ),  # Edinburgh in OSGB36
        (row(text="x" * 1001), "text_too_long", "crime_text"),
        ("WestMidlands,BIAD,Burglary,WMP20261201,R9,20261201100000", "wrong_column_count", "row"),
    ],
)
def test_each_row_error_names_its_field_value_and_action(line, kind, field):
    p = parse(row("OK1"), line)
    assert p.outcome == "partial"
    assert [c.reference for c in p.crimes] == ["OK1"]
    errs = [e for e in p.row_errors if e.row == 2]
    assert errs and errs[0].type == kind and errs[0].field == field
    assert errs[0].action and len(errs[0].action) > 20


def test_a_window_of_exactly_twelve_hours_and_a_zero_window_are_accepted():
    p = parse(row("W1", to="20261201220000"), row("W2", to="20261201100000"))
    assert p.outcome == "successful"


def test_batch_id_suffixes_and_codes_are_accepted():
    p = parse(row("B1", batch="WestMidlands20261201-2-r"))
    assert p.outcome == "successful" and p.batch_id == "WESTMIDLANDS20261201-2-R"


def test_a_reference_twice_in_a_file_is_refused_the_second_time():
    p = parse(row("D1"), row("D1", text="again"))
    assert [e.type for e in p.row_errors] == ["duplicate_reference"] and len(p.crimes) == 1


@pytest.mark.parametrize(
    "lines, kind",
    [
        ([row("F1"), row("F2", force="Kent", batch="KNT20261201")], "several_forces"),
        ([row("F1"), row("F2", batch="WMP20261202")], "several_batches"),
        ([row("F1", kind="X"), row("F2", force="Nowhere")], "every_row_failed"),
    ],
)
def test_file_errors_refuse_the_whole_file(lines, kind):
    p = parse(*lines)
    assert p.outcome == "failed" and kind in [e.type for e in p.file_errors] and not p.force


def test_binary_junk_empty_files_and_spreadsheets_are_not_csv():
    import random

    junk = bytes(random.Random(1).randrange(256) for _ in range(5000))
    assert [e.type for e in parse_file(junk).file_errors] == ["not_csv"]
    assert [e.type for e in parse_file(b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 100).file_errors] == [
        "not_csv"
    ]
    assert [e.type for e in parse_file(b"").file_errors] == ["empty"]
    assert [e.type for e in parse_file(b"\r\n\r\n  \n").file_errors] == ["empty"]
    assert [e.type for e in parse_file(b"just some words\nand more").file_errors] == ["not_csv"]


def test_a_ten_megabyte_file_and_a_hundred_thousand_rows_are_refused_before_parsing():
    big = (row("R") + "\n").encode() * (10_000_000 // 100)
    assert len(big) > 10_000_000
    assert [e.type for e in parse_file(big).file_errors] == ["too_large"]
    many = "\n".join(f"a,b,{i}" for i in range(100_000)).encode()
    assert [e.type for e in parse_file(many).file_errors] == ["too_many_rows"]


def test_errors_go_back_as_csv_and_formulas_in_values_are_not_executable():
    p = parse(row("OK"), row('=HYPERLINK("http://x")', text="=cmd|' /C calc'!A0"), row("Z", ll=("-1.5", "x")))
    rows = list(csv.reader(io.StringIO("\n".join(",".join(f'"{c}"' for c in r) for r in errors_csv_rows(p)))))
    assert rows[0] == ["row", "error_type", "field", "value", "action"]
    values = [r[3] for r in rows[1:]]
    assert all(not v.startswith(("=", "@", "+")) for v in values)
    assert any(v.startswith("'=") for v in values)
