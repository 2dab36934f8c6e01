"""Ground truth is derived from the scripted behaviour: each kind of curfew breach is labelled as such."""

from __future__ import annotations

from datetime import date, time

import numpy as np

from openem.core.time import local_to_utc, to_london
from openem.sim.clock import from_us
from openem.sim.movement import DayPlan, build_schedule, sample_track
from openem.sim.population import PLANS, place_people
from openem.sim.signals import DayCtx, curfew_mask, curfew_truth
from openem.sim.truth import TruthLog

DAY = date(2026, 10, 24)  # the frame holds the clock change (25 h long)


def _day(late: float = 0.0, absent: bool = False, early: float = 0.0, n: int = 4) -> tuple[DayCtx, TruthLog]:
    rng = np.random.default_rng(3)
    geo = place_people(rng, np.full(n, PLANS.index("HDC")))
    geo.curfew_start_min[:] = 720  # 19:00
    geo.curfew_end_min[:] = 1380  # 06:00
    off = np.zeros(n, dtype=bool)
    plan = DayPlan(
        late_min=np.full(n, late), absent=np.full(n, absent), zone_visit=off, attend=off,
        early_min=np.full(n, early), curfew_end_min=geo.curfew_end_min.astype(float),
    )  # fmt: skip
    knots, xy = build_schedule(
        rng,
        plan,
        geo.work_xy,
        geo.leisure_xy,
        geo.office_xy,
        geo.zone_xy,
        geo.zone_r,
        geo.curfew_start_min.astype(float),
    )
    track = sample_track(rng, DAY, knots, xy, 60, np.zeros(n, dtype=np.int64))
    dev = {k: np.full(n, -1) for k in ("RF_TAG", "GPS_TAG", "ALCOHOL_TAG", "NFD", "VICTIM")}
    dev["HMU"] = np.arange(n)
    truth = TruthLog()
    has = {"curfew": np.ones(n, dtype=bool)}
    ctx = DayCtx(rng, DAY, track, geo, plan, np.full(n, "compliant", dtype=object), dev, has, truth, 60)
    curfew_truth(ctx, curfew_mask(ctx))
    return ctx, truth


def _kinds(truth: TruthLog) -> list[str]:
    return list(truth.frame(np.arange(4), np.arange(4), np.arange(4))["kind"])


def test_a_compliant_day_has_no_curfew_truth() -> None:
    assert _kinds(_day()[1]) == []


def test_late_return_starts_at_curfew_start_local_time_and_lasts_the_lateness() -> None:
    _, truth = _day(late=40)
    df = truth.frame(np.arange(4), np.arange(4), np.arange(4))
    assert list(df["kind"]) == ["curfew_late_return"] * 4
    for _, row in df.iterrows():
        assert to_london(row["start"].to_pydatetime()).time() == time(19, 0)
        assert 38 <= (row["end"] - row["start"]).total_seconds() / 60 <= 42


def test_a_night_away_is_an_absence_and_an_early_errand_an_early_leave() -> None:
    assert set(_kinds(_day(absent=True)[1])) == {"curfew_absent"}
    ctx, truth = _day(early=40)
    df = truth.frame(np.arange(4), np.arange(4), np.arange(4))
    assert list(df["kind"]) == ["curfew_early_leave"] * 4
    # 06:00 local on 25 October is 06:00 UTC (after the change back to GMT)
    end = local_to_utc(date(2026, 10, 25), time(6, 0))
    for _, row in df.iterrows():
        assert abs((row["end"].to_pydatetime() - end).total_seconds()) <= 60
        assert 35 <= (end - row["start"].to_pydatetime()).total_seconds() / 60 <= 45
    assert from_us(int(ctx.track.t_us[0, -1])) > end
