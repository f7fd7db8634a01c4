"""The default engine: PyVRP and OR-Tools raced in parallel processes; the best valid one wins.

`solve(problem, params, engine=..., pool=...)` runs one solve on `pool.workers` processes
(this one and `workers - 1` helpers started once per pool and reused by every solve):

* engine "portfolio": PyVRP in this process (it gains most from the helpers' start-up time),
  OR-Tools with the caller's parameters in a helper; further workers alternate PyVRP with
  other seeds and OR-Tools with other strategies;
* engine "ortools": OR-Tools on every worker, each with other strategies (`portfolio_params`);
* engine "pyvrp": PyVRP on every worker, each with its own seed.

Where the problem has parts PyVRP cannot express (`optimizer.hgs.unsupported`: lunch breaks,
paired pickup and delivery), a PyVRP worker runs the relaxed pipeline instead: PyVRP solves
`hgs.relax(problem)` for RELAXED_SHARE of the time limit, `optimizer.repair` cuts its routes
down to what the full problem allows, and OR-Tools, warm-started from them, inserts the
stops left out and polishes for the rest of the time. The repaired routes are a candidate of
their own, so the pipeline never returns less than them. RELAXED_SHARE = 0.7 was measured
on the rural day problem (270 stops, windows, hourly costs, a lunch break on every van;
`python -m benchmarks.portfolio split`, benchmarks/README.md): shares 0.3, 0.5, 0.7 and 0.9
of 30 s, the pipeline 7-15 % cheaper than OR-Tools alone at each; 0.7 and 0.9 best and
within noise, most of the result being PyVRP's relaxed routes and OR-Tools adding 1-2 %;
0.7 leaves OR-Tools room where the repair has to leave stops out. SMALL_PROBLEM = 40 from
`python -m benchmarks.portfolio small`: below it the race never beat one engine.

Every worker stops at the same wall-clock deadline. A candidate is validated by
`optimizer.validate` before it may win; the winner has the lowest cost plus penalties of
unserved nodes. Its `engine` names the winning engine and `runs` lists every candidate's
cost, so that callers can report them. A worker that crashes, hangs or returns an invalid
solution is reported in `runs`, never fatal while another one succeeds.

Problems with fewer than SMALL_PROBLEM customers are solved in this process by one engine
even when a pool is at hand, and so is every problem when the pool has one worker, which
never starts a process (Dask workers are daemonic and cannot start children). That one engine
is PyVRP where it expresses the whole problem, else the relaxed pipeline (engine
"portfolio"); otherwise the engine asked for. With one worker, problems of SMALL_PROBLEM
customers or more take the relaxed pipeline even when PyVRP expresses them: on the day
planner's legs it matched or beat both engines alone at the same time (on the trunk legs
with station deadlines PyVRP alone may find no feasible routes at all, OR-Tools from its
start did better than OR-Tools alone). When that PyVRP run fails (no valid solution,
an error), OR-Tools gets the time that is left. OR-Tools always runs with mandatory nodes
droppable at a prohibitive penalty (`droppable`), so that it has a first solution and a warm
start may leave stops out; a result that still drops one is invalid and cannot win.
"""

from __future__ import annotations

import math
import multiprocessing
import multiprocessing.pool
import os
import time
from dataclasses import dataclass, replace
from typing import Literal, get_args

import numpy as np

from optimizer import hgs
from optimizer.problem import MANDATORY, EngineRun, Problem, Solution
from optimizer.repair import repair
from optimizer.solver import ITERATED_LOCAL_SEARCH, SolveParams
from optimizer.solver import solve as solve_ortools
from optimizer.validate import validate

Engine = Literal["portfolio", "ortools", "pyvrp"]
ENGINES: tuple[str, ...] = get_args(Engine)

#: Name of the relaxed pipeline's candidates (PyVRP relaxed, OR-Tools repairs).
RELAXED = "pyvrp+ortools"
#: Share of the time limit PyVRP gets on the relaxed problem; OR-Tools repairs in the rest.
RELAXED_SHARE = 0.7
#: Problems with fewer customers than this are solved by one engine in this process.
SMALL_PROBLEM = 40

#: (first solution, metaheuristic) of OR-Tools workers 1, 2, ... on capacity-only problems.
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


@dataclass(frozen=True)
class Task:
    """One worker's solve: its engine ("ortools", "pyvrp" or RELAXED), parameters, seed."""

    engine: str
    params: SolveParams
    seed: int = 0


