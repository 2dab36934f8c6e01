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


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["GPS-B", "GPS-A", "HMU-9", "GPS-10"]), st.integers(0, 5),
                          st.sampled_from(["GPS", "LBS", None])), min_size=1, max_size=30),
       st.integers(1, 3))  # fmt: skip
def test_telemetry_read_dictionary_encoded_is_the_same_table_in_the_same_order(rows, files) -> None:
    # several Parquet files, each with its own dictionaries; receive times tie across devices
    import tempfile
    from datetime import timedelta
    from pathlib import Path

    import pyarrow as pa
    import pyarrow.parquet as pq

    from openem.monitoring.replay import read_telemetry

    msgs = []
    for i, (dev, minute, source) in enumerate(rows):
        at = T0 + timedelta(minutes=minute)
        device = Device(dev)  # a heartbeat has no fix source: null in the column
        wire = device.fix(at, HOME[0], HOME[1], source=source) if source else device.msg("heartbeat", at)
        wire["seq"], wire["receive_time"] = 100 - i, at.isoformat()  # ties in receive time across devices
        msg = parse_message(wire, at)[0]
        assert msg is not None
        msgs.append(msg)
    plain = messages_to_table(msgs)
    with tempfile.TemporaryDirectory() as d:
        for k, part in enumerate(np.array_split(np.arange(len(rows)), files)):
            pq.write_table(plain.take(part), Path(d) / f"part-{k}.parquet")
        got = read_telemetry(d)
    want = plain.sort_by([("receive_time", "ascending"), ("device_id", "ascending"), ("seq", "ascending")])
    assert pa.types.is_dictionary(got.column("device_id").type)
    assert got.column("device_id").cast(pa.string()).to_pylist() == want.column("device_id").to_pylist()
    assert got.column("seq").to_pylist() == want.column("seq").to_pylist()
    a, b = from_table(got), from_table(want)
    assert [a.devices[i] for i in a.dev] == [
        b.devices[i] for i in b.dev
    ] and a.type.tolist() == b.type.tolist()
    assert a.b["source_is_gps"].tolist() == b.b["source_is_gps"].tolist() == [s == "GPS" for s in
                                                                            want.column("source").to_pylist()]  # fmt: skip
