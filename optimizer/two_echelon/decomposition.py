"""The decomposition behind the 2E-CVRP search: an assignment of customers to satellites is
evaluated exactly by solving each satellite's freighter routes and the truck routes as CVRPs
with `optimizer.solver.solve` on integer matrices (cost per distance times length times
`scale`, rounded), with caches of the sub-problem solves."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optimizer.problem import Problem, Vehicle
from optimizer.solver import SolveParams, solve
from optimizer.two_echelon.model import TwoEchelonInstance

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Time cap (s) of one evaluation solve (greedy descent, which usually stops far earlier).
EVAL_LIMIT_S = 1.0
#: Extra freighters a satellite may get beyond its capacity bound, when the fleet allows.
_EXTRA_FREIGHTERS = 2


@dataclass
class Sub:
    """One satellite's freighter routes (customer indices), unserved customers, exact cost."""

    routes: list[list[int]]
    unserved: list[int]
    cost: float


@dataclass
class First:
    """Truck routes (satellite per visit), amounts per visit, undelivered amount, exact cost."""

    routes: list[list[int]]
    loads: list[list[int]]
    undelivered: int
    cost: float


@dataclass
class State:
    """A full solution: customer → satellite, per-satellite routes, truck routes, costs.

    `score` is the exact cost plus a large penalty per unserved customer or undelivered
    truck load, so repairing an infeasible state always pays.
    """

    assign: list[int]
    subs: list[Sub]
    first: First
    cost: float
    score: float


@dataclass(frozen=True)
class Fleet:
    """One echelon's vehicles: capacity (units), cost per distance, fixed cost per use."""

    capacity: int
    cost_per_dist: float
    fixed: float


def trucks(inst: TwoEchelonInstance) -> Fleet:
    return Fleet(inst.truck_capacity, inst.truck_cost_per_dist, inst.truck_fixed)


def freighters(inst: TwoEchelonInstance) -> Fleet:
    return Fleet(inst.freighter_capacity, inst.freighter_cost_per_dist, inst.freighter_fixed)


class Decomposition:
    """Exact evaluation of assignments for one instance, with caches of the sub-problem solves."""

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
        self.sub_cache: dict[tuple[int, frozenset[int], int], Sub] = {}
        self.first_cache: dict[tuple[int, ...], First] = {}
        self.solves = 0

    # ---- geometry and costs

    def sat_point(self, s: int) -> int:
        return 1 + s

    def cust_point(self, c: int) -> int:
        return 1 + self.n_sat + c

    def path_cost(self, home: int, routes: list[list[int]], fleet: Fleet) -> float:
        """Exact cost (instance units) of routes of points from and back to point `home`."""
        total = 0.0
        for route in routes:
            path = [home, *route, home]
            total += fleet.fixed + fleet.cost_per_dist * float(self.dist[path[:-1], path[1:]].sum())
        return total

    def freighter_cost(self, s: int, routes: list[list[int]]) -> float:
        """Exact cost of satellite s's freighter routes (customer indices)."""
        points = [[self.cust_point(c) for c in r] for r in routes]
        return self.path_cost(self.sat_point(s), points, freighters(self.inst))

    def truck_cost(self, routes: list[list[int]]) -> float:
        """Exact cost of truck routes given as satellite indices."""
        points = [[self.sat_point(s) for s in r] for r in routes]
        return self.path_cost(0, points, trucks(self.inst))

    def left(self) -> float:
        return self.deadline - time.monotonic()

    # ---- sub-problems

    def cvrp(
        self, points: list[int], demands: list[int], count: int, fleet: Fleet, params: SolveParams
    ) -> tuple[list[list[int]], list[int]] | None:
        """Solve a CVRP on `points` from points[0] with `count` vehicles of `fleet`;
        (routes, unserved) in local node indices 1..len(points)-1, or None on failure."""
        dist = self.dist[np.ix_(points, points)]
        matrix: IntArray = np.rint(dist * fleet.cost_per_dist * self.scale).astype(np.int64)
        n = len(points)
        grams = np.zeros(n, dtype=np.int64)
        grams[1:] = demands
        fixed_int = round(fleet.fixed * self.scale)
        # more than any set of routes costs, so serving a node always pays when it fits
        penalty = int(matrix.max(initial=0)) * (n + count) + fixed_int * count + 1
        vehicle = Vehicle(
            start=0, end=0, capacity_g=fleet.capacity, capacity_ml=0, fixed_cost=fixed_int
        )
        problem = Problem.build([matrix], [vehicle] * count, delivery=grams, penalty=penalty)
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
    ) -> Sub:
        """Freighter routes of satellite s for `customers` with at most `count` freighters."""
        key = (s, frozenset(customers), count)
        if cache and key in self.sub_cache:
            return self.sub_cache[key]
        if not customers or count == 0:
            result = Sub([], list(customers), 0.0)
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
            solved = self.cvrp(points, demands, count, freighters(self.inst), params)
            if solved is None:
                result = Sub([], list(customers), 0.0)
            else:
                routes = [[customers[node - 1] for node in r] for r in solved[0]]
                unserved = [customers[node - 1] for node in solved[1]]
                result = Sub(routes, unserved, self.freighter_cost(s, routes))
        if cache:
            self.sub_cache[key] = result
        return result

    def first(self, loads: tuple[int, ...], metaheuristic: str, limit_s: float) -> First:
        """Truck routes delivering `loads[s]` to each satellite s, split where needed.

        A satellite's load becomes several co-located nodes of at most `piece` units; the
        piece shrinks (Q, Q/2, Q/4, ...) while the fleet cannot carry the pieces.
        """
        if metaheuristic == "GREEDY_DESCENT" and loads in self.first_cache:
            return self.first_cache[loads]
        inst = self.inst
        sats = [s for s in range(self.n_sat) if loads[s] > 0]
        best = First([], [], sum(loads), 0.0)
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
            solved = self.cvrp(points, amounts, inst.truck_count, trucks(inst), params)
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
                best = First(routes, visit_loads, undelivered, self.truck_cost(routes))
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
        previous: State | None = None,
        changed: frozenset[int] = frozenset(),
    ) -> State:
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
            limit = min(EVAL_LIMIT_S, self.left())
            subs.append(self.sub(s, members[s], count[s], warm, "GREEDY_DESCENT", limit))
        return self.finish(assign, subs, "GREEDY_DESCENT", min(EVAL_LIMIT_S, self.left()))

    def finish(
        self, assign: list[int], subs: list[Sub], metaheuristic: str, limit_s: float
    ) -> State:
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
        return State(assign, subs, first, cost, cost + self.big * unserved)

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

    def joint(self, limit_s: float) -> State | None:
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
        problem = Problem.build(
            matrices, vehicles, delivery=demand, penalty=largest * (n + fleet) + fixed * fleet + 1
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
        subs = [Sub(routes, [], self.freighter_cost(s, routes)) for s, routes in enumerate(members)]
        return self.finish(assign, subs, "GREEDY_DESCENT", min(EVAL_LIMIT_S, self.left()))