class EnginePool:
    """Helper processes for portfolio solves, started once and reused until closed.

    `workers` counts this process: a pool of 2 starts one helper (default: the machine's
    cores). A pool of 1 never starts a process. As a context manager it starts the helpers
    on entry and stops them on exit; otherwise they start at the first race and `close`
    stops them.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers if workers is not None else os.cpu_count() or 1)
        self._pool: multiprocessing.pool.Pool | None = None

    def __enter__(self) -> EnginePool:
        self.start()
        return self

    def start(self) -> None:
        """Start the helpers now (they import both engines), so that the first solve does not
        wait for them; `submit` starts them otherwise."""
        if self._pool is None and self.workers > 1:
            context = multiprocessing.get_context("spawn")
            self._pool = context.Pool(self.workers - 1, initializer=_load_engines)

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the helper processes (a later solve starts new ones)."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def submit(
        self, problem: Problem, task: Task, deadline: float
    ) -> multiprocessing.pool.AsyncResult[tuple[Solution | None, str]]:
        """Run `task` in a helper (spawned: OR-Tools makes forking a used process unsafe)."""
        self.start()
        assert self._pool is not None
        return self._pool.apply_async(run_task, (problem, task, deadline))


def _load_engines() -> None:
    """Helper start-up: import both engines before the first deadline counts."""
    from optimizer import hgs, solver  # noqa: F401  (solver imports OR-Tools)

    hgs.load()


def solve(
    problem: Problem,
    params: SolveParams | None = None,
    *,
    engine: str = "portfolio",
    pool: EnginePool | None = None,
    workers: int = 1,
    small_problem: int = SMALL_PROBLEM,
) -> Solution:
    """Best valid solution of `engine` within `params.time_limit_s` (see the module doc).

    Without a `pool`, `workers` > 1 starts one for this solve only. Problems with fewer
    than `small_problem` customers run in this process only. A solution of status
    "failed" (no routes) comes back when no candidate is valid; `runs` says why.
    Raises ValueError for an unknown engine or a malformed problem.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r} (expected one of {', '.join(ENGINES)})")
    params = params or SolveParams()
    if pool is None and workers > 1:
        with EnginePool(workers) as own:
            return solve(problem, params, engine=engine, pool=own, small_problem=small_problem)
    started = time.time()
    deadline = started + params.time_limit_s
    count = pool.workers if pool is not None else 1
    if len(problem.customers()) < small_problem:
        count = 1
    tasks = plan(problem, params, engine, count)
    pending = []
    if pool is not None:
        pending = [(task, pool.submit(problem, task, deadline)) for task in tasks[1:]]
    outcomes = [(tasks[0], *run_task(problem, tasks[0], deadline), time.time() - started)]
    if len(tasks) == 1 and tasks[0].engine != "ortools" and not _usable(problem, outcomes[0][1]):
        fallback = Task("ortools", params)  # PyVRP failed alone: OR-Tools gets what is left
        outcomes.append((fallback, *run_task(problem, fallback, deadline), time.time() - started))
    for task, handle in pending:
        wait = max(0.0, deadline - time.time()) + _GRACE_S + 0.1 * params.time_limit_s
        try:
            outcomes.append((task, *handle.get(timeout=wait), time.time() - started))
        except multiprocessing.TimeoutError:
            outcomes.append((task, None, "worker did not answer in time", time.time() - started))
            assert pool is not None
            pool.close()  # the stuck helper would hold up later solves
        except Exception as exc:  # pickling or a dead worker process
            outcomes.append((task, None, f"{type(exc).__name__}: {exc}", time.time() - started))
    return _best(problem, outcomes, count, started)


def plan(problem: Problem, params: SolveParams, engine: str, workers: int) -> list[Task]:
    """The tasks of `workers` workers, the first one for this process (see the module doc)."""
    pyvrp_kind = "pyvrp" if not hgs.unsupported(problem) else RELAXED
    if engine == "portfolio" and workers == 1:
        # one process: the relaxed pipeline (PyVRP, then OR-Tools warm-started from its
        # routes) is never worse than either engine alone on larger problems
        big = len(problem.customers()) >= SMALL_PROBLEM
        return [Task(RELAXED if big else pyvrp_kind, params)]
    ortools = [Task("ortools", p) for p in portfolio_params(params, workers, problem)]
    pyvrp = [Task(pyvrp_kind, params, seed=k) for k in range(workers)]
    if engine == "ortools":
        return ortools
    if engine == "pyvrp":
        return pyvrp
    mixed = [pyvrp[0], ortools[0]]
    for k in range(1, workers):
        mixed += [pyvrp[k], ortools[k]]
    return mixed[:workers]


def run_task(problem: Problem, task: Task, deadline: float) -> tuple[Solution | None, str]:
    """One worker's solve ending by `deadline` (epoch s); errors come back as text."""
    limit = max(0.05, min(task.params.time_limit_s, deadline - time.time()))
    params = replace(task.params, time_limit_s=limit)
    try:
        if task.engine == "ortools":
            return solve_ortools(droppable(problem), params), ""
        if task.engine == "pyvrp":
            return _solve_pyvrp(problem, params, task.seed), ""
        return solve_relaxed(problem, params, seed=task.seed), ""
    except Exception as exc:  # a failed worker must not sink the others
        return None, f"{type(exc).__name__}: {exc}"


