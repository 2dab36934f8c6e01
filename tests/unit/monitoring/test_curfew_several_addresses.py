"""A curfew slot at several addresses (CEMO: a timetable row at PRIMARY_ADDRESS,SECONDARY_ADDRESS): the
wearer keeps the curfew at any of them, and breaks it only by being at none.

Weekday nights at address A; weekend nights at A or B (either parent's home, say). On a Friday, a night at B
and a night at A both keep the curfew; a night at C, elsewhere, does not; moving from A to B in the night
does not either break it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from openem.monitoring.engine import Engine
from openem.monitoring.order_document import parse_order
from openem.monitoring.rules import curfew

from .fixtures import HOME, Device, activation, offset, order

A, B, C = HOME, offset(*HOME, 5000, 2000), offset(*HOME, -4000, 6000)  # each several km from the others
FRIDAY = datetime(2026, 11, 27, tzinfo=UTC)  # GMT: London time is UTC
WEEKDAYS, WEEKEND = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY"), ("FRIDAY", "SATURDAY", "SUNDAY")
EITHER = "PRIMARY+SECONDARY"


def either_order() -> dict:
    slot = {"start": "19:00", "end": "07:00", "address_type": "PRIMARY"}
    doc = order(curfew={"start": "2026-11-20T00:00:00Z", "end": "2027-01-01T00:00:00Z", "grace_minutes": None,
                        "timetable": [{**slot, "day": d} for d in WEEKDAYS]
                        + [{**slot, "day": d, "address_types": ["SECONDARY"]} for d in WEEKEND]})  # fmt: skip
    doc["addresses"].append({"type": "SECONDARY", "line1": "2 Weekend Road", "postcode": "LS2 2BB",
                             "lat": B[0], "lon": B[1]})  # fmt: skip
    return doc


def verdicts(alerts: list[dict]) -> list[tuple[str, str, str]]:
    return sorted(
        (a["kind"], a["details"]["address_type"], a["start"][:10])
        for a in alerts
        if a["kind"].startswith("curfew") and not a["details"].get("in_progress")
    )


def gps_night(path: list[tuple[float, float]], night: datetime, eng: Engine | None = None) -> list[dict]:
    """A night of fixes every 10 minutes from 18:00, walking `path` (equal parts of the 14 hours)."""
    eng = eng or Engine()
    eng.apply_order(either_order())
    eng.apply_activation(activation("GPS-1"))
    g, start = Device("GPS-1"), night.replace(hour=18)
    fixes = [g.fix(start + timedelta(minutes=10 * i), *path[i * len(path) // 84]) for i in range(84)]
    alerts = eng.process(fixes)
    return alerts + eng.advance_watermark((start + timedelta(hours=14, minutes=5)).timestamp())


@pytest.mark.parametrize("where", [A, B], ids=["at A", "at B"])
def test_a_weekend_night_at_either_address_keeps_the_curfew(where) -> None:  # noqa: ANN001
    assert verdicts(gps_night([where], FRIDAY)) == []


def test_a_weekend_night_at_neither_address_is_absent_from_both() -> None:
    assert verdicts(gps_night([C], FRIDAY)) == [("curfew_absent", EITHER, "2026-11-27")]


def test_a_weekday_night_is_still_judged_at_its_one_address() -> None:
    thursday = FRIDAY - timedelta(days=1)
    assert verdicts(gps_night([A], thursday)) == []
    assert verdicts(gps_night([B], thursday)) == [("curfew_absent", "PRIMARY", "2026-11-26")]


def test_moving_from_one_address_to_the_other_in_the_night_is_no_absence() -> None:
    assert verdicts(gps_night([A, A, B, B], FRIDAY)) == []
    # but time at neither, longer than the grace, is an absence from the curfew
    found = verdicts(gps_night([A, C, B, B], FRIDAY))
    assert found == [("curfew_absence", EITHER, "2026-11-27")]


def test_late_back_to_the_second_address_is_a_late_return_and_opens_not_home_at_the_grace() -> None:
    alerts = gps_night([C, B, B, B], FRIDAY)  # away at 19:00, at B from about 21:30
    assert verdicts(alerts) == [("curfew_late_return", EITHER, "2026-11-27")]
    opened = [a for a in alerts if a["kind"] == curfew.NOT_HOME_KIND]
    assert [a["details"]["address_type"] for a in opened] == [EITHER]


def test_home_units_at_each_address_and_gps_together() -> None:
    """A home unit at A says the wearer is out of range all night; GPS puts them at B: the curfew is kept.
    With the unit saying out of range and GPS at C, it is not."""

    def night(gps_at: tuple[float, float]) -> list[tuple[str, str, str]]:
        eng = Engine()
        eng.apply_order(either_order())
        eng.apply_activation(activation("HMU-A", "HMU", address_type="PRIMARY"))
        eng.apply_activation(activation("TAG-1", "RF_TAG"))
        eng.apply_activation(activation("GPS-1"))
        hmu, g, start = Device("HMU-A"), Device("GPS-1"), FRIDAY.replace(hour=18)
        msgs = [
            hmu.msg("rf", start + timedelta(hours=h), present=False, tag_id="TAG-1") for h in range(0, 14, 2)
        ]
        msgs += [g.fix(start + timedelta(minutes=10 * i), *gps_at) for i in range(84)]
        msgs.sort(key=lambda m: m["device_time"])
        alerts = eng.process(msgs) + eng.advance_watermark(
            (start + timedelta(hours=14, minutes=5)).timestamp()
        )
        return verdicts(alerts)

    assert night(B) == []
    assert night(C) == [("curfew_absent", EITHER, "2026-11-27")]


def test_the_order_is_read_with_a_place_for_the_pair_and_ordinary_orders_as_before() -> None:
    spec = parse_order(either_order())
    cf = spec.curfew
    assert cf["places"] == ["PRIMARY", "SECONDARY", EITHER]
    assert cf["place_members"] == [(0,), (1,), (0, 1)]
    assert cf["place_xy"][2] is None  # fed by its addresses, not judged at a point of its own
    assert [cf["places"][p] for p in cf["slot_place"]] == ["PRIMARY"] * 4 + [EITHER] * 3
    plain = either_order()
    for s in plain["conditions"]["curfew"]["timetable"]:
        s.pop("address_types", None)
    assert "place_members" not in parse_order(plain).curfew


def test_away_at_the_grace_is_judged_on_what_each_address_had_received_by_then() -> None:
    """The merged timeline judged at the grace uses only readings received by then at each address: a reading
    at B forwarded late cannot change whether the wearer was away at the grace."""
    start, grace = 1000.0, 600.0
    at_a = [[900.0, 0, "HMU-A", 1, 900.0]]
    # at B from 1100, a reading received at 5000
    at_b = [[900.0, 0, "GPS-1", 1, 900.0], [1100.0, 1, "GPS-1", 2, 5000.0]]
    timeline = curfew.Merged([at_a, at_b])
    assert [o[1] for o in timeline] == [0, 1]  # on everything known now: back at 1100
    away = curfew.away_since_start(timeline, start, start + grace)
    assert away is not None and away[0] == 900.0  # on what was received by the grace: away
    assert curfew.back_since(timeline, start, 6000.0) == 1100.0


def test_until_every_address_has_been_heard_from_only_being_home_is_known() -> None:
    """As at one address, presence is unknown before an address's first reading: GPS away from B all night
    says nothing while the home unit at A has not reported; its first reading (home) decides the night."""
    at_a: list[list] = []
    at_b = [[1000.0, 0, "GPS-1", 1, 1000.0], [2000.0, 0, "GPS-1", 2, 2000.0]]
    assert curfew.merge([at_a, at_b]) == [[1000.0, 0, "GPS-1", 1, 1000.0]]  # A never heard from: left out
    at_a.append([5000.0, 1, "HMU-A", 1, 5000.0])
    assert curfew.merge([at_a, at_b]) == [[5000.0, 1, "HMU-A", 1, 5000.0]]  # nothing known before it
    assert curfew.evaluate_window(curfew.Merged([at_a, at_b]), 900.0, 9000.0, 300.0, True) == []
