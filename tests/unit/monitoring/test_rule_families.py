"""Each rule family's vectorised kernel (what the engine runs) gives what its pure decision (the oracle) gives,
one observation at a time. The battery, alcohol, proximity and speed-test kernels have theirs in
test_rules_misc, test_sparse_runs and test_zone_prefilter."""

from __future__ import annotations

import math

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from openem.monitoring.model import default_thresholds
from openem.monitoring.rules import attendance, curfew, health, presence, zones

TH = default_thresholds()
finite = st.floats(-5_000, 5_000, allow_nan=False)
accuracy = st.floats(0, 600, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["GPS", "LBS", "WIFI"]), st.one_of(st.none(), st.floats(0, 4))),
                min_size=1, max_size=40), st.lists(st.integers(1, 10), min_size=1, max_size=8))  # fmt: skip
def test_gps_lost_runs_over_any_batching_give_what_gps_source_gives_fix_by_fix(fixes, cuts) -> None:
    th = TH["comms"]
    state: dict = {}
    want = [
        i
        for i, (src, speed) in enumerate(fixes)
        if health.gps_source(state, float(i), src, speed, ("D", i), th)
    ]
    got, carry_len, carry_moving, lo = [], 0, False, 0
    for size in cuts * len(fixes):
        if lo >= len(fixes):
            break
        batch = fixes[lo : lo + size]
        is_net = np.array([src != "GPS" for src, _ in batch])
        speed = np.array([np.nan if v is None else v for _, v in batch])
        moving = health.moving_on_gps(is_net, speed, th["gps_lost_speed_mps"])
        first = np.zeros(len(batch), dtype=bool)
        first[0] = True
        with np.errstate(invalid="ignore"):
            still = is_net & (speed < th["gps_lost_speed_mps"])
        runs = health.gps_lost_runs(is_net, moving, first, np.full(len(batch), carry_len),
                                    np.full(len(batch), carry_moving), th["gps_lost_fixes"], still)  # fmt: skip
        got += (lo + np.flatnonzero(runs.due)).tolist()
        carry_len, carry_moving = (
            (int(runs.run_len[-1]), bool(runs.was_moving[-1])) if is_net[-1] else (0, bool(moving[-1]))
        )
        lo += size
    assert got == want


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 10_000), st.sampled_from([60.0, 1800.0, 3600.0]), st.floats(0, 20_000)),
                min_size=1, max_size=30))  # fmt: skip
def test_silences_found_over_arrays_are_what_no_comms_finds_for_each_device(devices) -> None:
    th = TH["comms"]
    last = np.array([d[0] for d in devices])
    limit = health.comms_limit(np.array([d[1] for d in devices]), th)
    now = np.array([d[0] + d[2] for d in devices])
    due = health.silent(now, last, limit)
    for i, (last_rx, _, _) in enumerate(devices):
        pure = health.no_comms(last_rx, ("D", 1), float(now[i]), float(limit[i]), th)
        assert bool(due[i]) == (pure is not None)
        if pure:
            assert pure["start"] == health.no_comms_draft(last_rx, float(limit[i]), 0.0, [], th)["start"]
            assert last_rx < pure["start"] <= last_rx + limit[i]  # the silence began after the last receipt
    assert not health.silent(1e9, np.zeros(1), np.full(1, np.nan))[0]  # a device not expected to talk


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 7200), finite, finite, accuracy), min_size=1, max_size=40),
       st.floats(1, 500), st.floats(0.1, 1.0))  # fmt: skip
def test_attendance_counts_over_a_batch_what_counts_one_counts_fix_by_fix(fixes, radius, share) -> None:
    appt = {"id": "A1", "x": 0.0, "y": 0.0, "radius_m": radius, "start": 1800.0, "end": 5400.0}
    t, x, y, acc = (np.array(col, dtype=float) for col in zip(*fixes, strict=True))
    got = attendance.counts(t, x, y, acc, appt, share)
    assert got.tolist() == [attendance.counts_one(*f, appt, share) for f in fixes]


