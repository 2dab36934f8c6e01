"""Battery reports, vectorised: low battery with predicted hours left, and not charged daily.

Rows arrive sorted by activation then event time. The last charge before each row is a running maximum
within the device's run of rows (seeded from the registry); Python runs only for rows that could alert
(level at or below the threshold, or too long since a charge), and applies the once-per-discharge rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from openem.monitoring.columns import Columns

if TYPE_CHECKING:
    from openem.monitoring.engine import Engine


def run(eng: Engine, c: Columns, act: np.ndarray, g: np.ndarray) -> None:
    d = eng.reg.d
    th = eng.defaults["battery"]
    n = c.n
    level, charging, t = c.f["level_pct"], c.b["charging"], c.t
    first = np.r_[True, g[1:] != g[:-1]]
    last = np.r_[g[1:] != g[:-1], True]
    start_of = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    seed_charge = np.where(np.isnan(d["last_charge"][g]), d["first_batt"][g], d["last_charge"][g])
    seed_charge = np.where(
        np.isnan(seed_charge), t[start_of], seed_charge
    )  # first report ever: count from it
    charge_idx = np.maximum.accumulate(np.where(charging, np.arange(n), -1))
    in_group = charge_idx >= start_of
    since = np.where(in_group, t[np.clip(charge_idx, 0, None)], seed_charge[start_of])
    prev_t = np.where(first, d["batt_t"][g], np.r_[np.nan, t[:-1]])
    prev_l = np.where(first, d["batt_level"][g], np.r_[np.nan, level[:-1]])
    with np.errstate(invalid="ignore", divide="ignore"):
        drain = np.where((prev_l > level) & (t > prev_t), (prev_l - level) / ((t - prev_t) / 3600.0), np.nan)
    drain = np.maximum(np.nan_to_num(drain, nan=th["default_drain_pct_per_h"]), 0.1)
    gap = np.minimum(np.where(t > prev_t, t - prev_t, th["report_every_s"]), th["predict_ahead_max_s"])
    low = (level <= th["low_pct"]) | (level - drain * gap / 3600.0 <= th["low_pct"])  # or low by the next report
    charge_h = eng.index().a_charge_h[act]
    with np.errstate(invalid="ignore"):
        stale = (t - since) > charge_h * 3600  # NaN (not charged daily) is never stale
    cand = ~charging & (low | stale)
    for r in np.flatnonzero(cand):
        dev = c.devices[c.dev[r]]
        st = eng.dstate(dev)
        a = eng.activations[int(act[r])]
        order = eng.orders.get(a.order_ref)
        msg = [dev, int(c.seq[r])]
        if low[r] and st.get("low_at", -1.0) < since[r]:
            st["low_at"] = float(t[r])
            lv, dr = float(level[r]), float(drain[r])
            eng.emit({"kind": "low_battery", "start": float(t[r]), "evidence": [msg],
                      "details": {"level_pct": lv, "predicted_hours_left": round(lv / dr, 1),
                                  "predicted_low_at": float(t[r]) + max(lv - th["low_pct"], 0.0) / dr * 3600.0}},
                     order, a, dev, condition_id="device_health")  # fmt: skip
        if stale[r] and st.get("charge_at", -1.0) < since[r]:
            st["charge_at"] = float(t[r])
            eng.emit({"kind": "not_charging", "start": float(since[r]) + float(charge_h[r]) * 3600, "evidence": [msg],
                      "details": {"hours_since_charge": round(float(t[r] - since[r]) / 3600, 1)}},
                     order, a, dev, condition_id="device_health")  # fmt: skip
    lg = g[last]
    d["batt_t"][lg], d["batt_level"][lg] = t[last], level[last]
    ch = charging & (charge_idx == np.arange(n))
    np.fmax.at(d["last_charge"], g[ch], t[ch])
    fb = np.isnan(d["first_batt"][g[first]])
    d["first_batt"][g[first][fb]] = t[first][fb]
