"""Simulated days and Europe/London wall-clock time, vectorised.

A simulated day is a violation-period frame: 07:00 local to 07:00 local the next day (23, 24 or 25 hours
of UTC across the clock changes). Schedules are written in wall-clock minutes after 07:00 and converted to
UTC microseconds here, agreeing with `openem.core.time.local_to_utc` (spring gap: the instant after the
clock moves forward; autumn overlap: the first occurrence).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from openem.core.time import local_to_utc, to_london

US = 1_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TRANSITION_WALL_MIN = 19 * 60  # UK clocks change at 02:00 wall clock (BST) = 19 h after 07:00


def to_us(dt: datetime) -> int:
    return (dt - EPOCH) // timedelta(microseconds=1)


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=int(us))


def frame_bounds_us(day: date) -> tuple[int, int]:
    """UTC microseconds of 07:00 local on `day` and on the next day."""
    return to_us(local_to_utc(day, time(7, 0))), to_us(local_to_utc(day + timedelta(days=1), time(7, 0)))


def _offset_min(day: date) -> int:
    off = to_london(local_to_utc(day, time(7, 0))).utcoffset()
    return int(off.total_seconds() // 60) if off is not None else 0


def wall_to_utc_us(day: date, minutes: np.ndarray) -> np.ndarray:
    """UTC microseconds of wall-clock `minutes` after 07:00 local on `day` (0 <= minutes <= 1440)."""
    m = np.asarray(minutes, dtype=np.float64)
    off0, off1 = _offset_min(day), _offset_min(day + timedelta(days=1))
    base = to_us(datetime.combine(day, time(7, 0), tzinfo=UTC))  # 07:00 as if it were UTC
    offset = np.where(m < _TRANSITION_WALL_MIN, off0, off1) if off0 != off1 else np.full(m.shape, off0)
    return (base + np.round((m - offset) * 60 * US)).astype(np.int64)


def utc_us_to_wall_min(day: date, us: np.ndarray) -> np.ndarray:
    """Inverse of wall_to_utc_us within the frame of `day` (minutes after 07:00 local)."""
    start, _ = frame_bounds_us(day)
    off0, off1 = _offset_min(day), _offset_min(day + timedelta(days=1))
    elapsed_min = (np.asarray(us, dtype=np.int64) - start) / (60 * US)
    if off0 == off1:
        return elapsed_min
    # the transition instant in elapsed minutes: 02:00 wall (before-offset) minus the change
    t_elapsed = _TRANSITION_WALL_MIN - max(0, off1 - off0)
    return np.where(elapsed_min < t_elapsed, elapsed_min, elapsed_min + (off1 - off0))
