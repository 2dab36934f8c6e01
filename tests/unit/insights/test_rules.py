"""The person view's pure rules, as a practitioner would notice them: a PNC number typed any usual way finds
the person; a thinned map still shows every zone entry and exit; a curfew night is called what it was."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openem.insights import rules

TODAY = date(2026, 12, 2)


@pytest.mark.parametrize(
    "typed",
    ["2004/1234567A", "04/1234567A", "04/1234567a", " 2004 / 1234567A ", "20041234567A", "041234567A"],
)  # fmt: skip
def test_a_pnc_number_typed_any_usual_way_reads_the_same(typed):
    p = rules.parse_pnc(typed, TODAY)
    assert p is not None and p.canonical == "2004/1234567A"


@pytest.mark.parametrize(
    "typed", ["04/123456A", "2004/0123456A", "04/0123456A", "2004/123456A", "20040123456A"]
)
def test_leading_zeros_of_the_serial_do_not_matter(typed):
    assert rules.parse_pnc(typed, TODAY).canonical == "2004/0123456A"  # type: ignore[union-attr]


def test_a_two_digit_year_after_this_year_is_last_century():
    assert rules.parse_pnc("98/1234567A", TODAY).canonical == "1998/1234567A"  # type: ignore[union-attr]
    assert rules.parse_pnc("26/1234567A", TODAY).canonical == "2026/1234567A"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "typed", ["", "A", "hello", "2004/12345678A", "2004/1234567", "04/0000000A", "X123456", "ORD-ABC", "A1234BC",
              "1/2/3", "'; drop table orders; --", "9" * 5000 + "A"],
)  # fmt: skip
def test_text_that_is_not_a_pnc_number_is_not_read_as_one(typed):
    assert rules.parse_pnc(typed, TODAY) is None


def test_the_keys_searched_cover_the_stored_spellings_and_other_identifiers():
    keys = rules.identifier_keys("04/123456A", TODAY)
    assert {"pnc:2004/0123456A", "pnc:04/123456A", "pnc:2004/123456A", "pnc:04/0123456A"} <= set(keys)
    assert "crn:X123456" in rules.identifier_keys(" x123456 ", TODAY)
    assert "nomis_id:A1234BC" in rules.identifier_keys("a1234bc", TODAY)
    assert rules.identifier_keys("ab", TODAY) == []


@given(st.text(max_size=200))
def test_any_text_gives_bounded_keys_and_never_fails(text):
    keys = rules.identifier_keys(text, TODAY)
    assert all(len(k) <= 80 for k in keys) and len(keys) <= 20


T0 = datetime(2026, 11, 1, 19, 0, tzinfo=UTC)


def _pts(n: int, gap_at: int | None = None) -> list[dict]:
    out = []
    t = T0
    for i in range(n):
        t += timedelta(minutes=60 if i == gap_at else 1)
        out.append({"time": t, "lat": 53.0, "lon": -1.0, "accuracy_m": 10.0})
    return out


def test_thinning_keeps_every_zone_entry_and_exit_gap_and_curfew_boundary():
    pts = _pts(100_000, gap_at=50_000)
    inside = [frozenset({"Park"}) if 31_337 <= i < 31_400 else frozenset() for i in range(len(pts))]
    boundary = pts[70_000]["time"] - timedelta(seconds=30)
    keep = rules.key_points(pts, inside, [boundary])
    drawn = set(rules.thin(len(pts), keep, 2_000))
    assert {31_336, 31_337, 31_399, 31_400} <= drawn  # entry and exit, each side
    assert {49_999, 50_000} <= drawn  # each side of the hour's silence
    assert {69_999, 70_000} <= drawn  # each side of the curfew start
    assert {0, 99_999} <= drawn
    assert len(drawn) <= 2_100


def test_a_short_trail_is_drawn_whole():
    assert rules.thin(50, {0, 49}, 2_000) == list(range(50))


def test_speed_between_fixes():
    a = {"time": T0, "lat": 53.0, "lon": -1.0}
    b = {"time": T0 + timedelta(minutes=1), "lat": 53.009, "lon": -1.0}  # ~1 km in a minute
    assert rules.speeds_kmh([a, b])[0] is None
    assert 59 < rules.speeds_kmh([a, b])[1] < 61  # type: ignore[operator]
    assert rules.speeds_kmh([a, {**a}]) == [None, None]


def test_freshness_banner():
    now = T0 + timedelta(days=3)
    assert rules.freshness(now - timedelta(minutes=10), now) is None
    assert rules.freshness(now - timedelta(hours=5), now) == "The newest position is 5 hours old."
    assert rules.freshness(now - timedelta(days=3), now) == "The newest position is 3 days old."
    assert rules.freshness(None, now) == "There are no positions in this window."


START, END = T0, T0 + timedelta(hours=12)
GRACE = timedelta(minutes=5)


def _night(pattern: str) -> list[tuple[datetime, bool]]:
    """One fix every 10 minutes from the curfew start: H at home, A away."""
    return [(START + timedelta(minutes=10 * i), c == "H") for i, c in enumerate(pattern)]


@pytest.mark.parametrize(
    "pattern,status",
    [
        ("H" * 72, "complied"),
        ("AAA" + "H" * 69, "late"),
        ("H" * 60 + "A" * 12, "left early"),
        ("H" * 30 + "AAAA" + "H" * 38, "absent"),
        ("A" * 72, "absent"),
        ("", "no data"),
    ],
)
def test_a_curfew_night_is_called_what_it_was(pattern, status):
    got, minutes = rules.classify_night(START, END, _night(pattern), GRACE)
    assert got == status
    assert minutes == 10 * pattern.count("A")


def test_away_within_the_grace_is_complied_and_silences_are_not_counted_as_away():
    assert (
        rules.classify_night(START, END, _night("H" * 10 + "A" + "H" * 61), timedelta(minutes=10))[0]
        == "complied"
    )
    fixes = [(START, False), (START + timedelta(hours=6), True)]  # one away fix, then six hours of silence
    assert rules.classify_night(START, END, fixes, GRACE)[1] == 30


def test_atv_sums_the_minutes_of_nights_not_complied_with():
    assert rules.atv_minutes([("complied", 4), ("late", 30), ("absent", 100), ("no data", 0)]) == 130


def test_home_intervals_for_the_chart():
    iv = rules.home_intervals(_night("HHAAH"), START + timedelta(minutes=50))
    assert [(a - START, b - START, h) for a, b, h in iv] == [
        (timedelta(0), timedelta(minutes=20), True),
        (timedelta(minutes=20), timedelta(minutes=40), False),
        (timedelta(minutes=40), timedelta(minutes=50), True),
    ]


def test_timeline_filter_by_kind_newest_first():
    e = [
        {"kind": "note", "at": T0},
        {"kind": "alert", "at": T0 + timedelta(hours=1)},
        {"kind": "order", "at": T0},
    ]
    assert [x["kind"] for x in rules.filter_timeline(e, ["alert", "note"])] == ["alert", "note"]
    assert len(rules.filter_timeline(e, [])) == 3
    assert len(rules.filter_timeline(e, ["<script>"])) == 3  # unknown kinds are ignored, not an empty page


def _columns(pts: list[dict]) -> rules.Points:
    return rules.Points(
        {
            "t_us": [rules.to_us(p["time"]) for p in pts],
            "lat": [p["lat"] for p in pts],
            "lon": [p["lon"] for p in pts],
            "accuracy_m": [p["accuracy_m"] for p in pts],
            "seq": list(range(len(pts))),
            "device_id": ["D1"] * len(pts),
        }
    )


def test_a_trail_held_as_columns_reads_and_thins_like_the_positions_themselves():
    pts = [{**p, "device_id": "D1", "seq": i} for i, p in enumerate(_pts(5_000, gap_at=2_000))]
    cols = _columns(pts)
    assert len(cols) == 5_000 and cols[0] == pts[0] and cols[-1] == pts[-1] and cols[10:13] == pts[10:13]
    assert list(cols) == pts
    inside = [frozenset({"Park"}) if 300 <= i < 340 else frozenset() for i in range(len(pts))]
    boundary = pts[4_000]["time"] - timedelta(seconds=30)
    assert rules.key_points(cols, inside, [boundary]) == rules.key_points(pts, inside, [boundary])
    assert {1_999, 2_000, 299, 300, 339, 340, 3_999, 4_000} <= rules.key_points(cols, inside, [boundary])
