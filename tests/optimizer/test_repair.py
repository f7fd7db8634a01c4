"""Repair of relaxed routes: what it keeps is valid for the full problem, what breaks it goes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from optimizer import hgs
from optimizer.problem import Break, Problem
from optimizer.repair import repair
from optimizer.validate import validate
from tests.optimizer.instances import HOUR, LUNCH, rural_day
from tests.optimizer.test_hgs import tiny, van


def test_relaxed_routes_of_a_lunch_day_come_back_valid_with_their_breaks() -> None:
    problem = rural_day(40, seed=3)
    relaxed = hgs.search(hgs.relax(problem), 10.0, max_iterations=300)
    assert relaxed.feasible
    repaired = repair(problem, relaxed.nodes)
    assert validate(problem, repaired) == []
    assert any(route.lunch_start is not None for route in repaired.routes)
    kept = sum(len(route.nodes) for route in repaired.routes)
    assert kept >= 0.8 * len(problem.customers())


def test_a_stop_the_break_keeps_out_of_its_window_is_left_out() -> None:
    windows = np.tile(np.array([8 * HOUR, 18 * HOUR], np.int64), (6, 1))
    windows[1] = (11 * HOUR + 1800, 11 * HOUR + 2400)  # inside the only possible break
    windows[2] = (13 * HOUR, 13 * HOUR + 300)
    problem = tiny([van(shift_start=8 * HOUR, lunch=Break(11 * HOUR, 11 * HOUR, 3600))])
    problem = replace(problem, time_windows=windows, penalty=np.full(6, 10**6, np.int64))
    repaired = repair(problem, [[1, 2, 3, 4, 5]])
    assert validate(problem, repaired) == []
    assert repaired.unserved == [1]
    assert repaired.routes[0].lunch_start == 11 * HOUR


def test_pairs_survive_only_picked_before_dropped_on_one_route() -> None:
    problem = replace(tiny([van(), van()]), pairs=[(1, 2), (3, 4)])
    problem.delivery[[1, 3]] = 0
    problem.pickup[[1, 3], 0] = 1000
    problem.penalty[:] = 5000
    repaired = repair(problem, [[2, 1, 5], [3, 4]])
    assert validate(problem, repaired) == []
    assert sorted(repaired.unserved) == [1, 2]
    assert [route.nodes for route in repaired.routes] == [[5], [3, 4]]


def test_later_trips_of_a_chain_start_after_the_reload() -> None:
    trip = van(capacity_g=2000, group=1, reload_s=900, lunch=LUNCH)
    problem: Problem = tiny([trip, trip, trip])
    repaired = repair(problem, [[1, 2], [3, 4], [5]])
    assert validate(problem, repaired) == []
    assert [route.vehicle for route in repaired.routes] == [0, 1, 2]