def _solve_pyvrp(problem: Problem, params: SolveParams, seed: int) -> Solution:
    """PyVRP alone; `solution_limit` bounds its iterations."""
    return hgs.solve(
        problem,
        params.time_limit_s,
        max_iterations=params.solution_limit,
        seed=seed,
        initial_routes=params.initial_routes,
    )


def solve_relaxed(
    problem: Problem, params: SolveParams, *, seed: int = 0, share: float = RELAXED_SHARE
) -> Solution:
    """PyVRP on the relaxed problem for `share` of the time limit, its routes repaired, then
    OR-Tools from the repair for the rest; the better of the repair and OR-Tools' result."""
    deadline = time.time() + params.time_limit_s
    relaxed = hgs.search(
        hgs.relax(problem),
        params.time_limit_s * share,
        max_iterations=params.solution_limit,
        seed=seed,
        initial_routes=params.initial_routes,
    )
    repaired = repair(problem, relaxed.nodes)
    warm: list[list[int]] = [[] for _ in problem.vehicles]
    for route in repaired.routes:
        warm[route.vehicle] = route.nodes
    polish = replace(
        params,
        time_limit_s=max(0.05, deadline - time.time()),
        first_solution="AUTOMATIC",
        metaheuristic="AUTOMATIC",
        initial_routes=warm,
    )
    polished = solve_ortools(droppable(problem), polish)
    best = min((repaired, polished), key=lambda s: _objective(problem, s))
    return replace(
        best,
        engine=RELAXED,
        stats={
            **best.stats,
            "relaxed_feasible": float(relaxed.feasible),
            "relaxed_cost": float(relaxed.solution.cost),
            "repaired_cost": float(_objective(problem, repaired)[1]),
            "repaired_unserved": float(len(repaired.unserved)),
            "warm_start": polished.stats.get("warm_start", 0.0),
        },
    )


def droppable(problem: Problem) -> Problem:
    """`problem` with its mandatory nodes optional at a penalty (fen) a hundred times what one
    more stop could cost on any vehicle (its fixed cost, two longest legs, a whole horizon of
    hourly cost), so that dropping one never pays."""
    mandatory = problem.penalty == MANDATORY
    if not mandatory.any():
        return problem
    longest = max(int(matrix.max()) for matrix in problem.distances)
    horizon = max(max(v.shift_end for v in problem.vehicles), int(problem.time_windows.max()))
    stop = max(
        v.fixed_cost
        + math.ceil(2 * longest * v.cost_per_km / 1000)
        + math.ceil(horizon * v.cost_per_hour / 3600)
        for v in problem.vehicles
    )
    penalty = 100 * max(stop, 1) + 1
    return replace(problem, penalty=np.where(mandatory, penalty, problem.penalty))


def _usable(problem: Problem, solution: Solution | None) -> bool:
    """True for a solution that may win: valid and not failed."""
    return solution is not None and solution.status != "failed" and not validate(problem, solution)


def _objective(problem: Problem, solution: Solution) -> tuple[bool, int]:
    """(failed, cost plus penalties of unserved nodes in fen): lower is better."""
    penalties = sum(max(0, int(problem.penalty[node])) for node in solution.unserved)
    return solution.status == "failed", solution.cost + penalties


def _best(
    problem: Problem,
    outcomes: list[tuple[Task, Solution | None, str, float]],
    workers: int,
    started: float,
) -> Solution:
    """The best valid candidate with every candidate's run attached."""
    runs: list[EngineRun] = []
    valid: list[Solution] = []
    for task, solution, note, elapsed in outcomes:
        if solution is not None:
            faults = validate(problem, solution)
            if solution.status == "failed":
                note = "no solution in time"
            elif faults:
                note = "invalid: " + "; ".join(faults[:3])
            else:
                valid.append(solution)
                engine = solution.engine or task.engine
                runs.append(EngineRun(engine, solution.cost, len(solution.unserved), elapsed, note))
                continue
        runs.append(EngineRun(task.engine, None, None, elapsed, note))
    if not valid:
        return Solution(
            routes=[],
            unserved=problem.customers(),
            cost=0,
            status="failed",
            solve_time_s=time.time() - started,
            stats={"portfolio_workers": float(workers)},
            engine="",
            runs=runs,
        )
    best = min(valid, key=lambda s: _objective(problem, s))
    return replace(
        best,
        solve_time_s=time.time() - started,
        stats={**best.stats, "portfolio_workers": float(workers)},
        runs=runs,
    )


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
    """OR-Tools parameters of each of `workers` solves: the caller's first, then others.

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
