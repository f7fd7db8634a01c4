"""Independent checks of a Problem's shape and of a Solution against it (no solver imports).

Every fault is one readable string naming the route, vehicle and node concerned; an empty list
means valid. Units as in `optimizer.problem` (m, s, g, ml, fen).
"""

from __future__ import annotations

import itertools
from collections import Counter

from optimizer.problem import MANDATORY, Problem, Route, Solution

__all__ = ["check_problem", "route_cost", "validate"]

_RESOURCES = ((0, "g", "capacity_g"), (1, "ml", "capacity_ml"))


def check_problem(problem: Problem) -> list[str]:
    """Faults in the problem's shapes and values that make it unsolvable as stated."""
    n = problem.n
    faults = _check_shapes(problem, n)
    if faults:
        return faults
    for name, values in (("delivery", problem.delivery), ("pickup", problem.pickup)):
        for node in sorted({int(i) for i in (values < 0).nonzero()[0]}):
            faults.append(f"node {node}: negative {name}")
    for node in range(n):
        if problem.time_windows[node, 0] > problem.time_windows[node, 1]:
            faults.append(f"node {node}: time window opens after it closes")
        if problem.service[node] < 0:
            faults.append(f"node {node}: negative service time")
        if problem.penalty[node] < 0 and problem.penalty[node] != MANDATORY:
            faults.append(f"node {node}: negative penalty")
    if problem.allowed and len(problem.allowed) != n:
        faults.append(f"allowed has {len(problem.allowed)} entries for {n} nodes")
    faults += _check_pair_nodes(problem)
    for v in range(len(problem.vehicles)):
        faults += _check_vehicle(problem, v)
    return faults


def _check_shapes(problem: Problem, n: int) -> list[str]:
    faults = []
    if not problem.vehicles:
        faults.append("no vehicles")
    if len(problem.distances) != len(problem.durations):
        faults.append("distances and durations have different numbers of profiles")
    for p, (dist, dur) in enumerate(zip(problem.distances, problem.durations, strict=False)):
        for name, matrix in (("distances", dist), ("durations", dur)):
            if matrix.shape != (n, n):
                faults.append(f"{name}[{p}] has shape {matrix.shape}, expected {(n, n)}")
            elif (matrix < 0).any():
                faults.append(f"{name}[{p}] has negative entries")
    expected = {
        "delivery": (problem.delivery, (n, 2)),
        "pickup": (problem.pickup, (n, 2)),
        "time_windows": (problem.time_windows, (n, 2)),
        "service": (problem.service, (n,)),
        "penalty": (problem.penalty, (n,)),
    }
    for name, (array, shape) in expected.items():
        if array.shape != shape:
            faults.append(f"{name} has shape {array.shape}, expected {shape}")
    return faults


def _check_pair_nodes(problem: Problem) -> list[str]:
    faults = []
    customers = set(problem.customers())
    uses = Counter(node for pair in problem.pairs for node in pair)
    for pickup, drop in problem.pairs:
        if pickup not in customers or drop not in customers or pickup == drop:
            faults.append(f"pair ({pickup}, {drop}): needs two distinct customer nodes")
    for node, count in sorted(uses.items()):
        if count > 1:
            faults.append(f"node {node}: in {count} pairs")
    return faults


