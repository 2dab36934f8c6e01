"""Benchmark: `openem sim generate` at several sizes (one day, a GPS fix a minute per GPS wearer).

Each size runs in its own process so that its peak RSS is its own. The peer is a naive per-fix Python loop
producing the same GPS rows (interpolate the day's schedule, add accuracy noise, build a row) for a small
subset of wearers, extrapolated to the GPS rows of the largest world.

    .venv/bin/python benchmarks/sim_generate.py [--sizes 5000 20000 50000] [--days 1]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

CHILD = """
import json, resource, sys, time
from openem.sim.world import write_world
t = time.perf_counter()
m = write_world(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), 7)
secs = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": secs, "peak_rss_mb": peak, "counts": m["counts"], "calibration": m["calibration"]}))
"""


def run_size(wearers: int, days: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, tmp, str(wearers), str(days)],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        result["disk_mb"] = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file()) / 1e6
        return result


def naive_gps_rows(wearers: int, seed: int = 7) -> tuple[int, float]:
    """The peer: one Python iteration per fix (same schedule model, same noise model)."""
    from datetime import UTC, datetime

    rnd = random.Random(seed)
    start = datetime(2026, 11, 2, 7, tzinfo=UTC)
    t0 = time.perf_counter()
    rows = []
    for _ in range(wearers):
        home = (53.8 + rnd.random(), -1.5 + rnd.random())
        work = (rnd.uniform(-5000, 5000), rnd.uniform(-5000, 5000))
        knots = [
            (0, (0.0, 0.0)),
            (90, (0.0, 0.0)),
            (120, work),
            (600, work),
            (630, (0.0, 0.0)),
            (1440, (0.0, 0.0)),
        ]
        for minute in range(1440):
            for (ta, pa), (tb, pb) in zip(knots, knots[1:], strict=False):
                if ta <= minute < tb:
                    f = (minute - ta) / (tb - ta)
                    x, y = pa[0] + f * (pb[0] - pa[0]), pa[1] + f * (pb[1] - pa[1])
                    moving = pa != pb
                    break
            acc = rnd.lognormvariate(math.log(5), 0.3) if moving else rnd.uniform(20, 50)
            if not moving and rnd.random() < 0.25:
                continue
            x += rnd.gauss(0, acc / math.sqrt(2))
            y += rnd.gauss(0, acc / math.sqrt(2))
            lat = home[0] + y / 111_320
            lon = home[1] + x / (111_320 * math.cos(math.radians(home[0])))
            rows.append(
                {
                    "device_time": start + timedelta(minutes=minute),
                    "lat": lat,
                    "lon": lon,
                    "accuracy_m": acc,
                    "type": "gps",
                }
            )
    return len(rows), time.perf_counter() - t0


def vectorised_gps_rows(wearers: int, seed: int = 7) -> tuple[int, float]:
    """The simulator's own GPS path (schedule, true track, observation model, rows) for GPS wearers only."""
    from datetime import date

    import numpy as np

    from openem.sim.movement import DayPlan, build_schedule, sample_track
    from openem.sim.population import PLANS, place_people
    from openem.sim.signals import DayCtx, gps_rows
    from openem.sim.truth import TruthLog

    rng = np.random.default_rng(seed)
    plan = np.full(wearers, PLANS.index("GPS_AC"))
    geo = place_people(rng, plan)
    t0 = time.perf_counter()
    off = np.zeros(wearers, dtype=bool)
    dp = DayPlan(late_min=np.zeros(wearers), absent=off, zone_visit=off, attend=off)
    knots, xy = build_schedule(
        rng,
        dp,
        geo.work_xy,
        geo.leisure_xy,
        geo.office_xy,
        geo.zone_xy,
        geo.zone_r,
        geo.curfew_start_min.astype(float),
    )
    day = date(2026, 11, 2)
    track = sample_track(rng, day, knots, xy, 60, rng.integers(0, 60, wearers))
    dev = {k: np.full(wearers, -1) for k in ("RF_TAG", "HMU", "ALCOHOL_TAG", "NFD", "VICTIM")}
    dev["GPS_TAG"] = np.arange(wearers)
    has = {"exclusion": np.ones(wearers, dtype=bool)}
    ctx = DayCtx(
        rng, day, track, geo, dp, np.full(wearers, "compliant", dtype=object), dev, has, TruthLog(), 60
    )
    r = gps_rows(ctx, np.ones(track.t_us.shape, dtype=bool))
    return len(r["dev"]), time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000, 50000])
    ap.add_argument("--days", type=int, default=1)
    ap.add_argument("--peer-wearers", type=int, default=200)
    args = ap.parse_args()
    results = []
    for n in args.sizes:
        r = run_size(n, args.days)
        rows = r["counts"]["telemetry"]
        results.append((n, r))
        print(f"wearers={n:>6} days={args.days}: {rows:>11,} telemetry rows in {r['seconds']:7.1f} s = {rows / r['seconds']:>9,.0f} rows/s, "
              f"peak RSS {r['peak_rss_mb']:,.0f} MB, on disk {r['disk_mb']:,.0f} MB, "
              f"alerts/yr at 29k {r['calibration']['expected_alerts_per_year_29000_people']:,}")  # fmt: skip
    peer_rows, peer_s = naive_gps_rows(args.peer_wearers)
    peer_rate = peer_rows / peer_s
    print(
        f"peer (naive per-fix Python loop, GPS rows only): {peer_rows:,} rows in {peer_s:.2f} s = {peer_rate:,.0f} rows/s"
    )
    vec_rows, vec_s = vectorised_gps_rows(2000)
    vec_rate = vec_rows / vec_s
    print(f"simulator's GPS path alone (2,000 GPS wearers, same model): {vec_rows:,} rows in {vec_s:.2f} s = {vec_rate:,.0f} rows/s "
          f"= {vec_rate / peer_rate:.0f}x the peer")  # fmt: skip
    n, r = results[-1]
    rows = r["counts"]["telemetry"]
    print(f"extrapolated: the peer would need {rows / peer_rate:,.0f} s for the {rows:,} rows of the {n:,}-wearer world "
          f"(vs {r['seconds']:.0f} s: {rows / peer_rate / r['seconds']:.1f}x), before writing anything")  # fmt: skip
    _ = resource
    return 0


if __name__ == "__main__":
    sys.exit(main())
