"""The index the hot path reads: activations by (device, start) for the event-time lookup, and per order the
zones (CSR lists, bounding boxes), appointment span and proximity links, as numpy arrays
keyed by the registry's stable codes. Rebuilt whenever an order or activation changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from openem.core.geo import bng_to_wgs84
from openem.monitoring.model import Activation, OrderSpec, Zone
from openem.monitoring.registry import Registry
from openem.monitoring.rules.alcohol import drinking_threshold
from openem.monitoring.rules.health import comms_limit


def _csr(lists: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    ptr = np.zeros(len(lists) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(x) for x in lists])
    flat = np.array([i for x in lists for i in x], dtype=np.int64)
    return ptr, flat


WGS84_PAD_DEG = (
    2e-4  # about 14-22 m: the box's corners and edge midpoints bound its image to well within this
)


def _wgs84_boxes(bbox: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per order, lon/lat bounds of its BNG zone box (already grown by the accuracy margin): the box's corners
    and edge midpoints projected back, plus a pad. The map is smooth and nearly conformal over a few
    kilometres, so the image of the box is a very slightly rotated, curved quadrilateral inside these bounds;
    a fix outside them cannot be near any of the order's zones and need not be projected."""
    n = len(bbox)
    out = [np.full(n, np.nan) for _ in range(4)]
    have = np.flatnonzero(~np.isnan(bbox[:, 0]))
    if not len(have):
        return out[0], out[1], out[2], out[3]
    x0, y0, x1, y1 = (bbox[have, k] for k in range(4))
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    xs = np.stack([x0, x1, x0, x1, xm, xm, x0, x1], axis=1)
    ys = np.stack([y0, y0, y1, y1, y0, y1, ym, ym], axis=1)
    lon, lat = bng_to_wgs84(xs.ravel(), ys.ravel())
    lon, lat = np.asarray(lon).reshape(xs.shape), np.asarray(lat).reshape(ys.shape)
    out[0][have], out[1][have] = lon.min(axis=1) - WGS84_PAD_DEG, lat.min(axis=1) - WGS84_PAD_DEG
    out[2][have], out[3][have] = lon.max(axis=1) + WGS84_PAD_DEG, lat.max(axis=1) + WGS84_PAD_DEG
    return out[0], out[1], out[2], out[3]


def _inner(polygon: Any, margin: float) -> Any:
    """The polygon shrunk by more than `margin`: shapely draws the rounded corners of a buffer with chords,
    which cut up to 0.5% inside the true curve, so 2% plus a metre keeps every point of the result at least
    `margin` from the edge. A fix there whose accuracy is within `margin` is wholly inside."""
    inner = polygon.buffer(-(margin * 1.02 + 1.0))
    shapely.prepare(inner)
    return inner


