"""The physics of the simulated telemetry: accuracy, speeds, RF range, alcohol curves, DST-correct curfews."""

from __future__ import annotations

from datetime import time

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from openem.core.geo import haversine_m_np
from openem.core.time import to_london
from openem.sim.events import BODY_RISE_MAX, CONTAMINANT_RISE_MIN, tac_curve

from .sim_fixtures import dst_world, small_world


def _telemetry(kind: str) -> pd.DataFrame:
    t = small_world().telemetry.to_pandas()
    return t[t["type"] == kind].drop_duplicates(["device_id", "seq"])


def _home_of_device() -> pd.DataFrame:
    w = small_world()
    return w.activations.merge(
        w.people[["person_id", "home_lat", "home_lon", "behaviour_profile"]], on="person_id"
    )[["device_id", "home_lat", "home_lon", "behaviour_profile"]]


def test_gps_accuracy_open_sky_about_5_m_and_indoor_20_to_50_m() -> None:
    gps = _telemetry("gps")
    gps = gps[gps["device_id"].str.startswith("GPS") & (gps["source"] == "GPS")]
    moving = gps[gps["speed_mps"] > 1.0]["accuracy_m"]
    assert 3.5 <= moving.median() <= 7
    still = gps[gps["speed_mps"] < 0.5]["accuracy_m"]
    assert (
        (still >= 20) & (still <= 50)
    ).mean() > 0.95  # the rest are multipath fixes claiming good accuracy


def test_reported_accuracy_is_a_one_sigma_radius_of_the_real_error() -> None:
    gps = _telemetry("gps").merge(_home_of_device(), on="device_id")
    local = gps["device_time"].dt.tz_convert("Europe/London").dt.hour
    # compliant wearers at home at 03:00-04:00 local: the error is the distance from home
    night = gps[
        (local == 3)
        & (gps["behaviour_profile"] == "compliant")
        & (gps["source"] == "GPS")
        & gps["device_id"].str.startswith("GPS")
    ]
    assert len(night) > 500
    err = haversine_m_np(
        night["lat"].to_numpy(),
        night["lon"].to_numpy(),
        night["home_lat"].to_numpy(),
        night["home_lon"].to_numpy(),
    )
    err = np.sort(err)[: int(len(err) * 0.995)]  # leave out multipath jumps
    ratio = np.sqrt(np.mean(err**2)) / np.sqrt(np.mean(night["accuracy_m"].to_numpy() ** 2))
    assert 0.8 <= ratio <= 1.25


def test_indoor_fix_gaps_and_multipath_jumps_happen() -> None:
    gps = _telemetry("gps")
    gps = gps[gps["device_id"].str.startswith("GPS")].sort_values(["device_id", "device_time"])
    gaps = gps.groupby("device_id")["device_time"].diff().dt.total_seconds()
    assert (gaps > 90).mean() > 0.05  # missing fixes indoors
    assert (gaps.dropna() >= 14).all()  # 15 s while in violation (test_sim_gps_burst), otherwise 60 s
    assert (gaps.dropna() >= 59).mean() > 0.98
    faults = small_world().truth
    assert (faults["detail"] == "gps_multipath").sum() > 0


def test_travel_speeds_are_walking_bus_or_car() -> None:
    gps = _telemetry("gps")
    moving = gps[(gps["speed_mps"] > 0.8)]["speed_mps"]
    assert moving.max() < 13
    for lo, hi in ((1.0, 2.0), (5, 7), (10, 12)):
        assert ((moving >= lo) & (moving <= hi)).sum() > 20


def test_rf_presence_within_home_unit_range() -> None:
    rf = _telemetry("rf")
    assert rf["present"].any() and (~rf["present"].astype(bool)).any()
    present_rssi = rf.loc[rf["present"].astype(bool), "rssi_dbm"]
    assert present_rssi.between(-95, -30).all()
    assert rf.loc[~rf["present"].astype(bool), "rssi_dbm"].isna().all()


@settings(max_examples=100, deadline=None)
@given(
    peak=st.floats(0.02, 0.2),
    rise=st.floats(0.01, BODY_RISE_MAX),
    fall=st.floats(0.005, 0.03),
)
def test_body_alcohol_rises_no_faster_than_absorption_and_falls_at_elimination_rate(
    peak: float, rise: float, fall: float
) -> None:
    t = np.arange(0, 30, 0.25)
    tac = tac_curve(t, np.array(2.0), np.array(peak), np.array(rise), np.array(fall))
    rate = np.diff(tac) / 0.25
    assert rate.max() <= BODY_RISE_MAX + 1e-9
    assert rate.min() >= -fall - 1e-9
    assert abs(tac.max() - peak) < rise * 0.25 + 1e-9


def test_alcohol_readings_every_30_minutes_and_contaminants_rise_faster_than_a_body() -> None:
    alc = _telemetry("alcohol").sort_values(["device_id", "device_time"])
    step = alc.groupby("device_id")["device_time"].diff().dt.total_seconds().dropna()
    assert (step == 1800).mean() > 0.99
    truth = small_world().truth
    drinking = truth[truth["kind"] == "alcohol_drinking"]
    assert len(drinking) > 0
    for _, row in drinking.iterrows():
        r = alc[(alc["device_id"] == row["device_id"]) & alc["device_time"].between(row["start"], row["end"])]
        rates = np.diff(r["tac_gdl"].to_numpy()) / 0.5
        assert rates.max(initial=0) <= BODY_RISE_MAX + 0.01  # reading noise
    assert CONTAMINANT_RISE_MIN > 2 * BODY_RISE_MAX
    skin = alc[alc["ir_skin"] < 0.5]
    assert (skin["tac_gdl"] == 0).all()


def test_battery_levels_and_charging() -> None:
    bat = _telemetry("battery")
    assert bat["level_pct"].between(0, 100).all()
    assert bat["charging"].astype(bool).any()


def test_curfew_truth_follows_london_wall_clock_across_the_october_change() -> None:
    w = dst_world()
    curfew = {
        o["ref"]: o["conditions"]["curfew"]["timetable"][0]["start"]
        for o in w.orders
        if "curfew" in o["conditions"] and not o["defects"]
    }
    late = w.truth[w.truth["kind"] == "curfew_late_return"]
    late = late[late["order_ref"].isin(curfew)]
    assert len(late) > 5
    days = set()
    for _, row in late.iterrows():
        local = to_london(row["start"].to_pydatetime())
        expected = time.fromisoformat(curfew[row["order_ref"]])
        assert abs((local.hour * 60 + local.minute) - (expected.hour * 60 + expected.minute)) <= 1
        days.add(local.date())
    assert len(days) >= 2
    # the frame containing 02:00 BST on 25 October is 25 hours long: samples continue at one a minute
    gps = w.telemetry.to_pandas()
    gps = gps[(gps["type"] == "gps") & gps["device_id"].str.startswith("GPS")]
    moments = gps["device_time"].dt.tz_convert("UTC")
    assert ((moments >= "2026-10-25T00:00Z") & (moments < "2026-10-25T02:00Z")).sum() > 100
