"""A portfolio of differently configured solves run in parallel processes; the best valid wins.

Each worker is a separate process (spawn start method: OR-Tools is multithreaded, so forking
a process that has used it is unsafe) running `optimizer.solver.solve` with its own first-
solution strategy and metaheuristic for the same time limit. Worker 0 uses the caller's
parameters unchanged, so a portfolio is never worse than a plain solve of the same budget
(up to the search's own randomness and the load on the machine).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

from optimizer.problem import Problem, Solution
from optimizer.solver import SolveParams, solve
from optimizer.validate import validate

#: (first solution strategy, metaheuristic) for workers 1, 2, ... (worker 0 = the caller's).
STRATEGIES: tuple[tuple[str, str], ...] = (
    ("SAVINGS", "GUIDED_LOCAL_SEARCH"),
    ("PARALLEL_CHEAPEST_INSERTION", "GUIDED_LOCAL_SEARCH"),
    ("PATH_CHEAPEST_ARC", "SIMULATED_ANNEALING"),
    ("CHRISTOFIDES", "TABU_SEARCH"),
    ("LOCAL_CHEAPEST_INSERTION", "GUIDED_LOCAL_SEARCH"),
)


def portfolio_params(params: SolveParams, workers: int) -> list[SolveParams]:
    """The parameters each of `workers` processes runs: the caller's first, then STRATEGIES.

    Initial routes, limits and logging are kept; only the search strategy differs.
    """
    variants = [params]
    for k in range(1, workers):
        first, meta = STRATEGIES[(k - 1) % len(STRATEGIES)]
        variants.append(replace(params, first_solution=first, metaheuristic=meta))
    return variants


def _solve_one(problem: Problem, params: SolveParams) -> tuple[Solution | None, str]:
    """Worker body: a solve and its validation; errors come back as text, not exceptions."""
    try:
        solution = solve(problem, params)
    except Exception as exc:  # a failed worker must not sink the others
        return None, f"{type(exc).__name__}: {exc}"
    errors = validate(problem, solution)
    if errors:
        return None, "invalid: " + "; ".join(errors[:3])
    return solution, ""


def _rank(solution: Solution) -> tuple[int, int]:
    """Fewer unserved nodes first, then lower cost."""
    return len(solution.unserved), solution.cost


def solve_portfolio(problem: Problem, params: SolveParams, workers: int) -> Solution:
    """Best valid solution over `workers` parallel solves (workers <= 1: one plain solve).

    Raises RuntimeError when no worker returns a valid solution.
    """
    if workers <= 1:
        return solve(problem, params)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(_solve_one, problem, p) for p in portfolio_params(params, workers)]
        outcomes = [f.result() for f in futures]
    found = [s for s, _ in outcomes if s is not None]
    if not found:
        reasons = "; ".join(reason for _, reason in outcomes)
        raise RuntimeError(f"no portfolio worker found a valid solution ({reasons})")
    best = min(found, key=_rank)
    best.stats = {**best.stats, "portfolio_workers": float(workers)}
    return best
