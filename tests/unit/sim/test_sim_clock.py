from datetime import date, time, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from openem.core.time import local_to_utc
from openem.sim.clock import frame_bounds_us, from_us, to_us, utc_us_to_wall_min, wall_to_utc_us

DAYS = st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31))
CHANGE_DAYS = st.sampled_from(
    [date(2026, 3, 28), date(2026, 3, 29), date(2026, 10, 24), date(2026, 10, 25), date(2027, 3, 27)]
)


@settings(max_examples=150, deadline=None)
@given(day=st.one_of(DAYS, CHANGE_DAYS), minute=st.integers(0, 1439))
def test_wall_clock_minutes_agree_with_core_local_to_utc(day: date, minute: int) -> None:
    wall = (7 * 60 + minute) % 1440
    local_day = day + timedelta(days=(7 * 60 + minute) // 1440)
    expected = local_to_utc(local_day, time(wall // 60, wall % 60))
    assert from_us(int(wall_to_utc_us(day, np.array([minute]))[0])) == expected


@settings(max_examples=100, deadline=None)
@given(day=st.one_of(DAYS, CHANGE_DAYS), minute=st.integers(0, 1439))
def test_utc_back_to_wall_clock_round_trips_outside_the_spring_gap(day: date, minute: int) -> None:
    us = wall_to_utc_us(day, np.array([minute]))
    back = float(utc_us_to_wall_min(day, us)[0])
    gap = (
        day.month == 3
        and 1080 <= minute < 1140
        and (frame_bounds_us(day)[1] - frame_bounds_us(day)[0]) < 24 * 3600 * 10**6
    )
    assert back == minute or gap


def test_frames_are_23_24_and_25_hours_long_around_the_clock_changes() -> None:
    hours = {
        d: (frame_bounds_us(d)[1] - frame_bounds_us(d)[0]) / 3600e6
        for d in (date(2026, 3, 28), date(2026, 10, 24), date(2026, 11, 2))
    }
    assert hours == {date(2026, 3, 28): 23, date(2026, 10, 24): 25, date(2026, 11, 2): 24}
    assert to_us(from_us(1_790_000_000_123_456)) == 1_790_000_000_123_456
