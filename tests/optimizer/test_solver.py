"""OR-Tools solver on small hand-built grid problems; every solution is validated independently."""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from optimizer.costs import route_distance
from optimizer.problem import Break, Problem, Solution, Vehicle
from optimizer.solver import ITERATED_LOCAL_SEARCH, SolveParams, choose_strategies, solve
from optimizer.validate import route_cost, validate

FAST = SolveParams(time_limit_s=1.0, solution_limit=200)
HOUR = 3600


def grid_problem(
    points: list[tuple[int, int]],
    vehicles: list[Vehicle] | None = None,
    delivery_g: list[int] | None = None,
    pickup_g: list[int] | None = None,
    service_s: int = 60,
) -> Problem:
    """Nodes at grid points (units of 1 km), node 0 the depot; 10 m/s on Manhattan distance."""
    xy = np.array(points, dtype=np.int64) * 1000
    dist = np.abs(xy[:, None, :] - xy[None, :, :]).sum(axis=2).astype(np.int64)
    n = len(points)
    delivery = np.zeros((n, 2), np.int64)
    pickup = np.zeros((n, 2), np.int64)
    if delivery_g is not None:
        delivery[:, 0] = delivery_g
    if pickup_g is not None:
        pickup[:, 0] = pickup_g
    service = np.full(n, service_s, np.int64)
    service[0] = 0
    return Problem.build(
        [dist],
        vehicles or [Vehicle(start=0, end=0, capacity_g=10**6, capacity_ml=10**6)],
        durations=[dist // 10],
        delivery=delivery,
        pickup=pickup,
        service=service,
    )


def fleet(count: int, **fields: Any) -> list[Vehicle]:
    """`count` identical vehicles at depot 0 with roomy capacities unless `fields` say."""
    base = Vehicle(start=0, end=0, capacity_g=10**6, capacity_ml=10**6)
    return [replace(base, **fields)] * count


def solved(problem: Problem, params: SolveParams = FAST) -> Solution:
    solution = solve(problem, params)
    assert solution.status in ("optimal", "feasible")
    assert validate(problem, solution) == []
    return solution


RING = [(0, 0), (1, 0), (2, 0), (2, 1), (2, 2), (1, 2), (0, 2), (0, 1), (3, 3), (4, 1)]


def test_single_vehicle_tour_costs_its_distance() -> None:
    problem = grid_problem(RING[:8])
    solution = solved(problem)
    assert len(solution.routes) == 1
    assert sorted(solution.routes[0].nodes) == list(range(1, 8))
    # The 8-point square ring is a tour of 8 km; no shorter closed walk visits all of them.
    assert solution.cost == 8000 == route_distance(problem, solution.routes[0])
    assert solution.unserved == []


def test_capacity_splits_vehicles() -> None:
    problem = grid_problem(
        RING, vehicles=fleet(5, capacity_g=100), delivery_g=[0] + [30] * (len(RING) - 1)
    )
    solution = solved(problem)
    assert len(solution.routes) >= 3  # 9 customers of 30 g, at most 3 per 100 g vehicle
    assert sum(len(route.nodes) for route in solution.routes) == 9


def test_time_windows_fix_the_order() -> None:
    problem = grid_problem([(0, 0), (1, 0), (5, 0)])
    windows = problem.time_windows.copy()
    windows[1] = (2 * HOUR, 3 * HOUR)  # the near node only late
    windows[2] = (0, HOUR)  # the far node early
    problem = replace(problem, time_windows=windows)
    solution = solved(problem)
    (route,) = solution.routes
    assert route.nodes == [2, 1]
    assert route.times[2] >= 2 * HOUR


def test_pickups_need_the_exact_load_model() -> None:
    """A 100 g van: node 1 gives 80 g of produce, node 2 takes an 80 g parcel.

    Summing everything at the start (160 g) calls this infeasible; visiting 1 first overloads
    the van (80 g on board + 80 g); only 2-then-1 is right."""
    problem = grid_problem(
        [(0, 0), (1, 0), (1, 1)],
        vehicles=fleet(1, capacity_g=100),
        delivery_g=[0, 0, 80],
        pickup_g=[0, 80, 0],
    )
    solution = solved(problem)
    assert solution.stats["exact_load_resources"] == 1
    assert solution.routes[0].nodes == [2, 1]


def test_pair_rides_on_one_route_in_order() -> None:
    problem = grid_problem(RING, vehicles=fleet(3, capacity_g=100))
    pickup = problem.pickup.copy()
    delivery = problem.delivery.copy()
    pickup[8, 0] = 70  # picked at the far corner ...
    delivery[1, 0] = 70  # ... dropped next to the depot
    delivery[4, 0] = 50  # a depot parcel that cannot share the van with the pair's 70 g
    problem = replace(problem, pickup=pickup, delivery=delivery, pairs=[(8, 1)])
    solution = solved(problem)
    (route,) = [r for r in solution.routes if 8 in r.nodes]
    assert route.nodes.index(8) < route.nodes.index(1)


def test_allowed_vehicles_are_honoured() -> None:
    problem = grid_problem(RING, vehicles=fleet(3))
    allowed: list[frozenset[int] | None] = [None] * len(RING)
    allowed[8] = frozenset({2})
    allowed[9] = frozenset({1, 2})
    solution = solved(replace(problem, allowed=allowed))
    vehicle_of = {node: route.vehicle for route in solution.routes for node in route.nodes}
    assert vehicle_of[8] == 2
    assert vehicle_of[9] in (1, 2)


def test_penalty_leaves_an_unreachable_node_unserved() -> None:
    problem = grid_problem(RING[:5], vehicles=fleet(1, shift_start=8 * HOUR))
    windows = problem.time_windows.copy()
    windows[3] = (0, 8 * HOUR)  # closes when the shift begins, 3 km away
    penalty = problem.penalty.copy()
    penalty[3] = 50_000
    solution = solved(replace(problem, time_windows=windows, penalty=penalty))
    assert solution.unserved == [3]
    assert solution.stats["penalty"] == 50_000


def test_impossible_mandatory_node_fails() -> None:
    problem = grid_problem(RING[:5], vehicles=fleet(1, shift_start=8 * HOUR))
    windows = problem.time_windows.copy()
    windows[3] = (0, 8 * HOUR)
    solution = solve(replace(problem, time_windows=windows), FAST)
    assert solution.status == "failed"
    assert solution.routes == []
    assert solution.unserved == [1, 2, 3, 4]
    assert validate(replace(problem, penalty=np.zeros(5, np.int64)), solution) == []


def test_multi_trip_vehicle_chains_its_trips() -> None:
    trips = [
        Vehicle(0, 0, 90, 10**6, group=7, reload_s=1800, fixed_cost=500),
        Vehicle(0, 0, 90, 10**6, group=7, reload_s=1800),
    ]
    problem = grid_problem(RING[:7], vehicles=trips, delivery_g=[0] + [30] * 6)
    solution = solved(problem)
    first, second = sorted(solution.routes, key=lambda route: route.vehicle)
    assert (first.vehicle, second.vehicle) == (0, 1)
    assert second.times[0] >= first.times[-1] + 1800


def test_lunch_break_is_taken_when_the_route_spans_it() -> None:
    lunch = Break(earliest=12 * HOUR, latest=12 * HOUR + 1800, duration=HOUR)
    problem = grid_problem(
        RING, vehicles=fleet(1, shift_start=11 * HOUR, lunch=lunch), service_s=20 * 60
    )
    windows = problem.time_windows.copy()
    windows[1:, 1] = 11 * HOUR + 1800  # everything before 11:30 ...
    windows[8] = (13 * HOUR, 14 * HOUR)  # ... except one stop after lunch
    solution = solved(replace(problem, time_windows=windows, penalty=np.full(10, 10**7)))
    (route,) = solution.routes
    assert route.lunch_start is not None
    assert lunch.earliest <= route.lunch_start <= lunch.latest
    assert route.times[0] < lunch.earliest + lunch.duration and route.times[-1] > lunch.latest


def test_short_morning_route_skips_lunch() -> None:
    lunch = Break(earliest=12 * HOUR, latest=13 * HOUR, duration=HOUR)
    problem = grid_problem(RING[:6], vehicles=fleet(2, shift_start=8 * HOUR, lunch=lunch))
    windows = problem.time_windows.copy()
    windows[1:, 1] = 10 * HOUR
    solution = solved(replace(problem, time_windows=windows))
    assert all(route.times[-1] <= lunch.latest for route in solution.routes)


def test_hourly_and_fixed_costs_are_in_fen() -> None:
    vehicles = fleet(1, fixed_cost=2000, cost_per_km=150, cost_per_hour=3000)
    problem = grid_problem(RING[:8], vehicles=vehicles)
    solution = solved(problem)
    (route,) = solution.routes
    span = route.times[-1] - route.times[0]
    exact = 2000 + 8000 * 150 / 1000 + span * 3000 / 3600
    assert abs(solution.cost - exact) <= 0.5
    assert solution.cost == route_cost(problem, route)
    # The route leaves as late as it can: its span is travel plus service only.
    assert span == 8000 // 10 + 7 * 60


def test_vehicles_use_their_own_profile() -> None:
    problem = grid_problem(RING[:4], vehicles=[Vehicle(0, 0, 10**6, 10**6, profile=1)])
    slow = problem.durations[0] * 3
    problem = replace(
        problem, distances=[*problem.distances] * 2, durations=[problem.durations[0], slow]
    )
    solution = solved(problem)
    (route,) = solution.routes
    assert route.times[-1] - route.times[0] == 6000 * 3 // 10 + 3 * 60  # 6 km, 3 stops


def test_warm_start_from_a_solution() -> None:
    problem = grid_problem(RING, vehicles=fleet(3, capacity_g=100), delivery_g=[0] + [30] * 9)
    first = solved(problem)
    routes: list[list[int]] = [[] for _ in problem.vehicles]
    for route in first.routes:
        routes[route.vehicle] = route.nodes
    warm = solved(problem, SolveParams(time_limit_s=1.0, solution_limit=5, initial_routes=routes))
    assert warm.stats["warm_start"] == 1
    assert warm.cost <= first.cost


def test_infeasible_warm_start_falls_back() -> None:
    problem = grid_problem(RING, vehicles=fleet(3, capacity_g=100), delivery_g=[0] + [30] * 9)
    overloaded = [list(range(1, 10))]
    solution = solved(problem, replace(FAST, initial_routes=overloaded))
    assert solution.stats["warm_start"] == 0


def test_malformed_warm_start_is_rejected() -> None:
    problem = grid_problem(RING[:4])
    with pytest.raises(ValueError, match="node 0"):
        solve(problem, replace(FAST, initial_routes=[[1, 0]]))


def test_progress_reports_improving_objectives() -> None:
    problem = grid_problem(RING, vehicles=fleet(3, capacity_g=100), delivery_g=[0] + [30] * 9)
    seen: list[int] = []
    solution = solve(problem, replace(FAST, solution_limit=50), seen.append)
    assert seen
    assert all(a > b for a, b in itertools.pairwise(seen))
    assert seen[-1] == round(solution.stats["objective"])


def test_bad_input_is_refused() -> None:
    problem = grid_problem(RING[:4])
    with pytest.raises(ValueError, match="strategy"):
        solve(problem, replace(FAST, metaheuristic="NO_SUCH_THING"))
    windows = problem.time_windows.copy()
    windows[2] = (100, 50)
    with pytest.raises(ValueError, match="node 2"):
        solve(replace(problem, time_windows=windows), FAST)


def test_impossible_optional_pair_is_dropped_alone() -> None:
    """A pair whose pickup opens only after its drop closes cannot be served; the rest can."""
    problem = grid_problem(RING, vehicles=fleet(2))
    windows = problem.time_windows.copy()
    windows[8] = (10 * HOUR, 11 * HOUR)
    windows[9] = (8 * HOUR, 9 * HOUR)
    penalty = problem.penalty.copy()
    penalty[[8, 9]] = 10**6
    solution = solved(replace(problem, time_windows=windows, penalty=penalty, pairs=[(8, 9)]))
    assert solution.unserved == [8, 9]
    assert solution.stats["penalty"] == 2 * 10**6


def test_automatic_strategies_follow_the_problem_shape() -> None:
    plain = grid_problem(RING, vehicles=fleet(3, capacity_g=100), delivery_g=[0] + [30] * 9)
    assert choose_strategies(plain, SolveParams()) == ("PATH_CHEAPEST_ARC", ITERATED_LOCAL_SEARCH)
    windows = plain.time_windows.copy()
    windows[3] = (HOUR, 2 * HOUR)
    timed = replace(plain, time_windows=windows)
    assert choose_strategies(timed, SolveParams())[0] == "PARALLEL_CHEAPEST_INSERTION"
    warm = SolveParams(initial_routes=[[1, 2]])
    assert choose_strategies(plain, warm)[1] == "GUIDED_LOCAL_SEARCH"
    hourly = replace(plain, vehicles=fleet(3, capacity_g=100, cost_per_hour=3000))
    asked = SolveParams(metaheuristic=ITERATED_LOCAL_SEARCH)
    assert choose_strategies(hourly, asked)[1] == "GUIDED_LOCAL_SEARCH"
    chosen = SolveParams(first_solution="SAVINGS", metaheuristic="TABU_SEARCH")
    assert choose_strategies(plain, chosen) == ("SAVINGS", "TABU_SEARCH")


def test_iterated_local_search_serves_windows_and_capacity() -> None:
    problem = grid_problem(RING, vehicles=fleet(6, capacity_g=100), delivery_g=[0] + [40] * 9)
    windows = problem.time_windows.copy()
    windows[8] = (0, HOUR)  # the far corner early ...
    windows[2] = (2 * HOUR, 3 * HOUR)  # ... a near node late
    problem = replace(problem, time_windows=windows)
    params = SolveParams(time_limit_s=1.0, metaheuristic=ITERATED_LOCAL_SEARCH)
    solution = solved(problem, params)
    assert solution.unserved == []
    assert len(solution.routes) >= 5  # 9 customers of 40 g, at most 2 per 100 g vehicle
    starts = {n: t for r in solution.routes for n, t in zip(r.nodes, r.times[1:-1], strict=True)}
    assert starts[8] <= HOUR and starts[2] >= 2 * HOUR


def test_slack_time_model_schedules_from_the_shift_start() -> None:
    """Loose windows drop the time dimension; the reported times are still a valid schedule."""
    vehicles = fleet(4, capacity_g=100, shift_start=8 * HOUR)
    problem = grid_problem(RING, vehicles=vehicles, delivery_g=[0] + [30] * 9)
    solution = solved(problem, replace(FAST, metaheuristic=ITERATED_LOCAL_SEARCH))
    assert all(route.times[0] == 8 * HOUR for route in solution.routes)
    # A window that can bind keeps the time dimension: node 8 must be served by 8:10.
    windows = problem.time_windows.copy()
    windows[8] = (0, 8 * HOUR + 600)
    timed = solved(replace(problem, time_windows=windows))
    starts = {n: t for r in timed.routes for n, t in zip(r.nodes, r.times[1:-1], strict=True)}
    assert starts[8] <= 8 * HOUR + 600


def test_range_splits_routes_that_would_be_too_long() -> None:
    # Four nodes 5 km out in each direction: one tour is 40 km; a 25 km range forces two.
    points = [(0, 0), (5, 0), (0, 5), (-5, 0), (0, -5)]
    roomy = grid_problem(points, fleet(2, fixed_cost=100_000))
    assert len(solved(roomy).routes) == 1
    limited = grid_problem(points, fleet(2, fixed_cost=100_000, max_distance=25_000))
    solution = solved(limited)
    assert len(solution.routes) == 2
    assert all(route_distance(limited, r) <= 25_000 for r in solution.routes)


def test_a_node_beyond_range_is_left_unserved() -> None:
    problem = grid_problem([(0, 0), (1, 0), (20, 0)], fleet(1, max_distance=30_000))
    problem.penalty[:] = 10**6
    solution = solved(problem)
    assert solution.unserved == [2]
