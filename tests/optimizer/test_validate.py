"""The validator accepts valid solutions and names each fault planted in one on purpose."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from optimizer.problem import MANDATORY, Break, Problem, Route, Solution, Vehicle
from optimizer.validate import check_problem, route_cost, validate

HOUR = 3600


def earliest_times(problem: Problem, vehicle: int, nodes: list[int], departure: int) -> list[int]:
    """Departure, service starts and arrival with no waiting (windows are wide open here)."""
    veh = problem.vehicles[vehicle]
    stops = [veh.start, *nodes, veh.end]
    times = [departure]
    for here, there in itertools.pairwise(stops):
        travel = int(problem.durations[veh.profile][here, there])
        times.append(times[-1] + int(problem.service[here]) + travel)
    return times


def peak_load(problem: Problem, nodes: list[int]) -> int:
    """Most grams on board along `nodes` (no pairs): all deliveries at the start."""
    load = int(problem.delivery[nodes, 0].sum())
    peak = load
    for node in nodes:
        load += int(problem.pickup[node, 0] - problem.delivery[node, 0])
        peak = max(peak, load)
    return peak


@st.composite
def cases(draw: st.DrawFn) -> tuple[Problem, Solution]:
    """A random small problem with a random valid solution built by hand (no solver)."""
    n = draw(st.integers(4, 9))
    xy = np.array(
        draw(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=n, max_size=n))
    )
    dist = (np.abs(xy[:, None, :] - xy[None, :, :]).sum(axis=2) * 100).astype(np.int64)
    fleet_size = draw(st.integers(1, 3))
    owner = [0, *draw(st.lists(st.integers(-1, fleet_size - 1), min_size=n - 2, max_size=n - 2))]
    order = draw(st.permutations(range(1, n)))
    amounts = st.lists(st.integers(1, 50), min_size=n, max_size=n)
    delivery = np.array([draw(amounts), draw(amounts)], np.int64).T
    pickup = np.array([draw(amounts), draw(amounts)], np.int64).T
    delivery[0] = pickup[0] = 0
    served = {node for node in range(1, n) if owner[node - 1] >= 0}
    penalty = np.array(
        [MANDATORY if node in served and draw(st.booleans()) else 100 for node in range(n)]
    )
    problem = Problem.build(
        [dist],
        [],
        durations=[dist // 10],
        delivery=delivery,
        pickup=pickup,
        service=[0, *draw(st.lists(st.integers(1, 120), min_size=n - 1, max_size=n - 1))],
        penalty=penalty,
    )
    routes, vehicles = [], []
    for v in range(fleet_size):
        nodes = [node for node in order if owner[node - 1] == v]
        capacity = max(peak_load(problem, nodes), int(delivery[nodes, 1].sum()), 1) + 2000
        vehicles.append(
            Vehicle(
                0,
                0,
                capacity,
                capacity,
                fixed_cost=draw(st.integers(0, 1000)),
                cost_per_km=draw(st.integers(0, 2000)),
                cost_per_hour=draw(st.integers(0, 5000)),
                shift_start=6 * HOUR,
            )
        )
        problem.vehicles = vehicles
        if nodes:
            routes.append(Route(v, nodes, earliest_times(problem, v, nodes, 7 * HOUR)))
    unserved = [node for node in range(1, n) if node not in served]
    cost = sum(route_cost(problem, route) for route in routes)
    return problem, Solution(routes=routes, unserved=unserved, cost=cost)


def with_route(solution: Solution, k: int, **fields: object) -> Solution:
    """A copy of `solution` whose route k has `fields` replaced."""
    routes = list(solution.routes)
    routes[k] = replace(routes[k], **fields)  # type: ignore[arg-type]
    return replace(solution, routes=routes)


def faults_mention(faults: list[str], *words: str) -> bool:
    return any(all(word in fault for word in words) for fault in faults)


@given(cases())
def test_hand_built_solutions_are_valid(case: tuple[Problem, Solution]) -> None:
    problem, solution = case
    assert check_problem(problem) == []
    assert validate(problem, solution) == []


@given(cases(), st.data())
def test_dropped_node_is_caught(case: tuple[Problem, Solution], data: st.DataObject) -> None:
    problem, solution = case
    k = data.draw(st.integers(0, len(solution.routes) - 1))
    route = solution.routes[k]
    i = data.draw(st.integers(0, len(route.nodes) - 1))
    node = route.nodes[i]
    broken = with_route(
        solution, k, nodes=route.nodes[:i] + route.nodes[i + 1 :], times=route.times[:-1]
    )
    assert faults_mention(validate(problem, broken), f"node {node}", "neither served")


@given(cases(), st.data())
def test_duplicated_node_is_caught(case: tuple[Problem, Solution], data: st.DataObject) -> None:
    problem, solution = case
    k = data.draw(st.integers(0, len(solution.routes) - 1))
    route = solution.routes[k]
    node = data.draw(st.sampled_from(route.nodes))
    broken = with_route(solution, k, nodes=[*route.nodes, node], times=[*route.times, 10**6])
    assert faults_mention(validate(problem, broken), f"node {node}", "served 2 times")


@given(cases(), st.data())
def test_overload_is_caught(case: tuple[Problem, Solution], data: st.DataObject) -> None:
    problem, solution = case
    route = data.draw(st.sampled_from(solution.routes))
    vehicles = list(problem.vehicles)
    vehicles[route.vehicle] = replace(
        vehicles[route.vehicle], capacity_g=peak_load(problem, route.nodes) - 1
    )
    faults = validate(replace(problem, vehicles=vehicles), solution)
    assert faults_mention(faults, f"(vehicle {route.vehicle})", "capacity")


@given(cases(), st.data())
def test_early_time_is_caught(case: tuple[Problem, Solution], data: st.DataObject) -> None:
    problem, solution = case
    k = data.draw(st.integers(0, len(solution.routes) - 1))
    route = solution.routes[k]
    i = data.draw(st.integers(1, len(route.times) - 1))
    times = list(route.times)
    times[i] -= 1
    broken = with_route(solution, k, times=times)
    faults = validate(problem, replace(broken, cost=route_cost(problem, broken.routes[k])))
    assert faults_mention(faults, f"route {k}", "travel and service")


@given(cases(), st.data())
def test_window_violation_is_caught(case: tuple[Problem, Solution], data: st.DataObject) -> None:
    problem, solution = case
    route = data.draw(st.sampled_from(solution.routes))
    i = data.draw(st.integers(0, len(route.nodes) - 1))
    windows = problem.time_windows.copy()
    windows[route.nodes[i]] = (route.times[i + 1] + 1, route.times[i + 1] + 600)
    faults = validate(replace(problem, time_windows=windows), solution)
    assert faults_mention(faults, f"node {route.nodes[i]} served at")


@given(cases(), st.data())
def test_wrong_vehicle_is_caught(case: tuple[Problem, Solution], data: st.DataObject) -> None:
    problem, solution = case
    route = data.draw(st.sampled_from(solution.routes))
    node = data.draw(st.sampled_from(route.nodes))
    allowed: list[frozenset[int] | None] = [None] * problem.n
    allowed[node] = frozenset({route.vehicle + 1})
    faults = validate(replace(problem, allowed=allowed), solution)
    assert faults == [
        f"route {solution.routes.index(route)} (vehicle {route.vehicle}): node "
        f"{node} does not allow this vehicle"
    ]


@given(cases(), st.data())
def test_pair_out_of_order_is_caught(case: tuple[Problem, Solution], data: st.DataObject) -> None:
    problem, solution = case
    route = data.draw(st.sampled_from(solution.routes))
    if len(route.nodes) < 2:
        return
    first, later = sorted(
        data.draw(st.lists(st.sampled_from(route.nodes), min_size=2, max_size=2, unique=True)),
        key=route.nodes.index,
    )
    pairs = [(later, first)]
    faults = validate(replace(problem, pairs=pairs), solution)
    assert faults_mention(faults, f"pair ({later}, {first})", "dropped before")


@given(cases(), st.integers(-3, 3).filter(bool))
def test_wrong_cost_is_caught(case: tuple[Problem, Solution], delta: int) -> None:
    problem, solution = case
    faults = validate(problem, replace(solution, cost=solution.cost + delta))
    assert faults == [f"reported cost {solution.cost + delta} fen, routes cost {solution.cost} fen"]


@given(cases())
def test_unserved_mandatory_node_is_caught(case: tuple[Problem, Solution]) -> None:
    problem, solution = case
    if not solution.unserved:
        return
    penalty = problem.penalty.copy()
    penalty[solution.unserved[0]] = MANDATORY
    faults = validate(replace(problem, penalty=penalty), solution)
    assert faults == [f"node {solution.unserved[0]}: mandatory but unserved"]


def line_problem(vehicles: list[Vehicle]) -> Problem:
    """Depot 0 and customers 1..3 a kilometre apart on a line; 10 m/s, 10 min service."""
    dist = np.array([[abs(a - b) * 1000 for b in range(4)] for a in range(4)], np.int64)
    return Problem.build([dist], vehicles, durations=[dist // 10], service=[0, 600, 600, 600])


LUNCH = Break(earliest=12 * HOUR, latest=12 * HOUR + 1800, duration=HOUR)


def test_lunch_inside_a_gap_is_accepted_and_a_missing_one_caught() -> None:
    problem = line_problem([Vehicle(0, 0, 10, 10, lunch=LUNCH)])
    # 11:40 depart, node 1 at 11:41:40 until 11:51:40, lunch 12:00-13:00, then on.
    times = [42_000, 42_100, 42_000 + 100 + 600 + 100 + 3600 + 400, 0, 0]
    times[3] = times[2] + 700
    times[4] = times[3] + 600 + 300
    route = Route(0, [1, 2, 3], times, lunch_start=12 * HOUR)
    solution = Solution([route], [], route_cost(problem, route))
    assert validate(problem, solution) == []
    skipped = replace(solution, routes=[replace(route, lunch_start=None)])
    assert validate(problem, skipped) == ["route 0 (vehicle 0): lunch break required but not taken"]
    overlapping = replace(solution, routes=[replace(route, lunch_start=12 * HOUR + 600)])
    assert faults_mention(validate(problem, overlapping), "lunch at 43800 s overlaps a service")


def test_lunch_is_not_required_after_a_morning_route() -> None:
    problem = line_problem([Vehicle(0, 0, 10, 10, lunch=LUNCH)])
    times = [8 * HOUR, 8 * HOUR + 100, 8 * HOUR + 800, 8 * HOUR + 1500, 8 * HOUR + 2400]
    route = Route(0, [1, 2, 3], times)
    assert validate(problem, Solution([route], [], route_cost(problem, route))) == []


def test_trips_of_a_group_must_not_overlap() -> None:
    trip = Vehicle(0, 0, 10, 10, group=1, reload_s=900)
    problem = line_problem([trip, trip])
    first = Route(0, [1], [8 * HOUR, 8 * HOUR + 100, 8 * HOUR + 800])
    second = Route(1, [2, 3], [8 * HOUR + 1700, 8 * HOUR + 1900, 8 * HOUR + 2600, 8 * HOUR + 3500])
    solution = Solution([first, second], [], 0)
    solution.cost = sum(route_cost(problem, route) for route in solution.routes)
    assert validate(problem, solution) == []
    early = [t - 1 for t in second.times]
    broken = replace(solution, routes=[first, replace(second, times=early)])
    broken.cost = sum(route_cost(problem, route) for route in broken.routes)
    assert validate(problem, broken) == [
        "group 1: vehicle 1 departs at 30499 s, before vehicle 0 is back and reloaded at 30500 s"
    ]


def test_depot_visit_and_failed_status_are_caught() -> None:
    problem = line_problem([Vehicle(0, 0, 10, 10)])
    route = Route(0, [1, 0, 2, 3], [0, 100, 800, 1600, 2300, 3200])
    faults = validate(problem, Solution([route], [], route_cost(problem, route), status="failed"))
    assert "node 0: depot visited as a customer" in faults
    assert "status 'failed' with routes" in faults


def test_malformed_problems_are_reported() -> None:
    problem = line_problem([Vehicle(0, 0, 10, 10, lunch=Break(10, 5, 60))])
    windows = problem.time_windows.copy()
    windows[2] = (500, 100)
    faults = check_problem(replace(problem, time_windows=windows, pairs=[(1, 2), (2, 3)]))
    assert faults == [
        "node 2: time window opens after it closes",
        "node 2: in 2 pairs",
        "vehicle 0: lunch window or duration is inverted",
    ]


def test_route_beyond_range_is_caught() -> None:
    vehicle = Vehicle(start=0, end=0, capacity_g=100, capacity_ml=100, max_distance=1_000)
    problem = line_problem([vehicle])
    # depot -> node 2 -> depot is 4 km against a 1 km range
    route = Route(0, [1, 2, 3], [0, 100, 800, 1500, 2400])
    assert faults_mention(
        validate(problem, Solution([route], [], route_cost(problem, route))), "range of 1000 m"
    )
