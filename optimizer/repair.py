"""Routes of a relaxed problem cut down to routes that are feasible for the full problem.

PyVRP solves a relaxation (`optimizer.hgs.relax`: no lunch breaks, pairs as independent
stops, loose trip chains). `repair` keeps, vehicle by vehicle and in route order, each stop (a
pair's two ends together, pickup first on one route) while the route stays feasible: vehicle
allowed, load at every point, range, windows, shift, span, lunch break and trip-chain timing.
Stops that do not fit are left unserved for OR-Tools to insert. The checks are sound (every
route kept is feasible and timed so that `optimizer.validate` accepts it) but not complete:
a route is tried leaving at its earliest departure, or after the lunch break, and the break
goes in the first gap where the rest of the route still fits.
"""

from __future__ import annotations

import time

from optimizer.costs import route_cost, route_distance
from optimizer.problem import Problem, Route, Solution

#: The engine name of a repaired relaxed solution.
ENGINE = "pyvrp+repair"


def repair(problem: Problem, routes: list[list[int]]) -> Solution:
    """The largest feasible part of `routes` (customer nodes per vehicle) as a Solution."""
    started = time.monotonic()
    drop_of = dict(problem.pairs)
    pickup_of = {d: p for p, d in problem.pairs}
    ends: dict[int, int] = {}
    closed: set[int] = set()
    kept: list[Route] = []
    for v, nodes in enumerate(routes[: len(problem.vehicles)]):
        vehicle = problem.vehicles[v]
        group = vehicle.group
        if group is not None and group in closed:
            continue  # a chain's trips run in order: none after an unused one
        earliest = max(vehicle.shift_start, int(problem.time_windows[vehicle.start, 0]))
        if group is not None and group in ends:
            earliest = max(earliest, ends[group] + vehicle.reload_s)
        position = {node: k for k, node in enumerate(nodes)}
        items = []
        for node in nodes:
            if node in drop_of:
                drop = drop_of[node]
                if position.get(drop, -1) > position[node]:
                    items.append([node, drop])
            elif node not in pickup_of:
                items.append([node])
        route: Route | None = None
        chosen: list[int] = []
        for item in items:
            candidate = sorted([*chosen, *item], key=position.__getitem__)
            timed = _timed_route(problem, v, candidate, earliest)
            if timed is not None:
                chosen, route = candidate, timed
        if route is None:
            if group is not None:
                closed.add(group)
            continue
        route = _compact(problem, route)
        kept.append(route)
        if group is not None:
            ends[group] = route.times[-1]
    served = {node for route in kept for node in route.nodes}
    unserved = [node for node in problem.customers() if node not in served]
    return Solution(
        routes=kept,
        unserved=unserved,
        cost=sum(route_cost(problem, route) for route in kept),
        solve_time_s=time.monotonic() - started,
        stats={"distance_m": float(sum(route_distance(problem, route) for route in kept))},
        engine=ENGINE,
    )


def _compact(problem: Problem, route: Route) -> Route:
    """The route leaving as late as keeps its arrival at the end (binary search over the
    departure, s), so that hourly costs count as little waiting as this module can remove."""
    v, nodes = route.vehicle, route.nodes
    vehicle = problem.vehicles[v]
    latest = min(vehicle.shift_end, int(problem.time_windows[vehicle.start, 1]))
    low, high = route.times[0], latest
    best = route
    while low < high:
        middle = (low + high + 1) // 2
        timed = _schedule(problem, v, nodes, middle)
        if timed is not None and timed.times[-1] <= route.times[-1]:
            best, low = timed, middle
        else:
            high = middle - 1
    return best


def _timed_route(problem: Problem, v: int, nodes: list[int], earliest: int) -> Route | None:
    """Vehicle v's route through `nodes` leaving no earlier than `earliest` (s), timed, or
    None when no schedule this module tries is feasible."""
    vehicle = problem.vehicles[v]
    if not all(problem.may_serve(v, node) for node in nodes) or not _load_fits(problem, v, nodes):
        return None
    route = Route(vehicle=v, nodes=nodes, times=[])
    if vehicle.max_distance is not None and route_distance(problem, route) > vehicle.max_distance:
        return None
    latest = min(vehicle.shift_end, int(problem.time_windows[vehicle.start, 1]))
    departures = [earliest]
    if vehicle.lunch is not None:
        departures.append(max(earliest, vehicle.lunch.earliest + vehicle.lunch.duration))
    for departure in departures:
        if departure <= latest:
            timed = _schedule(problem, v, nodes, departure)
            if timed is not None:
                return timed
    return None


