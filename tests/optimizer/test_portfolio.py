"""Portfolio of PyVRP and OR-Tools: helpers started once, a valid best answer, every run listed."""

from __future__ import annotations

import multiprocessing
from dataclasses import replace

import numpy as np
import pytest

from optimizer import portfolio
from optimizer.portfolio import portfolio_params
from optimizer.problem import Problem, Vehicle
from optimizer.solver import SolveParams
from optimizer.validate import validate
from tests.optimizer.instances import rural_day


def _cvrp(n: int = 12, seed: int = 3) -> Problem:
    rng = np.random.default_rng(seed)
    xy = rng.integers(0, 10_000, size=(n, 2))
    dist = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
    dist = dist.astype(np.int64)
    demand = rng.integers(100, 900, size=n)
    demand[0] = 0
    return Problem.build(
        [dist],
        [Vehicle(start=0, end=0, capacity_g=2_000, capacity_ml=0)] * (n // 3 + 2),
        durations=[dist // 10],
        delivery=demand,
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
    problem = _cvrp(n=45)
    broken = SolveParams(time_limit_s=1.0, first_solution="NO_SUCH_STRATEGY")
    solution = portfolio.solve(problem, broken, workers=2)
    assert validate(problem, solution) == []
    assert solution.engine == "pyvrp"
    failed = [run for run in solution.runs if run.cost is None]
    assert [run.engine for run in failed] == ["ortools"] and "strategy" in failed[0].note


def test_two_workers_race_both_engines_and_report_each_cost() -> None:
    problem = _cvrp(n=45)
    solution = portfolio.solve(problem, SolveParams(time_limit_s=1.0), workers=2)
    assert validate(problem, solution) == []
    assert not solution.unserved
    assert sorted(run.engine for run in solution.runs) == ["ortools", "pyvrp"]
    costs = [run.cost for run in solution.runs if run.cost is not None]
    assert solution.cost == min(costs)
    assert solution.engine in ("ortools", "pyvrp")
    assert solution.stats["portfolio_workers"] == 2.0


def test_a_pool_keeps_its_helper_for_every_solve() -> None:
    problem = _cvrp(n=45)
    params = SolveParams(time_limit_s=0.5)
    with portfolio.EnginePool(2) as pool:
        first = portfolio.solve(problem, params, pool=pool)
        helpers = {child.pid for child in multiprocessing.active_children()}
        second = portfolio.solve(problem, params, pool=pool, engine="ortools")
        assert {child.pid for child in multiprocessing.active_children()} == helpers
    assert len(helpers) == 1
    assert len(first.runs) == len(second.runs) == 2
    assert {run.engine for run in second.runs} == {"ortools"}


def test_one_worker_and_small_problems_never_start_a_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_processes(*args: object) -> None:
        raise AssertionError("a process was started")

    monkeypatch.setattr(portfolio.multiprocessing, "get_context", no_processes)
    big, small = _cvrp(n=45), _cvrp(n=12)
    with portfolio.EnginePool(1) as pool:
        solution = portfolio.solve(big, SolveParams(time_limit_s=0.5), pool=pool)
    assert validate(big, solution) == [] and len(solution.runs) == 1
    lazy = portfolio.EnginePool(2)  # not entered: its helpers start at the first race
    solution = portfolio.solve(small, SolveParams(time_limit_s=0.5), pool=lazy)
    lazy.close()
    assert validate(small, solution) == [] and [run.engine for run in solution.runs] == ["pyvrp"]


def test_lunch_breaks_go_through_relaxed_pyvrp_and_ortools_repair() -> None:
    problem = rural_day(45, seed=2)
    params = SolveParams(time_limit_s=4.0)
    alone = portfolio.solve(problem, params, engine="pyvrp")
    assert alone.engine == portfolio.RELAXED
    assert validate(problem, alone) == [] and not alone.unserved
    assert any(route.lunch_start is not None for route in alone.routes)
    raced = portfolio.solve(problem, params, workers=2)
    assert validate(problem, raced) == [] and not raced.unserved
    assert sorted(run.engine for run in raced.runs) == ["ortools", portfolio.RELAXED]


def test_mandatory_nodes_are_droppable_only_at_a_prohibitive_penalty() -> None:
    problem = rural_day(10, seed=1)
    soft = portfolio.droppable(problem)
    assert (soft.penalty[1:] > 0).all()
    route_bound = max(v.fixed_cost for v in problem.vehicles) + 10**5
    assert soft.penalty[1] > route_bound


def test_an_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown engine"):
        portfolio.solve(_cvrp(), engine="gurobi")


def test_ortools_takes_over_when_pyvrp_fails_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("PyVRP crashed")

    monkeypatch.setattr(portfolio.hgs, "solve", broken)
    problem = _cvrp(n=12)
    solution = portfolio.solve(problem, SolveParams(time_limit_s=1.0, solution_limit=100))
    assert validate(problem, solution) == [] and solution.engine == "ortools"
    assert [(run.engine, run.cost is None) for run in solution.runs] == [
        ("pyvrp", True),
        ("ortools", False),
    ]
    assert "PyVRP crashed" in solution.runs[0].note