@dataclass
class Index:
    keys: np.ndarray  # activations sorted by (device code, start) as int64 keys
    act_g: np.ndarray  # sorted
    act_start: np.ndarray  # sorted
    act_end: np.ndarray  # sorted
    act_perm: np.ndarray
    refs: list[str]  # order code -> ref (the registry's, stable)
    known: np.ndarray  # per order code: an order document is loaded
    act_order: np.ndarray  # activation -> order code
    act_wearer: np.ndarray
    a_g: np.ndarray  # activation -> device code (activation order)
    a_start: np.ndarray
    a_end: np.ndarray
    a_limit: np.ndarray  # no-communication limit in seconds (NaN = not expected to talk)
    a_nfd: np.ndarray
    a_charge_h: np.ndarray  # hours a device may go uncharged (NaN = not charged daily, e.g. alcohol tags)
    a_alc: np.ndarray  # per activation: alcohol condition start, end (an empty span where none), drinking
    #                    threshold, skin-contact limit (4 x activations)
    o_start: np.ndarray
    o_end: np.ndarray
    ex_zones: list[tuple[str, Zone]]
    ex_poly: np.ndarray
    ex_ptr: np.ndarray
    ex_flat: np.ndarray
    ex_bbox: np.ndarray  # per order: minx, miny, maxx, maxy (NaN = no zones)
    ex_lon0: np.ndarray  # per order: the same box, grown a little more, in WGS84 (a filter before projecting)
    ex_lat0: np.ndarray
    ex_lon1: np.ndarray
    ex_lat1: np.ndarray
    in_zones: list[tuple[str, Zone]]
    in_poly: np.ndarray
    in_inner: (
        np.ndarray
    )  # per inclusion zone: the polygon shrunk by more than the largest accuracy considered
    in_ptr: np.ndarray
    in_flat: np.ndarray
    has_in: np.ndarray  # per order: has an inclusion zone
    has_att: np.ndarray
    att_lo: np.ndarray  # per order: earliest appointment start / latest end (a cheap time filter)
    att_hi: np.ndarray
    victim_order: np.ndarray  # per device code: the order whose victim device it is (-1)
    has_prox: np.ndarray
    prox_ring: (
        np.ndarray
    )  # per order: the distance beyond which the parties cannot trouble the proximity rule
    victim_of: dict[str, str]

    @classmethod
    def build(cls, orders: dict[str, OrderSpec], acts: list[Activation], defaults: dict[str, Any], reg: Registry
              ) -> Index:  # fmt: skip
        """The index of the engine's orders and activations (codes from the registry, which it may extend)."""
        act = _activation_arrays(orders, acts, defaults, reg)
        per_order = _order_arrays(orders, reg.order_refs, float(defaults["zones"]["max_accuracy_m"]))
        victim_of = per_order.pop("victim_of")
        for a in acts:
            if a.role == "VICTIM":
                victim_of.setdefault(a.device_id, a.order_ref)
        return cls(**act, **per_order, refs=list(reg.order_refs), victim_of=victim_of,
                   victim_order=_victim_order(victim_of, reg))  # fmt: skip

    def resolve(self, g: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The index (into the engine's activations) live at each row's event time, or -1."""
        if not len(self.keys):
            return np.full(len(g), -1, dtype=np.int64)
        key = (g << 32) + np.floor(np.nan_to_num(t)).astype(np.int64)
        i = np.searchsorted(self.keys, key, side="right") - 1
        ic = np.clip(i, 0, None)
        ok = (i >= 0) & (self.act_g[ic] == g) & (t >= self.act_start[ic]) & (t < self.act_end[ic])
        return np.where(ok, self.act_perm[ic], -1)


def _activation_arrays(orders: dict[str, OrderSpec], acts: list[Activation], defaults: dict[str, Any],
                       reg: Registry) -> dict[str, Any]:  # fmt: skip
    """The per-activation fields: the (device, start) lookup and what each activation's rules need."""
    g = np.array([reg.device(a.device_id) for a in acts], dtype=np.int64)
    start = np.array([a.start for a in acts], dtype=np.float64)
    end = np.array([a.end for a in acts], dtype=np.float64)
    perm = np.lexsort((start, g)) if acts else np.zeros(0, dtype=np.int64)
    limit = np.full(len(acts), np.nan)
    for i, a in enumerate(acts):
        th = (orders[a.order_ref].thresholds if a.order_ref in orders else defaults)["comms"]
        interval = th["expected_interval_s"].get(a.device_kind)
        if interval and a.role != "VICTIM":
            limit[i] = float(comms_limit(interval, th))
    battery = defaults["battery"]
    return {
        "keys": (g[perm] << 32) + np.floor(start[perm]).astype(np.int64),
        "act_g": g[perm], "act_start": start[perm], "act_end": end[perm], "act_perm": perm,
        "act_order": np.array([reg.order(a.order_ref) for a in acts], dtype=np.int64),
        "act_wearer": np.array([a.role != "VICTIM" for a in acts], dtype=bool),
        "a_g": g, "a_start": start, "a_end": end, "a_limit": limit,
        "a_nfd": np.array([a.device_kind == "NFD" for a in acts], dtype=bool),
        "a_charge_h": np.array([battery["charge_every_h"] if a.device_kind in battery["charged_daily"] else np.nan
                                for a in acts], dtype=np.float64),
        "a_alc": _alcohol_conditions(orders, acts),
    }  # fmt: skip


def _order_arrays(orders: dict[str, OrderSpec], refs: list[str], margin: float) -> dict[str, Any]:
    """The per-order fields (by registry code): span, zones (CSR lists and boxes),
    appointments' span, proximity; and `victim_of` (victim device -> order ref) from the documents."""
    n = len(refs)
    known = np.zeros(n, dtype=bool)
    o_start, o_end = np.full(n, np.nan), np.full(n, np.nan)
    ex_zones: list[tuple[str, Zone]] = []
    in_zones: list[tuple[str, Zone]] = []
    ex_lists: list[list[int]] = [[] for _ in range(n)]
    in_lists: list[list[int]] = [[] for _ in range(n)]
    ex_bbox = np.full((n, 4), np.nan)
    has_att, has_prox = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    att_lo, att_hi = np.full(n, np.nan), np.full(n, np.nan)
    prox_ring = np.full(n, np.nan)
    victim_of: dict[str, str] = {}
    for i, ref in enumerate(refs):
        o = orders.get(ref)
        if o is None:
            continue
        known[i], o_start[i], o_end[i] = True, o.start, o.end
        for z in o.exclusion:
            ex_lists[i].append(len(ex_zones))
            ex_zones.append((ref, z))
        if o.exclusion:
            b = np.array([z.polygon.bounds for z in o.exclusion])
            ex_bbox[i] = (b[:, 0].min() - margin, b[:, 1].min() - margin, b[:, 2].max() + margin,
                          b[:, 3].max() + margin)  # fmt: skip
        for z in o.inclusion:
            in_lists[i].append(len(in_zones))
            in_zones.append((ref, z))
        has_att[i] = bool(o.attendance)
        if o.attendance:
            att_lo[i] = min(a["start"] for a in o.attendance)
            att_hi[i] = max(a["end"] for a in o.attendance)
        if o.proximity:
            prox_ring[i] = o.proximity["pre_alert_m"] * o.thresholds["proximity"]["rearm_factor"]
        if o.proximity and o.proximity.get("victim_device_id"):
            has_prox[i] = True
            victim_of[str(o.proximity["victim_device_id"])] = ref
    ex_ptr, ex_flat = _csr(ex_lists)
    in_ptr, in_flat = _csr(in_lists)
    ex_lon0, ex_lat0, ex_lon1, ex_lat1 = _wgs84_boxes(ex_bbox)
    return {
        "known": known, "o_start": o_start, "o_end": o_end,
        "ex_zones": ex_zones, "ex_poly": np.array([z.polygon for _, z in ex_zones], dtype=object),
        "ex_ptr": ex_ptr, "ex_flat": ex_flat, "ex_bbox": ex_bbox,
        "ex_lon0": ex_lon0, "ex_lat0": ex_lat0, "ex_lon1": ex_lon1, "ex_lat1": ex_lat1,
        "in_zones": in_zones, "in_poly": np.array([z.polygon for _, z in in_zones], dtype=object),
        "in_inner": np.array([_inner(z.polygon, margin) for _, z in in_zones], dtype=object),
        "in_ptr": in_ptr, "in_flat": in_flat, "has_in": (in_ptr[1:] - in_ptr[:-1]) > 0,
        "has_att": has_att, "att_lo": att_lo, "att_hi": att_hi,
        "has_prox": has_prox, "prox_ring": prox_ring, "victim_of": victim_of,
    }  # fmt: skip


def _victim_order(victim_of: dict[str, str], reg: Registry) -> np.ndarray:
    """Per device code: the order whose victim device it is (-1: none)."""
    codes = {reg.device(dev): reg.order(ref) for dev, ref in victim_of.items()}  # may register new codes
    out = np.full(len(reg.dev_ids), -1, dtype=np.int64)
    for dev_code, order_code in codes.items():
        out[dev_code] = order_code
    return out


def _alcohol_conditions(orders: dict[str, OrderSpec], acts: list[Activation]) -> np.ndarray:
    """Per activation: its order's alcohol condition as [start, end, drinking threshold, skin-contact limit]
    (rows), an empty span and NaN where there is none."""
    out = np.array([np.full(len(acts), np.inf), np.full(len(acts), -np.inf), np.full(len(acts), np.nan),
                    np.full(len(acts), np.nan)])  # fmt: skip
    for j, a in enumerate(acts):
        order = orders.get(a.order_ref)
        if order and order.alcohol:
            th, cond = order.thresholds["alcohol"], order.alcohol
            out[:, j] = (cond["start"], cond["end"], drinking_threshold(th, cond["mode"], cond.get("limit_gdl")),
                         th["skin_ir_below"])  # fmt: skip
    return out
