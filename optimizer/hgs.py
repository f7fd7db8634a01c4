"""PyVRP's iterated local search for a Problem (the only module that imports pyvrp).

PyVRP (MIT, https://pyvrp.org; 0.14 replaced the hybrid genetic search of its first versions
with an iterated local search) solves the same integer model as OR-Tools, translated as:

* locations are our node indices and PyVRP's matrices are ours; every start or end location
  is a PyVRP depot, every customer a client with its window, service time, delivery and
  pickup (simultaneous: deliveries leave the depot, pickups return to it);
* vehicles with the same attributes form one vehicle type. Costs keep our exact scaling
  (`optimizer.costs`): per metre `cost_per_km * PER_METRE`, per second of route duration
  `cost_per_hour * PER_SECOND`, fixed `fixed_cost * COST_SCALE`, all divided by their common
  divisor so that PyVRP's penalties meet numbers of a sensible size;
* shift windows and depot windows become the vehicle type's earliest start, latest start and
  latest return; `max_duration` its shift duration, `max_distance` its maximum distance.
  Where no time constraint can bind (`slack_departures`: plain CVRP) PyVRP gets no windows
  at all, which spares it its time bookkeeping;
* weight and volume are two load dimensions in grams and millilitres (unused ones left out;
  dividing them by a common unit changes PyVRP's load penalties and measured worse);
* optional nodes are optional clients whose prize is their penalty;
* the points a vehicle may not serve are unreachable in its own routing profile: travel to
  and from them takes longer than any shift, so a route through them is never feasible;
* a trip chain (`Vehicle.group`) is one PyVRP vehicle that reloads at a second depot on the
  chain's location, whose service time is the chain's `reload_s`; the trips of a chain must
  share their depot, vehicle, shift window and reload time, and only the first may have a
  fixed cost or any trip a duration or distance limit. With an hourly cost, PyVRP also
  charges the reloads and the waits between trips, which our cost rule does not: an
  approximation of the objective only; the reported cost is always ours.

What PyVRP cannot express is listed by `unsupported`: lunch breaks, paired pickup and delivery
and trip chains outside the rule above. `relax` drops them so that PyVRP can search a relaxed
problem whose routes OR-Tools then repairs (see `optimizer.portfolio`).

Answers come back as our Solution: trips split at the reload depot, each trip timed by
`forward_schedule` from PyVRP's departure and then left as late as its schedule allows, so
that hourly costs count no avoidable waiting. The cost is recomputed by `optimizer.costs`.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from optimizer.costs import COST_SCALE, PER_METRE, PER_SECOND, route_cost, route_distance
from optimizer.problem import MANDATORY, Problem, Route, Solution
from optimizer.schedule import forward_schedule, latest_departure, slack_departures
from optimizer.validate import check_problem

if TYPE_CHECKING:
    import pyvrp

#: The engine name this module puts on its solutions.
ENGINE = "pyvrp"


def load() -> None:
    """Import PyVRP now (a helper process warms up before its first deadline counts)."""
    import pyvrp  # noqa: F401


#: PyVRP's "no limit" for times, durations and distances.
_UNLIMITED = int(np.iinfo(np.int64).max)
#: PyVRP warns above this matrix entry (possible overflow in its penalties).
_MAX_MATRIX_VALUE = 1 << 44


@dataclass
class SearchResult:
    """PyVRP's best routes as customer nodes per vehicle (feasible or not) and our Solution
    of them (status "failed" without routes when they break a constraint)."""

    nodes: list[list[int]]
    feasible: bool
    solution: Solution


def unsupported(problem: Problem) -> list[str]:
    """What of `problem` PyVRP cannot express, one reason each; [] when it can solve it."""
    reasons = []
    lunches = sum(vehicle.lunch is not None for vehicle in problem.vehicles)
    if lunches:
        reasons.append(f"lunch breaks ({lunches} vehicles)")
    if problem.pairs:
        reasons.append(f"paired pickup and delivery ({len(problem.pairs)} pairs)")
    for group, trips in _chains(problem).items():
        fault = _chain_fault(problem, trips)
        if fault:
            reasons.append(f"trip chain {group}: {fault}")
    return reasons


def relax(problem: Problem) -> Problem:
    """`problem` without what PyVRP cannot express: no lunch breaks, but the hourly cost of
    one added to the vehicle's fixed cost (a route across the lunch window takes it); each
    pair's pickup carried to the depot and its delivery brought from it; a chain PyVRP
    cannot express as independent trips. Same nodes and vehicles: routes map back as they are.
    """
    loose = {
        v for trips in _chains(problem).values() if _chain_fault(problem, trips) for v in trips
    }
    vehicles = []
    for v, vehicle in enumerate(problem.vehicles):
        lunch_cost = 0
        if vehicle.lunch is not None:
            lunch_cost = math.ceil(vehicle.lunch.duration * vehicle.cost_per_hour / 3600)
        vehicles.append(
            replace(
                vehicle,
                lunch=None,
                fixed_cost=vehicle.fixed_cost + lunch_cost,
                group=None if v in loose else vehicle.group,
            )
        )
    return replace(problem, vehicles=vehicles, pairs=[])


def solve(
    problem: Problem,
    time_limit_s: float,
    *,
    max_iterations: int | None = None,
    seed: int = 0,
    initial_routes: list[list[int]] | None = None,
) -> Solution:
    """PyVRP's best solution of `problem` within `time_limit_s` (and `max_iterations`).

    Raises ValueError for a malformed problem, a bad warm start, or one `unsupported` lists.
    """
    return search(
        problem,
        time_limit_s,
        max_iterations=max_iterations,
        seed=seed,
        initial_routes=initial_routes,
    ).solution


def search(
    problem: Problem,
    time_limit_s: float,
    *,
    max_iterations: int | None = None,
    seed: int = 0,
    initial_routes: list[list[int]] | None = None,
) -> SearchResult:
    """Run PyVRP on `problem`; its best routes even when infeasible (a relaxed problem's
    routes are the raw material of a repair). Raises ValueError as `solve` does."""
    import pyvrp

    started = time.monotonic()
    faults = check_problem(problem)
    if faults:
        raise ValueError("invalid problem: " + "; ".join(faults[:5]))
    reasons = unsupported(problem)
    if reasons:
        raise ValueError("PyVRP cannot express: " + "; ".join(reasons))
    customers = problem.customers()
    if not customers:
        return SearchResult([], True, _solution(problem, [], started, {}, "feasible"))
    if _unservable_mandatory(problem):
        stats = {"unservable_mandatory": 1.0}
        return SearchResult([], False, _solution(problem, [], started, stats, "failed"))

    model = _Translation(problem)
    initial = model.initial_solution(initial_routes) if initial_routes is not None else None
    with warnings.catch_warnings():
        # PyVRP warns when its penalties peak; with optional stops that is an answer, not news
        warnings.simplefilter("ignore", pyvrp.exceptions.PenaltyBoundWarning)
        result = pyvrp.solve(
            model.data,
            stop=_Stop(started + time_limit_s, max_iterations),
            seed=seed,
            collect_stats=False,
            display=False,
            initial_solution=initial,
        )
    best = result.best
    routes = model.routes(best)
    nodes: list[list[int]] = [[] for _ in problem.vehicles]
    for route in routes:
        nodes[route.vehicle] = route.nodes
    stats = {"iterations": float(result.num_iterations), "build_s": model.build_s}
    if not best.is_feasible():
        stats["infeasible"] = 1.0
        return SearchResult(nodes, False, _solution(problem, [], started, stats, "failed"))
    stats["objective"] = float(result.cost()) * model.cost_unit / COST_SCALE
    return SearchResult(nodes, True, _solution(problem, routes, started, stats, "feasible"))


class _Stop:
    """PyVRP stopping criterion: a deadline on the monotonic clock (s), so that the time
    PyVRP takes to build its first solution counts too, and an optional iteration count."""

    def __init__(self, deadline: float, max_iterations: int | None) -> None:
        self._deadline = deadline
        self._left = max_iterations

    def __call__(self, best_cost: float) -> bool:
        if self._left is not None:
            self._left -= 1
            if self._left < 0:
                return True
        return time.monotonic() >= self._deadline


def _solution(
    problem: Problem,
    routes: list[Route],
    started: float,
    stats: dict[str, float],
    status: str,
) -> Solution:
    served = {node for route in routes for node in route.nodes}
    unserved = [node for node in problem.customers() if node not in served]
    stats = {
        **stats,
        "penalty": float(sum(max(0, int(problem.penalty[node])) for node in unserved)),
        "distance_m": float(sum(route_distance(problem, route) for route in routes)),
        "vehicles_used": float(len(routes)),
    }
    return Solution(
        routes=routes,
        unserved=unserved,
        cost=sum(route_cost(problem, route) for route in routes),
        status=status,
        solve_time_s=time.monotonic() - started,
        stats=stats,
        engine=ENGINE,
    )


def _chains(problem: Problem) -> dict[int, list[int]]:
    """Vehicle indices of each trip group with two or more trips, in list order."""
    groups: dict[int, list[int]] = {}
    for v, vehicle in enumerate(problem.vehicles):
        if vehicle.group is not None:
            groups.setdefault(vehicle.group, []).append(v)
    return {group: trips for group, trips in groups.items() if len(trips) > 1}


def _chain_fault(problem: Problem, trips: list[int]) -> str:
    """Why PyVRP cannot run these trips as one vehicle with reloads, or ""."""
    vehicles = [problem.vehicles[v] for v in trips]
    first = vehicles[0]
    if any(v.start != first.start or v.end != first.start for v in vehicles):
        return "trips do not all start and end at one depot"
    same = ("capacity_g", "capacity_ml", "profile", "cost_per_km", "cost_per_hour")
    if any(getattr(v, name) != getattr(first, name) for v in vehicles for name in same):
        return "trips differ in capacity, profile or costs"
    if any((v.shift_start, v.shift_end) != (first.shift_start, first.shift_end) for v in vehicles):
        return "trips have different shift windows"
    if any(v.max_duration is not None or v.max_distance is not None for v in vehicles):
        return "per-trip duration or distance limits"
    if any(v.fixed_cost for v in vehicles[1:]):
        return "fixed cost on a later trip"
    if len({v.reload_s for v in vehicles[1:]}) > 1:
        return "different reload times"
    forbidden = _forbidden(problem)
    if len({forbidden[v] for v in trips}) > 1:
        return "points allow some of its trips but not others"
    return ""


def _forbidden(problem: Problem) -> list[frozenset[int]]:
    """Per vehicle, the customers it may not serve."""
    barred: list[set[int]] = [set() for _ in problem.vehicles]
    if problem.allowed:
        for node in problem.customers():
            allowed = problem.allowed[node]
            if allowed is not None:
                for v in range(len(problem.vehicles)):
                    if v not in allowed:
                        barred[v].add(node)
    return [frozenset(nodes) for nodes in barred]


def _unservable_mandatory(problem: Problem) -> bool:
    """True when a mandatory node allows no existing vehicle."""
    if not problem.allowed:
        return False
    count = len(problem.vehicles)
    return any(
        int(problem.penalty[node]) == MANDATORY
        and (allowed := problem.allowed[node]) is not None
        and not any(0 <= v < count for v in allowed)
        for node in problem.customers()
    )


def _gcd(values: Sequence[int]) -> int:
    """Greatest common divisor of the non-zero values, 1 when there are none."""
    return math.gcd(*(int(value) for value in values if value)) or 1


class _Translation:
    """The PyVRP ProblemData of one Problem and the maps back to our nodes and vehicles."""

    def __init__(self, problem: Problem) -> None:
        import pyvrp

        started = time.monotonic()
        self.problem = problem
        self.customers = problem.customers()
        self.client_of = {node: k for k, node in enumerate(self.customers)}
        self.cost_unit = self._cost_unit()
        # without binding times PyVRP skips its time-window bookkeeping (a third faster)
        self.timeless = slack_departures(problem) is not None
        self.dimensions = [
            r
            for r in (0, 1)
            if problem.delivery[self.customers, r].any() or problem.pickup[self.customers, r].any()
        ]
        self.depot_nodes = sorted(problem.depots())
        self.depot_of = {node: k for k, node in enumerate(self.depot_nodes)}
        self.depots = [pyvrp.Depot(location=node) for node in self.depot_nodes]
        self.reload_of: dict[tuple[int, int], int] = {}
        self.forbidden = _forbidden(problem)
        self.profile_of: dict[tuple[int, frozenset[int]], int] = {}
        self.distances: list[Any] = []  # int64 matrices, one per PyVRP profile
        self.durations: list[Any] = []
        self._limit = self._unreachable()

        types: dict[tuple[Any, ...], list[list[int]]] = {}
        for unit in self._units():
            types.setdefault(self._vehicle_type_key(unit), []).append(unit)
        self.units = list(types.values())
        vehicle_types = [
            pyvrp.VehicleType(num_available=len(units), **dict(key)) for key, units in types.items()
        ]
        self.data = pyvrp.ProblemData(
            locations=[pyvrp.Location(0.0, 0.0) for _ in range(problem.n)],
            clients=[self._client(node) for node in self.customers],
            depots=self.depots,
            vehicle_types=vehicle_types,
            distance_matrices=self.distances,
            duration_matrices=self.durations,
        )
        self.build_s = time.monotonic() - started

    def _cost_unit(self) -> int:
        """Common divisor of every cost term in 1/COST_SCALE fen."""
        problem = self.problem
        terms = []
        for vehicle in problem.vehicles:
            terms += [
                vehicle.cost_per_km * PER_METRE,
                vehicle.cost_per_hour * PER_SECOND,
                vehicle.fixed_cost * COST_SCALE,
            ]
        terms += [
            int(problem.penalty[node]) * COST_SCALE
            for node in self.customers
            if int(problem.penalty[node]) != MANDATORY
        ]
        return _gcd(terms)

    def _unreachable(self) -> int:
        """Travel time (s) and distance (m) to a forbidden point: longer than any shift."""
        problem = self.problem
        horizon = max(
            max(v.shift_end for v in problem.vehicles), int(problem.time_windows[:, 1].max())
        )
        longest = max(int(m.max()) for m in [*problem.distances, *problem.durations])
        return min(_MAX_MATRIX_VALUE, 2 * (horizon + longest) + 1)

    def _units(self) -> list[list[int]]:
        """Vehicle indices of each PyVRP vehicle: one trip, or a trip chain in order."""
        chains = _chains(self.problem)
        grouped = {v for trips in chains.values() for v in trips}
        units = [[v] for v in range(len(self.problem.vehicles)) if v not in grouped]
        return units + list(chains.values())

    def _profile(self, vehicle: int) -> int:
        """The PyVRP routing profile of a vehicle: its matrices with its forbidden points cut."""
        problem = self.problem
        key = (problem.vehicles[vehicle].profile, self.forbidden[vehicle])
        if key not in self.profile_of:
            profile, barred = key
            distances = problem.distances[profile].astype(np.int64)
            durations = problem.durations[profile].astype(np.int64)
            if barred:
                cut = sorted(barred)
                distances = distances.copy()
                durations = durations.copy()
                for matrix in (distances, durations):
                    matrix[cut, :] = self._limit
                    matrix[:, cut] = self._limit
                    matrix[cut, cut] = 0
            self.profile_of[key] = len(self.distances)
            self.distances.append(distances)
            self.durations.append(durations)
        return self.profile_of[key]

    def _reload_depot(self, node: int, reload_s: int) -> int:
        """A depot on `node` for reloads: `reload_s` of service, windows shifted so that the
        next trip leaves within the node's own window."""
        import pyvrp

        key = (node, reload_s)
        if key not in self.reload_of:
            opens, closes = (int(t) for t in self.problem.time_windows[node])
            early = max(0, opens - reload_s)
            late = max(early, closes - reload_s)
            self.reload_of[key] = len(self.depots)
            self.depots.append(
                pyvrp.Depot(location=node, tw_early=early, tw_late=late, service_duration=reload_s)
            )
        return self.reload_of[key]

    def _vehicle_type_key(self, unit: list[int]) -> tuple[Any, ...]:
        """The keyword arguments of the unit's PyVRP VehicleType, as a hashable key."""
        problem = self.problem
        first, last = problem.vehicles[unit[0]], problem.vehicles[unit[-1]]
        windows = problem.time_windows
        early = max(first.shift_start, int(windows[first.start, 0]))
        late = min(last.shift_end, int(windows[last.end, 1]))
        start_late = min(first.shift_end, int(windows[first.start, 1]), late)
        capacities = (first.capacity_g, first.capacity_ml)
        reloads = len(unit) - 1
        fields: dict[str, Any] = {
            "capacity": tuple(capacities[r] for r in self.dimensions),
            "start_depot": self.depot_of[first.start],
            "end_depot": self.depot_of[last.end],
            "fixed_cost": first.fixed_cost * COST_SCALE // self.cost_unit,
            "tw_early": 0 if self.timeless else early,
            "tw_late": _UNLIMITED if self.timeless else late,
            "start_late": _UNLIMITED if self.timeless else start_late,
            "shift_duration": _UNLIMITED if first.max_duration is None else first.max_duration,
            "max_distance": _UNLIMITED if first.max_distance is None else first.max_distance,
            "unit_distance_cost": first.cost_per_km * PER_METRE // self.cost_unit,
            "unit_duration_cost": first.cost_per_hour * PER_SECOND // self.cost_unit,
            "profile": self._profile(unit[0]),
            "reload_depots": (self._reload_depot(first.start, last.reload_s),) if reloads else (),
            "max_reloads": reloads,
        }
        return tuple(sorted(fields.items()))

    def _client(self, node: int) -> pyvrp.Client:
        import pyvrp

        problem = self.problem
        penalty = int(problem.penalty[node])
        required = penalty == MANDATORY
        delivery = [int(problem.delivery[node, r]) for r in self.dimensions]
        pickup = [int(problem.pickup[node, r]) for r in self.dimensions]
        return pyvrp.Client(
            location=node,
            delivery=delivery,
            pickup=pickup,
            service_duration=int(problem.service[node]),
            tw_early=0 if self.timeless else int(problem.time_windows[node, 0]),
            tw_late=_UNLIMITED if self.timeless else int(problem.time_windows[node, 1]),
            prize=0 if required else penalty * COST_SCALE // self.cost_unit,
            required=required,
        )

    def initial_solution(self, initial_routes: list[list[int]]) -> pyvrp.Solution:
        """A PyVRP solution of our warm start (customer nodes per vehicle, in order)."""
        import pyvrp
        from pyvrp import Activity, ActivityType

        problem = self.problem
        if len(initial_routes) > len(problem.vehicles):
            raise ValueError(
                f"warm start has {len(initial_routes)} routes for {len(problem.vehicles)} vehicles"
            )
        seen: set[int] = set()
        for v, nodes in enumerate(initial_routes):
            for node in nodes:
                if node not in self.client_of or node in seen:
                    raise ValueError(f"warm start route {v}: node {node} is not a fresh customer")
                seen.add(node)
        routes = []
        for vehicle_type, units in enumerate(self.units):
            for unit in units:
                trips = [initial_routes[v] for v in unit if v < len(initial_routes)]
                trips = [trip for trip in trips if trip]
                if not trips:
                    continue
                activities = []
                for k, trip in enumerate(trips):
                    if k:
                        reload = self.data.vehicle_type(vehicle_type).reload_depots[0]
                        activities.append(Activity(ActivityType.DEPOT, reload))
                    activities += [Activity(ActivityType.CLIENT, self.client_of[n]) for n in trip]
                routes.append(pyvrp.Route(self.data, activities, vehicle_type))
        return pyvrp.Solution(self.data, routes)

    def routes(self, best: pyvrp.Solution) -> list[Route]:
        """Our timed routes of a PyVRP solution, one per used trip, in vehicle order."""
        free = [list(units) for units in self.units]
        routes = []
        for route in best.routes():
            unit = free[route.vehicle_type()].pop(0)
            trips: list[tuple[int, list[int]]] = []
            for activity in route.schedule():
                if activity.is_depot():
                    trips.append((int(activity.end_time), []))
                elif activity.is_client():
                    trips[-1][1].append(self.customers[activity.idx])
            used = [(departure, nodes) for departure, nodes in trips if nodes]
            if len(used) > len(unit):
                raise RuntimeError(f"PyVRP made {len(used)} trips for a chain of {len(unit)}")
            for v, (departure, nodes) in zip(unit, used, strict=False):
                vehicle = self.problem.vehicles[v]
                earliest = max(
                    vehicle.shift_start, int(self.problem.time_windows[vehicle.start, 0])
                )
                leave = latest_departure(self.problem, v, nodes, max(departure, earliest))
                times, _ = forward_schedule(self.problem, v, nodes, leave, None)
                routes.append(Route(vehicle=v, nodes=nodes, times=times))
        return sorted(routes, key=lambda route: route.vehicle)
