"""Route cost in fen, and the integer scaling the solver's objective uses for it.

The solver's objective unit is 1/COST_SCALE fen, chosen so that every term is an exact
integer: distance (m) * cost_per_km (fen/km) is a multiple of 1/1000 fen and span (s) *
cost_per_hour (fen/h) a multiple of 1/3600 fen; lcm(1000, 3600) = 18000. A route's cost in fen
is its fixed cost plus its distance and hourly costs rounded once, half up, to a whole fen.
With cost_per_km = 1000 and no other cost a route costs exactly its distance in metres.
"""

from __future__ import annotations

import itertools

from optimizer.problem import Problem, Route

#: Objective units per fen.
COST_SCALE = 18_000
#: Objective units per metre for each fen/km of `cost_per_km`.
PER_METRE = COST_SCALE // 1000
#: Objective units per second of route span for each fen/h of `cost_per_hour`.
PER_SECOND = COST_SCALE // 3600


def route_distance(problem: Problem, route: Route) -> int:
    """Distance (m) from the vehicle's start through `route.nodes` to its end."""
    vehicle = problem.vehicles[route.vehicle]
    matrix = problem.distances[vehicle.profile]
    stops = [vehicle.start, *route.nodes, vehicle.end]
    return int(sum(int(matrix[a, b]) for a, b in itertools.pairwise(stops)))


def route_cost(problem: Problem, route: Route) -> int:
    """Cost (fen) of a route: fixed + distance * per km + span * per hour; empty routes are free.

    The span is `times[-1] - times[0]` (s).
    """
    if not route.nodes:
        return 0
    vehicle = problem.vehicles[route.vehicle]
    span = route.times[-1] - route.times[0]
    scaled = (
        route_distance(problem, route) * vehicle.cost_per_km * PER_METRE
        + span * vehicle.cost_per_hour * PER_SECOND
    )
    return vehicle.fixed_cost + (scaled + COST_SCALE // 2) // COST_SCALE
