"""Exclusion and inclusion zones: accuracy-aware classification and dwell/confirmation state machine.

A fix's uncertainty circle (radius = accuracy) wholly inside an exclusion zone is a *confirmed* entry
fix, a partial overlap is *possible*. An entry is raised after `confirmations` consecutive confirmed fixes
spanning at least `dwell_s`; the first possible fix raises a low-severity `exclusion_possible`, kept for review. For an
inclusion zone the same machine runs on fixes wholly *outside*. Multipath jumps (impossible speed from the
last accepted fix) are dropped before they reach this rule.
"""

from __future__ import annotations

import bisect
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

CONFIRMED, POSSIBLE, CLEAR = 2, 1, 0

# The alert each zone kind raises at each level `step` reaches.
ALERT_KINDS = {"exclusion": {"confirmed": "exclusion_entry", "possible": "exclusion_possible"},
               "inclusion": {"confirmed": "inclusion_exit", "possible": "inclusion_possible_exit"}}  # fmt: skip

ZONE_HISTORY_S = 6 * 3600.0  # classified fixes kept per zone to judge late ones in event time
ZONE_HISTORY_MAX = 2000


def classify_one(polygon: Any, x: float, y: float, acc: float, outside: bool = False) -> int:
    """One fix against one zone, the plain way (the oracle of `classify_inside` / `classify_outside`): its
    uncertainty circle wholly inside (CONFIRMED), across the edge (POSSIBLE), or clear (CLEAR); for an
    inclusion zone (`outside`) wholly outside is CONFIRMED and wholly inside CLEAR."""
    point = shapely.Point(x, y)
    inside = polygon.contains(point)
    if polygon.boundary.distance(point) < acc:
        return POSSIBLE
    return CONFIRMED if inside != outside else CLEAR


def classify_inside(polygons: NDArray[Any], x: NDArray[np.float64], y: NDArray[np.float64],
                    acc: NDArray[np.float64]) -> NDArray[np.int8]:  # fmt: skip
    """Per pair: 2 = circle wholly inside, 1 = circle overlaps the polygon, 0 = clear of it (vectorised)."""
    points = shapely.points(x, y)
    inside = shapely.contains_xy(polygons, x, y)
    d_edge = shapely.distance(shapely.boundary(polygons), points)
    out = np.zeros(len(x), dtype=np.int8)
    out[inside & (d_edge >= acc)] = CONFIRMED
    out[(inside & (d_edge < acc)) | (~inside & (d_edge < acc))] = POSSIBLE
    return out


def classify_outside(polygons: NDArray[Any], x: NDArray[np.float64], y: NDArray[np.float64],
                     acc: NDArray[np.float64], inner: NDArray[Any] | None = None,
                     margin: float = 0.0) -> NDArray[np.int8]:  # fmt: skip
    """For inclusion zones: 2 = circle wholly outside, 1 = straddles the edge, 0 = inside.

    `inner` (optional, per pair) is the zone shrunk by at least `margin` (`index._inner`): a fix inside it
    with accuracy within `margin` is wholly inside, which a prepared point-in-polygon test settles without
    measuring the distance to the edge (the costly part; most fixes of a wearer who must stay in a town are
    deep inside it)."""
    out = np.zeros(len(x), dtype=np.int8)
    todo = np.arange(len(x))
    if inner is not None and len(x):
        todo = np.flatnonzero(~((acc <= margin) & shapely.contains_xy(inner, x, y)))
    if not len(todo):
        return out
    px, py, pa, poly = x[todo], y[todo], acc[todo], polygons[todo]
    inside = shapely.contains_xy(poly, px, py)
    d_edge = shapely.distance(shapely.boundary(poly), shapely.points(px, py))
    out[todo[~inside & (d_edge >= pa)]] = CONFIRMED
    out[todo[d_edge < pa]] = POSSIBLE
    return out


def new_state() -> dict[str, Any]:
    return {"n": 0, "first": None, "ev": [], "pn": 0, "raised": False, "praised": False}


def step(state: dict[str, Any], t: float, cls: int, msg: tuple[str, int], confirmations: int, dwell_s: float
         ) -> list[dict[str, Any]]:  # fmt: skip
    """Feed one classified fix (in event time); returns [{'level': 'confirmed'|'possible', start, evidence}]."""
    out: list[dict[str, Any]] = []
    if cls == CLEAR:
        state.update(new_state())
        return out
    if state["first"] is None:
        state["first"] = t
    if len(state["ev"]) < 10:
        state["ev"].append([msg[0], int(msg[1])])
    if cls == CONFIRMED:
        state["n"] += 1
        if not state["raised"] and state["n"] >= confirmations and t - state["first"] >= dwell_s:
            state["raised"] = True
            out.append({"level": "confirmed", "start": state["first"], "evidence": list(state["ev"])})
    else:
        state["pn"] += 1
        # Kept for review at the first fix whose uncertainty overlaps the zone (LOW, held): it becomes the
        # confirmed entry, or closes "not confirmed" at the next clear fix (monitoring/episodes.py).
        if not state["raised"] and not state["praised"]:
            state["praised"] = True
            out.append({"level": "possible", "start": state["first"], "evidence": list(state["ev"])})
    return out


