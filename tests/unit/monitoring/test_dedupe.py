"""Duplicate detection on (device, sequence): exactly 'seen before', across batches, late data and restarts."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from openem.monitoring import receipts
from openem.monitoring.columns import Columns
from openem.monitoring.engine import Engine

DEVICES = ["GPS-1", "GPS-2", "HMU-1"]


def columns(rows: list[tuple[int, int]]) -> Columns:
    n = len(rows)
    return Columns(n, DEVICES, np.array([d for d, _ in rows], dtype=np.int32),
                   np.array([s for _, s in rows], dtype=np.int64), np.zeros(n, dtype=np.int8),
                   np.zeros(n), np.zeros(n), {}, {}, {})  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 300)), min_size=1, max_size=60), min_size=1, max_size=8),
       st.integers(0, 7))  # fmt: skip
def test_a_message_is_new_exactly_when_its_device_and_sequence_were_never_seen(
    batches, restart_after
) -> None:
    eng, seen = Engine(), set()
    for i, batch in enumerate(batches):
        if i == restart_after:
            eng = Engine.restore(eng.snapshot())  # the gaps below the highest sequence survive a checkpoint
        cols = columns(batch)
        g = eng.reg.devices(cols.devices)[cols.dev]
        got = receipts.first_sight(eng, cols, g).tolist()
        want = []
        for d, s in batch:
            want.append((d, s) not in seen)
            seen.add((d, s))
        assert got == want


def test_in_order_sequences_stay_on_the_vectorised_path_and_leave_no_gaps() -> None:
    eng = Engine()
    rows = [(0, s) for s in range(100)] + [(1, s) for s in range(50, 80)]
    cols = columns(rows)
    g = eng.reg.devices(cols.devices)[cols.dev]
    assert receipts.first_sight(eng, cols, g).all()
    assert "seq_gaps" not in eng.dstate("GPS-1") and "seq_gaps" not in eng.dstate("GPS-2")
    assert eng.reg.d["seq_max"][eng.reg.dev_code["GPS-1"]] == 99
