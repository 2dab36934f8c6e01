"""Attendance at an appointment is proved by fixes at the office counted across batches: live, a batch holds
about a second of data, so each fix may arrive alone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from openem.core.time import iso
from openem.monitoring.engine import Engine

from .fixtures import HOME, T0, Device, activation, offset, order


def engine() -> Engine:
    eng = Engine()
    eng.apply_order(order(attendance=[{"id": "A1", "name": "Office", "lat": HOME[0], "lon": HOME[1], "radius_m": 100,
                                       "start": iso(T0), "end": iso(T0 + timedelta(hours=1))}]))  # fmt: skip
    eng.apply_activation(activation("GPS-1"))
    return eng


def run(batches: list[list[dict]], until_min: int = 90) -> list[str]:
    eng = engine()
    kinds = [a["kind"] for b in batches for a in eng.process(b)]
    kinds += [a["kind"] for a in eng.advance_watermark((T0 + timedelta(minutes=until_min)).timestamp())]
    return [k for k in kinds if k.startswith("attendance")]


@pytest.mark.parametrize("per_batch", [1, 2, 60])
def test_a_wearer_at_the_office_attends_whatever_the_batch_size(per_batch: int) -> None:
    dev = Device("GPS-1")
    fixes = [dev.fix(T0 + timedelta(minutes=10 + i), *offset(*HOME, 20, 0)) for i in range(20)]
    fixes += [dev.fix(T0 + timedelta(minutes=30 + i), *offset(*HOME, 3000, 0)) for i in range(60)]
    assert run([fixes[i : i + per_batch] for i in range(0, len(fixes), per_batch)]) == []


@pytest.mark.parametrize("per_batch", [1, 60])
def test_a_wearer_who_stays_away_misses_it_and_one_stray_fix_is_not_attendance(per_batch: int) -> None:
    dev = Device("GPS-1")
    fixes = [dev.fix(T0 + timedelta(minutes=i), *offset(*HOME, 3000, 0)) for i in range(30)]
    fixes.append(dev.fix(T0 + timedelta(minutes=31), *offset(*HOME, 20, 0)))  # one fix: not enough to count
    fixes += [dev.fix(T0 + timedelta(minutes=32 + i), *offset(*HOME, 3000, 0)) for i in range(40)]
    assert run([fixes[i : i + per_batch] for i in range(0, len(fixes), per_batch)]) == ["attendance_missed"]
