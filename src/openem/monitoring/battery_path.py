"""Battery reports through the engine: the kernel (`rules.health.battery_scan`) over the batch, then Python
only for rows that could alert (level at or below the threshold, or too long since a charge), applying the
once-per-discharge rule, and the registry updated for the next batch.

Rows arrive sorted by activation then event time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from openem.monitoring import episodes
from openem.monitoring.columns import Columns
from openem.monitoring.model import ts
from openem.monitoring.rules import health

if TYPE_CHECKING:
    from openem.monitoring.engine import Engine

LOW, CHARGE = 1, 2  # bits of the registry's `batt_open`: a low-battery / not-charging episode is open


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
    hit = scan.low | scan.stale
    # A device with a battery episode open (before this batch, or opened in it) has its reports that end one
    # (a charge, the level back above the threshold) looked at too; the rest of the fleet costs nothing more.
    held = d["batt_open"][g] > 0
    if hit.any():
        held |= np.isin(g, g[hit])
    rows = np.flatnonzero(hit | (held & (charging | ~scan.low)))
    for r in rows.tolist():
        dev = c.devices[c.dev[r]]
        code = int(g[r])
        if not hit[r]:
            _battery_back(eng, code, dev, float(t[r]), bool(charging[r]), float(level[r]))
            continue
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
            if eng.emit(draft, order, a, dev, condition_id="device_health", key=f"batt:{dev}:low",
                        measure={"level_pct": float(level[r])}):  # fmt: skip
                d["batt_open"][code] |= LOW
        elif not scan.low[r] and d["batt_open"][code] & LOW:
            _battery_back(eng, code, dev, float(t[r]), False, float(level[r]))
        if scan.stale[r] and st.get("charge_at", -1.0) < since:
            st["charge_at"] = float(t[r])
            draft = health.not_charging_draft(float(t[r]), since, float(charge_h[r]), msg)
            if eng.emit(draft, order, a, dev, condition_id="device_health", key=f"batt:{dev}:charge"):
                d["batt_open"][code] |= CHARGE
    lg = g[last]
    d["batt_t"][lg], d["batt_level"][lg] = t[last], level[last]
    np.fmax.at(d["last_charge"], g[charging], t[charging])
    fb = np.isnan(d["first_batt"][g[first]])
    d["first_batt"][g[first][fb]] = t[first][fb]


def _battery_back(eng: Engine, code: int, dev: str, t: float, charging: bool, level: float) -> None:
    """A report that ends a device's battery episodes: on charge closes both (`charged`); the level back
    above the threshold, not charging, closes the low-battery one (`recovered`). The measure: the minutes
    the battery was low (the hours overdue a charge), and the level at the end."""
    d = eng.reg.d
    open_bits = int(d["batt_open"][code])
    for bit, key, name, unit in ((LOW, f"batt:{dev}:low", "minutes_low", 60.0),
                                 (CHARGE, f"batt:{dev}:charge", "hours_overdue_charge", 3600.0)):  # fmt: skip
        if not open_bits & bit or (bit == CHARGE and not charging):
            continue
        for eid in episodes.keyed(eng, key):
            start = ts(eng.episodes[eid]["start"]) or t
            episodes.close(eng, eid, t, "charged" if charging else "recovered", at=max(eng.watermark, t),
                           measure={name: max(t - start, 0.0) / unit, "level_pct": level})  # fmt: skip
        open_bits &= ~bit
    d["batt_open"][code] = open_bits
