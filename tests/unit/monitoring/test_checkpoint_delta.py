"""Incremental checkpoints (decision 0033): a base snapshot and the deltas after it restore the engine that
a full snapshot restores, and a restart from them raises what a run without one raises."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from openem.monitoring import replay
from openem.monitoring.columns import from_table
from openem.monitoring.engine import Engine

from .fixtures import T0, activation, order
from .test_replay import world


def _canon(eng: Engine) -> str:
    return json.dumps(eng.snapshot(), sort_keys=True)


def _roundtrip(x: Any) -> Any:
    return json.loads(json.dumps(x))  # what the database gives back


@pytest.mark.parametrize("batch_s", [60.0, 900.0])
def test_base_and_deltas_restore_what_the_full_snapshot_restores(batch_s: float) -> None:
    docs, acts, table = world()
    eng = replay.load_engine(docs, acts)
    base = _roundtrip(eng.snapshot())
    eng.checkpointed()
    deltas: list[dict[str, Any]] = []
    cols = from_table(table)
    alerts: list[dict[str, Any]] = []
    for k, (lo, hi) in enumerate(replay.cuts(cols.rx, batch_s)):
        alerts += eng.process(cols.slice(lo, hi))
        if k == 3:  # an order varied and a device fitted mid-run travel in the delta too
            eng.apply_order({**docs[0], "version": 2})
            eng.apply_activation(activation("GPS-2"))
        deltas.append(_roundtrip(eng.checkpoint_delta()))
        assert _canon(Engine.restore(_roundtrip(base), list(deltas))) == _canon(eng)
    assert alerts  # the world raises something, so the state compared is not empty
    assert "orders" in deltas[3] and "orders" not in deltas[-1]  # the documents only when they changed


def test_a_restart_from_base_and_deltas_raises_what_a_run_without_one_raises() -> None:
    docs, acts, table = world()
    until = (T0 + timedelta(hours=20)).timestamp()
    want, _ = replay.replay(docs, acts, table, batch_s=300, until=until)
    eng = replay.load_engine(docs, acts, until)
    base = _roundtrip(eng.snapshot())
    eng.checkpointed()
    cols = from_table(table)
    parts = replay.cuts(cols.rx, 300)
    got: list[dict[str, Any]] = []
    deltas = []
    for lo, hi in parts[: len(parts) // 2]:
        got += eng.process(cols.slice(lo, hi))
        deltas.append(_roundtrip(eng.checkpoint_delta()))
    eng = Engine.restore(_roundtrip(base), deltas)  # the process died; its memory is gone
    for lo, hi in parts[len(parts) // 2 :]:
        got += eng.process(cols.slice(lo, hi))
    got += eng.advance_watermark(until)
    assert [a["id"] for a in got] == [a["id"] for a in want]


def test_a_delta_needs_a_base() -> None:
    eng = Engine()
    eng.apply_order(order())
    eng.checkpointed()
    assert "order_state" in eng.checkpoint_delta()
    with pytest.raises(ValueError):
        Engine().checkpoint_delta()
