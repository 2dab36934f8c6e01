"""Lazily read columns: any chain of slices and takes reads the same values as copying the columns would,
one value or a whole column, and derived columns agree with their source."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from openem.monitoring.columns import from_table
from openem.telemetry.wire import messages_to_table, parse_message

from .fixtures import HOME, T0, Device


def table(n: int):  # noqa: ANN201
    dev = Device("GPS-1")
    sources = ["GPS", "LBS", "WIFI"]
    msgs = [parse_message(dev.fix(T0, HOME[0] + i * 1e-4, HOME[1], acc=float(i), source=sources[i % 3]), T0)[0]
            for i in range(n)]  # fmt: skip
    return messages_to_table(msgs)


@settings(max_examples=60, deadline=None)
@given(st.integers(5, 40), st.data())
def test_slices_and_takes_compose(n, data) -> None:
    tab = table(n)
    cols = from_table(tab)
    rows = np.arange(n)
    lo = data.draw(st.integers(0, n - 1))
    hi = data.draw(st.integers(lo + 1, n))
    cols, rows = cols.slice(lo, hi), rows[lo:hi]
    for _ in range(data.draw(st.integers(0, 3))):
        idx = np.array(data.draw(st.lists(st.integers(0, len(rows) - 1), min_size=1, max_size=20)))
        cols, rows = cols.take(idx), rows[idx]
    sources = tab.column("source").to_pylist()
    acc = tab.column("accuracy_m").to_pylist()
    for r, orig in enumerate(rows.tolist()):
        assert cols.s.item("source", r) == sources[orig]  # one value, straight from the table
    assert cols.f["accuracy_m"].tolist() == [acc[i] for i in rows.tolist()]
    assert cols.s["source"].tolist() == [sources[i] for i in rows.tolist()]
    assert cols.b["source_is_gps"].tolist() == [sources[i] == "GPS" for i in rows.tolist()]
    assert cols.s.item("source", 0) == sources[rows[0]]  # and from the materialised column once it exists
