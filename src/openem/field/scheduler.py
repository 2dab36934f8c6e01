"""A day's visits as a vehicle routing problem with time windows (VRPTW): parse Solomon-format instances, check
a solution against the exact windows and capacities, a greedy nearest-neighbour baseline, and PyVRP as the
solver (pip `pyvrp`, pinned). Travel time = Euclidean distance (Solomon's convention; for field visits,
straight-line distance times a road factor over a speed)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

SCALE = 100  # PyVRP takes integers: distances and times in hundredths


@dataclass(frozen=True)
class Instance:
    name: str
    vehicles: int
    capacity: int
    x: list[float]
    y: list[float]
    demand: list[int]
    ready: list[int]
    due: list[int]
    service: list[int]  # index 0 is the depot

    def dist(self, i: int, j: int) -> float:
        return math.hypot(self.x[i] - self.x[j], self.y[i] - self.y[j])


def parse_solomon(path: str | Path) -> Instance:
    """Read a Solomon instance file; a malformed file raises ValueError naming the line."""
    lines = Path(path).read_text().splitlines()
    name = lines[0].strip() if lines else ""
    vehicles = capacity = -1
    rows: list[list[float]] = []
    for no, line in enumerate(lines, 1):
        parts = line.split()
        if vehicles < 0 and len(parts) == 2 and all(p.isdigit() for p in parts):
            vehicles, capacity = int(parts[0]), int(parts[1])
            continue
        if len(parts) == 7 and parts[0].isdigit():
            try:
                rows.append([float(p) for p in parts])
            except ValueError as exc:
                raise ValueError(f"{path}:{no}: not a customer row: {line!r}") from exc
    if vehicles < 0 or not rows:
        raise ValueError(f"{path}: not a Solomon instance (no vehicle line or no customers)")
    return Instance(
        name=name,
        vehicles=vehicles,
        capacity=capacity,
        x=[r[1] for r in rows],
        y=[r[2] for r in rows],
        demand=[int(r[3]) for r in rows],
        ready=[int(r[4]) for r in rows],
        due=[int(r[5]) for r in rows],
        service=[int(r[6]) for r in rows],
    )


def route_distance(inst: Instance, route: list[int]) -> float:
    stops = [0, *route, 0]
    return sum(inst.dist(a, b) for a, b in zip(stops, stops[1:], strict=False))


def check(inst: Instance, routes: list[list[int]]) -> list[str]:
    """Every problem with a solution: time windows (exact distances), capacity, customers missed or repeated."""
    problems: list[str] = []
    seen: list[int] = [c for r in routes for c in r]
    missing = set(range(1, len(inst.x))) - set(seen)
    if missing:
        problems.append(f"customers not visited: {sorted(missing)[:10]}")
    if len(seen) != len(set(seen)):
        problems.append("a customer is visited twice")
    if len(routes) > inst.vehicles:
        problems.append(f"{len(routes)} routes > {inst.vehicles} vehicles")
    for k, r in enumerate(routes):
        if sum(inst.demand[c] for c in r) > inst.capacity:
            problems.append(f"route {k} over capacity")
        t, prev = 0.0, 0
        for c in [*r, 0]:
            t = max(t + inst.dist(prev, c), inst.ready[c])
            if t > inst.due[c] + 1e-6:
                problems.append(f"route {k} late at {c} ({t:.2f} > {inst.due[c]})")
                break
            t += inst.service[c]
            prev = c
    return problems


def greedy(inst: Instance) -> list[list[int]]:
    """Nearest feasible next customer (distance plus waiting), a new route when none fits: the baseline."""
    left = set(range(1, len(inst.x)))
    routes: list[list[int]] = []
    while left:
        route: list[int] = []
        t, load, prev = 0.0, 0, 0
        while True:
            best, best_score = -1, math.inf
            for c in left:
                if load + inst.demand[c] > inst.capacity:
                    continue
                arrive = max(t + inst.dist(prev, c), inst.ready[c])
                if arrive > inst.due[c]:
                    continue
                if arrive + inst.service[c] + inst.dist(c, 0) > inst.due[0]:
                    continue
                score = arrive - t
                if score < best_score:
                    best, best_score = c, score
            if best < 0:
                break
            t = max(t + inst.dist(prev, best), inst.ready[best]) + inst.service[best]
            load += inst.demand[best]
            route.append(best)
            left.discard(best)
            prev = best
        if not route:  # a customer nobody can reach in time: give it its own route so it is reported
            route = [left.pop()]
        routes.append(route)
    return routes


def solve_pyvrp(inst: Instance, seconds: float, seed: int = 1) -> list[list[int]]:
    """PyVRP's hybrid genetic search for `seconds`. Travel times are rounded up to hundredths so a route PyVRP
    finds feasible is feasible at the exact distances too (distances, the cost, are rounded to nearest)."""
    from pyvrp import Client, Depot, Model
    from pyvrp.stop import MaxRuntime

    m = Model()
    depot = m.add_depot(x=int(inst.x[0] * SCALE), y=int(inst.y[0] * SCALE))
    m.add_vehicle_type(num_available=inst.vehicles, capacity=inst.capacity, tw_early=inst.ready[0] * SCALE,
                       tw_late=inst.due[0] * SCALE)  # fmt: skip
    locs: list[Client | Depot] = [depot]
    for i in range(1, len(inst.x)):
        locs.append(
            m.add_client(
                x=int(inst.x[i] * SCALE),
                y=int(inst.y[i] * SCALE),
                delivery=inst.demand[i],
                service_duration=inst.service[i] * SCALE,
                tw_early=inst.ready[i] * SCALE,
                tw_late=inst.due[i] * SCALE,
            )
        )
    for i, a in enumerate(locs):
        for j, b in enumerate(locs):
            exact = inst.dist(i, j) * SCALE
            m.add_edge(a, b, distance=round(exact), duration=math.ceil(exact))
    res = m.solve(stop=MaxRuntime(seconds), seed=seed, display=False)
    if not res.is_feasible():  # out of time before a feasible plan: the greedy plan rather than a late one
        return greedy(inst)
    return [list(r.visits()) for r in res.best.routes()]
