"""Order entry (issue 11): thresholds bounded by policy, proximity-only orders, clock-change nights, slot
times that do not exist or repeat, implausibly large zones."""

from __future__ import annotations

import pytest

from openem.orders.rules import validate_order
from openem.orders.rules.curfew import dst_notices

from .conftest import NOW, codes, only_codes


def _hdc(order, start="2027-10-01T12:00:00Z", end="2027-11-15T12:00:00Z"):
    order["monitoring"].update(
        cohort="POST_RELEASE", order_type="POST_RELEASE", hdc=True, start=start, end=end
    )
    order["device_wearer"]["nomis_id"] = "A1234BC"
    curfew = order["conditions"]["curfew"]
    curfew.update(start=start, end=end)
    order["conditions"] = {"curfew": curfew}
    curfew["timetable"] = [
        {"day": d, "start": "19:00", "end": "07:00", "address_type": "PRIMARY"}
        for d in ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
    ]
    return order


# --- thresholds -------------------------------------------------------------------------------------------


def test_a_tightened_threshold_is_accepted(order):
    order["thresholds"] = {"curfew": {"grace_minutes": 2}, "proximity": {"alert_m": 800, "pre_alert_m": 1500}}
    assert validate_order(order, now=NOW) == []


def test_a_threshold_may_not_be_loosened_past_policy(order):
    order["thresholds"] = {"curfew": {"grace_minutes": 60}, "proximity": {"alert_m": 20}}
    errors = {e.field: e for e in validate_order(order, now=NOW)}
    grace = errors["thresholds.curfew.grace_minutes"]
    assert grace.code == "threshold_looser_than_policy"
    assert "15 minutes or less" in grace.message and "stricter, not looser" in grace.message
    assert errors["thresholds.proximity.alert_m"].code == "threshold_looser_than_policy"
    assert "100 metres or more" in errors["thresholds.proximity.alert_m"].message


def test_a_threshold_past_the_strict_end_is_out_of_range(order):
    order["thresholds"] = {"zones": {"confirmations": 0}}
    assert ("threshold_out_of_range", "thresholds.zones.confirmations") in codes(order)


@pytest.mark.parametrize(
    "thresholds,code,field",
    [
        ({"curfew": {"finalise_after_s": 1}}, "threshold_unknown", "thresholds.curfew.finalise_after_s"),
        ({"nonsense": {"x": 1}}, "threshold_unknown", "thresholds.nonsense"),
        ({"curfew": {"grace_minutes": "five"}}, "wrong_type", "thresholds.curfew.grace_minutes"),
        ({"curfew": 5}, "wrong_type", "thresholds.curfew"),
        ([1, 2], "wrong_type", "thresholds"),
        ({"curfew": {"grace_minutes": True}}, "wrong_type", "thresholds.curfew.grace_minutes"),
    ],
)
def test_bad_thresholds_are_reported_not_raised(order, thresholds, code, field):
    order["thresholds"] = thresholds
    assert (code, field) in codes(order)
    assert "rule_failed" not in only_codes(order)


def test_hostile_thresholds_are_bounded(order):
    order["thresholds"] = {f"k{i}": {"a": 1} for i in range(500)}
    assert "too_many" in only_codes(order)


def test_engine_reads_accepted_thresholds(order):
    from openem.monitoring.order_document import parse_order

    order["thresholds"] = {"curfew": {"grace_minutes": 2}}
    assert validate_order(order, now=NOW) == []
    assert parse_order(order).thresholds["curfew"]["grace_minutes"] == 2


# --- proximity-only ---------------------------------------------------------------------------------------


def test_proximity_only_order_is_accepted(order):
    order["conditions"] = {"proximity": {"victim_device_id": "VIC-1", "pre_alert_m": 1000, "alert_m": 500}}
    assert validate_order(order, now=NOW) == []


