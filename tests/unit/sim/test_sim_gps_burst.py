"""GPS tags report every 15 s while the wearer breaks a curfew or an exclusion zone, and every 60 s otherwise."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from openem.sim.clock import US
from openem.sim.movement import DayPlan, build_schedule, sample_track
from openem.sim.population import PLANS, place_people
from openem.sim.signals import DayCtx, curfew_mask, curfew_truth, gps_rows, zone_truth
from openem.sim.truth import TruthLog

from .sim_fixtures import small_world

DAY = date(2026, 11, 3)
ON_TIME, LATE, ZONE, QUIET = range(4)
BREACHES = ("curfew_late_return", "curfew_absent", "curfew_early_leave", "exclusion_entry")


def _day(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Four GPS wearers with a curfew and an exclusion zone: on time, 60 min late home, a zone visit, on time."""
    n = 4
    rng = np.random.default_rng(seed)
    geo = place_people(rng, np.full(n, PLANS.index("GPS_AC")))
    off = np.zeros(n, dtype=bool)
    plan = DayPlan(
        late_min=np.array([0.0, 60.0, 0.0, 0.0]), absent=off, zone_visit=np.array([False, False, True, False]),
        attend=off, early_min=np.zeros(n), curfew_end_min=geo.curfew_end_min.astype(float),
    )  # fmt: skip
    knots, xy = build_schedule(
        rng, plan, geo.work_xy, geo.leisure_xy, geo.office_xy, geo.zone_xy, geo.zone_r,
        geo.curfew_start_min.astype(float),
    )  # fmt: skip
    track = sample_track(rng, DAY, knots, xy, 60, rng.integers(0, 60, n))
    dev = {k: np.full(n, -1) for k in ("RF_TAG", "HMU", "ALCOHOL_TAG", "NFD", "VICTIM")}
    dev["GPS_TAG"] = np.arange(n)
    has = {
        "curfew": np.ones(n, dtype=bool),
        "exclusion": np.ones(n, dtype=bool),
        "victim": off,
        "inclusion": off,
    }
    truth = TruthLog()
    ctx = DayCtx(rng, DAY, track, geo, plan, np.full(n, "compliant", dtype=object), dev, has, truth, 60)
    in_curfew = curfew_mask(ctx)
    curfew_truth(ctx, in_curfew)
    zone_truth(ctx)
    fixes = gps_rows(ctx, np.ones(track.t_us.shape, dtype=bool), in_curfew)
    ids = np.arange(n)
    frame = truth.frame(ids, ids, ids)
    return pd.DataFrame({"dev": fixes["dev"], "t": fixes["t"]}).sort_values(["dev", "t"]), frame


def _gaps_s(t: np.ndarray) -> np.ndarray:
    return np.diff(np.sort(t)) / US


def test_fixes_every_15_s_while_in_violation_and_every_60_s_otherwise() -> None:
    for seed in (1, 2, 3):
        fixes, truth = _day(seed)
        for wearer, kind in ((LATE, "curfew_late_return"), (ZONE, "exclusion_entry")):
            spell = truth[(truth["kind"] == kind) & (truth["device_id"] == wearer)]
            assert len(spell) >= 1, (seed, kind)
            t = fixes.loc[fixes["dev"] == wearer, "t"].to_numpy()
            for start, end in zip(spell["start"].astype("int64"), spell["end"].astype("int64"), strict=True):
                during = _gaps_s(t[(t >= start) & (t < end)])
                assert np.median(during) == 15, (seed, kind)
                assert np.all(during % 15 == 0)
                # a minute of violation yields about four fixes (indoor gaps drop some, as at 60 s)
                assert len(during) + 1 >= 0.6 * (end - start) / US / 15
        for wearer in range(4):
            # outside every violation of the wearer (curfew or zone, whatever the plan), one fix a minute
            t = fixes.loc[fixes["dev"] == wearer, "t"].to_numpy()
            spells = truth[(truth["device_id"] == wearer) & truth["kind"].isin(BREACHES)]
            in_spell = np.zeros(len(t), dtype=bool)
            for start, end in zip(
                spells["start"].astype("int64"), spells["end"].astype("int64"), strict=True
            ):
                in_spell |= (t >= start) & (t < end + 60 * US)
            quick = np.flatnonzero(np.diff(t) < 60 * US) + 1
            assert not (~in_spell[quick]).any(), (seed, wearer)
            assert _gaps_s(t[~in_spell]).min() >= 60
        breaches = truth[truth["kind"].isin(BREACHES)]
        assert not breaches["device_id"].isin([ON_TIME, QUIET]).any()  # so these two never burst


def test_bursts_in_a_whole_world_keep_sequence_numbers_contiguous_and_stay_in_violation_windows() -> None:
    w = small_world()
    df = w.telemetry.to_pandas()
    gps = df[(df["type"] == "gps") & df["device_id"].str.startswith("GPS")].drop_duplicates(
        ["device_id", "seq"]
    )
    gps = gps.sort_values(["device_id", "device_time"])
    gap = gps.groupby("device_id")["device_time"].diff().dt.total_seconds()
    fast = gps[gap < 59]
    assert len(fast) > 100  # the world has wearers in violation
    # every fast fix falls inside a curfew or exclusion violation of its device (or a sub-grace absence)
    truth = w.truth[
        w.truth["kind"].isin(["curfew_late_return", "curfew_absent", "curfew_early_leave", "exclusion_entry"])
    ]
    spans = truth.merge(w.activations[["person_id", "device_id"]], on="person_id", suffixes=("", "_gps"))
    spans = spans[spans["device_id_gps"].str.startswith("GPS")]
    hits = fast.merge(spans, left_on="device_id", right_on="device_id_gps", suffixes=("", "_t"))
    covered = hits[
        (hits["device_time"] >= hits["start"])
        & (hits["device_time"] <= hits["end"] + pd.Timedelta(minutes=1))
    ]
    assert covered[["device_id", "seq"]].drop_duplicates().shape[0] >= 0.95 * len(fast)
    # sequence numbers still count every message of a device once, in device-time order
    all_msgs = df.drop_duplicates(["device_id", "seq"]).sort_values(["device_id", "device_time", "seq"])
    per_dev = all_msgs.groupby("device_id")["seq"]
    assert (per_dev.min() == 0).all()
    assert (per_dev.max() + 1 == per_dev.size()).all()
