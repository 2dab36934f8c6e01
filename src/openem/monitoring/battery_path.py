"""Battery reports through the engine: the kernel (`rules.health.battery_scan`) over the batch, then Python
only for rows that could alert (level at or below the threshold, or too long since a charge), applying the
once-per-discharge rule, and the registry updated for the next batch.

Rows arrive sorted by activation then event time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from openem.monitoring.columns import Columns
from openem.monitoring.rules import health

if TYPE_CHECKING:
    from openem.monitoring.engine import Engine


def run(eng: Engine, c: Columns, act: np.ndarray, g: np.ndarray) -> None:
    d = eng.reg.d
    th = eng.defaults["battery"]
    level, charging, t = c.f["level_pct"], c.b["charging"], c.t
    first = np.r_[True, g[1:] != g[:-1]]
    last = np.r_[g[1:] != g[:-1], True]
    seed = np.where(np.isnan(d["last_charge"][g]), d["first_batt"][g], d["last_charge"][g])
    charge_h = eng.index().a_charge_h[act]
    scan = health.battery_scan(
        t, level, charging, first, seed, d["batt_t"][g], d["batt_level"][g], charge_h, th
    )
    for r in np.flatnonzero(scan.low | scan.stale):
        dev = c.devices[c.dev[r]]
        st = eng.dstate(dev)
        a = eng.activations[int(act[r])]
        order = eng.orders.get(a.order_ref)
        msg = (dev, int(c.seq[r]))
        since = float(scan.since[r])
        if scan.low[r] and st.get("low_at", -1.0) < since:
            st["low_at"] = float(t[r])
            draft = health.low_battery_draft(
                float(t[r]), float(level[r]), float(scan.drain[r]), th["low_pct"], msg
            )
            eng.emit(draft, order, a, dev, condition_id="device_health")
        if scan.stale[r] and st.get("charge_at", -1.0) < since:
            st["charge_at"] = float(t[r])
            draft = health.not_charging_draft(float(t[r]), since, float(charge_h[r]), msg)
            eng.emit(draft, order, a, dev, condition_id="device_health")
    lg = g[last]
    d["batt_t"][lg], d["batt_level"][lg] = t[last], level[last]
    np.fmax.at(d["last_charge"], g[charging], t[charging])
    fb = np.isnan(d["first_batt"][g[first]])
    d["first_batt"][g[first][fb]] = t[first][fb]
