"""The two measured constants of `optimizer.portfolio`: the relaxed split and the small size.

    python -m benchmarks.portfolio split --seed 2 --seed 3 --time-limit 30 --share 0.5
    python -m benchmarks.portfolio small --size 10 --size 40 --seed 1 --time-limit 2

`split`: on the rural day problem of each seed (`benchmarks.rural_instances.day_problem`: 270
stops, windows, hourly costs, a lunch break on every van, which PyVRP cannot express) it runs,
one process each, OR-Tools alone and the relaxed pipeline (`optimizer.portfolio.solve_relaxed`)
at each share of the same time limit, and prints cost (fen), unserved stops and what the
repair kept.

`small`: on rural day problems of each size (towns and villages; with and without lunch
breaks) it solves in this process by one engine and by the race of a two-process pool (kept
for the whole run, as the day planner keeps it), same time limit, and prints both costs (fen,
penalties of unserved stops included) and which engine won the race. Racing pays from the
size where the race's winner is often not the in-process engine's answer.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer

from benchmarks.rural_instances import day_problem, generate
from optimizer import portfolio
from optimizer.portfolio import EnginePool, droppable, solve_relaxed
from optimizer.problem import Problem, Solution
from optimizer.solver import SolveParams, solve
from optimizer.validate import validate

app = typer.Typer(add_completion=False, help=__doc__)


def _line(label: str, problem: Problem, solution: Solution, elapsed: float) -> str:
    faults = validate(problem, solution)
    stats = solution.stats
    extra = ""
    if "repaired_cost" in stats:
        extra = (
            f"  relaxed {stats['relaxed_cost']:.0f} fen,"
            f" repaired {stats['repaired_cost']:.0f} fen, {stats['repaired_unserved']:.0f} left,"
            f" warm start {'used' if stats['warm_start'] else 'refused'}"
        )
    return (
        f"{label:>14}: {solution.cost:>8} fen, {len(solution.unserved)} unserved, "
        f"{'valid' if not faults else 'INVALID ' + faults[0]}, {elapsed:.1f} s{extra}"
    )


@app.command()
def split(
    seed: Annotated[list[int] | None, typer.Option(help="rural seeds (repeatable)")] = None,
    time_limit: Annotated[float, typer.Option(help="seconds per solve")] = 30.0,
    share: Annotated[list[float] | None, typer.Option(help="PyVRP shares (repeatable)")] = None,
) -> None:
    """OR-Tools alone and the relaxed pipeline at each share, per seed."""
    for s in seed or [1, 2]:
        problem = day_problem(generate(s))
        typer.echo(f"seed {s}: {len(problem.customers())} stops, {len(problem.vehicles)} vans")
        params = SolveParams(time_limit_s=time_limit)
        started = time.monotonic()
        alone = solve(droppable(problem), params)
        typer.echo(_line("OR-Tools", problem, alone, time.monotonic() - started))
        for fraction in share or [0.3, 0.5, 0.7]:
            started = time.monotonic()
            piped = solve_relaxed(problem, params, share=fraction)
            typer.echo(_line(f"share {fraction:.2f}", problem, piped, time.monotonic() - started))


def _objective(problem: Problem, solution: Solution) -> int:
    return solution.cost + sum(max(0, int(problem.penalty[n])) for n in solution.unserved)


@app.command()
def small(
    size: Annotated[list[int] | None, typer.Option(help="stops (repeatable)")] = None,
    seed: Annotated[list[int] | None, typer.Option(help="seeds (repeatable)")] = None,
    time_limit: Annotated[float, typer.Option(help="seconds per solve")] = 2.0,
) -> None:
    """In-process single engine against the two-process race, per size, seed and lunch."""
    params = SolveParams(time_limit_s=time_limit)
    with EnginePool(2) as pool:
        for stops in size or [10, 20, 40, 80]:
            for s in seed or [1, 2, 3]:
                towns = max(2, stops // 12)
                for lunch in (False, True):
                    problem = day_problem(generate(s, towns, stops - towns), lunch=lunch)
                    one = portfolio.solve(problem, params)
                    race = portfolio.solve(problem, params, pool=pool, small_problem=0)
                    a, b = _objective(problem, one), _objective(problem, race)
                    runs = ", ".join(f"{r.engine} {r.cost}" for r in race.runs)
                    typer.echo(
                        f"{stops:>4} stops seed {s} lunch {'yes' if lunch else 'no ':3}: "
                        f"one {one.engine} {a:>8} fen, race {b:>8} fen ({b / a:.4f}; {runs})"
                    )


if __name__ == "__main__":
    app()
