"""Portfolio of parallel solves: distinct strategies per worker, a valid best answer."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from optimizer.portfolio import portfolio_params, solve_portfolio
from optimizer.problem import MANDATORY, Problem, Vehicle
from optimizer.solver import SolveParams
from optimizer.validate import validate


def _cvrp(n: int = 12, seed: int = 3) -> Problem:
    rng = np.random.default_rng(seed)
    xy = rng.integers(0, 10_000, size=(n, 2))
    dist = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
    dist = dist.astype(np.int64)
    demand = rng.integers(100, 900, size=n)
    demand[0] = 0
    zeros = np.zeros(n, dtype=np.int64)
    return Problem(
        distances=[dist],
        durations=[dist // 10],
        delivery=np.stack([demand, zeros], axis=1).astype(np.int64),
        pickup=np.zeros((n, 2), dtype=np.int64),
        time_windows=np.tile(np.array([0, 86_400], dtype=np.int64), (n, 1)),
        service=np.zeros(n, dtype=np.int64),
        vehicles=[Vehicle(start=0, end=0, capacity_g=2_000, capacity_ml=0)] * 5,
        penalty=np.full(n, MANDATORY, dtype=np.int64),
    )


def test_workers_get_distinct_strategies_and_worker_zero_keeps_the_callers() -> None:
    params = SolveParams(time_limit_s=3, first_solution="SAVINGS", metaheuristic="TABU_SEARCH")
    variants = portfolio_params(params, 4)
    assert variants[0] == params
    pairs = {(p.first_solution, p.metaheuristic) for p in variants}
    assert len(pairs) == 4
    assert all(p.time_limit_s == 3 for p in variants)
    default = SolveParams()
    assert len({(p.first_solution, p.metaheuristic) for p in portfolio_params(default, 6)}) == 6


def test_constrained_problems_get_insertion_strategies() -> None:
    problem = _cvrp()
    windows = problem.time_windows.copy()
    windows[4] = (3_600, 7_200)
    timed = replace(problem, time_windows=windows)
    for variant in portfolio_params(SolveParams(), 4, timed)[1:]:
        assert "INSERTION" in variant.first_solution
    plain = portfolio_params(SolveParams(), 4, problem)[1:]
    assert any("INSERTION" not in variant.first_solution for variant in plain)


def test_warm_start_keeps_one_worker_searching_from_scratch() -> None:
    params = SolveParams(time_limit_s=3, initial_routes=[[1, 2], [3]])
    variants = portfolio_params(params, 3)
    assert [v.initial_routes is None for v in variants] == [False, True, False]


def test_a_failing_worker_does_not_sink_the_portfolio() -> None:
    problem = _cvrp()
    broken = SolveParams(time_limit_s=0.5, first_solution="NO_SUCH_STRATEGY")
    solution = solve_portfolio(problem, broken, workers=2)
    assert validate(problem, solution) == []
    assert solution.stats["portfolio_winner"] == 1.0


def test_two_workers_return_a_valid_solution() -> None:
    problem = _cvrp()
    solution = solve_portfolio(problem, SolveParams(time_limit_s=0.5), workers=2)
    assert validate(problem, solution) == []
    assert not solution.unserved
    assert solution.stats["portfolio_workers"] == 2.0


def test_one_worker_is_a_plain_solve() -> None:
    problem = _cvrp()
    solution = solve_portfolio(problem, SolveParams(time_limit_s=1, solution_limit=20), workers=1)
    assert validate(problem, solution) == []
    assert "portfolio_workers" not in solution.stats
