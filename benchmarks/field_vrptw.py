"""Solomon VRPTW: PyVRP (openem's scheduler) beside OR-Tools (when installed) and the greedy nearest-neighbour
baseline, same instances, same time limit, same run. Every route is checked against the exact time windows
and capacities; the gap is to the distance-only best-known value.

    PYTHONPATH=src python benchmarks/field_vrptw.py [--seconds 1] [--only C1,R2] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from pathlib import Path

from openem.field.scheduler import Instance, check, greedy, parse_solomon, route_distance, solve_pyvrp

ROOT = Path("/work/shared/benchmarks/vrptw")


def solve_ortools(inst: Instance, seconds: float) -> list[list[int]] | None:
    try:
        from ortools.constraint_solver import pywrapcp, routing_enums_pb2
    except ImportError:
        return None
    n = len(inst.x)
    mgr = pywrapcp.RoutingIndexManager(n, inst.vehicles, 0)
    r = pywrapcp.RoutingModel(mgr)
    scale = 100
    dist = [[int(math.floor(inst.dist(i, j) * scale)) for j in range(n)] for i in range(n)]
    cb = r.RegisterTransitCallback(lambda a, b: dist[mgr.IndexToNode(a)][mgr.IndexToNode(b)])
    r.SetArcCostEvaluatorOfAllVehicles(cb)
    tcb = r.RegisterTransitCallback(
        lambda a, b: dist[mgr.IndexToNode(a)][mgr.IndexToNode(b)] + inst.service[mgr.IndexToNode(a)] * scale
    )
    r.AddDimension(tcb, 10**9, 10**9, False, "Time")
    td = r.GetDimensionOrDie("Time")
    for i in range(1, n):
        td.CumulVar(mgr.NodeToIndex(i)).SetRange(inst.ready[i] * scale, inst.due[i] * scale)
    for v in range(inst.vehicles):
        td.CumulVar(r.Start(v)).SetRange(inst.ready[0] * scale, inst.due[0] * scale)
        td.CumulVar(r.End(v)).SetRange(inst.ready[0] * scale, inst.due[0] * scale)
    dcb = r.RegisterUnaryTransitCallback(lambda a: inst.demand[mgr.IndexToNode(a)])
    r.AddDimensionWithVehicleCapacity(dcb, 0, [inst.capacity] * inst.vehicles, True, "Load")
    p = pywrapcp.DefaultRoutingSearchParameters()
    p.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    p.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    p.time_limit.FromMilliseconds(int(seconds * 1000))
    sol = r.SolveWithParameters(p)
    if sol is None:
        return None
    routes = []
    for v in range(inst.vehicles):
        i, route = sol.Value(r.NextVar(r.Start(v))), []
        while not r.IsEnd(i):
            route.append(mgr.IndexToNode(i))
            i = sol.Value(r.NextVar(i))
        if route:
            routes.append(route)
    return routes


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--only", default="", help="comma-separated name prefixes, e.g. C1,R2")
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args()
    bks = json.loads((ROOT / "solomon-bks.json").read_text())
    files = sorted((ROOT / "solomon").glob("*.txt"))
    if args.only:
        files = [f for f in files if any(f.stem.upper().startswith(p.upper()) for p in args.only.split(","))]
    if args.limit:
        files = files[: args.limit]
    gaps: dict[str, dict[str, list[float]]] = {"pyvrp": {}, "ortools": {}, "greedy": {}}
    infeasible = {k: 0 for k in gaps}
    nosol = {k: 0 for k in gaps}
    print(
        f"{'instance':9} {'BKS':>9} {'pyvrp':>9} {'gap%':>6} {'ortools':>9} {'gap%':>6} {'greedy':>9} {'gap%':>6}"
    )
    for f in files:
        inst = parse_solomon(f)
        key = f"{f.stem.upper()}_distance" if f"{f.stem.upper()}_distance" in bks else f.stem.upper()
        best = float(bks[key]["best_known_cost"])
        cls = f.stem.upper()[:2] if f.stem.upper()[1].isdigit() else f.stem.upper()[:3]
        row = [f"{f.stem:9} {best:9.2f}"]
        for name, solver in (
            ("pyvrp", lambda i: solve_pyvrp(i, args.seconds)),
            ("ortools", lambda i: solve_ortools(i, args.seconds)),
            ("greedy", greedy),
        ):
            t = time.perf_counter()
            routes = solver(inst)
            _ = time.perf_counter() - t
            if routes is None:
                nosol[name] += 1
                row.append(f"{'no sol.':>9} {'-':>6}")
                continue
            if check(inst, routes):
                infeasible[name] += 1
                row.append(f"{'INFEAS':>9} {'-':>6}")
                continue
            d = sum(route_distance(inst, r) for r in routes)
            gap = 100 * (d - best) / best
            gaps[name].setdefault(cls, []).append(gap)
            row.append(f"{d:9.2f} {gap:6.2f}")
        print(" ".join(row), flush=True)
    print(f"\nmean gap to distance-only best-known, {args.seconds:g} s per instance (pyvrp, ortools):")
    for name, by in gaps.items():
        if not by:
            print(f"  {name:8} no solution (OR-Tools not installed, or none found in time)")
            continue
        per = "  ".join(f"{c}={statistics.mean(v):.2f}%" for c, v in sorted(by.items()))
        allv = [g for v in by.values() for g in v]
        print(
            f"  {name:8} overall={statistics.mean(allv):.2f}% over {len(allv)}  {per}  infeasible={infeasible[name]} no-solution={nosol[name]}"
        )


if __name__ == "__main__":
    main()
