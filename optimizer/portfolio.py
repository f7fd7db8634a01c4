"""A portfolio of differently configured solves run in parallel; the best valid one wins.

Worker 0 runs the caller's parameters in this process; workers 1, 2, ... run in spawned
processes (OR-Tools is multithreaded, so forking a process that has used it is unsafe) with
other strategies chosen by the problem's shape. Every worker stops at the same wall-clock
deadline, so the spawn start-up comes out of the helpers' search time, not the caller's
budget. A worker that crashes, hangs or returns an invalid solution is reported, never fatal
while another one succeeds.
"""

from __future__ import annotations

import multiprocessing
import time
from dataclasses import replace

from optimizer.problem import Problem, Solution
from optimizer.solver import ITERATED_LOCAL_SEARCH, SolveParams, solve
from optimizer.validate import validate

#: (first solution, metaheuristic) of workers 1, 2, ... on capacity-only problems.
STRATEGIES: tuple[tuple[str, str], ...] = (
    ("SAVINGS", ITERATED_LOCAL_SEARCH),
    ("PATH_CHEAPEST_ARC", "GUIDED_LOCAL_SEARCH"),
    ("CHRISTOFIDES", ITERATED_LOCAL_SEARCH),
    ("PARALLEL_CHEAPEST_INSERTION", ITERATED_LOCAL_SEARCH),
    ("SAVINGS", "GUIDED_LOCAL_SEARCH"),
)
#: The same with pickups, shipments or time windows: insertion heuristics, which never stall.
CONSTRAINED_STRATEGIES: tuple[tuple[str, str], ...] = (
    ("LOCAL_CHEAPEST_INSERTION", ITERATED_LOCAL_SEARCH),
    ("PARALLEL_CHEAPEST_INSERTION", "GUIDED_LOCAL_SEARCH"),
    ("SEQUENTIAL_CHEAPEST_INSERTION", ITERATED_LOCAL_SEARCH),
    ("LOCAL_CHEAPEST_INSERTION", "GUIDED_LOCAL_SEARCH"),
)

#: Seconds a helper may overrun the deadline (solution read-out, transfer) before it is dropped.
_GRACE_S = 5.0


def _constrained(problem: Problem) -> bool:
    """True when path-building first solutions may stall: pickups, pairs or time windows."""
    if problem.pairs or problem.pickup.any():
        return True
    windows = problem.time_windows
    return bool(
        (windows[:, 0] > windows[:, 0].min()).any() or (windows[:, 1] < windows[:, 1].max()).any()
    )


def portfolio_params(
    params: SolveParams, workers: int, problem: Problem | None = None
) -> list[SolveParams]:
    """The parameters of each of `workers` solves: the caller's first, then other strategies.

    Limits and logging are kept. With a warm start, worker 1 searches from scratch instead
    (a second opinion the warm start cannot bias); the others polish the warm start.
    Strategy pairs equal to the caller's are skipped so that every worker differs.
    """
    table = STRATEGIES if problem is None or not _constrained(problem) else CONSTRAINED_STRATEGIES
    others = [pair for pair in table if pair != (params.first_solution, params.metaheuristic)]
    variants = [params]
    for k in range(1, workers):
        first, meta = others[(k - 1) % len(others)]
        variant = replace(params, first_solution=first, metaheuristic=meta)
        if k == 1 and params.initial_routes is not None:
            variant = replace(variant, initial_routes=None)
        variants.append(variant)
    return variants


def _solve_one(
    problem: Problem, params: SolveParams, deadline: float
) -> tuple[Solution | None, str]:
    """Worker body: a solve ending by `deadline` (epoch s) and its validation; errors come
    back as text, not exceptions."""
    remaining = deadline - time.time()
    params = replace(params, time_limit_s=max(0.05, min(params.time_limit_s, remaining)))
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
    started = time.time()
    deadline = started + params.time_limit_s
    variants = portfolio_params(params, workers, problem)
    context = multiprocessing.get_context("spawn")
    pool = context.Pool(processes=workers - 1)
    try:
        pending = [
            pool.apply_async(_solve_one, (problem, variant, deadline)) for variant in variants[1:]
        ]
        outcomes = [_solve_one(problem, variants[0], deadline)]
        for handle in pending:
            wait = max(0.0, deadline - time.time()) + _GRACE_S + 0.1 * params.time_limit_s
            try:
                outcomes.append(handle.get(timeout=wait))
            except multiprocessing.TimeoutError:
                outcomes.append((None, "worker did not answer in time"))
            except Exception as exc:  # pickling or a dead worker process
                outcomes.append((None, f"{type(exc).__name__}: {exc}"))
    finally:
        pool.terminate()
        pool.join()
    found = [(k, s) for k, (s, _) in enumerate(outcomes) if s is not None]
    if not found:
        reasons = "; ".join(reason for _, reason in outcomes)
        raise RuntimeError(f"no portfolio worker found a valid solution ({reasons})")
    winner, best = min(found, key=lambda pair: _rank(pair[1]))
    best.solve_time_s = time.time() - started
    best.stats = {
        **best.stats,
        "portfolio_workers": float(workers),
        "portfolio_winner": float(winner),
    }
    return best
