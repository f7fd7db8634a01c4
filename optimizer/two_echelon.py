"""Two-echelon CVRP (2E-CVRP) on textbook instances: reader, solver, validator, baseline.

Trucks carry goods from the depot to satellites (a satellite may be served by several trucks:
split deliveries); city freighters based at a satellite start and end there and serve the
customers, each customer by one freighter. Files use the unified format of Breunig, Schmid,
Hartl & Vidal (2016). Costs are in instance units, recomputed from the float coordinates in
double precision (the literature's convention): cost per distance times Euclidean length, plus
fixed costs per used vehicle, plus handling cost per unit passing through a satellite.

The solver decomposes: customers are assigned to satellites, each satellite's freighter routes
form one CVRP and the truck routes another, all solved by `optimizer.solver.solve` on integer
matrices (cost per distance times length times `scale`, rounded). Customers, whole freighter
routes and whole satellites are then moved between satellites while time remains (re-solving
only the satellites concerned), and the best assignment's routes are finally polished.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from optimizer.problem import Problem, Vehicle
from optimizer.solver import SolveParams, solve

Point = tuple[float, float]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Seeds `solve_2e` knows: nearest satellite; nearest counting truck haulage and handling;
#: one multi-depot solve of the whole second echelon (see `_Search.joint`).
SEEDS = ("nearest", "radial", "joint")
#: Share of the time limit the joint seed may use.
_JOINT_SHARE = 0.3
#: Time cap (s) of one evaluation solve (greedy descent, which usually stops far earlier).
_EVAL_LIMIT_S = 1.0
#: Extra freighters a satellite may get beyond its capacity bound, when the fleet allows.
_EXTRA_FREIGHTERS = 2
#: Satellites considered as new homes for a customer or a route (nearest first).
_NEAR = 4
#: Candidate moves evaluated exactly per round before giving up on the current solution.
_ROUND = 40
_DAY = 86_400


@dataclass
class TwoEchelonInstance:
    """A 2E-CVRP instance. Points are (x, y) in instance units; demands and capacities whole.

    Costs per distance multiply Euclidean length; fixed costs are per used vehicle;
    `satellite_handling[s]` is the cost per unit of demand passing through satellite s.
    """

    name: str
    depot: Point
    satellites: list[Point]
    customers: list[Point]
    demand: list[int]
    truck_count: int
    truck_capacity: int
    truck_cost_per_dist: float
    truck_fixed: float
    freighters_per_satellite: int
    freighters_total: int
    freighter_capacity: int
    freighter_cost_per_dist: float
    freighter_fixed: float
    satellite_handling: list[float]


@dataclass
class TwoEchelonSolution:
    """Truck routes (satellite indices, with the amount delivered at each visit in
    `first_loads`), freighter routes as (satellite, customer indices), total cost (instance
    units) and whether `validate_2e` found no fault. `stats` holds search counters."""

    cost: float
    first: list[list[int]]
    first_loads: list[list[int]]
    second: list[tuple[int, list[int]]]
    valid: bool
    stats: dict[str, float] = field(default_factory=dict)


# --------------------------------------------------------------------------- reader

_SECTIONS = ("trucks", "city freighters", "stores", "customers")


def read_2e(path: Path) -> TwoEchelonInstance:
    """Read a unified-format file (comment lines start with '!'; CRLF accepted).

    Data lines, in order: trucks `count,capacity,cost/dist,fixed`; city freighters
    `max per satellite,total,capacity,cost/dist,fixed`; stores `x,y` of the depot then
    `x,y[,handling]` per satellite; customers `x,y,demand`, whitespace-separated.
    Raises ValueError naming the file and line of the first problem found.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read: {exc}") from exc
    rows = [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("!")
    ]
    if len(rows) < len(_SECTIONS):
        raise ValueError(
            f"{path}: no {_SECTIONS[len(rows)]} line (expected {len(_SECTIONS)} data lines: "
            + ", ".join(_SECTIONS)
            + ")"
        )
    if len(rows) > len(_SECTIONS):
        raise ValueError(f"{path}: line {rows[4][0]}: unexpected data after the customers line")
    where = [f"{path}: line {number}" for number, _ in rows]
    truck = _values(where[0], "".join(rows[0][1].split()), "ppnn", "trucks")
    cf = _values(where[1], "".join(rows[1][1].split()), "pppnn", "city freighters")

    stores = rows[2][1].split()
    if len(stores) < 2:
        raise ValueError(f"{where[2]}: stores need the depot and at least one satellite")
    depot = _values(where[2], stores[0], "cc", "depot")
    satellites: list[Point] = []
    handling: list[float] = []
    for k, token in enumerate(stores[1:], start=1):
        kinds = "ccn" if token.count(",") == 2 else "cc"
        values = _values(where[2], token, kinds, f"satellite {k}")
        satellites.append((values[0], values[1]))
        handling.append(values[2] if len(values) == 3 else 0.0)

    capacity = int(cf[2])
    customers: list[Point] = []
    demand: list[int] = []
    for k, token in enumerate(rows[3][1].split(), start=1):
        x, y, amount = _values(where[3], token, "cci", f"customer {k}")
        if amount > capacity:
            raise ValueError(
                f"{where[3]}: customer {k}: demand {int(amount)} exceeds the city freighter "
                f"capacity {capacity} (customers are not split)"
            )
        customers.append((x, y))
        demand.append(int(amount))
    return TwoEchelonInstance(
        name=path.stem,
        depot=(depot[0], depot[1]),
        satellites=satellites,
        customers=customers,
        demand=demand,
        truck_count=int(truck[0]),
        truck_capacity=int(truck[1]),
        truck_cost_per_dist=truck[2],
        truck_fixed=truck[3],
        freighters_per_satellite=int(cf[0]),
        freighters_total=int(cf[1]),
        freighter_capacity=capacity,
        freighter_cost_per_dist=cf[3],
        freighter_fixed=cf[4],
        satellite_handling=handling,
    )