def test_proximity_needs_a_victim_device(order):
    order["conditions"] = {"proximity": {"pre_alert_m": 500, "alert_m": 1000}}
    found = codes(order)
    assert ("required", "conditions.proximity.victim_device_id") in found
    assert ("proximity_rings_order", "conditions.proximity.alert_m") in found


# --- clock changes ----------------------------------------------------------------------------------------


def test_hdc_19_to_07_over_the_october_change_is_lawful(order):
    _hdc(order)  # 31 October 2027: Saturday 19:00 to Sunday 07:00 is 13 real hours
    assert validate_order(order, now=NOW) == []
    notes = dst_notices(order)
    assert any("Saturday 30 October lasts 13 hours" in n for n in notes)


def test_hdc_over_13_hours_is_still_refused(order):
    _hdc(order)
    order["conditions"]["curfew"]["timetable"][0]["start"] = "18:00"  # Monday 13 h on the clock
    assert ("curfew_too_many_hours", "conditions.curfew.timetable[0]") in codes(order)


def test_a_slot_time_that_does_not_exist_in_spring_is_refused(order):
    _hdc(order, start="2027-03-01T12:00:00Z", end="2027-04-15T12:00:00Z")  # clocks forward 28 March 2027
    tt = order["conditions"]["curfew"]["timetable"]
    tt[5] = {"day": "SATURDAY", "start": "19:00", "end": "07:00", "address_type": "PRIMARY"}
    tt[6] = {"day": "SUNDAY", "start": "01:30", "end": "12:00", "address_type": "PRIMARY"}
    tt.append({"day": "SUNDAY", "start": "19:00", "end": "22:00", "address_type": "PRIMARY"})
    tt[5]["end"] = "01:30"  # ends at 01:30 on the Sunday, which is skipped
    errors = {(e.code, e.field): e for e in validate_order(order, now=NOW)}
    start = errors[("curfew_time_does_not_exist", "conditions.curfew.timetable[6].start")]
    assert "01:30 does not exist on Sunday 28 March 2027" in start.message
    assert ("curfew_time_does_not_exist", "conditions.curfew.timetable[5].end") in errors


def test_the_same_slot_outside_a_clock_change_is_fine(order):
    _hdc(order, start="2027-05-01T12:00:00Z", end="2027-06-15T12:00:00Z")
    order["conditions"]["curfew"]["timetable"][6].update(start="01:30", end="12:00")
    assert "curfew_time_does_not_exist" not in only_codes(order)


def test_times_that_repeat_in_autumn_are_named(order):
    _hdc(order)
    order["conditions"]["curfew"]["timetable"][6].update(start="01:15", end="12:00")  # Sunday 31 Oct
    assert "curfew_time_does_not_exist" not in only_codes(order)
    notes = dst_notices(order)
    assert any("31 October 2027" in n and "01:15 happens twice" in n for n in notes)


# --- implausibly large zones ------------------------------------------------------------------------------

# About 45 km by 45 km around York: roughly 2,000 km², inside the hard 5,000 km² limit.
BIG = [[-1.42, 53.76], [-0.74, 53.76], [-0.74, 54.16], [-1.42, 54.16], [-1.42, 53.76]]


def _zone(ring, **extra):
    return {"id": "Z1", "name": "County", "geometry": {"type": "Polygon", "coordinates": [ring]}, **extra}


def test_a_2000_km2_exclusion_zone_is_flagged(order):
    order["conditions"]["exclusion_zones"] = [_zone(BIG)]
    errors = [e for e in validate_order(order, now=NOW) if e.code == "zone_implausibly_large"]
    assert len(errors) == 1
    assert errors[0].field == "conditions.exclusion_zones[0].geometry"
    assert "100 km²" in errors[0].message and "reason" in errors[0].message


def test_an_override_reason_accepts_the_large_zone(order):
    order["conditions"]["exclusion_zones"] = [_zone(BIG, size_override_reason="Court excluded the county")]
    assert validate_order(order, now=NOW) == []
