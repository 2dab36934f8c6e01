"""The GPS path's shortcuts give exactly the answers of the exact computations they stand in for: the
longitude/latitude box never leaves out a fix near a zone, the shrunk inclusion polygon never calls a
straddling fix inside, and the equirectangular distance of the speed test is within 1% of the geodesic."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from openem.core.geo import bng_to_wgs84, wgs84_to_bng
from openem.monitoring.index import _inner, _wgs84_boxes
from openem.monitoring.registry import Registry
from openem.monitoring.rules.zones import classify_outside, impossible_jumps, metres_between

GB = st.tuples(st.floats(100_000, 650_000), st.floats(20_000, 1_200_000))  # BNG easting, northing


@settings(max_examples=200, deadline=None)
@given(GB, st.floats(10, 30_000), st.floats(10, 30_000), st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)),
       min_size=1, max_size=30))  # fmt: skip
def test_every_point_of_a_zone_box_is_inside_its_longitude_latitude_box(corner, w, h, where) -> None:
    x0, y0 = corner
    box = np.array([[x0, y0, x0 + w, y0 + h], [np.nan] * 4])
    lon0, lat0, lon1, lat1 = _wgs84_boxes(box)
    assert np.isnan(lon0[1])  # an order with no zones has no box
    xs = np.array([x0 + fx * w for fx, _ in where] + [x0, x0 + w])
    ys = np.array([y0 + fy * h for _, fy in where] + [y0 + h, y0])
    lon, lat = bng_to_wgs84(xs, ys)
    assert ((lon >= lon0[0]) & (lon <= lon1[0]) & (lat >= lat0[0]) & (lat <= lat1[0])).all()


def square(cx: float, cy: float, half: float) -> shapely.Polygon:
    return shapely.box(cx - half, cy - half, cx + half, cy + half)


ZONES = [
    square(400_000, 300_000, 3_000),
    shapely.Polygon([(0, 0), (8_000, 0), (8_000, 2_000), (2_000, 2_000), (2_000, 8_000), (0, 8_000)]),
]  # an L: concave corner


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 1), st.lists(st.tuples(st.floats(-2_000, 10_000), st.floats(-2_000, 10_000),
                                             st.floats(0, 500)), min_size=1, max_size=60))  # fmt: skip
def test_the_shrunk_polygon_shortcut_classifies_exactly_as_the_edge_distance(z, pts) -> None:
    poly = ZONES[z]
    if z == 0:  # move the points onto the square
        pts = [(400_000 - 4_000 + px * 0.8, 300_000 - 4_000 + py * 0.8, a) for px, py, a in pts]
    x, y, acc = (np.array(v, dtype=np.float64) for v in zip(*pts, strict=True))
    polys = np.array([poly] * len(x), dtype=object)
    inner = np.array([_inner(poly, 500.0)] * len(x), dtype=object)
    assert (
        classify_outside(polys, x, y, acc, inner, 500.0).tolist()
        == classify_outside(polys, x, y, acc).tolist()
    )


@settings(max_examples=300, deadline=None)
@given(st.floats(49.9, 60.8), st.floats(-8.0, 1.7), st.floats(0, 360), st.floats(1, 50_000))
def test_speed_test_distance_is_within_one_percent_of_the_geodesic(lat, lon, bearing, dist) -> None:
    lon2, lat2, _ = Geod(ellps="WGS84").fwd(lon, lat, bearing, dist)
    assert abs(metres_between(lon, lat, lon2, lat2) - dist) <= 0.01 * dist


def test_a_checkpoint_from_before_the_fields_changed_still_restores() -> None:
    reg = Registry()
    reg.device("GPS-1")
    saved = reg.to_json()
    saved["d"]["fix_x"] = [123.0]  # a field older versions kept (the last fix in BNG)
    saved["d"]["seq_max"] = [41]
    back = Registry.from_json(saved)
    assert back.d["seq_max"][0] == 41 and "fix_x" not in back.d


def test_projection_round_trip_used_by_the_box_is_the_exact_one() -> None:
    lon, lat = bng_to_wgs84(np.array([400_000.0]), np.array([300_000.0]))
    x, y = wgs84_to_bng(lon, lat)
    assert abs(x[0] - 400_000) < 0.01 and abs(y[0] - 300_000) < 0.01


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0, 1), st.floats(380, 640), st.floats(300, 500)), min_size=1, max_size=80)
)
def test_fixes_just_inside_the_shrunk_polygon_near_the_edge_are_classified_exactly(pts) -> None:
    # points at 380-640 m from the L's edges (along its inner corner too), with accuracies of 300-500 m
    poly = ZONES[1]
    ring = poly.exterior
    xs, ys, acc = [], [], []
    for along, depth, a in pts:
        p = ring.interpolate(along, normalized=True)
        q = ring.interpolate(min(along + 1e-4, 1.0), normalized=True)
        nx, ny = -(q.y - p.y), q.x - p.x  # the inward normal (the ring runs anticlockwise)
        norm = float(np.hypot(nx, ny)) or 1.0
        xs.append(p.x + nx / norm * depth)
        ys.append(p.y + ny / norm * depth)
        acc.append(a)
    x, y, acc_a = np.array(xs), np.array(ys), np.array(acc)
    polys = np.array([poly] * len(x), dtype=object)
    inner = np.array([_inner(poly, 500.0)] * len(x), dtype=object)
    assert (
        classify_outside(polys, x, y, acc_a, inner, 500.0).tolist()
        == classify_outside(polys, x, y, acc_a).tolist()
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.floats(-0.05, 0.05), st.floats(-0.05, 0.05), st.sampled_from([5.0, 50.0, 400.0])),
                min_size=1, max_size=40),
       st.lists(st.booleans(), min_size=4, max_size=4))  # fmt: skip
def test_impossible_jumps_match_a_fix_by_fix_check_against_the_last_accepted_fix(rows, known) -> None:
    # (device, lat offset, lon offset, accuracy) a minute apart per device; known: a fix from before the batch
    rows = sorted(rows, key=lambda r: r[0])
    dev = np.array([r[0] for r in rows])
    first = np.r_[True, dev[1:] != dev[:-1]]
    t = np.zeros(len(rows))
    for i in range(1, len(rows)):
        t[i] = 0.0 if first[i] else t[i - 1] + 60.0
    lat, lon = 53.8 + np.array([r[1] for r in rows]), -1.55 + np.array([r[2] for r in rows])
    acc = np.array([r[3] for r in rows])
    prev = np.array([[-60.0, -1.55, 53.8, 5.0] if known[d] else [np.nan] * 4 for d in dev[first]])
    got = impossible_jumps(t, lon, lat, acc, first, prev, 70.0)
    want, base = [], None
    for i in range(len(rows)):
        if first[i]:
            k = int(np.flatnonzero(first).tolist().index(i))
            base = None if np.isnan(prev[k, 0]) else prev[k]
        if base is None:
            want.append(False)
            base = np.array([t[i], lon[i], lat[i], acc[i]])
            continue
        jumped = (metres_between(base[1], base[2], lon[i], lat[i]) - acc[i] - base[3]) / max(
            t[i] - base[0], 1.0
        ) > 70.0
        want.append(bool(jumped))
        if not jumped:
            base = np.array([t[i], lon[i], lat[i], acc[i]])
    assert got.tolist() == want
