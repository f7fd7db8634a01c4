"""Exhaustive search of tiny problems (no lunch breaks, no pairs): the true optimum of our cost
model, with `optimizer.validate` as the judge of feasibility."""

from __future__ import annotations

import itertools

from optimizer.costs import route_cost
from optimizer.problem import MANDATORY, Problem, Route, Solution
from optimizer.schedule import forward_schedule, latest_departure
from optimizer.validate import validate


def optimum(problem: Problem) -> tuple[int, Solution]:
    """(cost plus penalties in fen, solution) of the best valid solution.

    Every customer goes to a vehicle or (if optional) nowhere; every order of each vehicle's
    customers is tried. A route leaves at its earliest departure, then as late as keeps its
    end (the shortest span); a trip chain's trips are used in order, each after the previous
    one's end plus its reload time.
    """
    customers = problem.customers()
    vehicles = range(len(problem.vehicles))
    best: tuple[int, Solution] | None = None
    choices = [
        [*vehicles] + ([] if int(problem.penalty[node]) == MANDATORY else [-1])
        for node in customers
    ]
    for assignment in itertools.product(*choices):
        if not _chains_in_order(problem, assignment):
            continue
        chosen = list(zip(customers, assignment, strict=True))
        per_vehicle = [[n for n, v in chosen if v == k] for k in vehicles]
        unserved = [n for n, v in chosen if v == -1]
        penalty = sum(int(problem.penalty[n]) for n in unserved)
        for orders in itertools.product(*(itertools.permutations(nodes) for nodes in per_vehicle)):
            solution = _timed(problem, [list(order) for order in orders], unserved)
            if solution is None:
                continue
            total = solution.cost + penalty
            if best is None or total < best[0]:
                best = (total, solution)
    assert best is not None, "no feasible solution"
    return best


def _chains_in_order(problem: Problem, assignment: tuple[int, ...]) -> bool:
    """A trip of a chain is used only when the trip before it is."""
    used = set(assignment)
    previous: dict[int, int] = {}
    for v, vehicle in enumerate(problem.vehicles):
        if vehicle.group is None:
            continue
        if vehicle.group in previous and v in used and previous[vehicle.group] not in used:
            return False
        previous[vehicle.group] = v
    return True


def _timed(problem: Problem, orders: list[list[int]], unserved: list[int]) -> Solution | None:
    routes = []
    ends: dict[int, int] = {}
    for v, nodes in enumerate(orders):
        if not nodes:
            continue
        vehicle = problem.vehicles[v]
        depart = max(vehicle.shift_start, int(problem.time_windows[vehicle.start, 0]))
        if vehicle.group is not None and vehicle.group in ends:
            depart = max(depart, ends[vehicle.group] + vehicle.reload_s)
        depart = latest_departure(problem, v, nodes, depart)
        times, _ = forward_schedule(problem, v, nodes, depart, None)
        routes.append(Route(vehicle=v, nodes=nodes, times=times))
        if vehicle.group is not None:
            ends[vehicle.group] = times[-1]
    solution = Solution(
        routes=routes,
        unserved=unserved,
        cost=sum(route_cost(problem, route) for route in routes),
    )
    return None if validate(problem, solution) else solution
