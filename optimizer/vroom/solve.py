"""`solve_vroom`: a VROOM problem JSON in, a VROOM solution JSON out, never an exception."""

from __future__ import annotations

import time
from typing import Any

from optimizer.problem import Solution
from optimizer.solver import SolveParams, solve
from optimizer.stopping import small_problem_limit
from optimizer.validate import check_problem, validate
from optimizer.vroom.model import build_model
from optimizer.vroom.reader import VroomInputError, VroomRoutingError
from optimizer.vroom.writer import solution_json


def solve_vroom(problem_json: dict[str, Any], time_limit_s: float = 5.0) -> dict[str, Any]:
    """Solve a VROOM problem and answer in VROOM's solution format; never raises on input.

    The search runs for `time_limit_s` seconds, small problems only until they settle
    (`optimizer.stopping`).

    Returns {"code": 2, "error": ...} for invalid or unsupported input, 3 when travel times
    cannot be had, 1 for an internal failure (including a solution failing validation).
    """
    started = time.monotonic()
    try:
        if not isinstance(problem_json, dict):
            raise VroomInputError("the problem must be a JSON object")
        model = build_model(problem_json)
        faults = check_problem(model.problem)
        if faults:
            raise VroomInputError("; ".join(faults[:3]))
    except VroomInputError as exc:
        return {"code": 2, "error": f"Invalid input: {exc}"}
    except VroomRoutingError as exc:
        return {"code": 3, "error": f"Routing error: {exc}"}
    loaded = time.monotonic()
    try:
        if model.node_task:
            limit = small_problem_limit(len(model.problem.customers()))
            solution = solve(
                model.problem, SolveParams(time_limit_s=time_limit_s, solution_limit=limit)
            )
            errors = validate(model.problem, solution)
            if errors:
                return {"code": 1, "error": f"Internal error: invalid solution: {errors[:3]}"}
        else:
            solution = Solution(routes=[], unserved=[], cost=0, status="optimal")
        solved = time.monotonic()
        return solution_json(
            model,
            solution,
            int((loaded - started) * 1000),
            int((solved - loaded) * 1000),
        )
    except Exception as exc:  # VROOM's contract: report, never raise
        return {"code": 1, "error": f"Internal error: {type(exc).__name__}: {exc}"}
