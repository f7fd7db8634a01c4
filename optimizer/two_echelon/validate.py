"""Independent check of a 2E-CVRP solution: limits, flows and the cost in double precision."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from optimizer.two_echelon.model import Point, TwoEchelonInstance, TwoEchelonSolution


def validate_2e(inst: TwoEchelonInstance, sol: TwoEchelonSolution) -> list[str]:
    """Faults of `sol` for `inst`, one readable string each; empty means valid.

    Checks every customer served once, freighter capacity, per-satellite and total freighter
    counts, truck count and capacity, that trucks deliver to each satellite exactly what its
    freighters carry out, and the cost recomputed in double precision (within 1e-6 relative).
    """
    faults: list[str] = []
    n_sat, n_cust = len(inst.satellites), len(inst.customers)
    seen = [0] * n_cust
    carried = [0] * n_sat
    per_satellite = [0] * n_sat
    cost = 0.0
    for r, (s, route) in enumerate(sol.second):
        label = f"freighter route {r}"
        if not 0 <= s < n_sat:
            faults.append(f"{label}: satellite {s} does not exist")
            continue
        if not route:
            continue
        if any(not 0 <= c < n_cust for c in route):
            faults.append(f"{label}: customer index outside 0..{n_cust - 1}")
            continue
        load = sum(inst.demand[c] for c in route)
        if load > inst.freighter_capacity:
            faults.append(f"{label}: load {load} exceeds capacity {inst.freighter_capacity}")
        for c in route:
            seen[c] += 1
        carried[s] += load
        per_satellite[s] += 1
        points = [inst.satellites[s], *(inst.customers[c] for c in route), inst.satellites[s]]
        cost += inst.freighter_fixed + inst.freighter_cost_per_dist * _length(points)
    faults += [f"customer {c}: not served" for c in range(n_cust) if seen[c] == 0]
    faults += [f"customer {c}: served {seen[c]} times" for c in range(n_cust) if seen[c] > 1]
    for s, count in enumerate(per_satellite):
        if count > inst.freighters_per_satellite:
            faults.append(
                f"satellite {s}: {count} freighters, at most {inst.freighters_per_satellite}"
            )
    if sum(per_satellite) > inst.freighters_total:
        faults.append(f"{sum(per_satellite)} freighters, at most {inst.freighters_total}")

    delivered = [0] * n_sat
    trucks = 0
    if len(sol.first) != len(sol.first_loads):
        faults.append(f"{len(sol.first)} truck routes but {len(sol.first_loads)} load lists")
    for r, (route, loads) in enumerate(zip(sol.first, sol.first_loads, strict=False)):
        label = f"truck route {r}"
        if len(route) != len(loads):
            faults.append(f"{label}: {len(route)} visits but {len(loads)} amounts")
            continue
        if not route:
            continue
        if any(not 0 <= s < n_sat for s in route):
            faults.append(f"{label}: satellite index outside 0..{n_sat - 1}")
            continue
        if any(amount <= 0 for amount in loads):
            faults.append(f"{label}: a visit delivers nothing or a negative amount")
        if sum(loads) > inst.truck_capacity:
            faults.append(f"{label}: load {sum(loads)} exceeds capacity {inst.truck_capacity}")
        for s, amount in zip(route, loads, strict=True):
            delivered[s] += amount
        trucks += 1
        points = [inst.depot, *(inst.satellites[s] for s in route), inst.depot]
        cost += inst.truck_fixed + inst.truck_cost_per_dist * _length(points)
    if trucks > inst.truck_count:
        faults.append(f"{trucks} trucks, at most {inst.truck_count}")
    for s in range(n_sat):
        if delivered[s] != carried[s]:
            faults.append(
                f"satellite {s}: trucks deliver {delivered[s]}, freighters carry {carried[s]}"
            )
        cost += inst.satellite_handling[s] * carried[s]
    if not math.isclose(sol.cost, cost, rel_tol=1e-6, abs_tol=1e-6):
        faults.append(f"cost {sol.cost:.6f} differs from the recomputed {cost:.6f}")
    return faults


def _length(points: Sequence[Point]) -> float:
    return sum(math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in itertools.pairwise(points))
