"""Rule state that adds up the same across batch cuts (decision 0033, issue 18): a battery's last charge, a
victim and a wearer re-sequenced each on its own, late fixes measured for speed. Each scenario is replayed
cut in several places; the alerts an operator sees must not depend on where the cuts fell."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from tests.unit.monitoring.fixtures import HOME, T0, Device, activation, offset, order

from openem.core.time import iso, parse_instant
from openem.monitoring.engine import Engine

CUTS = [1, 2, 3, 5, 1000]  # messages per batch: one at a time (live) up to all at once (a replay)


def _alerts(eng: Engine, msgs: list[dict[str, Any]], per_batch: int, kinds: tuple[str, ...]) -> list[tuple]:
    got: list[dict[str, Any]] = []
    for i in range(0, len(msgs), per_batch):
        got += eng.process(msgs[i : i + per_batch])
    last = max(parse_instant(m["receive_time"]) for m in msgs)
    got += eng.advance_watermark((last + timedelta(hours=1)).timestamp())
    return sorted((a["kind"], a["start"], a["id"]) for a in got if a["kind"].startswith(kinds))


def _forwarded(m: dict[str, Any], at: Any) -> dict[str, Any]:
    return {**m, "receive_time": iso(at)}


def _battery_day() -> list[dict[str, Any]]:
    """A tag low at 11:00, charged at 12:00 (received live) and at 10:30 (stored, received at 13:05), low
    again at 13:30: the 13:30 report is a new discharge after the 12:00 charge however the reports were cut
    into batches, so it raises a second low-battery alert."""
    g = Device("GPS-1")
    at = [T0 - timedelta(hours=3) + timedelta(minutes=m) for m in (0, 90, 120, 180, 270)]
    r0 = g.msg("battery", at[0], level_pct=24.0, charging=False)
    stored = g.msg("battery", at[1], level_pct=95.0, charging=True)
    low = g.msg("battery", at[2], level_pct=19.0, charging=False)
    charge = g.msg("battery", at[3], level_pct=30.0, charging=True)
    again = g.msg("battery", at[4], level_pct=19.0, charging=False)
    stored = _forwarded(stored, at[3] + timedelta(minutes=65))
    return sorted([r0, stored, low, charge, again], key=lambda m: m["receive_time"])


@pytest.mark.parametrize("per_batch", CUTS)
def test_a_battery_charged_twice_with_one_charge_reported_late_gives_the_same_low_alerts(
    per_batch: int,
) -> None:
    eng = Engine()
    eng.apply_order(order())
    eng.apply_activation(activation("GPS-1"))
    got = _alerts(eng, _battery_day(), per_batch, ("low_battery",))
    assert [(k, s) for k, s, _ in got] == [
        ("low_battery", "2026-11-23T11:00:00Z"),
        ("low_battery", "2026-11-23T13:30:00Z"),
    ]


VICTIM = offset(*HOME, 0, 3000)


@pytest.mark.parametrize("per_batch", CUTS)
def test_fixes_forwarded_late_after_newer_ones_are_not_flagged_as_impossible_jumps(per_batch: int) -> None:
    """A tag at home reporting live, then its stored fixes from 3 km away an hour earlier: nothing moved
    impossibly fast, whether the late fixes share a batch with the newer ones or not."""
    g = Device("GPS-1")
    away = offset(*HOME, 0, 3000)
    old = [g.fix(T0 + timedelta(minutes=i), *away, acc=5.0) for i in range(5)]
    live = [g.fix(T0 + timedelta(minutes=60 + i), *HOME, acc=5.0) for i in range(5)]
    old = [_forwarded(m, T0 + timedelta(minutes=64, seconds=30 + i)) for i, m in enumerate(old)]
    eng = Engine()
    eng.apply_order(order())
    eng.apply_activation(activation("GPS-1"))
    msgs = live + old
    flagged = []
    for i in range(0, len(msgs), per_batch):
        eng.process(msgs[i : i + per_batch])
        flagged += [f for f in eng.flags if f[2] == "impossible_speed"]
    assert flagged == []
