"""Split-address curfews: each timetable slot is judged at the address it names.

A wearer must be at address A from Monday to Thursday nights and at address B from Friday to Sunday nights
(a parent's home at weekends, say). Spending Friday night at B is keeping the curfew; at A it is not.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from openem.monitoring.engine import Engine

from .fixtures import HOME, Device, activation, offset, order

A, B = HOME, offset(*HOME, 5000, 2000)  # 5.4 km apart
FRIDAY = datetime(2026, 11, 27, tzinfo=UTC)  # GMT: London time is UTC
WEEKDAYS, WEEKEND = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY"), ("FRIDAY", "SATURDAY", "SUNDAY")


def split_order() -> dict:
    doc = order(curfew={"start": "2026-11-20T00:00:00Z", "end": "2027-01-01T00:00:00Z", "grace_minutes": None,
                        "release_day": {"start": "19:00", "end": "07:00", "address_type": "PRIMARY"},
                        "timetable": [{"day": d, "start": "19:00", "end": "07:00", "address_type": "PRIMARY"} for d in WEEKDAYS]
                        + [{"day": d, "start": "19:00", "end": "07:00", "address_type": "SECONDARY"} for d in WEEKEND]})  # fmt: skip
    doc["addresses"].append({"type": "SECONDARY", "line1": "2 Weekend Road", "postcode": "LS2 2BB",
                             "lat": B[0], "lon": B[1]})  # fmt: skip
    return doc


def curfew_alerts(alerts: list[dict]) -> list[tuple[str, str, str]]:
    return sorted(
        (a["kind"], a["details"]["address_type"], a["start"][:10])
        for a in alerts
        if a["kind"].startswith("curfew") and not a["details"].get("in_progress")
    )  # an away-at-the-grace episode opened in progress (test_episodes) is not the night's verdict


def gps_night(where: tuple[float, float], night: datetime) -> list[tuple[str, str, str]]:
    eng = Engine()
    eng.apply_order(split_order())
    eng.apply_activation(activation("GPS-1"))
    g = Device("GPS-1")
    start = night.replace(hour=18)
    alerts = eng.process([g.fix(start + timedelta(minutes=10 * i), *where) for i in range(6 * 14)])
    return curfew_alerts(alerts + eng.advance_watermark((start + timedelta(hours=14, minutes=5)).timestamp()))


def rf_night(at_b: bool, night: datetime) -> list[tuple[str, str, str]]:
    eng = Engine()
    eng.apply_order(split_order())
    eng.apply_activation(activation("HMU-A", "HMU", address_type="PRIMARY"))
    eng.apply_activation(activation("HMU-B", "HMU", address_type="SECONDARY"))
    eng.apply_activation(activation("TAG-1", "RF_TAG"))
    hmu_a, hmu_b = Device("HMU-A"), Device("HMU-B")
    start = night.replace(hour=18)
    msgs = []
    for h in range(0, 14, 2):  # each unit reports on change and as an occasional heartbeat
        msgs += [hmu_a.msg("rf", start + timedelta(hours=h), present=not at_b, tag_id="TAG-1"),
                 hmu_b.msg("rf", start + timedelta(hours=h), present=at_b, tag_id="TAG-1")]  # fmt: skip
    alerts = eng.process(msgs)
    return curfew_alerts(alerts + eng.advance_watermark((start + timedelta(hours=14, minutes=5)).timestamp()))


@pytest.mark.parametrize(
    "night", [gps_night, lambda where, day: rf_night(where == B, day)], ids=["gps", "home-units"]
)
def test_friday_night_is_judged_at_the_weekend_address(night) -> None:  # noqa: ANN001
    assert night(B, FRIDAY) == []  # at B on a Friday: the curfew is kept
    assert night(A, FRIDAY) == [
        ("curfew_absent", "SECONDARY", "2026-11-27")
    ]  # at A on a Friday: absent from B
    thursday = FRIDAY - timedelta(days=1)
    assert night(A, thursday) == []  # and on a weekday A is the right place
    assert night(B, thursday) == [("curfew_absent", "PRIMARY", "2026-11-26")]


def test_a_home_unit_with_no_address_reports_for_the_main_address_and_gps_covers_the_other() -> None:
    eng = Engine()
    eng.apply_order(split_order())
    eng.apply_activation(activation("HMU-A", "HMU"))  # fitted at the primary address; the record says no more
    eng.apply_activation(activation("GPS-1"))
    g, hmu = Device("GPS-1"), Device("HMU-A")
    start = FRIDAY.replace(hour=18)
    msgs = [hmu.msg("rf", start, present=True, tag_id="T")]
    msgs += [g.fix(start + timedelta(minutes=10 * i), *A) for i in range(6 * 14)]  # at A on a Friday
    alerts = eng.process(msgs) + eng.advance_watermark((start + timedelta(hours=14, minutes=5)).timestamp())
    assert curfew_alerts(alerts) == [("curfew_absent", "SECONDARY", "2026-11-27")]