def rejudge(
    hist: list[list[Any]], entry: list[Any], th: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Insert a late fix `[t, cls, device_id, seq]` in event time into a zone's history and run the machine
    again from the start of the episode it falls in (after the last fix outside before it): the state after
    the newest fix, and the alerts found (those raised before keep their ids)."""
    pos = bisect.bisect_right(hist, entry[0], key=lambda e: e[0])
    hist.insert(pos, entry)
    start = pos
    while start > 0 and hist[start - 1][1] != CLEAR:
        start -= 1
    state, hits = new_state(), []
    for t, k, dev, seq in hist[start:]:
        hits += step(state, t, k, (dev, seq), th["confirmations"], th["dwell_s"])
    return state, hits


def prune_history(hist: list[list[Any]]) -> None:
    """Keep ZONE_HISTORY_S of fixes, from a fix outside the zone (an episode's history is kept whole), and
    at most ZONE_HISTORY_MAX."""
    if hist[0][0] >= hist[-1][0] - ZONE_HISTORY_S - 3600 and len(hist) <= ZONE_HISTORY_MAX:
        return  # an hour's slack: pruned about once an hour
    cut = bisect.bisect_left(hist, hist[-1][0] - ZONE_HISTORY_S, key=lambda e: e[0])
    while cut > 0 and hist[cut][1] != CLEAR:
        cut -= 1
    del hist[: max(cut, len(hist) - ZONE_HISTORY_MAX)]


M_PER_DEG_LAT = 111_132.0  # metres per degree of latitude near Great Britain's latitudes (110.9-111.4 km)
M_PER_DEG_LON_EQ = 111_320.0  # metres per degree of longitude at the equator (times cos latitude)


def metres_between(lon0: Any, lat0: Any, lon1: Any, lat1: Any) -> Any:
    """Distance between WGS84 points, equirectangular at the pair's mean latitude: within 1% of the geodesic
    for the few kilometres between consecutive fixes, which is all an impossible-speed test needs."""
    k = np.cos(np.radians((lat0 + lat1) / 2)) * M_PER_DEG_LON_EQ
    return np.hypot((lon1 - lon0) * k, (lat1 - lat0) * M_PER_DEG_LAT)


def impossible_jumps(t: NDArray[np.float64], lon: NDArray[np.float64], lat: NDArray[np.float64],
                     acc: NDArray[np.float64], first: NDArray[np.bool_], prev: NDArray[np.float64],
                     max_speed: float) -> NDArray[np.bool_]:  # fmt: skip
    """Flag fixes reached from the previous fix of the same device faster than `max_speed`, allowing for
    both fixes' accuracy (rows sorted by device then time; `first` marks each device's first row, and
    `prev[k] = [t, lon, lat, acc]` is the fix before the k-th device's first row, from before this batch, NaN
    if none). A flagged fix is still the comparison point for the next one, so a real fast journey is flagged
    at most once. Works on longitude/latitude, so fixes need not be projected to be checked.

    Rows of a device may step back in time (late data released after newer fixes, decision 0033): a fix
    older than the newest accepted before it has no predecessor to be measured from (as when it arrives in
    a batch of its own) and does not become one, so the answer does not depend on the batching."""
    heads = np.flatnonzero(first)
    pt, px, py, pa = (np.empty_like(v) for v in (t, lon, lat, acc))
    for p, v, k in ((pt, t, 0), (px, lon, 1), (py, lat, 2), (pa, acc, 3)):
        p[1:] = v[:-1]
        p[heads] = prev[:, k]
    dt = np.maximum(t - pt, 1.0)
    jump = np.zeros(len(t), dtype=bool)
    with np.errstate(invalid="ignore"):
        # A bound first (a degree of longitude is never longer than at the equator), the exact distance
        # only where the bound says the speed might be too high: few rows, and no cosine for the rest.
        bound = np.abs(lon - px) * M_PER_DEG_LON_EQ + np.abs(lat - py) * M_PER_DEG_LAT - acc - pa
        maybe = np.flatnonzero(bound > max_speed * dt)
        dist = metres_between(px[maybe], py[maybe], lon[maybe], lat[maybe]) - acc[maybe] - pa[maybe]
        jump[maybe] = np.nan_to_num(dist / dt[maybe], nan=0.0) > max_speed
        back = t < pt  # a step back in time: the previous row is not this one's predecessor
    if not jump.any() and not back.any():
        return jump
    # Where a device has a jump or steps back, re-check its rows in order against the newest *accepted*
    # fix (rare path).
    starts = np.r_[heads, len(t)]
    redo = np.flatnonzero(jump | back)
    for grp in np.unique(np.searchsorted(heads, redo, side="right") - 1).tolist():
        rows = range(starts[grp], starts[grp + 1])
        base = prev[grp] if not np.isnan(prev[grp, 0]) else None
        for r in rows:
            if base is None:
                jump[r], base = False, np.array([t[r], lon[r], lat[r], acc[r]])
                continue
            if t[r] < base[0]:
                jump[r] = False  # older than the newest accepted: late, nothing to measure it from
                continue
            gap = max(t[r] - base[0], 1.0)
            jump[r] = (metres_between(base[1], base[2], lon[r], lat[r]) - acc[r] - base[3]) / gap > max_speed
            if not jump[r]:
                base = np.array([t[r], lon[r], lat[r], acc[r]])
    return jump