def _values(where: str, token: str, kinds: str, what: str) -> list[float]:
    """Comma-separated numbers of `token`; kinds per value: c any, n >= 0, i whole >= 0,
    p whole >= 1."""
    parts = token.split(",")
    if len(parts) != len(kinds):
        raise ValueError(
            f"{where}: {what}: expected {len(kinds)} comma-separated values, got {token!r}"
        )
    values = []
    for part, kind in zip(parts, kinds, strict=True):
        try:
            value = float(part)
        except ValueError:
            raise ValueError(f"{where}: {what}: {part!r} is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"{where}: {what}: {part!r} is not finite")
        if kind in "ip" and not value.is_integer():
            raise ValueError(f"{where}: {what}: {part!r} is not a whole number")
        if (kind in "ni" and value < 0) or (kind == "p" and value < 1):
            bound = "at least 1" if kind == "p" else "non-negative"
            raise ValueError(f"{where}: {what}: {part!r} must be {bound}")
        values.append(value)
    return values


# --------------------------------------------------------------------------- validator


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


# --------------------------------------------------------------------------- solver


@dataclass
class _Sub:
    """One satellite's freighter routes (customer indices), unserved customers, exact cost."""

    routes: list[list[int]]
    unserved: list[int]
    cost: float


@dataclass
class _First:
    """Truck routes (satellite per visit), amounts per visit, undelivered amount, exact cost."""

    routes: list[list[int]]
    loads: list[list[int]]
    undelivered: int
    cost: float


@dataclass
class _State:
    """A full solution: customer → satellite, per-satellite routes, truck routes, costs.

    `score` is the exact cost plus a large penalty per unserved customer or undelivered
    truck load, so repairing an infeasible state always pays.
    """

    assign: list[int]
    subs: list[_Sub]
    first: _First
    cost: float
    score: float


Move = tuple[str, int, int]  # (kind, item, target satellite)


@dataclass(frozen=True)
class _Fleet:
    """One echelon's vehicles: capacity (units), cost per distance, fixed cost per use."""

    capacity: int
    cost_per_dist: float
    fixed: float


def _trucks(inst: TwoEchelonInstance) -> _Fleet:
    return _Fleet(inst.truck_capacity, inst.truck_cost_per_dist, inst.truck_fixed)


def _freighters(inst: TwoEchelonInstance) -> _Fleet:
    return _Fleet(inst.freighter_capacity, inst.freighter_cost_per_dist, inst.freighter_fixed)


class _Search:
    """Decomposition search for one instance, with caches of the sub-problem solves."""

    def __init__(self, inst: TwoEchelonInstance, deadline: float) -> None:
        self.inst = inst
        self.deadline = deadline
        self.n_sat = len(inst.satellites)
        self.n_cust = len(inst.customers)
        # point index: 0 depot, 1..S satellites, S+1.. customers
        points = np.array([inst.depot, *inst.satellites, *inst.customers], dtype=np.float64)
        diff = points[:, None, :] - points[None, :, :]
        self.dist: FloatArray = np.hypot(diff[..., 0], diff[..., 1])
        diameter = float(self.dist.max()) if self.dist.size else 0.0
        #: integer matrix units per instance distance unit: about 1e6 units across the map
        self.scale = 10 ** max(0, math.floor(6 - math.log10(diameter))) if diameter > 0 else 1
        self.demand = np.array(inst.demand, dtype=np.int64)
        self.handling = np.array(inst.satellite_handling, dtype=np.float64)
        worst = (self.n_cust + self.n_sat + 1) * 2 * diameter
        self.big = 10.0 * (
            worst * max(inst.truck_cost_per_dist, inst.freighter_cost_per_dist, 1.0)
            + inst.truck_fixed * inst.truck_count
            + inst.freighter_fixed * self.n_cust
            + float(self.handling.max(initial=0.0)) * float(self.demand.sum())
            + 1.0
        )
        self.sub_cache: dict[tuple[int, frozenset[int], int], _Sub] = {}
        self.first_cache: dict[tuple[int, ...], _First] = {}
        self.solves = 0

    # ---- geometry and costs

    def sat_point(self, s: int) -> int:
        return 1 + s

    def cust_point(self, c: int) -> int:
        return 1 + self.n_sat + c

    def path_cost(self, home: int, routes: list[list[int]], fleet: _Fleet) -> float:
        """Exact cost (instance units) of routes of points from and back to point `home`."""
        total = 0.0
        for route in routes:
            path = [home, *route, home]
            total += fleet.fixed + fleet.cost_per_dist * float(self.dist[path[:-1], path[1:]].sum())
        return total

    def freighter_cost(self, s: int, routes: list[list[int]]) -> float:
        """Exact cost of satellite s's freighter routes (customer indices)."""
        points = [[self.cust_point(c) for c in r] for r in routes]
        return self.path_cost(self.sat_point(s), points, _freighters(self.inst))

    def truck_cost(self, routes: list[list[int]]) -> float:
        """Exact cost of truck routes given as satellite indices."""
        points = [[self.sat_point(s) for s in r] for r in routes]
        return self.path_cost(0, points, _trucks(self.inst))

    def left(self) -> float:
        return self.deadline - time.monotonic()

    # ---- sub-problems

    def cvrp(
        self, points: list[int], demands: list[int], count: int, fleet: _Fleet, params: SolveParams
    ) -> tuple[list[list[int]], list[int]] | None:
        """Solve a CVRP on `points` from points[0] with `count` vehicles of `fleet`;
        (routes, unserved) in local node indices 1..len(points)-1, or None on failure."""
        dist = self.dist[np.ix_(points, points)]
        matrix: IntArray = np.rint(dist * fleet.cost_per_dist * self.scale).astype(np.int64)
        n = len(points)
        delivery = np.zeros((n, 2), dtype=np.int64)
        delivery[1:, 0] = demands
        fixed_int = round(fleet.fixed * self.scale)
        # more than any set of routes costs, so serving a node always pays when it fits
        penalty = int(matrix.max(initial=0)) * (n + count) + fixed_int * count + 1
        vehicle = Vehicle(
            start=0, end=0, capacity_g=fleet.capacity, capacity_ml=0, fixed_cost=fixed_int
        )
        problem = Problem(
            distances=[matrix],
            durations=[np.zeros_like(matrix)],
            delivery=delivery,
            pickup=np.zeros((n, 2), dtype=np.int64),
            time_windows=np.tile(np.array([0, _DAY], dtype=np.int64), (n, 1)),
            service=np.zeros(n, dtype=np.int64),
            vehicles=[vehicle] * count,
            penalty=np.full(n, penalty, dtype=np.int64),
        )
        self.solves += 1
        solution = solve(problem, params)
        if solution.status == "failed":
            return None
        return [r.nodes for r in solution.routes if r.nodes], list(solution.unserved)

    def sub(
        self,
        s: int,
        customers: list[int],
        count: int,
        warm: list[list[int]] | None,
        metaheuristic: str,
        limit_s: float,
        cache: bool = True,
    ) -> _Sub:
        """Freighter routes of satellite s for `customers` with at most `count` freighters."""
        key = (s, frozenset(customers), count)
        if cache and key in self.sub_cache:
            return self.sub_cache[key]
        if not customers or count == 0:
            result = _Sub([], list(customers), 0.0)
        else:
            local = {c: k + 1 for k, c in enumerate(customers)}
            initial = None
            if warm is not None:
                initial = [[local[c] for c in r if c in local] for r in warm]
                initial = [r for r in initial if r]
                if len(initial) > count:
                    initial = None
            params = SolveParams(
                time_limit_s=max(0.01, limit_s),
                metaheuristic=metaheuristic,
                initial_routes=initial,
            )
            points = [self.sat_point(s), *(self.cust_point(c) for c in customers)]
            demands = [int(self.demand[c]) for c in customers]
            solved = self.cvrp(points, demands, count, _freighters(self.inst), params)
            if solved is None:
                result = _Sub([], list(customers), 0.0)
            else:
                routes = [[customers[node - 1] for node in r] for r in solved[0]]
                unserved = [customers[node - 1] for node in solved[1]]
                result = _Sub(routes, unserved, self.freighter_cost(s, routes))
        if cache:
            self.sub_cache[key] = result
        return result

    def first(self, loads: tuple[int, ...], metaheuristic: str, limit_s: float) -> _First:
        """Truck routes delivering `loads[s]` to each satellite s, split where needed.

        A satellite's load becomes several co-located nodes of at most `piece` units; the
        piece shrinks (Q, Q/2, Q/4, ...) while the fleet cannot carry the pieces.
        """
        if metaheuristic == "GREEDY_DESCENT" and loads in self.first_cache:
            return self.first_cache[loads]
        inst = self.inst
        sats = [s for s in range(self.n_sat) if loads[s] > 0]
        best = _First([], [], sum(loads), 0.0)
        piece = inst.truck_capacity
        while sats and piece >= 1 and self.left() > 0:
            nodes: list[int] = []
            amounts: list[int] = []
            for s in sats:
                remaining = loads[s]
                while remaining > 0:
                    nodes.append(s)
                    amounts.append(min(piece, remaining))
                    remaining -= amounts[-1]
            if len(nodes) > 400:
                break
            params = SolveParams(
                time_limit_s=max(0.01, min(limit_s, self.left())), metaheuristic=metaheuristic
            )
            points = [0, *(self.sat_point(s) for s in nodes)]
            solved = self.cvrp(points, amounts, inst.truck_count, _trucks(inst), params)
            if solved is not None:
                routes: list[list[int]] = []
                visit_loads: list[list[int]] = []
                for r in solved[0]:
                    route: list[int] = []
                    amount: list[int] = []
                    for node in r:
                        s = nodes[node - 1]
                        if route and route[-1] == s:
                            amount[-1] += amounts[node - 1]
                        else:
                            route.append(s)
                            amount.append(amounts[node - 1])
                    routes.append(route)
                    visit_loads.append(amount)
                undelivered = sum(amounts[node - 1] for node in solved[1])
                best = _First(routes, visit_loads, undelivered, self.truck_cost(routes))
                if undelivered == 0:
                    break
            piece = piece // 2 if piece > 1 else 0
        if metaheuristic == "GREEDY_DESCENT":
            self.first_cache[loads] = best
        return best

    # ---- assignments and states

    def loads(self, assign: list[int]) -> list[int]:
        loads = [0] * self.n_sat
        for c, s in enumerate(assign):
            loads[s] += int(self.demand[c])
        return loads

    def fits(self, loads: list[int]) -> bool:
        """True when the freighter fleet can carry these satellite loads (capacity bound)."""
        inst = self.inst
        need = [math.ceil(load / inst.freighter_capacity) for load in loads]
        return max(need) <= inst.freighters_per_satellite and sum(need) <= inst.freighters_total

    def budget(self, loads: list[int]) -> list[int]:
        """Freighters per satellite: the capacity bound plus a few spares while the
        per-satellite and total limits allow (fullest satellites first)."""
        inst = self.inst
        cap, per, total = (
            inst.freighter_capacity,
            inst.freighters_per_satellite,
            inst.freighters_total,
        )
        count = [min(per, math.ceil(load / cap)) for load in loads]
        while sum(count) > total:
            count[count.index(max(count))] -= 1
        order = sorted(
            (s for s in range(self.n_sat) if loads[s] > 0),
            key=lambda s: -loads[s] / max(1, count[s] * cap),
        )
        spare = total - sum(count)
        for _ in range(_EXTRA_FREIGHTERS):
            for s in order:
                if spare > 0 and count[s] < per:
                    count[s] += 1
                    spare -= 1
        return count

    def state(
        self,
        assign: list[int],
        previous: _State | None = None,
        changed: frozenset[int] = frozenset(),
    ) -> _State:
        """Solve the satellites (reusing `previous` routes of unchanged ones) and the trucks."""
        loads = self.loads(assign)
        count = self.budget(loads)
        members: list[list[int]] = [[] for _ in range(self.n_sat)]
        for c, s in enumerate(assign):
            members[s].append(c)
        subs = []
        for s in range(self.n_sat):
            if previous is not None and s not in changed:
                kept = previous.subs[s]
                if len(kept.routes) <= count[s] and not kept.unserved:
                    subs.append(kept)
                    continue
            warm = self.warm(s, previous.subs[s].routes, members[s], count[s]) if previous else None
            limit = min(_EVAL_LIMIT_S, self.left())
            subs.append(self.sub(s, members[s], count[s], warm, "GREEDY_DESCENT", limit))
        return self.finish(assign, subs, "GREEDY_DESCENT", min(_EVAL_LIMIT_S, self.left()))

    def finish(
        self, assign: list[int], subs: list[_Sub], metaheuristic: str, limit_s: float
    ) -> _State:
        """Add the truck routes for what the satellites' routes carry, and the costs."""
        served = [0] * self.n_sat
        for s, sub in enumerate(subs):
            served[s] = sum(int(self.demand[c]) for r in sub.routes for c in r)
        first = self.first(tuple(served), metaheuristic, limit_s)
        cost = (
            sum(sub.cost for sub in subs)
            + first.cost
            + float(np.dot(self.handling, np.array(served, dtype=np.float64)))
        )
        unserved = sum(len(sub.unserved) for sub in subs) + (1 if first.undelivered else 0)
        return _State(assign, subs, first, cost, cost + self.big * unserved)

    def warm(
        self, s: int, routes: list[list[int]], members: list[int], count: int
    ) -> list[list[int]]:
        """Previous routes of satellite s minus departed customers, plus new members each at
        its cheapest insertion (a new route while the budget has room)."""
        keep = set(members)
        result = [[c for c in r if c in keep] for r in routes]
        result = [r for r in result if r]
        placed = {c for r in result for c in r}
        cap = self.inst.freighter_capacity
        for c in sorted(keep - placed, key=lambda c: -int(self.demand[c])):
            best: tuple[float, int, int] | None = None
            for k, r in enumerate(result):
                if sum(int(self.demand[x]) for x in r) + int(self.demand[c]) > cap:
                    continue
                path = [self.sat_point(s), *(self.cust_point(x) for x in r), self.sat_point(s)]
                p = self.cust_point(c)
                for pos in range(len(path) - 1):
                    a, b = path[pos], path[pos + 1]
                    delta = float(self.dist[a, p] + self.dist[p, b] - self.dist[a, b])
                    if best is None or delta < best[0]:
                        best = (delta, k, pos)
            fresh = 2.0 * float(self.dist[self.sat_point(s), self.cust_point(c)])
            if len(result) < count and (best is None or fresh <= best[0]):
                result.append([c])
            elif best is not None:
                result[best[1]].insert(best[2], c)
            else:
                result.append([c])
        return result

    def seed(self, strategy: str) -> list[int]:
        """Customer → satellite: the best-scored satellite whose freighter fleet still has
        room, largest demands first. 'nearest' scores by distance; 'radial' adds the truck
        haulage per unit (round trip from the depot / truck capacity) and handling."""
        if strategy not in ("nearest", "radial"):
            raise ValueError(f"no assignment rule for seed strategy {strategy!r}")
        inst = self.inst
        sat_points = [self.sat_point(s) for s in range(self.n_sat)]
        assign = [0] * self.n_cust
        loads = [0] * self.n_sat
        for c in sorted(range(self.n_cust), key=lambda c: -int(self.demand[c])):
            score = self.dist[sat_points, self.cust_point(c)] * inst.freighter_cost_per_dist
            if strategy == "radial":
                per_unit = (
                    2 * inst.truck_cost_per_dist * self.dist[0, sat_points] / inst.truck_capacity
                    + self.handling
                )
                score = score + per_unit * float(self.demand[c])
            ranked = [int(s) for s in np.argsort(score, kind="stable")]
            choice = ranked[0]
            for s in ranked:
                loads[s] += int(self.demand[c])
                room = self.fits(loads)
                loads[s] -= int(self.demand[c])
                if room:
                    choice = s
                    break
            assign[c] = choice
            loads[choice] += int(self.demand[c])
        return assign

    def joint(self, limit_s: float) -> _State | None:
        """One multi-depot CVRP for all customers: each satellite gets its own freighters
        (profile s: freighter cost plus, per unit delivered, truck haulage and handling), so
        the solver chooses satellites and routes together. When the total freighter limit is
        below the copies in the model, every freighter carries a large fixed cost, so the
        fewest routes win. None when the result breaks a limit or leaves customers out."""
        inst = self.inst
        n_sat, total = self.n_sat, inst.freighters_total
        cap = inst.freighter_capacity
        copies = min(inst.freighters_per_satellite, total, math.ceil(self.demand.sum() / cap) + 1)
        points = [
            *(self.sat_point(s) for s in range(n_sat)),
            *map(self.cust_point, range(self.n_cust)),
        ]
        demand = np.concatenate([np.zeros(n_sat, dtype=np.int64), self.demand])
        haul = 2 * inst.truck_cost_per_dist * self.dist[0, 1 : 1 + n_sat] / inst.truck_capacity
        base = self.dist[np.ix_(points, points)] * inst.freighter_cost_per_dist
        matrices = [
            np.rint((base + (haul[s] + self.handling[s]) * demand[None, :]) * self.scale).astype(
                np.int64
            )
            for s in range(n_sat)
        ]
        n = len(points)
        largest = max(int(m.max(initial=0)) for m in matrices)
        fleet = n_sat * copies
        fixed = round(inst.freighter_fixed * self.scale)
        if fleet > total:
            fixed += largest * (n + fleet)
        vehicles = [
            Vehicle(start=s, end=s, capacity_g=cap, capacity_ml=0, profile=s, fixed_cost=fixed)
            for s in range(n_sat)
            for _ in range(copies)
        ]
        delivery = np.zeros((n, 2), dtype=np.int64)
        delivery[:, 0] = demand
        problem = Problem(
            distances=matrices,
            durations=[np.zeros_like(matrices[0]) for _ in matrices],
            delivery=delivery,
            pickup=np.zeros((n, 2), dtype=np.int64),
            time_windows=np.tile(np.array([0, _DAY], dtype=np.int64), (n, 1)),
            service=np.zeros(n, dtype=np.int64),
            vehicles=vehicles,
            penalty=np.full(n, largest * (n + fleet) + fixed * fleet + 1, dtype=np.int64),
        )
        self.solves += 1
        solution = solve(problem, SolveParams(time_limit_s=max(0.01, limit_s)))
        if solution.status == "failed" or solution.unserved:
            return None
        members: list[list[list[int]]] = [[] for _ in range(n_sat)]
        assign = [0] * self.n_cust
        for route in solution.routes:
            s = route.vehicle // copies
            members[s].append([node - n_sat for node in route.nodes])
            for node in route.nodes:
                assign[node - n_sat] = s
        if sum(len(m) for m in members) > total:
            return None
        subs = [
            _Sub(routes, [], self.freighter_cost(s, routes)) for s, routes in enumerate(members)
        ]
        return self.finish(assign, subs, "GREEDY_DESCENT", min(_EVAL_LIMIT_S, self.left()))

    # ---- moves

    def candidates(self, state: _State) -> list[tuple[float, Move]]:
        """Relocations of customers and of whole freighter routes to other satellites, and
        closures of satellites, with an estimated cost change (instance units), best first."""
        inst = self.inst
        loads = self.loads(state.assign)
        haul = 2 * inst.truck_cost_per_dist * self.dist[0, 1 : 1 + self.n_sat] / inst.truck_capacity
        per_unit = haul + self.handling
        c2 = inst.freighter_cost_per_dist
        arcs = [self._arcs(s, sub) for s, sub in enumerate(state.subs)]
        moves: list[tuple[float, Move]] = []
        for s, sub in enumerate(state.subs):
            for c in sub.unserved:
                for t in self._near(self.cust_point(c), s):
                    moves.append((-self.big, ("customer", c, t)))
            for r, route in enumerate(sub.routes):
                path = [self.sat_point(s), *(self.cust_point(x) for x in route), self.sat_point(s)]
                for pos, c in enumerate(route, start=1):
                    a, p, b = path[pos - 1], path[pos], path[pos + 1]
                    saving = c2 * float(self.dist[a, p] + self.dist[p, b] - self.dist[a, b])
                    if len(route) == 1:
                        saving += inst.freighter_fixed
                    d = int(self.demand[c])
                    for t in self._near(p, s):
                        loads[s] -= d
                        loads[t] += d
                        room = self.fits(loads)
                        count = self.budget(loads)[t]
                        loads[s] += d
                        loads[t] -= d
                        if not room:
                            continue
                        insert = self._insertion(arcs[t], p, d, len(state.subs[t].routes) < count)
                        if insert is None:
                            continue
                        change = c2 * insert - saving + (per_unit[t] - per_unit[s]) * d
                        moves.append((change, ("customer", c, t)))
                first, last = self.cust_point(route[0]), self.cust_point(route[-1])
                load = sum(int(self.demand[x]) for x in route)
                for t in self._near(first, s):
                    sp, tp = self.sat_point(s), self.sat_point(t)
                    change = (
                        c2
                        * float(
                            self.dist[tp, first]
                            + self.dist[last, tp]
                            - self.dist[sp, first]
                            - self.dist[last, sp]
                        )
                        + (per_unit[t] - per_unit[s]) * load
                    )
                    moves.append((change, ("route", r * self.n_sat + s, t)))
            if sub.routes:
                moves.append((0.0, ("close", s, -1)))
        moves.sort(key=lambda m: m[0])
        return moves

    def _near(self, point: int, exclude: int) -> list[int]:
        order = np.argsort(self.dist[point, 1 : 1 + self.n_sat], kind="stable")
        return [int(t) for t in order if t != exclude][:_NEAR]

    def _arcs(self, s: int, sub: _Sub) -> tuple[IntArray, IntArray, IntArray]:
        """Arcs (from, to) of satellite s's routes with the load of each arc's route."""
        heads: list[int] = []
        tails: list[int] = []
        route_loads: list[int] = []
        for route in sub.routes:
            path = [self.sat_point(s), *(self.cust_point(x) for x in route), self.sat_point(s)]
            load = sum(int(self.demand[x]) for x in route)
            heads += path[:-1]
            tails += path[1:]
            route_loads += [load] * (len(path) - 1)
        home = np.array([self.sat_point(s)], dtype=np.int64)
        return (
            np.array(heads, dtype=np.int64) if heads else home[:0],
            np.array(tails, dtype=np.int64) if tails else home[:0],
            np.array(route_loads, dtype=np.int64) if route_loads else home[:0],
        )

    def _insertion(
        self, arcs: tuple[IntArray, IntArray, IntArray], p: int, demand: int, new_route: bool
    ) -> float | None:
        """Cheapest added length for point p in these arcs (capacity kept), or a new route
        from their satellite when allowed (its fixed cost in length units of c2 = 1)."""
        heads, tails, loads = arcs
        best: float | None = None
        ok = loads + demand <= self.inst.freighter_capacity
        if ok.any():
            delta = (
                self.dist[heads[ok], p] + self.dist[p, tails[ok]] - self.dist[heads[ok], tails[ok]]
            )
            best = float(delta.min())
        return best if not new_route else self._fresh(arcs, p, best)

    def _fresh(
        self, arcs: tuple[IntArray, IntArray, IntArray], p: int, best: float | None
    ) -> float | None:
        heads = arcs[0]
        if heads.size == 0:
            return best
        home = int(heads[0])
        c2 = self.inst.freighter_cost_per_dist
        fresh = 2 * float(self.dist[home, p]) + (self.inst.freighter_fixed / c2 if c2 > 0 else 0.0)
        return fresh if best is None else min(best, fresh)

    def apply(self, state: _State, move: Move) -> _State | None:
        """The state after `move`, or None when the fleet cannot carry the new loads."""
        kind, item, target = move
        assign = list(state.assign)
        changed: set[int] = set()
        if kind == "customer":
            changed = {assign[item], target}
            assign[item] = target
        elif kind == "route":
            s, r = item % self.n_sat, item // self.n_sat
            for c in state.subs[s].routes[r]:
                assign[c] = target
            changed = {s, target}
        else:
            loads = self.loads(assign)
            for c in sorted(
                (c for c in range(self.n_cust) if assign[c] == item),
                key=lambda c: -int(self.demand[c]),
            ):
                d = int(self.demand[c])
                for t in self._near(self.cust_point(c), item)[:_NEAR]:
                    loads[item] -= d
                    loads[t] += d
                    if self.fits(loads):
                        assign[c] = t
                        changed.add(t)
                        break
                    loads[item] += d
                    loads[t] -= d
            changed.add(item)
        if assign == state.assign or not self.fits(self.loads(assign)):
            return None
        return self.state(assign, state, frozenset(changed))

    def descend(self, state: _State, stop_at: float) -> tuple[_State, int, int]:
        """First-improvement descent over `candidates` until no move helps or time is up;
        returns the best state, moves evaluated and moves accepted."""
        evaluated = accepted = 0
        while time.monotonic() < stop_at:
            improved = False
            for _, move in self.candidates(state)[:_ROUND]:
                if time.monotonic() >= stop_at:
                    break
                new = self.apply(state, move)
                evaluated += 1
                if new is not None and new.score < state.score - 1e-9:
                    state, improved = new, True
                    accepted += 1
                    break
            if not improved:
                break
        return state, evaluated, accepted

    def polish(self, state: _State) -> _State:
        """Guided local search on each satellite (time shared by customers) and the trucks,
        warm-started from the current routes; keeps whatever is better."""
        members = [
            [c for c in range(self.n_cust) if state.assign[c] == s] for s in range(self.n_sat)
        ]
        count = self.budget(self.loads(state.assign))
        total = max(1, self.n_cust)
        budget = self.left()
        subs = []
        for s, sub in enumerate(state.subs):
            share = budget * 0.9 * len(members[s]) / total
            if not members[s] or share < 0.05:
                subs.append(sub)
                continue
            better = self.sub(
                s, members[s], count[s], sub.routes, "GUIDED_LOCAL_SEARCH", share, cache=False
            )
            keep = len(better.unserved) > len(sub.unserved) or (
                len(better.unserved) == len(sub.unserved) and better.cost >= sub.cost
            )
            subs.append(sub if keep else better)
        polished = self.finish(state.assign, subs, "GUIDED_LOCAL_SEARCH", max(0.05, self.left()))
        if polished.score > state.score - 1e-9:
            unchanged_first = self.finish(state.assign, subs, "GREEDY_DESCENT", 0.05)
            polished = min(unchanged_first, state, key=lambda st: st.score)
        return polished


def solve_2e(
    inst: TwoEchelonInstance, time_limit_s: float, seeds: Sequence[str] = SEEDS
) -> TwoEchelonSolution:
    """Solve `inst` within about `time_limit_s` seconds and validate the result.

    Each seed (see SEEDS; the joint one gets 30 % of the time) is solved and the best is
    improved by moving customers, freighter routes and whole satellites' customers to other
    satellites (re-solving only the satellites concerned, then the trucks) until 60 % of the
    time; the rest polishes the routes with guided local search.
    """
    unknown = [strategy for strategy in seeds if strategy not in SEEDS]
    if unknown or not seeds:
        raise ValueError(f"seed strategies must be among {SEEDS}, got {list(seeds)}")
    started = time.monotonic()
    search = _Search(inst, started + time_limit_s)
    states = [search.state(search.seed(s)) for s in seeds if s != "joint"]
    if "joint" in seeds:
        joint = search.joint(_JOINT_SHARE * time_limit_s)
        states += [joint] if joint is not None else []
    if not states:
        states = [search.state(search.seed("nearest"))]
    initial = min(states, key=lambda st: st.score)
    state, evaluated, accepted = search.descend(initial, started + 0.6 * time_limit_s)
    best = search.polish(state)
    second = [(s, list(r)) for s, sub in enumerate(best.subs) for r in sub.routes]
    solution = TwoEchelonSolution(
        cost=best.cost,
        first=[list(r) for r in best.first.routes],
        first_loads=[list(a) for a in best.first.loads],
        second=second,
        valid=False,
        stats={
            "initial_cost": initial.cost,
            "descent_cost": state.cost,
            "moves_evaluated": float(evaluated),
            "moves_accepted": float(accepted),
            "solves": float(search.solves),
            "time_s": time.monotonic() - started,
        },
    )
    solution.valid = not validate_2e(inst, solution)
    return solution


def solve_single_echelon(inst: TwoEchelonInstance, time_limit_s: float) -> float:
    """Baseline: no satellites, the city freighters serve every customer from the depot.

    The fleet is `freighters_total` city freighters (their capacity, cost per distance and
    fixed cost) based at the depot; when a quick descent cannot serve everyone with that
    many, one more freighter is added at a time. The rest of the time goes to guided local
    search. Returns the cost in the same convention as `solve_2e` (no handling, no trucks),
    or math.inf when customers stay unserved.
    """
    search = _Search(inst, time.monotonic() + time_limit_s)
    points = [0, *(search.cust_point(c) for c in range(search.n_cust))]
    demands = [int(d) for d in inst.demand]
    count = inst.freighters_total
    routes: list[list[int]] | None = None
    while routes is None and count <= inst.freighters_total + len(demands):
        quick = SolveParams(
            time_limit_s=max(0.01, min(_EVAL_LIMIT_S, search.left())),
            metaheuristic="GREEDY_DESCENT",
        )
        solved = search.cvrp(points, demands, count, _freighters(inst), quick)
        if solved is not None and not solved[1]:
            routes = solved[0]
        elif search.left() <= 0:
            return math.inf
        else:
            count += 1
    if routes is None:
        return math.inf
    if search.left() > 0.05:
        params = SolveParams(time_limit_s=search.left(), initial_routes=routes)
        solved = search.cvrp(points, demands, count, _freighters(inst), params)
        if solved is not None and not solved[1]:
            routes = solved[0]
    return search.path_cost(0, [[points[node] for node in r] for r in routes], _freighters(inst))
