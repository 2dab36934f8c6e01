"""Exclusion and inclusion zones: accuracy-aware classification and dwell/confirmation state machine.

A fix's uncertainty circle (radius = accuracy) wholly inside an exclusion zone is a *confirmed* entry
fix, a partial overlap is *possible*. An entry is raised after `confirmations` consecutive confirmed fixes
spanning at least `dwell_s`; possible fixes alone raise a low-severity `exclusion_possible`. For an
inclusion zone the same machine runs on fixes wholly *outside*. Multipath jumps (impossible speed from the
last accepted fix) are dropped before they reach this rule.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

CONFIRMED, POSSIBLE, CLEAR = 2, 1, 0


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
                     acc: NDArray[np.float64]) -> NDArray[np.int8]:  # fmt: skip
    """For inclusion zones: 2 = circle wholly outside, 1 = straddles the edge, 0 = inside."""
    inside = shapely.contains_xy(polygons, x, y)
    d_edge = shapely.distance(shapely.boundary(polygons), shapely.points(x, y))
    out = np.zeros(len(x), dtype=np.int8)
    out[~inside & (d_edge >= acc)] = CONFIRMED
    out[d_edge < acc] = POSSIBLE
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
        if not state["raised"] and not state["praised"] and state["pn"] >= 2 * confirmations:
            state["praised"] = True
            out.append({"level": "possible", "start": state["first"], "evidence": list(state["ev"])})
    return out


def impossible_jumps(t: NDArray[np.float64], x: NDArray[np.float64], y: NDArray[np.float64],
                     acc: NDArray[np.float64], group: NDArray[np.int64], prev: dict[int, list[float]],
                     max_speed: float) -> NDArray[np.bool_]:  # fmt: skip
    """Flag fixes reached from the previous fix of the same device faster than `max_speed` (rows sorted
    by group then time). `prev` maps group -> [t, x, y, acc] of the last accepted fix before this batch.
    Compared with the previous fix as received (a flagged fix is rarely followed by another jump)."""
    n = len(t)
    pt, px, py, pa = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    pt[1:], px[1:], py[1:], pa[1:] = t[:-1], x[:-1], y[:-1], acc[:-1]
    first = np.ones(n, dtype=bool)
    first[1:] = group[1:] != group[:-1]
    pt[first] = np.nan
    for i in np.flatnonzero(first):
        p = prev.get(int(group[i]))
        if p is not None:
            pt[i], px[i], py[i], pa[i] = p
    dt = np.maximum(t - pt, 1.0)
    dist = np.hypot(x - px, y - py) - acc - pa
    with np.errstate(invalid="ignore"):
        return np.nan_to_num(dist / dt, nan=0.0) > max_speed
