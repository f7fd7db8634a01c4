"""How the relaxed pipeline should split its time: PyVRP's share against OR-Tools' repair.

    python -m benchmarks.relaxed --seed 1 --seed 2 --time-limit 30 --share 0.3 --share 0.5

On the rural day problem of each seed (`benchmarks.rural_instances.day_problem`: 270 stops,
windows, hourly costs, a lunch break on every van, which PyVRP cannot express) it runs, one
process each, OR-Tools alone and the relaxed pipeline (`optimizer.portfolio.solve_relaxed`)
at each share of the same time limit, and prints cost (fen), unserved stops and what the
repair kept, every solution validated.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer

from benchmarks.rural_instances import day_problem, generate
from optimizer.portfolio import droppable, solve_relaxed
from optimizer.problem import Problem, Solution
from optimizer.solver import SolveParams, solve
from optimizer.validate import validate


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


def main(
    seed: Annotated[list[int] | None, typer.Option(help="rural seeds (repeatable)")] = None,
    time_limit: Annotated[float, typer.Option(help="seconds per solve")] = 30.0,
    share: Annotated[list[float] | None, typer.Option(help="PyVRP shares (repeatable)")] = None,
) -> None:
    """Print OR-Tools alone and the pipeline at each share, per seed."""
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


if __name__ == "__main__":
    typer.run(main)
