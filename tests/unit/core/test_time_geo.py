from datetime import UTC, date, datetime, time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openem.core import geo
from openem.core.ids import new_id
from openem.core.time import iso, local_to_utc, parse_instant, to_london, violation_period_start


def test_local_time_in_summer_is_one_hour_ahead_of_utc():
    assert local_to_utc(date(2026, 7, 1), time(19, 0)) == datetime(2026, 7, 1, 18, 0, tzinfo=UTC)


def test_local_time_in_winter_equals_utc():
    assert local_to_utc(date(2026, 12, 1), time(19, 0)) == datetime(2026, 12, 1, 19, 0, tzinfo=UTC)


def test_spring_gap_wall_time_moves_forward_by_the_gap():
    # 29 March 2026: clocks go from 01:00 to 02:00; 01:30 does not exist locally and becomes 02:30 BST.
    t = local_to_utc(date(2026, 3, 29), time(1, 30))
    assert (to_london(t).hour, to_london(t).minute) == (2, 30)
    assert t == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_autumn_overlap_uses_first_occurrence():
    # 25 October 2026: 01:30 happens twice; the first is BST (00:30 UTC).
    assert local_to_utc(date(2026, 10, 25), time(1, 30)) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_violation_period_runs_0700_to_0659_local():
    # 06:59 local on 2 July belongs to the period that started 07:00 local on 1 July
    t = datetime(2026, 7, 2, 5, 59, tzinfo=UTC)
    assert violation_period_start(t) == datetime(2026, 7, 1, 6, 0, tzinfo=UTC)
    t2 = datetime(2026, 7, 2, 6, 0, tzinfo=UTC)
    assert violation_period_start(t2) == datetime(2026, 7, 2, 6, 0, tzinfo=UTC)


def test_parse_instant_requires_an_offset():
    assert parse_instant("2026-11-22T10:00:00Z") == datetime(2026, 11, 22, 10, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_instant("2026-11-22T10:00:00")
    with pytest.raises(ValueError):
        parse_instant("")


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_iso_round_trip(dt):
    assert parse_instant(iso(dt)) == dt


def test_bng_round_trip_london():
    e, n = geo.wgs84_to_bng(-0.1276, 51.5072)
    assert 529000 < e < 531000 and 179000 < n < 181000
    lon, lat = geo.bng_to_wgs84(e, n)
    assert abs(lon + 0.1276) < 1e-5 and abs(lat - 51.5072) < 1e-5


def test_haversine_leeds_to_york():
    d = geo.haversine_m(53.7997, -1.5492, 53.9590, -1.0815)
    assert 34_000 < d < 36_000


def test_valid_lat_lon_rejects_out_of_range_and_nan():
    assert geo.valid_lat_lon(51.5, -0.1)
    assert not geo.valid_lat_lon(91, 0)
    assert not geo.valid_lat_lon(float("nan"), 0)
    assert not geo.in_england_wales_bbox(2.35, 48.85)  # Paris


def test_ids_are_unique_and_prefixed():
    ids = {new_id("ORD") for _ in range(1000)}
    assert len(ids) == 1000 and all(i.startswith("ORD-") and len(i) == 30 for i in ids)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(-8.8, 1.8999), st.floats(49.8, 60.8999)), min_size=1, max_size=200))
def test_the_lookup_grid_projection_is_within_10_cm_of_pyproj(points) -> None:
    lon = np.array([p[0] for p in points])
    lat = np.array([p[1] for p in points])
    gx, gy = geo.wgs84_to_bng_grid(lon, lat)
    px, py = geo.wgs84_to_bng(lon, lat)
    assert np.max(np.hypot(gx - px, gy - py)) < 0.10


def test_the_lookup_grid_hands_points_off_the_grid_to_pyproj() -> None:
    lon = np.array([-12.0, 5.0, -1.5, 1.95, -1.0])  # Atlantic, Netherlands, Arctic, North Sea, Channel
    lat = np.array([52.0, 52.0, 70.0, 52.5, 49.75])
    gx, gy = geo.wgs84_to_bng_grid(lon, lat)
    px, py = geo.wgs84_to_bng(lon, lat)
    assert np.allclose(gx, px) and np.allclose(gy, py)
