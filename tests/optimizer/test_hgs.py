"""PyVRP translation: each feature of a Problem on tiny instances checked against brute force.

Each case has a loose twin without the feature; the twin's optimum must be infeasible or
costlier for the real problem (the feature binds), and PyVRP, with a fixed seed and iteration
limit, must reach the real problem's brute-force optimum with a valid solution.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest

from optimizer import hgs
from optimizer.problem import MANDATORY, Break, Problem, Solution, Vehicle
from optimizer.validate import validate
from tests.optimizer.brute_force import _timed, optimum

HOUR = 3600
#: Depot first, then five customers (km on a grid, Manhattan distances, 10 m/s).
POINTS = [(0, 0), (2, 0), (4, 1), (1, 3), (-2, 2), (-3, -1)]


def tiny(vehicles: list[Vehicle], **fields: object) -> Problem:
    """The five-customer grid problem with one unit of weight per customer and `fields`."""
    xy = np.array(POINTS, dtype=np.int64) * 1000
    dist = np.abs(xy[:, None, :] - xy[None, :, :]).sum(axis=2).astype(np.int64)
    n = len(POINTS)
    grams = np.full(n, 1000, np.int64)
    grams[0] = 0
    problem = Problem.build(
        [dist],
        vehicles,
        durations=[dist // 10],
        delivery=grams,
        time_windows=np.tile(np.array([6 * HOUR, 20 * HOUR], np.int64), (n, 1)),
        service=[0, 300, 300, 300, 300, 300],
    )
    return replace(problem, **fields)


def van(**fields: object) -> Vehicle:
    """A roomy van at depot 0 costing 1000 fen/km (cost = metres) unless `fields` say."""
    return replace(
        Vehicle(start=0, end=0, capacity_g=10**6, capacity_ml=10**6, shift_start=6 * HOUR),
        **fields,
    )


def _costs() -> tuple[Problem, Problem]:
    fleet = [
        van(cost_per_km=300, cost_per_hour=20000),
        van(cost_per_km=500, fixed_cost=5000),
        van(cost_per_km=700),
    ]
    return tiny(fleet), tiny([van()] * 3)


def _shift() -> tuple[Problem, Problem]:
    windows = np.tile(np.array([6 * HOUR, 20 * HOUR], np.int64), (6, 1))
    windows[2] = (8 * HOUR, 9 * HOUR)
    fleet = [van(shift_start=7 * HOUR, shift_end=8 * HOUR + 1800), van(shift_start=8 * HOUR)]
    return tiny(fleet, time_windows=windows), tiny([van(), van()], time_windows=windows)


def _duration() -> tuple[Problem, Problem]:
    fleet = [van(max_duration=3000), van(max_duration=3000)]
    return tiny(fleet), tiny([van(), van()])


def _capacity() -> tuple[Problem, Problem]:
    delivery = np.zeros((6, 2), np.int64)
    delivery[1:, 0] = [300, 200, 400, 100, 250]
    delivery[1:, 1] = [5_000, 40_000, 10_000, 30_000, 20_000]
    fleet = [van(capacity_g=1_000, capacity_ml=50_000)] * 3
    return tiny(fleet, delivery=delivery), tiny([van()] * 3, delivery=delivery)


def _time_windows() -> tuple[Problem, Problem]:
    windows = np.tile(np.array([6 * HOUR, 20 * HOUR], np.int64), (6, 1))
    windows[1] = (9 * HOUR, 9 * HOUR + 600)
    windows[3] = (6 * HOUR, 6 * HOUR + 900)
    windows[5] = (9 * HOUR + 1200, 9 * HOUR + 1800)
    service = np.array([0, 1200, 300, 600, 300, 900], np.int64)
    real = tiny([van(), van()], time_windows=windows, service=service)
    return real, tiny([van(), van()], service=service)


def _pickups() -> tuple[Problem, Problem]:
    delivery = np.zeros((6, 2), np.int64)
    pickup = np.zeros((6, 2), np.int64)
    delivery[1:, 0] = [400, 0, 300, 0, 200]
    pickup[1:, 0] = [0, 500, 200, 400, 0]
    fleet = [van(capacity_g=900)] * 3
    loose = tiny([van(capacity_g=900)] * 3, delivery=delivery)
    return tiny(fleet, delivery=delivery, pickup=pickup), loose


def _optional() -> tuple[Problem, Problem]:
    penalty = np.array([MANDATORY, MANDATORY, 3000, MANDATORY, 9000, 12000], np.int64)
    fleet = [van(), van(fixed_cost=4000)]
    return tiny(fleet, penalty=penalty), tiny(fleet)


def _trips() -> tuple[Problem, Problem]:
    trip = van(capacity_g=2000, group=7, reload_s=900)
    fleet = [replace(trip, fixed_cost=5000), trip, trip]
    loose = [replace(trip, fixed_cost=5000, capacity_g=10**6, group=None)]
    return tiny(fleet), tiny(loose)


def _allowed() -> tuple[Problem, Problem]:
    allowed: list[frozenset[int] | None] = [None] * 6
    allowed[1] = frozenset({1})
    allowed[2] = frozenset({1})
    allowed[4] = frozenset({0})
    fleet = [van(fixed_cost=1000), van(fixed_cost=1000)]
    return tiny(fleet, allowed=allowed), tiny(fleet)


def _range() -> tuple[Problem, Problem]:
    fleet = [van(max_distance=13_000), van(max_distance=13_000), van(max_distance=13_000)]
    return tiny(fleet), tiny([van()] * 3)


CASES: dict[str, Callable[[], tuple[Problem, Problem]]] = {
    "fixed, per-metre and per-second costs": _costs,
    "shift windows": _shift,
    "maximum duration": _duration,
    "weight and volume capacities": _capacity,
    "time windows and service times": _time_windows,
    "simultaneous delivery and pickup": _pickups,
    "optional clients with penalties": _optional,
    "multiple trips with reloads": _trips,
    "allowed vehicles per point": _allowed,
    "maximum distance per trip": _range,
}


def _total(problem: Problem, solution: Solution) -> int:
    return solution.cost + sum(int(problem.penalty[n]) for n in solution.unserved)


@pytest.mark.parametrize("feature", list(CASES))
def test_pyvrp_reaches_the_brute_force_optimum(feature: str) -> None:
    problem, loose = CASES[feature]()
    assert hgs.unsupported(problem) == []
    best, _ = optimum(problem)
    _, loose_best = optimum(loose)
    orders = [[] for _ in problem.vehicles]
    for route in loose_best.routes:
        if route.vehicle < len(orders):
            orders[route.vehicle] = route.nodes
    retimed = _timed(problem, orders, loose_best.unserved)
    assert retimed is None or _total(problem, retimed) > best, "the feature does not bind"

    solution = hgs.solve(problem, 10.0, max_iterations=3000, seed=1)
    assert solution.status == "feasible"
    assert solution.engine == "pyvrp"
    assert validate(problem, solution) == []
    assert _total(problem, solution) == best


def test_trips_of_a_chain_are_used_in_order_after_their_reload() -> None:
    problem, _ = _trips()
    solution = hgs.solve(problem, 10.0, max_iterations=2000)
    used = sorted(route.vehicle for route in solution.routes)
    assert used == list(range(len(used))) and len(used) >= 3
    for before, after in zip(solution.routes, solution.routes[1:], strict=False):
        assert after.times[0] >= before.times[-1] + 900


def test_hourly_cost_leaves_as_late_as_the_first_window_allows() -> None:
    windows = np.tile(np.array([6 * HOUR, 20 * HOUR], np.int64), (6, 1))
    windows[[1, 3]] = (10 * HOUR, 12 * HOUR)
    windows[[2, 4, 5]] = (15 * HOUR, 17 * HOUR)
    trip = van(capacity_g=2000, cost_per_hour=3600, group=1, reload_s=600)
    problem = tiny([trip] * 3, time_windows=windows)
    solution = hgs.solve(problem, 10.0, max_iterations=1000)
    assert validate(problem, solution) == []
    for route in solution.routes:  # no wait at the first stop of any trip
        first = route.nodes[0]
        assert route.times[1] == route.times[0] + int(problem.durations[0][0, first])


def test_a_route_leaves_within_its_start_depots_window_and_ends_at_another_depot() -> None:
    windows = np.tile(np.array([6 * HOUR, 20 * HOUR], np.int64), (6, 1))
    windows[0] = (6 * HOUR, 7 * HOUR)  # the start depot sends vans out by 07:00
    windows[1:5] = (8 * HOUR, 12 * HOUR)
    problem = tiny([van(end=5, cost_per_hour=3600)], time_windows=windows)
    solution = hgs.solve(problem, 10.0, max_iterations=500)
    assert validate(problem, solution) == []
    (route,) = solution.routes
    assert route.times[0] == 7 * HOUR and sorted(route.nodes) == [1, 2, 3, 4]


def test_lunch_breaks_and_pairs_are_stated_and_relaxed() -> None:
    lunch = Break(11 * HOUR, 13 * HOUR, 1800)
    problem = tiny([van(lunch=lunch), van()], pairs=[(1, 2)])
    reasons = hgs.unsupported(problem)
    assert any("lunch" in reason for reason in reasons)
    assert any("pair" in reason for reason in reasons)
    with pytest.raises(ValueError, match="cannot express"):
        hgs.solve(problem, 1.0)
    relaxed = hgs.relax(problem)
    assert hgs.unsupported(relaxed) == []
    assert relaxed.pairs == [] and all(v.lunch is None for v in relaxed.vehicles)
    assert hgs.solve(relaxed, 5.0, max_iterations=200).status == "feasible"


def test_a_chain_pyvrp_cannot_express_is_relaxed_into_independent_trips() -> None:
    trip = van(capacity_g=2000, group=3, reload_s=600)
    problem = tiny([trip, replace(trip, max_duration=HOUR)])
    assert hgs.unsupported(problem) == ["trip chain 3: per-trip duration or distance limits"]
    assert all(v.group is None for v in hgs.relax(problem).vehicles)


def test_warm_start_is_used_and_a_bad_one_refused() -> None:
    problem, _ = _capacity()
    start = [[1, 2], [3, 4], [5]]
    solution = hgs.solve(problem, 5.0, max_iterations=0, initial_routes=start)
    assert sorted(sorted(route.nodes) for route in solution.routes) == [[1, 2], [3, 4], [5]]
    with pytest.raises(ValueError, match="not a fresh customer"):
        hgs.solve(problem, 1.0, initial_routes=[[1, 1]])


def test_a_mandatory_point_no_vehicle_may_serve_fails_at_once() -> None:
    allowed: list[frozenset[int] | None] = [None] * 6
    allowed[3] = frozenset()
    solution = hgs.solve(tiny([van()], allowed=allowed), 5.0)
    assert solution.status == "failed" and solution.routes == []
