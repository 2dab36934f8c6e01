"""Late data re-sequenced per device (decision 0033): a tag's stored messages forwarded out of order, or a
batch cut anywhere, give the alerts the messages give in order."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from tests.unit.monitoring.fixtures import HOME, T0, Device, activation, offset, order

from openem.core.time import iso, parse_instant
from openem.monitoring import resequence
from openem.monitoring.engine import Engine
from openem.monitoring.model import default_thresholds, merge_thresholds


def _engine(resequence_s: float | None = None) -> Engine:
    th = default_thresholds()
    if resequence_s is not None:
        th = merge_thresholds(th, {"late": {"resequence_s": resequence_s}})
    eng = Engine(th)
    eng.apply_order(order())
    eng.apply_activation(activation("GPS-1"))
    return eng


def _journey() -> list[dict[str, Any]]:
    """A tag (a counter: seq 1, 2, 3, ...) parked at home, then walking (GPS at 2 m/s), then four network
    fixes in a row (GPS lost while moving), then GPS again; a battery report every 10 minutes."""
    g = Device("GPS-1")
    out = [g.fix(T0 + timedelta(minutes=i), *HOME, speed_mps=0.0) for i in range(20)]
    out += [
        g.fix(T0 + timedelta(minutes=20 + i), *offset(*HOME, 100 * i, 0), speed_mps=2.0) for i in range(3)
    ]
    out += [
        g.fix(T0 + timedelta(minutes=23 + i), *offset(*HOME, 300, 0), acc=300, source="LBS") for i in range(4)
    ]
    out += [g.fix(T0 + timedelta(minutes=27 + i), *offset(*HOME, 400 + 100 * i, 0), speed_mps=2.0)
            for i in range(5)]  # fmt: skip
    return out


def _received_late(
    msgs: list[dict[str, Any]], which: range, at_index: int, delay_s: float
) -> list[dict[str, Any]]:
    """The messages `which` stored on the tag and forwarded `delay_s` after message `at_index` was received,
    in reverse order: everything else on time. Returned in receipt order."""
    base = msgs[at_index]["receive_time"]
    out = []
    for i, m in enumerate(msgs):
        if i in which:
            m = {
                **m,
                "receive_time": iso(parse_instant(base) + timedelta(seconds=delay_s + (len(which) - i))),
            }
        out.append(m)
    return sorted(out, key=lambda m: (m["receive_time"], -m["seq"]))


def _ids(eng: Engine, msgs: list[dict[str, Any]], per_batch: int = 1) -> set[str]:
    got: list[dict[str, Any]] = []
    for i in range(0, len(msgs), per_batch):
        got += eng.process(msgs[i : i + per_batch])
    got += eng.advance_watermark((T0 + timedelta(hours=2)).timestamp())
    return {a["id"] for a in got if a["kind"] != "unmonitored_no_device"}


def test_network_fixes_forwarded_after_the_next_gps_fix_still_make_one_gps_lost_run() -> None:
    msgs = _journey()
    in_order = _ids(_engine(), msgs)
    assert in_order, "the journey raises GPS lost while moving"
    late = _received_late(msgs, range(24, 27), at_index=27, delay_s=60)  # 3 of the 4 after the next GPS fix
    assert _ids(_engine(), late) == in_order
    # without re-sequencing the run is cut by the GPS fix between them: the test can fail
    assert _ids(_engine(resequence_s=0), late) != in_order


@pytest.mark.parametrize("per_batch", [1, 3, 7, 40])
def test_any_batching_and_any_shuffle_within_the_lateness_give_the_same_alerts(per_batch: int) -> None:
    msgs = _journey()
    want = _ids(_engine(), msgs)
    rnd = random.Random(per_batch)
    late = _received_late(msgs, range(22, 27), at_index=28, delay_s=rnd.uniform(10, 200))
    assert _ids(_engine(), late, per_batch) == want


def test_held_messages_survive_a_checkpoint() -> None:
    msgs = _received_late(_journey(), range(24, 27), at_index=27, delay_s=60)
    want = _ids(_engine(), msgs)
    eng = _engine()
    got: list[dict[str, Any]] = []
    cut = next(i for i, m in enumerate(msgs) if m["seq"] == 28) + 1  # the GPS fix waiting for the stored ones
    for m in msgs[:cut]:
        got += eng.process([m])
    assert len(eng.held) == 1  # waiting for the forwarded fixes
    eng = Engine.restore(eng.snapshot())
    for m in msgs[cut:]:
        got += eng.process([m])
    got += eng.advance_watermark((T0 + timedelta(hours=2)).timestamp())
    assert {a["id"] for a in got if a["kind"] != "unmonitored_no_device"} == want


def test_a_gap_that_never_fills_holds_a_device_for_the_lateness_only() -> None:
    g = Device("GPS-1")
    msgs = [g.fix(T0 + timedelta(minutes=i), *HOME, speed_mps=0.0) for i in range(20)]
    g.seq += 1  # a message lost for good
    msgs += [g.fix(T0 + timedelta(minutes=20 + i), *HOME, speed_mps=0.0) for i in range(10)]
    eng = _engine()
    most = 0
    for m in msgs:
        eng.process([m])
        most = max(most, len(eng.held))
    assert 0 < most <= 6  # the fixes after the gap waited 5 minutes of receipts at most, then went on
    assert len(eng.held) == 0 and eng.reg.d["rs_front"][eng.reg.device("GPS-1")] == msgs[-1]["seq"]


def test_numbers_that_are_not_a_counter_are_never_waited_for() -> None:
    eng = _engine()
    g = Device("GPS-1")
    for i in range(40):
        g.seq += 3  # steps of 4: a device numbering as it likes
        eng.process([g.fix(T0 + timedelta(minutes=i), *HOME, speed_mps=0.0)])
        assert len(eng.held) == 0
    assert resequence.lateness(eng) == 300
