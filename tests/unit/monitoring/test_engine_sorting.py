"""The engine's packed-key sorts give exactly numpy's stable lexsort order, and its newest-receipt scan
exactly the row a sort would pick: ties, duplicates, large spans and non-finite times included."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from openem.monitoring import receipts
from openem.monitoring.columns import Columns
from openem.monitoring.engine import Engine
from openem.monitoring.sorting import argsort_stable, by_group_int, sorted_within

T0 = 1_763_000_000.0
rows = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 40), st.integers(0, 6)), min_size=0, max_size=80)


@settings(max_examples=300, deadline=None)
@given(rows, st.sampled_from([1.0, 0.5, 1e-6, 86400.0 * 60]), st.randoms(use_true_random=False))
def test_sorting_within_groups_is_a_stable_sort_by_group_then_value(data, step, rnd) -> None:
    group = np.array([g for g, _, _ in data], dtype=np.int64)
    v = T0 + np.array([k for _, k, _ in data], dtype=np.float64) * step  # step 60 days: beyond the packed key
    rows_by_group = np.lexsort(
        (np.array([rnd.random() for _ in data]), group)
    )  # grouped, in any order within
    want = rows_by_group[np.lexsort((np.arange(len(data)), v[rows_by_group], group[rows_by_group]))]
    assert sorted_within(rows_by_group, group, v).tolist() == want.tolist()


def test_sorting_within_groups_sorts_only_the_runs_out_of_order() -> None:
    group = np.zeros(8, dtype=np.int64)
    v = T0 + np.array([0, 1, 3, 2, 4, 5, 7, 6], dtype=np.float64)
    assert sorted_within(np.arange(8), group, v).tolist() == [0, 1, 3, 2, 4, 5, 7, 6]
    v[[0, 7]] = v[[7, 0]]  # the largest first and the smallest last: one run covers everything
    assert sorted_within(np.arange(8), group, v).tolist() == np.argsort(v, kind="stable").tolist()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 12)), max_size=80))
def test_group_int_order_is_lexsort_order_with_duplicates(data) -> None:
    group = np.array([g for g, _ in data], dtype=np.int64)
    value = np.array([v for _, v in data], dtype=np.int64)
    assert by_group_int(group, value).tolist() == np.lexsort((value, group)).tolist()
    assert argsort_stable(value).tolist() == np.argsort(value, kind="stable").tolist()


def test_non_finite_times_and_huge_sequences_fall_back_to_lexsort() -> None:
    group = np.array([1, 0, 1, 0], dtype=np.int64)
    t = np.array([T0, np.nan, T0 - 5, T0], dtype=np.float64)
    seq = np.array([2**62, 1, 3, 2**50], dtype=np.int64)
    by_group = np.array([1, 3, 0, 2])
    assert (
        sorted_within(by_group, group, t).tolist()
        == by_group[np.lexsort((t[by_group], group[by_group]))].tolist()
    )
    assert by_group_int(group, seq).tolist() == np.lexsort((seq, group)).tolist()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 5), st.integers(0, 100)), min_size=1, max_size=50)
)
def test_newest_receipt_per_device_is_the_last_row_with_the_highest_receive_time(data) -> None:
    devices = ["A", "B", "C", "D"]
    n = len(data)
    dev = np.array([d for d, _, _ in data], dtype=np.int32)
    rx = T0 + np.array([r for _, r, _ in data], dtype=np.float64)
    seq = np.array([s for _, _, s in data], dtype=np.int64)
    cols = Columns(n, devices, dev, seq, np.zeros(n, dtype=np.int8), rx, rx, {}, {}, {})
    eng = Engine()
    g = eng.reg.devices(devices)[dev]
    receipts.last_seen(eng, cols, g)
    for d in set(dev.tolist()):
        mine = [i for i in range(n) if dev[i] == d]
        best = max(mine, key=lambda i: (rx[i], i))  # a stable sort by receive time ends on this row
        assert eng.reg.d["rx"][g[best]] == rx[best]
        assert eng.reg.d["rx_seq"][g[best]] == seq[best]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 50), st.integers(1, 60)), max_size=12),
       st.lists(st.tuples(st.integers(0, 8), st.integers(-10, 130)), min_size=1, max_size=60))  # fmt: skip
def test_activation_lookup_matches_the_binary_search_for_single_and_reused_devices(acts, rows) -> None:
    eng = Engine()
    for i, (dev, start, length) in enumerate(acts):  # devices 0-6 with zero, one or several activations
        eng.apply_activation({"activation_id": f"A{i}", "device_id": f"D{dev}", "order_ref": f"O{i}",
                              "person_id": f"P{i}", "device_kind": "GPS_TAG", "role": "WEARER",
                              "start": T0 + start * 60, "end": T0 + (start + length) * 60})  # fmt: skip
    ix = eng.index()
    for batch in (rows, rows[::-1]):  # twice: the second time from the cached lookup; devices 7-8 are unknown
        g = eng.reg.devices([f"D{d}" for d, _ in batch])
        t = T0 + np.array([m for _, m in batch], dtype=np.float64) * 60
        assert eng._resolve(ix, g, t).tolist() == ix.resolve(g, t).tolist()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 20), st.integers(0, 30), st.booleans(), st.booleans()),
                min_size=1, max_size=60))  # fmt: skip
def test_event_order_groups_each_activation_in_time_then_sequence_order(data) -> None:
    # (device, minute, seq, keep, _): device 3 has a second activation from minute 10 when the first row says so
    late_act = data[0][4]
    n = len(data)
    g = np.array([d for d, *_ in data], dtype=np.int64)
    t = T0 + np.array([m for _, m, *_ in data], dtype=np.float64) * 60
    seq = np.array([s for _, _, s, _, _ in data], dtype=np.int64)
    mask = np.array([k for *_, k, _ in data], dtype=bool)
    act = np.array(
        [d * 2 + (1 if (d == 3 and late_act and m >= 10) else 0) for d, m, *_ in data], dtype=np.int64
    )
    cols = Columns(
        n, ["A", "B", "C", "D"], g.astype(np.int32), seq, np.zeros(n, dtype=np.int8), t, t, {}, {}, {}
    )
    rows = Engine._event_order(by_group_int(g, seq), mask, g, cols).tolist()
    assert sorted(rows) == np.flatnonzero(mask).tolist()
    groups = [act[r] for r in rows]
    assert all(
        groups.index(a) + groups.count(a) - 1 == len(groups) - 1 - groups[::-1].index(a) for a in set(groups)
    )
    for a in set(groups):
        mine = [r for r in rows if act[r] == a]
        assert mine == sorted(mine, key=lambda r: (t[r], seq[r], r))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.sampled_from([0, 1, 7, 2**30, 2**41 - 1])), max_size=60))
def test_group_int_order_with_values_too_wide_to_pack_with_the_row_number(data) -> None:
    group = np.array([g for g, _ in data], dtype=np.int64)
    value = np.array([v for _, v in data], dtype=np.int64)
    assert by_group_int(group, value).tolist() == np.lexsort((value, group)).tolist()