def _check_vehicle(problem: Problem, v: int) -> list[str]:
    vehicle = problem.vehicles[v]
    label = f"vehicle {v}"
    if not (0 <= vehicle.start < problem.n and 0 <= vehicle.end < problem.n):
        return [f"{label}: start or end outside 0..{problem.n - 1}"]
    if not 0 <= vehicle.profile < len(problem.distances):
        return [f"{label}: profile {vehicle.profile} has no matrices"]
    faults = []
    numbers = {
        "capacity_g": vehicle.capacity_g,
        "capacity_ml": vehicle.capacity_ml,
        "fixed_cost": vehicle.fixed_cost,
        "cost_per_km": vehicle.cost_per_km,
        "cost_per_hour": vehicle.cost_per_hour,
        "reload_s": vehicle.reload_s,
        "max_duration": vehicle.max_duration or 0,
        "max_distance": vehicle.max_distance or 0,
    }
    faults += [f"{label}: negative {name}" for name, value in numbers.items() if value < 0]
    earliest, latest = _start_window(problem, v)
    if earliest > latest or _end_close(problem, v) < earliest:
        faults.append(f"{label}: shift and depot time windows leave no time to drive")
    lunch = vehicle.lunch
    if lunch is not None:
        if lunch.earliest > lunch.latest or lunch.duration < 0:
            faults.append(f"{label}: lunch window or duration is inverted")
        elif latest < lunch.earliest + lunch.duration and earliest > lunch.latest:
            faults.append(f"{label}: lunch break cannot fit around or inside the shift")
    return faults


def _start_window(problem: Problem, v: int) -> tuple[int, int]:
    """Earliest and latest departure (s) of vehicle v: its shift cut by its depot's window."""
    vehicle = problem.vehicles[v]
    window = problem.time_windows[vehicle.start]
    return max(vehicle.shift_start, int(window[0])), min(vehicle.shift_end, int(window[1]))


def _end_close(problem: Problem, v: int) -> int:
    """Latest arrival (s) of vehicle v at its end depot."""
    vehicle = problem.vehicles[v]
    return min(vehicle.shift_end, int(problem.time_windows[vehicle.end, 1]))


def route_distance(problem: Problem, route: Route) -> int:
    """Metres from the vehicle's start through the route's nodes to its end."""
    vehicle = problem.vehicles[route.vehicle]
    legs = zip([vehicle.start, *route.nodes], [*route.nodes, vehicle.end], strict=True)
    return sum(int(problem.distances[vehicle.profile][a, b]) for a, b in legs)


def route_cost(problem: Problem, route: Route) -> int:
    """Fen a route costs, recomputed here (not the engines' own code): its vehicle's fixed cost,
    fen per km of distance and fen per hour of its span from departure to return, the
    variable part rounded half up to a whole fen; an empty route costs nothing."""
    if not route.nodes:
        return 0
    vehicle = problem.vehicles[route.vehicle]
    span = route.times[-1] - route.times[0]
    # 1/3,600,000 fen: fen/km x m x 3600 + fen/h x s x 1000
    units = vehicle.cost_per_km * route_distance(problem, route) * 3600
    units += vehicle.cost_per_hour * span * 1000
    return vehicle.fixed_cost + (units * 2 + 3_600_000) // 7_200_000


def validate(problem: Problem, solution: Solution) -> list[str]:
    """Every way `solution` breaks `problem`'s rules, one string each; [] when valid."""
    faults = _check_route_shapes(problem, solution)
    if faults:
        return faults
    faults += _check_coverage(problem, solution)
    for k, route in enumerate(solution.routes):
        label = f"route {k} (vehicle {route.vehicle})"
        faults += _check_allowed(problem, route, label)
        faults += _check_capacity(problem, route, label)
        faults += _check_schedule(problem, route, label)
        faults += _check_range(problem, route, label)
    faults += _check_pairs(problem, solution)
    faults += _check_trips(problem, solution)
    cost = sum(route_cost(problem, route) for route in solution.routes)
    if cost != solution.cost:
        faults.append(f"reported cost {solution.cost} fen, routes cost {cost} fen")
    if solution.status == "failed" and solution.routes:
        faults.append("status 'failed' with routes")
    return faults


