"""How messages reach openem: sequence numbers, network latency, communication gaps (outages, basements)
with store-and-forward uploads arriving late and out of order, and duplicate messages."""

from __future__ import annotations

import numpy as np

from openem.sim.clock import US
from openem.sim.rows import Rows, take
from openem.sim.truth import TruthLog

OUTAGE_P_PER_DEVICE_DAY = 0.04
DUPLICATE_P = 0.003


def deliver(
    rng: np.random.Generator,
    r: Rows,
    n_devices: int,
    t0: int,
    days: int,
    truth: TruthLog,
    dev_person: np.ndarray,
) -> Rows:
    """Assign seq and receive time (`rt`); add duplicates; record outages as no_comms truth."""
    order = np.lexsort((r["t"], r["dev"]))
    r = take(r, order)
    n = len(r["dev"])
    first = np.searchsorted(r["dev"], np.arange(n_devices))
    r["seq"] = np.arange(n) - first[r["dev"]]
    rt = r["t"] + (rng.lognormal(np.log(3.0), 0.6, n) * US).astype(np.int64)
    # outages: per device and day, a window whose messages are uploaded together when it ends
    day_us = 24 * 3600 * US
    k = n_devices * days
    hit = np.flatnonzero(rng.random(k) < OUTAGE_P_PER_DEVICE_DAY)
    dev, day = hit // days, hit % days
    g0 = t0 + day * day_us + rng.integers(0, day_us, len(hit))
    g1 = g0 + (rng.uniform(30, 360, len(hit)) * 60 * US).astype(np.int64)
    lo, hi = np.searchsorted(r["dev"], dev), np.searchsorted(r["dev"], dev, side="right")
    for d_lo, d_hi, a, b in zip(lo, hi, g0, g1, strict=True):  # one iteration per outage, not per message
        sl = slice(d_lo, d_hi)
        inside = np.flatnonzero((r["t"][sl] >= a) & (r["t"][sl] < b)) + d_lo
        rt[inside] = b + rng.integers(5 * US, 600 * US, len(inside))  # uploaded in a burst, out of order
    keep = dev_person[dev] >= 0
    truth.add(
        "no_comms", False, dev_person[dev[keep]], dev[keep], "device", g0[keep], g1[keep], "network_outage"
    )
    long_gaps = ((g1 - g0) >= 60 * 60 * US) & keep
    truth.alert("no_comms", int(long_gaps.sum()))  # technical, not a software fault
    r["rt"] = rt
    dup = np.flatnonzero(rng.random(n) < DUPLICATE_P)
    if len(dup):
        extra = take(r, dup)
        extra["rt"] = extra["rt"] + rng.integers(30 * US, 900 * US, len(dup))
        r = {k2: np.concatenate([r[k2], extra[k2]]) for k2 in r}
    return take(r, np.argsort(r["rt"], kind="stable"))
