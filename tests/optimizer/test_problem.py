"""Problem.build: the one way the project makes a Problem, with its defaults."""

from __future__ import annotations

import numpy as np

from optimizer.problem import DAY_S, MANDATORY, Problem, Vehicle
from optimizer.validate import check_problem

DIST = np.array([[0, 5, 7], [5, 0, 3], [7, 3, 0]])
VAN = Vehicle(start=0, end=0, capacity_g=10, capacity_ml=10)


def test_omitted_parts_default_to_nothing_over_one_day() -> None:
    problem = Problem.build([DIST], [VAN, VAN])
    assert problem.n == 3 and problem.vehicles == [VAN, VAN]
    assert all(m.dtype == np.int64 for m in (*problem.distances, *problem.durations))
    assert not problem.durations[0].any() and problem.durations[0].shape == (3, 3)
    assert problem.delivery.shape == problem.pickup.shape == (3, 2)
    assert not problem.delivery.any() and not problem.pickup.any() and not problem.service.any()
    assert problem.time_windows.tolist() == [[0, DAY_S]] * 3
    assert problem.penalty.tolist() == [MANDATORY] * 3
    assert problem.allowed == [] and problem.pairs == []
    assert check_problem(problem) == []


def test_grams_alone_fill_the_first_amount_and_a_scalar_penalty_every_node() -> None:
    problem = Problem.build(
        [DIST],
        [VAN],
        delivery=[0, 4, 2],
        pickup=[[0, 0], [1, 2], [0, 3]],
        horizon_s=3600,
        penalty=99,
        allowed=[None, frozenset({0}), None],
        pairs=[(1, 2)],
    )
    assert problem.delivery.tolist() == [[0, 0], [4, 0], [2, 0]]
    assert problem.pickup.tolist() == [[0, 0], [1, 2], [0, 3]]
    assert problem.time_windows.tolist() == [[0, 3600]] * 3
    assert problem.penalty.tolist() == [99, 99, 99] and problem.penalty.dtype == np.int64
    assert problem.allowed == [None, frozenset({0}), None] and problem.pairs == [(1, 2)]


def test_given_arrays_are_kept_as_int64() -> None:
    windows = np.array([[0, 100], [10, 50], [20, 60]], dtype=np.int64)
    penalty = np.array([MANDATORY, 5, MANDATORY])
    problem = Problem.build(
        [DIST, DIST * 2],
        [VAN],
        durations=[DIST // 2, DIST],
        time_windows=windows,
        service=[0, 30, 30],
        penalty=penalty,
    )
    assert problem.time_windows is windows  # no copy of what is already int64
    assert [m.tolist() for m in problem.durations] == [(DIST // 2).tolist(), DIST.tolist()]
    assert problem.service.tolist() == [0, 30, 30] and problem.service.dtype == np.int64
    assert problem.penalty.tolist() == [MANDATORY, 5, MANDATORY]