def _check_route_shapes(problem: Problem, solution: Solution) -> list[str]:
    faults = []
    vehicles = Counter(route.vehicle for route in solution.routes)
    for k, route in enumerate(solution.routes):
        label = f"route {k} (vehicle {route.vehicle})"
        if not 0 <= route.vehicle < len(problem.vehicles):
            faults.append(f"{label}: no such vehicle")
        elif vehicles[route.vehicle] > 1:
            faults.append(f"{label}: vehicle has {vehicles[route.vehicle]} routes")
        if len(route.times) != len(route.nodes) + 2:
            faults.append(f"{label}: {len(route.times)} times for {len(route.nodes)} nodes")
        faults += [
            f"{label}: node {node} outside 0..{problem.n - 1}"
            for node in route.nodes
            if not 0 <= node < problem.n
        ]
    return faults


def _check_coverage(problem: Problem, solution: Solution) -> list[str]:
    """Each customer served once or listed unserved once; depots never visited."""
    faults = []
    depots = problem.depots()
    served = Counter(node for route in solution.routes for node in route.nodes)
    unserved = Counter(solution.unserved)
    for node, count in sorted(served.items()):
        if node in depots:
            faults.append(f"node {node}: depot visited as a customer")
        elif count > 1:
            faults.append(f"node {node}: served {count} times")
    for node, count in sorted(unserved.items()):
        if node in depots or not 0 <= node < problem.n:
            faults.append(f"node {node}: listed unserved but is no customer")
        elif count > 1:
            faults.append(f"node {node}: listed unserved {count} times")
        elif node in served:
            faults.append(f"node {node}: served and listed unserved")
        elif int(problem.penalty[node]) == MANDATORY:
            faults.append(f"node {node}: mandatory but unserved")
    for node in problem.customers():
        if node not in served and node not in unserved:
            faults.append(f"node {node}: neither served nor listed unserved")
    return faults


def _check_allowed(problem: Problem, route: Route, label: str) -> list[str]:
    return [
        f"{label}: node {node} does not allow this vehicle"
        for node in route.nodes
        if not problem.may_serve(route.vehicle, node)
    ]


def _check_capacity(problem: Problem, route: Route, label: str) -> list[str]:
    """Load on both resources at the start and after every stop: depot deliveries leave,
    pickups come on (pair amounts travel only from pickup to drop)."""
    vehicle = problem.vehicles[route.vehicle]
    pair_drops = {d for _, d in problem.pairs}
    faults = []
    for resource, unit, capacity_field in _RESOURCES:
        capacity = int(getattr(vehicle, capacity_field))
        load = sum(
            int(problem.delivery[node, resource]) for node in route.nodes if node not in pair_drops
        )
        if load > capacity:
            faults.append(f"{label}: start load {load} {unit} exceeds capacity {capacity} {unit}")
        for node in route.nodes:
            load += int(problem.pickup[node, resource]) - int(problem.delivery[node, resource])
            if load > capacity:
                faults.append(
                    f"{label}: load {load} {unit} after node {node} "
                    f"exceeds capacity {capacity} {unit}"
                )
            elif load < 0:
                faults.append(f"{label}: load {load} {unit} after node {node} is negative")
    return faults


def _check_range(problem: Problem, route: Route, label: str) -> list[str]:
    """The route is no longer than its vehicle's range."""
    limit = problem.vehicles[route.vehicle].max_distance
    metres = route_distance(problem, route)
    if limit is not None and metres > limit:
        return [f"{label}: {metres} m exceeds the vehicle's range of {limit} m"]
    return []


