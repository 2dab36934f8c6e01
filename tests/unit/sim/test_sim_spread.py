"""Heartbeats and battery reports spread over the hour, as real devices send them (no top-of-the-hour
spike), and the world stays the same for its seed."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc
from tests.unit.sim.sim_fixtures import small_world

from openem.sim import generate_world


def _minute_of_hour(world, kind: str) -> np.ndarray:
    t = world.telemetry.filter(pc.equal(world.telemetry["type"], kind))["device_time"]
    us = np.asarray(pc.cast(t, "int64"))
    return (us // 60_000_000) % 60


def test_hourly_and_half_hourly_reports_are_spread_over_the_hour() -> None:
    w = small_world()
    for kind, period in (("heartbeat", 60), ("battery", 30)):
        minutes = _minute_of_hour(w, kind) % period
        counts = np.bincount(minutes, minlength=period)
        assert counts.sum() > 1000, kind
        assert counts.max() < 2.5 * counts.mean(), (kind, counts)  # was: all of them in one minute
        assert (counts > 0).sum() >= period * 0.9, (kind, counts)


def test_each_device_keeps_its_own_period() -> None:
    w = small_world()
    hb = w.telemetry.filter(pc.equal(w.telemetry["type"], "heartbeat")).to_pandas()
    gaps = (
        hb.sort_values("device_time").groupby("device_id")["device_time"].diff().dropna().dt.total_seconds()
    )
    assert np.median(gaps) == 3600 or abs(np.median(gaps) - 3600) < 60


def test_the_same_seed_gives_the_same_world() -> None:
    a = generate_world(wearers=30, days=1, seed=4)
    b = generate_world(wearers=30, days=1, seed=4)
    assert a.telemetry.equals(b.telemetry)
