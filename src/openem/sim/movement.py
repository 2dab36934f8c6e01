"""Daily routines as true trajectories: home -> work/education -> leisure -> home, at walking, bus or car
speeds, with the day's behaviour (late return, a night away, a visit into an exclusion zone, an attendance
appointment) written into the schedule. Fully vectorised over wearers and samples."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from openem.sim.clock import US, frame_bounds_us, wall_to_utc_us

WALK_MPS, BUS_MPS, CAR_MPS = 1.4, 6.0, 11.0
HOME_JITTER_M = 4.0  # moving about inside the home or workplace
APPOINTMENT_MIN = (180.0, 240.0)  # 10:00-11:00 local, minutes after 07:00


@dataclass
class DayPlan:
    """What each wearer does on one simulated day (inputs to the schedule)."""

    late_min: np.ndarray  # minutes late home after curfew start (0 = on time)
    absent: np.ndarray  # out for most of the curfew night
    zone_visit: np.ndarray  # goes into the exclusion zone in the evening
    attend: np.ndarray  # attends an appointment at the probation office this morning
    early_min: np.ndarray | None = None  # leaves home this many minutes before curfew end (0 = not)
    curfew_end_min: np.ndarray | None = None  # wall minutes after 07:00 when the curfew ends


@dataclass
class Track:
    t_us: np.ndarray  # (n, F) sample instants, UTC microseconds
    x: np.ndarray  # (n, F) true metres east of home
    y: np.ndarray
    speed: np.ndarray  # true speed m/s
    heading: np.ndarray  # degrees from north
    moving: np.ndarray  # bool: travelling between places (outdoors)


def _speed_for(dist: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    car = rng.random(dist.shape) < 0.45
    return np.where(dist < 1500, WALK_MPS, np.where(car, CAR_MPS, BUS_MPS))


def build_schedule(
    rng: np.random.Generator,
    plan: DayPlan,
    work_xy: np.ndarray,
    leisure_xy: np.ndarray,
    office_xy: np.ndarray,
    zone_xy: np.ndarray,
    zone_r: np.ndarray,
    curfew_start_min: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Knot times (n, 12) in wall minutes after 07:00 and knot positions (n, 12, 2).

    Knots alternate stay/travel: home, to work, work, to leisure, leisure, home, (early errand and back), home.
    """
    n = len(work_xy)
    home = np.zeros((n, 2))
    a1 = np.where(plan.attend[:, None], office_xy, work_xy)
    inside = zone_xy + rng.uniform(-0.4, 0.4, (n, 2)) * zone_r[:, None]
    # a night away is spent further off (a friend's place 2.5-6 km away, on the leisure side)
    lead = leisure_xy / np.maximum(np.hypot(*leisure_xy.T), 1.0)[:, None]
    away = lead * rng.uniform(2500, 6000, n)[:, None]
    a2 = np.where(plan.zone_visit[:, None], inside, np.where(plan.absent[:, None], away, leisure_xy))
    d1 = np.hypot(*a1.T)
    d2 = np.hypot(*(a2 - a1).T)
    d3 = np.hypot(*a2.T)
    tt1 = d1 / _speed_for(d1, rng) / 60
    tt2 = d2 / _speed_for(d2, rng) / 60
    tt3 = d3 / _speed_for(d3, rng) / 60
    leave1 = np.clip(rng.normal(90, 40, n), 10, 240)
    leave1 = np.where(plan.attend, APPOINTMENT_MIN[0] - 10 - tt1, leave1)
    arrive1 = leave1 + tt1
    leave2 = np.maximum(rng.normal(600, 60, n), arrive1 + 30)
    leave2 = np.where(plan.attend, np.maximum(leave2, APPOINTMENT_MIN[1] + 10), leave2)
    arrive2 = leave2 + tt2
    home_by = curfew_start_min - rng.uniform(15, 80, n)
    home_by = np.where(plan.late_min > 0, curfew_start_min + plan.late_min, home_by)
    home_by = np.where(plan.absent, np.minimum(curfew_start_min + rng.uniform(180, 560, n), 1425), home_by)
    leave3 = np.maximum(home_by - tt3, arrive2 + 10)
    arrive3 = np.minimum(leave3 + tt3, 1435)
    leave3 = np.minimum(leave3, arrive3)
    # an early leave: out on an errand before a curfew that ends at 06:00, back before the day's end
    end = np.full(n, 1440.0)
    early_min = plan.early_min if plan.early_min is not None else np.zeros(n)
    curfew_end = plan.curfew_end_min if plan.curfew_end_min is not None else end
    e0 = curfew_end - early_min
    errand = lead * rng.uniform(300, 1200, n)[:, None]
    te = np.hypot(*errand.T) / WALK_MPS / 60
    e1 = e0 + te
    e2 = np.maximum(
        e1 + rng.uniform(5, 20, n), curfew_end + rng.uniform(5, 30, n)
    )  # back after the curfew ends
    e3 = e2 + te
    early = (early_min > 0) & (e0 > arrive3 + 30) & (e3 < 1438)
    e0, e1, e2, e3 = (np.where(early, v, end) for v in (e0, e1, e2, e3))
    t = np.column_stack([np.zeros(n), leave1, arrive1, leave2, arrive2, leave3, arrive3, e0, e1, e2, e3, end])
    t = np.maximum.accumulate(t, axis=1)
    xy = np.stack([home, home, a1, a1, a2, a2, home, home, errand, errand, home, home], axis=1)
    return t, xy


def sample_track(
    rng: np.random.Generator,
    day: date,
    knots_wall: np.ndarray,
    knots_xy: np.ndarray,
    interval_s: int,
    phase_s: np.ndarray,
) -> Track:
    """True positions every `interval_s` seconds (per-wearer phase) across the day's frame."""
    start, end = frame_bounds_us(day)
    n = len(knots_wall)
    f_count = (end - start) // (interval_s * US)
    t = (
        start
        + phase_s[:, None].astype(np.int64) * US
        + np.arange(f_count, dtype=np.int64)[None, :] * interval_s * US
    )
    kt = wall_to_utc_us(day, knots_wall)
    seg = np.zeros(t.shape, dtype=np.int64)
    for k in range(1, kt.shape[1] - 1):  # one pass per knot (8 a day), vectorised over wearers x samples
        seg += kt[:, k : k + 1] <= t
    rows = np.arange(n)[:, None]
    t0, t1 = kt[rows, seg], kt[rows, seg + 1]
    span = np.maximum(t1 - t0, 1)
    frac = np.clip((t - t0) / span, 0.0, 1.0)
    p0, p1 = knots_xy[rows, seg], knots_xy[rows, seg + 1]
    dx, dy = p1[..., 0] - p0[..., 0], p1[..., 1] - p0[..., 1]
    moving = (seg % 2 == 1) & (np.hypot(dx, dy) > 1)
    x = p0[..., 0] + frac * dx
    y = p0[..., 1] + frac * dy
    still = ~moving
    x = x + still * rng.normal(0, HOME_JITTER_M / np.sqrt(2), x.shape)
    y = y + still * rng.normal(0, HOME_JITTER_M / np.sqrt(2), y.shape)
    speed = np.where(moving, np.hypot(dx, dy) / (span / US), 0.0)
    heading = np.where(moving, np.degrees(np.arctan2(dx, dy)) % 360, np.nan)
    return Track(t_us=t, x=x, y=y, speed=speed, heading=heading, moving=moving)
