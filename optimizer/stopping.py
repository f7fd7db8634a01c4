"""When a search stops before its time limit: small problems settle in a few hundred steps.

Without a cap the searches run until their time limit whatever the size, so a three-stop
problem given 10 s took 10 s. The day planner's small legs, the VROOM solve and the textbook
formats' solves all cap small problems here; larger ones keep their whole time limit.
"""

from __future__ import annotations

#: Problems of at most SMALL_JOBS customers stop after SMALL_SOLUTIONS search solutions
#: (OR-Tools) or iterations (PyVRP): a few hundred local-search steps settle a dozen stops
#: long before any time limit.
SMALL_JOBS = 15
SMALL_SOLUTIONS = 400


def small_problem_limit(customers: int) -> int | None:
    """The solution limit of a problem of `customers` customers: SMALL_SOLUTIONS for small
    ones, None (the time limit alone) for the others."""
    return SMALL_SOLUTIONS if customers <= SMALL_JOBS else None
