"""POST /v1/vroom: a VROOM problem solved by the project's optimizer, in a worker process.

Each request runs `python -m api.routes_vroom` (problem JSON on stdin, solution on stdout),
at most `MAX_CONCURRENT` at a time, killed if it overruns its time limit by `GRACE_S`.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from api.auth import Reader

router = APIRouter(prefix="/v1", tags=["textbook formats"])

MAX_VROOM_TIME_LIMIT_S = 300.0
MAX_CONCURRENT = 1
GRACE_S = 30.0


async def _solve_in_process(
    slots: asyncio.Semaphore, problem: dict[str, Any], time_limit_s: float
) -> dict[str, Any]:
    """Run the solver in a child process and return its VROOM solution JSON."""
    package_root = str(Path(__file__).resolve().parent.parent)
    path = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": package_root + (os.pathsep + path if path else "")}
    async with slots:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "api.routes_vroom",
            str(time_limit_s),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
        )
        try:
            out, _ = await asyncio.wait_for(
                proc.communicate(json.dumps(problem).encode()), time_limit_s + GRACE_S
            )
        except TimeoutError as exc:
            proc.kill()
            await proc.wait()
            raise HTTPException(500, "the solver overran its time limit and was stopped") from exc
    if proc.returncode != 0:
        raise HTTPException(500, f"the solver process failed (exit code {proc.returncode})")
    solution: dict[str, Any] = json.loads(out)
    return solution


@router.post("/vroom", summary="Solve a VROOM problem (VROOM JSON in and out)")
async def vroom(
    request: Request,
    _: Reader,
    problem: Annotated[dict[str, Any], Body(description="VROOM problem JSON")],
    time_limit_s: Annotated[float, Query(gt=0, le=MAX_VROOM_TIME_LIMIT_S)] = 5.0,
) -> JSONResponse:
    """VROOM solution JSON (code 0); VROOM's error codes 2 and 3 answer 422, code 1 500.

    Error answers carry VROOM's own `code` and `error` beside the usual `detail`.
    """
    solution = await _solve_in_process(request.app.state.vroom_slots, problem, time_limit_s)
    code = solution.get("code", 1)
    if code == 0:
        return JSONResponse(solution)
    error = str(solution.get("error", "unknown error"))
    return JSONResponse(
        {"detail": error, "code": code, "error": error}, status_code=500 if code == 1 else 422
    )


def main() -> None:
    """Worker side: VROOM problem on stdin, solution on stdout."""
    from optimizer.vroom import solve_vroom

    problem = json.load(sys.stdin)
    json.dump(solve_vroom(problem, float(sys.argv[1])), sys.stdout)


if __name__ == "__main__":
    main()