def _check_schedule(problem: Problem, route: Route, label: str) -> list[str]:
    """Travel and service fit between consecutive times; windows, shift, span and lunch hold."""
    vehicle = problem.vehicles[route.vehicle]
    stops = [vehicle.start, *route.nodes, vehicle.end]
    times = route.times
    faults = []
    earliest, latest = _start_window(problem, route.vehicle)
    if not earliest <= times[0] <= latest:
        faults.append(f"{label}: departs at {times[0]} s outside {earliest}..{latest} s")
    if times[-1] > _end_close(problem, route.vehicle):
        faults.append(
            f"{label}: returns at {times[-1]} s after {_end_close(problem, route.vehicle)} s"
        )
    if vehicle.max_duration is not None and times[-1] - times[0] > vehicle.max_duration:
        faults.append(f"{label}: span {times[-1] - times[0]} s over {vehicle.max_duration} s")
    for node, at in zip(route.nodes, times[1:-1], strict=True):
        open_, close = (int(t) for t in problem.time_windows[node])
        if not open_ <= at <= close:
            faults.append(f"{label}: node {node} served at {at} s outside {open_}..{close} s")
    gap, lunch_faults = _lunch_gap(problem, route, stops, label)
    faults += lunch_faults
    durations = problem.durations[vehicle.profile]
    for k in range(len(stops) - 1):
        here, there = stops[k], stops[k + 1]
        need = times[k] + int(problem.service[here]) + int(durations[here, there])
        if k == gap and vehicle.lunch is not None:
            need += vehicle.lunch.duration
        if times[k + 1] < need:
            faults.append(
                f"{label}: reaches {'end' if k + 2 == len(stops) else f'node {there}'} "
                f"at {times[k + 1]} s, before {need} s (travel and service from {here})"
            )
    return faults


def _lunch_gap(
    problem: Problem, route: Route, stops: list[int], label: str
) -> tuple[int | None, list[str]]:
    """Which gap between stops holds the lunch break (None: outside the route or not taken),
    and the faults in where it is taken or not taken."""
    lunch = problem.vehicles[route.vehicle].lunch
    times = route.times
    start = route.lunch_start
    if start is None:
        required = (
            lunch is not None
            and times[0] < lunch.earliest + lunch.duration
            and times[-1] > lunch.latest
        )
        return None, [f"{label}: lunch break required but not taken"] if required else []
    if lunch is None:
        return None, [f"{label}: lunch taken by a vehicle without one"]
    faults = []
    if not lunch.earliest <= start <= lunch.latest:
        faults.append(f"{label}: lunch at {start} s outside {lunch.earliest}..{lunch.latest} s")
    if start + lunch.duration <= times[0] or start >= times[-1]:
        return None, faults
    for k, node in enumerate(stops[:-1]):
        if (
            times[k] + int(problem.service[node]) <= start
            and start + lunch.duration <= times[k + 1]
        ):
            return k, faults
    return None, [*faults, f"{label}: lunch at {start} s overlaps a service"]


def _check_pairs(problem: Problem, solution: Solution) -> list[str]:
    faults = []
    where: dict[int, tuple[int, int]] = {}
    for k, route in enumerate(solution.routes):
        for position, node in enumerate(route.nodes):
            where[node] = (k, position)
    for pickup, drop in problem.pairs:
        label = f"pair ({pickup}, {drop})"
        if (pickup in where) != (drop in where):
            faults.append(f"{label}: only one end served")
        elif pickup in where:
            (route_p, pos_p), (route_d, pos_d) = where[pickup], where[drop]
            if route_p != route_d:
                faults.append(f"{label}: on routes {route_p} and {route_d}")
            elif pos_p > pos_d:
                faults.append(f"{label}: dropped before it is picked up (route {route_p})")
    return faults


def _check_trips(problem: Problem, solution: Solution) -> list[str]:
    """Used trips of one group run in list order, each after the previous end plus reload."""
    faults = []
    by_vehicle = {route.vehicle: route for route in solution.routes if route.nodes}
    groups: dict[int, list[int]] = {}
    for v, vehicle in enumerate(problem.vehicles):
        if vehicle.group is not None and v in by_vehicle:
            groups.setdefault(vehicle.group, []).append(v)
    for group, trips in groups.items():
        for before, after in itertools.pairwise(trips):
            ready = by_vehicle[before].times[-1] + problem.vehicles[after].reload_s
            if by_vehicle[after].times[0] < ready:
                faults.append(
                    f"group {group}: vehicle {after} departs at {by_vehicle[after].times[0]} s, "
                    f"before vehicle {before} is back and reloaded at {ready} s"
                )
    return faults
