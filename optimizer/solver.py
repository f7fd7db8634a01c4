"""OR-Tools routing model and search for a Problem (the only module that imports ortools).

All transits are registered as C++ matrices or vectors, so no Python runs inside the search
except the cheap at-solution callback. The objective is in 1/COST_SCALE fen (see
`optimizer.costs`); `Solution.cost` is recomputed in fen from the reported routes.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ortools.constraint_solver import (
    pywrapcp,
    routing_enums_pb2,
    routing_ils_pb2,
    routing_parameters_pb2,
)

from optimizer.costs import COST_SCALE, PER_METRE, PER_SECOND, route_cost, route_distance
from optimizer.problem import MANDATORY, Problem, Route, Solution
from optimizer.schedule import forward_schedule, slack_departures
from optimizer.validate import check_problem

_RESOURCES = (("weight", "capacity_g"), ("volume", "capacity_ml"))


#: The engine name this module puts on its solutions.
ENGINE = "ortools"

#: Metaheuristic name (besides `routing_enums_pb2`'s) for ruin-and-recreate iterated local search.
ITERATED_LOCAL_SEARCH = "ITERATED_LOCAL_SEARCH"


@dataclass(frozen=True)
class SolveParams:
    """Search settings: limits (s, solutions), strategy names, warm start.

    `first_solution` and `metaheuristic` name `routing_enums_pb2` values; `metaheuristic` may
    also be ITERATED_LOCAL_SEARCH (SISR ruin and recreate with simulated-annealing acceptance).
    AUTOMATIC picks by problem shape (see `choose_strategies`) rather than OR-Tools' default.
    `initial_routes` lists, per vehicle in order, the customer nodes of a known solution;
    when it is infeasible for this problem the search starts from scratch.
    """

    time_limit_s: float = 10.0
    solution_limit: int | None = None
    first_solution: str = "AUTOMATIC"
    metaheuristic: str = "AUTOMATIC"
    initial_routes: list[list[int]] | None = None
    log_search: bool = False


def choose_strategies(problem: Problem, params: SolveParams) -> tuple[str, str]:
    """(first solution, metaheuristic) names with AUTOMATIC resolved by the problem's shape.

    Insertion builds a first solution at once where path-building stalls (pickups, pairs,
    binding time windows); plain capacity problems start from the cheapest-arc path. The
    search is iterated local search, except from a warm start, which only the guided local
    search can continue (OR-Tools' ILS always builds its own first solution), and on models
    whose cost or constraints involve times (see `_iterated_search_safe`).
    """
    first, meta = params.first_solution, params.metaheuristic
    if first == "AUTOMATIC":
        constrained = (
            bool(problem.pairs)
            or bool(problem.pickup.any())
            or _slack_time_departures(problem) is None
        )
        first = "PARALLEL_CHEAPEST_INSERTION" if constrained else "PATH_CHEAPEST_ARC"
    if meta in ("AUTOMATIC", ITERATED_LOCAL_SEARCH):
        iterated = params.initial_routes is None and _iterated_search_safe(problem)
        meta = ITERATED_LOCAL_SEARCH if iterated else "GUIDED_LOCAL_SEARCH"
    return first, meta


def solve(
    problem: Problem,
    params: SolveParams = SolveParams(),
    progress: Callable[[int], None] | None = None,
) -> Solution:
    """Solve `problem` within `params` limits; `progress` gets each improving objective (fen).

    `Solution.cost` is the routes' cost (fen, see `optimizer.costs`) without the penalties of
    unserved nodes; `stats` holds the search objective (fen, penalties included), the number of
    solutions seen, the penalty total, distance (m), model build time (s) and routing status.
    Raises ValueError for a malformed problem, strategy name or warm start.
    """
    started = time.monotonic()
    faults = check_problem(problem)
    if faults:
        raise ValueError("invalid problem: " + "; ".join(faults[:5]))
    if _has_unservable_mandatory(problem):
        return _failed(problem, started, {"unservable_mandatory": 1.0})
    model = _RoutingModel(problem)
    search = _search_parameters(problem, params)
    monitor = _Monitor(model.routing, progress)
    model.routing.AddAtSolutionCallback(monitor)
    model.routing.CloseModelWithParameters(search)
    build_s = time.monotonic() - started

    assignment = None
    warm_used = False
    if params.initial_routes is not None:
        warm = model.warm_assignment(params.initial_routes)
        if warm is not None:
            _set_time_limit(search, params.time_limit_s - (time.monotonic() - started))
            assignment = model.routing.SolveFromAssignmentWithParameters(warm, search)
            warm_used = assignment is not None
    if assignment is None:
        _set_time_limit(search, params.time_limit_s - (time.monotonic() - started))
        if search.use_iterated_local_search:
            assignment = model.routing.SolveWithIteratedLocalSearch(search)
        else:
            assignment = model.routing.SolveWithParameters(search)
    if assignment is None:
        stats = {"solutions": float(monitor.solutions), "build_s": build_s}
        return _failed(problem, started, stats | {"routing_status": float(model.routing.status())})

    routes = model.routes(assignment)
    served = {node for route in routes for node in route.nodes}
    unserved = [node for node in problem.customers() if node not in served]
    optimal = model.routing.status() == routing_enums_pb2.RoutingSearchStatus.ROUTING_OPTIMAL
    stats = {
        "objective": assignment.ObjectiveValue() / COST_SCALE,
        "solutions": float(monitor.solutions),
        "penalty": float(sum(int(problem.penalty[node]) for node in unserved)),
        "distance_m": float(sum(route_distance(problem, route) for route in routes)),
        "vehicles_used": float(len(routes)),
        "warm_start": float(warm_used),
        "exact_load_resources": float(model.exact_load_resources),
        "build_s": build_s,
        "routing_status": float(model.routing.status()),
    }
    return Solution(
        routes=routes,
        unserved=unserved,
        cost=sum(route_cost(problem, route) for route in routes),
        status="optimal" if optimal else "feasible",
        solve_time_s=time.monotonic() - started,
        stats=stats,
        engine=ENGINE,
    )


class _Monitor:
    """At-solution callback: counts solutions and reports each improving objective (fen)."""

    def __init__(
        self, routing: pywrapcp.RoutingModel, progress: Callable[[int], None] | None
    ) -> None:
        self._routing = routing
        self._progress = progress
        self._best: int | None = None
        self.solutions = 0

    def __call__(self) -> None:
        self.solutions += 1
        value = int(self._routing.CostVar().Value())  # the cost variable exists once closed
        if self._best is None or value < self._best:
            self._best = value
            if self._progress is not None:
                self._progress((value + COST_SCALE // 2) // COST_SCALE)


class _RoutingModel:
    """The routing model of one Problem: index manager, costs, dimensions, side constraints."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        vehicles = problem.vehicles
        self.manager = pywrapcp.RoutingIndexManager(
            problem.n, len(vehicles), [v.start for v in vehicles], [v.end for v in vehicles]
        )
        self.routing = pywrapcp.RoutingModel(self.manager)
        self.solver = self.routing.solver()
        self.horizon = max(
            max(v.shift_end for v in vehicles), int(problem.time_windows[:, 1].max())
        )
        self.exact_load_resources = 0
        self.lunches: dict[int, pywrapcp.IntervalVar] = {}
        self._add_arc_costs()
        self.departures = _slack_time_departures(problem)
        self.time = None if self.departures is not None else self._add_time()
        for resource, (name, capacity_field) in enumerate(_RESOURCES):
            capacities = [int(getattr(v, capacity_field)) for v in vehicles]
            self._add_load(resource, name, capacities)
        self._add_range()
        self._add_customers()
        self._add_pairs()
        self._add_trip_chains()

    def _index(self, node: int) -> int:
        return int(self.manager.NodeToIndex(node))

    def _add_arc_costs(self) -> None:
        """Distance * cost_per_km as one C++ matrix per distinct (profile, cost_per_km)."""
        registered: dict[tuple[int, int], int] = {}
        for v, vehicle in enumerate(self.problem.vehicles):
            key = (vehicle.profile, vehicle.cost_per_km)
            if key not in registered:
                matrix = self.problem.distances[vehicle.profile].astype(np.int64)
                scaled = matrix * (vehicle.cost_per_km * PER_METRE)
                registered[key] = self.routing.RegisterTransitMatrix(scaled.tolist())
            self.routing.SetArcCostEvaluatorOfVehicle(registered[key], v)
            self.routing.SetFixedCostOfVehicle(vehicle.fixed_cost * COST_SCALE, v)

    def _add_time(self) -> pywrapcp.RoutingDimension:
        """Time dimension: service + travel per profile, waiting allowed, windows, breaks."""
        problem, routing = self.problem, self.routing
        service = problem.service.astype(np.int64)
        transits: dict[int, int] = {}
        for profile in sorted({v.profile for v in problem.vehicles}):
            matrix = service[:, None] + problem.durations[profile].astype(np.int64)
            transits[profile] = routing.RegisterTransitMatrix(matrix.tolist())
        routing.AddDimensionWithVehicleTransits(
            [transits[v.profile] for v in problem.vehicles],
            self.horizon,
            self.horizon,
            False,
            "time",
        )
        dim = routing.GetDimensionOrDie("time")
        windows = problem.time_windows
        visit = [int(service[self.manager.IndexToNode(i)]) for i in range(routing.Size())]
        for v, vehicle in enumerate(problem.vehicles):
            start, end = routing.Start(v), routing.End(v)
            dim.CumulVar(start).SetRange(
                max(vehicle.shift_start, int(windows[vehicle.start, 0])),
                min(vehicle.shift_end, int(windows[vehicle.start, 1])),
            )
            dim.CumulVar(end).SetMax(min(vehicle.shift_end, int(windows[vehicle.end, 1])))
            if vehicle.max_duration is not None:
                dim.SetSpanUpperBoundForVehicle(vehicle.max_duration, v)
            if vehicle.cost_per_hour:
                dim.SetSpanCostCoefficientForVehicle(vehicle.cost_per_hour * PER_SECOND, v)
            if vehicle.lunch is not None:
                lunch = self.solver.FixedDurationIntervalVar(
                    vehicle.lunch.earliest,
                    vehicle.lunch.latest,
                    vehicle.lunch.duration,
                    False,
                    f"lunch_{v}",
                )
                dim.SetBreakIntervalsOfVehicle([lunch], v, visit)
                self.lunches[v] = lunch
            routing.AddVariableMinimizedByFinalizer(dim.CumulVar(end))
            routing.AddVariableMaximizedByFinalizer(dim.CumulVar(start))
        return dim

    def _add_load(self, resource: int, name: str, capacities: list[int]) -> None:
        """Capacity on one resource, exact at every point of the route.

        Without pickups (or without deliveries) a plain cumulative demand suffices. Otherwise
        a `load` dimension (transit pickup - delivery) starts at the vehicle's delivery total,
        tied to the end of a `delivered` dimension that sums the depot deliveries.
        """
        problem = self.problem
        customers = problem.customers()
        pair_pickups = {p for p, _ in problem.pairs}
        pair_drops = {d for _, d in problem.pairs}
        delivery = [0] * problem.n
        pickup = [0] * problem.n
        for node in customers:
            delivery[node] = int(problem.delivery[node, resource])
            pickup[node] = int(problem.pickup[node, resource])
        depot_delivery = [0 if i in pair_drops else amount for i, amount in enumerate(delivery)]
        depot_pickup = [0 if i in pair_pickups else amount for i, amount in enumerate(pickup)]
        if not any(delivery) and not any(pickup):
            return
        if not problem.pairs and not any(depot_pickup):
            self._add_dimension(depot_delivery, capacities, True, name)
            return
        if not problem.pairs and not any(depot_delivery):
            self._add_dimension(depot_pickup, capacities, True, name)
            return
        load = [p - d for p, d in zip(pickup, delivery, strict=True)]
        load_dim = self._add_dimension(load, capacities, not any(depot_delivery), name)
        if not any(depot_delivery):
            return
        delivered = self._add_dimension(depot_delivery, capacities, True, f"{name}_delivered")
        for v in range(len(problem.vehicles)):
            self.solver.Add(
                load_dim.CumulVar(self.routing.Start(v)) == delivered.CumulVar(self.routing.End(v))
            )
        self.exact_load_resources += 1

    def _add_dimension(
        self, transit: list[int], capacities: list[int], start_at_zero: bool, name: str
    ) -> pywrapcp.RoutingDimension:
        index = self.routing.RegisterUnaryTransitVector(transit)
        self.routing.AddDimensionWithVehicleCapacity(index, 0, capacities, start_at_zero, name)
        return self.routing.GetDimensionOrDie(name)

    def _add_range(self) -> None:
        """Distance dimension capping each route at its vehicle's `max_distance` (m)."""
        problem = self.problem
        if all(v.max_distance is None for v in problem.vehicles):
            return
        transits = {
            profile: self.routing.RegisterTransitMatrix(
                problem.distances[profile].astype(np.int64).tolist()
            )
            for profile in sorted({v.profile for v in problem.vehicles})
        }
        unlimited = int(max(matrix.max() for matrix in problem.distances)) * (problem.n + 1)
        self.routing.AddDimensionWithVehicleTransitAndCapacity(
            [transits[v.profile] for v in problem.vehicles],
            0,
            [unlimited if v.max_distance is None else v.max_distance for v in problem.vehicles],
            True,
            "distance",
        )

    def _add_customers(self) -> None:
        """Time windows, allowed vehicles and penalties (mandatory nodes get no disjunction)."""
        problem = self.problem
        for node in problem.customers():
            index = self._index(node)
            if self.time is not None:
                self.time.CumulVar(index).SetRange(
                    int(problem.time_windows[node, 0]), int(problem.time_windows[node, 1])
                )
            allowed = problem.allowed[node] if problem.allowed else None
            if allowed is not None:
                barred = [v for v in range(len(problem.vehicles)) if v not in allowed]
                self.routing.VehicleVar(index).RemoveValues(barred)
            penalty = int(problem.penalty[node])
            if penalty != MANDATORY:
                self.routing.AddDisjunction([index], penalty * COST_SCALE)

    def _add_pairs(self) -> None:
        """Shipments: both ends served or neither, by one vehicle, pickup first (the routing
        model's precedence; no cumul constraint, which would bind unserved pairs too)."""
        for pickup, drop in self.problem.pairs:
            p, d = self._index(pickup), self._index(drop)
            self.routing.AddPickupAndDelivery(p, d)
            self.solver.Add(self.routing.VehicleVar(p) == self.routing.VehicleVar(d))

    def _add_trip_chains(self) -> None:
        """Trips of one group run in list order: trip k+1 is used only if trip k is, and
        starts no earlier than trip k's end plus trip k+1's `reload_s`."""
        groups: dict[int, list[int]] = {}
        for v, vehicle in enumerate(self.problem.vehicles):
            if vehicle.group is not None:
                groups.setdefault(vehicle.group, []).append(v)
        for trips in groups.values():
            assert self.time is not None  # trip groups keep the time dimension
            for before, after in itertools.pairwise(trips):
                active = self.routing.ActiveVehicleVar(after)
                self.solver.Add(active <= self.routing.ActiveVehicleVar(before))
                reload_s = self.problem.vehicles[after].reload_s
                self.solver.Add(
                    self.time.CumulVar(self.routing.Start(after)) + self.horizon * (1 - active)
                    >= self.time.CumulVar(self.routing.End(before)) + reload_s * active
                )

    def warm_assignment(self, initial_routes: list[list[int]]) -> pywrapcp.Assignment | None:
        """Assignment of the given routes (customer nodes per vehicle), None if infeasible."""
        problem = self.problem
        if len(initial_routes) > len(problem.vehicles):
            raise ValueError(
                f"warm start has {len(initial_routes)} routes for {len(problem.vehicles)} vehicles"
            )
        customers = set(problem.customers())
        seen: set[int] = set()
        for v, nodes in enumerate(initial_routes):
            for node in nodes:
                if node not in customers or node in seen:
                    raise ValueError(f"warm start route {v}: node {node} is not a fresh customer")
                seen.add(node)
        routes = [[self._index(node) for node in nodes] for nodes in initial_routes]
        routes += [[] for _ in range(len(problem.vehicles) - len(routes))]
        return self.routing.ReadAssignmentFromRoutes(routes, True)

    def routes(self, assignment: pywrapcp.Assignment) -> list[Route]:
        """Non-empty routes, timed by forward propagation from the solver's departures."""
        routes = []
        for v in range(len(self.problem.vehicles)):
            indices = [self.routing.Start(v)]
            while not self.routing.IsEnd(indices[-1]):
                indices.append(assignment.Value(self.routing.NextVar(indices[-1])))
            if len(indices) == 2:
                continue
            nodes = [int(self.manager.IndexToNode(i)) for i in indices[1:-1]]
            if self.time is None:
                assert self.departures is not None
                times, _ = forward_schedule(self.problem, v, nodes, self.departures[v], None)
                routes.append(Route(vehicle=v, nodes=nodes, times=times))
                continue
            cumuls = [int(assignment.Value(self.time.CumulVar(i))) for i in indices]
            gap = self._lunch_gap(assignment, v, [self.problem.vehicles[v].start, *nodes], cumuls)
            times, lunch_start = forward_schedule(self.problem, v, nodes, cumuls[0], gap)
            routes.append(Route(vehicle=v, nodes=nodes, times=times, lunch_start=lunch_start))
        return routes

    def _lunch_gap(
        self, assignment: pywrapcp.Assignment, v: int, stops: list[int], cumuls: list[int]
    ) -> int | None:
        """Position k such that the solver put vehicle v's lunch between stop k and k+1, or
        None when it has no lunch or takes it before the start or after the end."""
        lunch = self.problem.vehicles[v].lunch
        if lunch is None:
            return None
        start = int(assignment.StartValue(self.lunches[v]))
        if start + lunch.duration <= cumuls[0] or start >= cumuls[-1]:
            return None
        for k, node in enumerate(stops):
            ready = cumuls[k] + int(self.problem.service[node])
            if ready <= start and start + lunch.duration <= cumuls[k + 1]:
                return k
        raise RuntimeError(f"vehicle {v}: lunch at {start} s fits no gap of {cumuls}")


def _iterated_search_safe(problem: Problem) -> bool:
    """True when OR-Tools' iterated local search can run this model.

    Its ruin-and-recreate leaves the cost variable unbound (a fatal C++ check) when the
    objective includes route spans; lunch breaks and trip chains tie extra constraints to
    the same time variables, so they take the guided local search as well.
    """
    return all(
        not v.cost_per_hour and v.lunch is None and v.group is None for v in problem.vehicles
    )


def _slack_time_departures(problem: Problem) -> list[int] | None:
    """Each vehicle's departure (s) when no time constraint can ever bind (see
    `slack_departures`) and no vehicle has an hourly cost, else None. The routing model then
    needs no time dimension, which makes each local-search move much cheaper (pure CVRP)."""
    if any(vehicle.cost_per_hour for vehicle in problem.vehicles):
        return None
    return slack_departures(problem)


def _has_unservable_mandatory(problem: Problem) -> bool:
    """True when a mandatory node allows no existing vehicle."""
    if not problem.allowed:
        return False
    for node in problem.customers():
        allowed = problem.allowed[node]
        if (
            allowed is not None
            and int(problem.penalty[node]) == MANDATORY
            and not any(0 <= v < len(problem.vehicles) for v in allowed)
        ):
            return True
    return False


def _search_parameters(
    problem: Problem, params: SolveParams
) -> routing_parameters_pb2.RoutingSearchParameters:
    """Routing search parameters: strategies by name (see `choose_strategies`), limits."""
    search = pywrapcp.DefaultRoutingSearchParameters()
    first, meta = choose_strategies(problem, params)
    iterated = meta == ITERATED_LOCAL_SEARCH
    if iterated:
        meta = "GREEDY_DESCENT"  # the local search that improves each perturbed solution
    try:
        search.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.Value.Value(first)
        search.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.Value.Value(
            meta
        )
    except ValueError as exc:
        raise ValueError(f"unknown search strategy: {exc}") from exc
    if iterated:
        _set_iterated_local_search(search)
    if params.solution_limit is not None:
        search.solution_limit = params.solution_limit
    search.log_search = params.log_search
    search.sat_parameters.num_workers = 1
    _set_time_limit(search, params.time_limit_s)
    return search


#: SISR ruin size: visits removed on average and longest removed sequence (Christiaens and
#: Vanden Berghe suggest 10 and 10; 20 and 15 measured better on CVRPLIB X at 10 s).
_SISR_AVERAGE_REMOVED = 20
_SISR_MAX_SEQUENCE = 15


def _set_iterated_local_search(search: routing_parameters_pb2.RoutingSearchParameters) -> None:
    """Iterated local search: SISR string removals, cheapest-insertion recreate, each
    perturbed solution improved by local search and accepted by simulated annealing with
    temperatures scaled to the instance's arc costs."""
    search.use_iterated_local_search = True
    ils = search.iterated_local_search_parameters
    ils.perturbation_strategy = routing_ils_pb2.PerturbationStrategy.RUIN_AND_RECREATE
    ils.improve_perturbed_solution = True
    ruin_recreate = ils.ruin_recreate_parameters
    del ruin_recreate.ruin_strategies[:]
    sisr = ruin_recreate.ruin_strategies.add().sisr
    sisr.avg_num_removed_visits = _SISR_AVERAGE_REMOVED
    sisr.max_removed_sequence_size = _SISR_MAX_SEQUENCE
    sisr.bypass_factor = 0.01
    ruin_recreate.ruin_composition_strategy = (
        routing_ils_pb2.RuinCompositionStrategy.RUN_ALL_SEQUENTIALLY
    )
    annealing = ils.reference_solution_acceptance_strategy.simulated_annealing
    annealing.automatic_temperatures = True


def _set_time_limit(search: routing_parameters_pb2.RoutingSearchParameters, seconds: float) -> None:
    """Search time limit (s), at least 10 ms so the first-solution heuristic can run."""
    search.time_limit.FromMilliseconds(max(10, int(seconds * 1000)))


def _failed(problem: Problem, started: float, stats: dict[str, float]) -> Solution:
    return Solution(
        routes=[],
        unserved=problem.customers(),
        cost=0,
        status="failed",
        solve_time_s=time.monotonic() - started,
        stats=stats,
        engine=ENGINE,
    )
