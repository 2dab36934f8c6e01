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


def _pair_evening() -> list[dict[str, Any]]:
    """A victim's phone reporting every 5 minutes from 11:00, live, 3 km from the wearer's home; the wearer's
    tag reporting live from home until 12:00, then storing its fixes (a walk to the victim's street from
    13:40, home again at 14:00) and forwarding them at 14:08, in order, after the victim's 14:05 fix."""
    w, v = Device("GPS-1"), Device("VIC-1")
    start = T0 - timedelta(hours=1)
    msgs = [v.fix(start + timedelta(minutes=5 * i), *VICTIM, acc=10.0) for i in range(42)]
    for i in range(188):
        at = start + timedelta(minutes=i)
        east = 2800.0 if 160 <= i < 180 else 0.0
        m = w.fix(at, *offset(*HOME, 0, east), acc=10.0)
        if i >= 60:
            m = _forwarded(m, T0 + timedelta(hours=2, minutes=8, seconds=i / 2))
        msgs.append(m)
    return sorted(msgs, key=lambda m: m["receive_time"])


@pytest.mark.parametrize("per_batch", CUTS)
def test_a_victim_and_a_wearer_forwarded_late_are_judged_the_same_however_cut(per_batch: int) -> None:
    def run(n: int) -> list[tuple]:
        eng = Engine()
        eng.apply_order(order(proximity={"victim_device_id": "VIC-1", "pre_alert_m": 1000, "alert_m": 500}))
        eng.apply_activation(activation("GPS-1"))
        eng.apply_activation(activation("VIC-1", kind="VICTIM", role="VICTIM"))
        return _alerts(eng, _pair_evening(), n, ("proximity",))

    live = run(1)
    assert live  # the wearer walked up to the victim
    assert run(per_batch) == live


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