def test_attendance_adds_fixes_across_batches_and_a_missed_appointment_is_judged_once() -> None:
    appts = [{"id": "A1", "start": 0.0, "end": 100.0}, {"id": "A2", "start": 50.0, "end": 400.0}]
    state: dict = {}
    attendance.attend(state, "A2", 1, ["D", 1], min_fixes=2)
    assert "A2" not in state.get("attended", {})
    attendance.attend(state, "A2", 1, ["D", 2], min_fixes=2)
    assert state["attended"]["A2"] == ["D", 1]
    drafts, nxt = attendance.missed(appts, state["attended"], now=150.0, finalise_s=120.0)
    assert drafts == [] and nxt == 220.0
    drafts, nxt = attendance.missed(appts, state["attended"], now=220.0, finalise_s=120.0)
    assert [d["details"]["appointment_id"] for d in drafts] == ["A1"] and nxt == math.inf
    assert attendance.missed(appts, state["attended"], now=999.0, finalise_s=120.0)[0] == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(finite, finite, finite, finite, accuracy), min_size=1, max_size=40))
def test_gps_presence_at_home_over_a_batch_is_at_home_one_fix_by_fix(fixes) -> None:
    th = TH["curfew"]
    x, y, hx, hy, acc = (np.array(col, dtype=float) for col in zip(*fixes, strict=True))
    assert curfew.at_home(x, y, hx, hy, acc, th).tolist() == [curfew.at_home_one(*f, th) for f in fixes]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 40 * 86400), st.booleans(), st.floats(0, 40 * 86400)), min_size=1,
                max_size=30), st.floats(0, 40 * 86400))  # fmt: skip
def test_unmonitored_orders_found_over_arrays_are_what_the_rule_finds_for_each(orders, now) -> None:
    th = TH["unmonitored"]
    start, fitted, last = (np.array(col) for col in zip(*orders, strict=True))
    due = presence.unmonitored_due(now, start.astype(float), fitted.astype(bool), last.astype(float), th)
    for i, (s, f, rx) in enumerate(orders):
        assert bool(due[i]) == (presence.unmonitored(s, now, f, rx if f else None, th) is not None)


ZONE = shapely.Polygon(
    [(0, 0), (400, 0), (400, 300), (150, 300), (150, 150), (0, 150)]
)  # an L: a concave corner


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-300, 700), st.floats(-300, 600), st.floats(0, 300)), min_size=1, max_size=40
    )
)
def test_zone_classification_over_pairs_is_classify_one_fix_by_fix(fixes) -> None:
    x, y, acc = (np.array(col, dtype=float) for col in zip(*fixes, strict=True))
    polys = np.array([ZONE] * len(fixes), dtype=object)
    inner = np.array([zones_inner(ZONE, 50.0)] * len(fixes), dtype=object)
    assert zones.classify_inside(polys, x, y, acc).tolist() == [zones.classify_one(ZONE, *f) for f in fixes]
    assert zones.classify_outside(polys, x, y, acc, inner, 50.0).tolist() == [
        zones.classify_one(ZONE, *f, outside=True) for f in fixes
    ]


def zones_inner(polygon: shapely.Polygon, margin: float) -> shapely.Polygon:
    from openem.monitoring.index import _inner

    return _inner(polygon, margin)


point = st.tuples(st.floats(-3_000, 3_000), st.floats(-3_000, 3_000))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.booleans(), point), min_size=1, max_size=40), st.floats(0, 2_000)
)
def test_the_proximity_pre_filter_never_rules_out_a_pair_within_the_ring(fixes, ring) -> None:
    """Per order (0-3), the wearer's and the victim's fixes: if any wearer fix and any victim fix are within
    the ring (what `presence.proximity` measures), the pre-filter over their boxes lets the order through."""
    orders = np.array([k for k, _, _ in fixes])
    wearer = np.array([w for _, w, _ in fixes])
    x, y = (np.array([p[i] for _, _, p in fixes], dtype=float) for i in (0, 1))
    w_box = presence.group_bounds(orders[wearer], x[wearer], y[wearer], 4)
    v_box = presence.group_bounds(orders[~wearer], x[~wearer], y[~wearer], 4)
    passed = presence.boxes_within(w_box, v_box, np.full(4, ring))
    for k in range(4):
        ws = [p for o, w, p in fixes if o == k and w]
        vs = [p for o, w, p in fixes if o == k and not w]
        closest = min((math.dist(a, b) for a in ws for b in vs), default=math.inf)
        if closest <= ring:
            assert passed[k]
        if not ws or not vs:
            assert not passed[k]  # a party with no position: nothing to measure