def _load_fits(problem: Problem, v: int, nodes: list[int]) -> bool:
    """Load within capacity and never negative at the start and after every stop."""
    vehicle = problem.vehicles[v]
    drops = {d for _, d in problem.pairs}
    for resource, capacity in enumerate((vehicle.capacity_g, vehicle.capacity_ml)):
        load = sum(int(problem.delivery[n, resource]) for n in nodes if n not in drops)
        if load > capacity:
            return False
        for node in nodes:
            load += int(problem.pickup[node, resource]) - int(problem.delivery[node, resource])
            if not 0 <= load <= capacity:
                return False
    return True


def _schedule(problem: Problem, v: int, nodes: list[int], departure: int) -> Route | None:
    """Earliest schedule leaving at `departure`: without a break when none is needed, else
    with the break in the first gap after which the rest of the route still fits."""
    vehicle = problem.vehicles[v]
    stops = [vehicle.start, *nodes, vehicle.end]
    last = len(stops) - 1
    windows = problem.time_windows
    durations = problem.durations[vehicle.profile]
    service = problem.service
    end_close = min(vehicle.shift_end, int(windows[vehicle.end, 1]))
    close = [int(windows[s, 1]) for s in stops[:-1]] + [end_close]

    def travel(k: int) -> int:
        return int(service[stops[k]]) + int(durations[stops[k], stops[k + 1]])

    def onward(k: int, at: int) -> list[int]:
        """Earliest times from stop k (served at `at`) to the end, without a break."""
        times = [at]
        for j in range(k, last):
            arrive = times[-1] + travel(j)
            times.append(arrive if j + 1 == last else max(arrive, int(windows[stops[j + 1], 0])))
        return times

    plain = onward(0, departure)
    fits = [t <= c for t, c in zip(plain, close, strict=True)]
    lunch = vehicle.lunch
    needs_break = (
        lunch is not None
        and departure < lunch.earliest + lunch.duration
        and plain[-1] > lunch.latest
    )
    if not needs_break:
        return _route(problem, v, nodes, plain, None) if all(fits) else None
    assert lunch is not None
    # latest[k]: the latest service start at stop k from which the rest still fits
    latest = [0] * len(stops)
    latest[last] = end_close
    for k in range(last - 1, 0, -1):
        latest[k] = min(close[k], latest[k + 1] - travel(k))
    for k in range(last):
        if k and not fits[k]:
            return None
        ready = plain[k] + int(service[stops[k]])
        start = max(ready, lunch.earliest)
        if start > lunch.latest:
            return None
        arrive = max(plain[k] + travel(k), start) + lunch.duration
        at = arrive if k + 1 == last else max(arrive, int(windows[stops[k + 1], 0]))
        if at <= latest[k + 1]:
            times = plain[: k + 1] + onward(k + 1, at)
            if all(t <= c for t, c in zip(times, close, strict=True)):
                return _route(problem, v, nodes, times, start)
    return None


def _route(
    problem: Problem, v: int, nodes: list[int], times: list[int], lunch_start: int | None
) -> Route | None:
    """The timed route when its span fits the vehicle's limit, leaving later by the wait at
    its first stop (unless the break comes before that stop), which shortens the span."""
    vehicle = problem.vehicles[v]
    break_first = lunch_start is not None and lunch_start < times[1]
    if nodes and not break_first:
        arrival = times[0] + int(problem.service[vehicle.start])
        arrival += int(problem.durations[vehicle.profile][vehicle.start, nodes[0]])
        latest = min(vehicle.shift_end, int(problem.time_windows[vehicle.start, 1]))
        times = [max(times[0], min(latest, times[0] + times[1] - arrival)), *times[1:]]
    limit = vehicle.max_duration
    if limit is not None and times[-1] - times[0] > limit:
        return None
    return Route(vehicle=v, nodes=nodes, times=times, lunch_start=lunch_start)
