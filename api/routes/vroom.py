"""POST /v1/vroom: a VROOM problem solved by the project's optimizer, in a worker process.

Each request runs `python -m api.worker vroom` (problem JSON on stdin, solution on stdout)
in its own process group, at most `MAX_CONCURRENT` at a time, killed if it overruns its time
limit by `GRACE_S` or when the server dies.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from api.auth import Reader
from api.deps import JobsDep
from api.errors import BODY, COMMON, InternalError, VroomRejected, responses
from api.jobs import worker_command, worker_env
from api.limits import MAX_VROOM_TIME_LIMIT_S
from api.schemas import VroomProblem, VroomSolution

router = APIRouter(prefix="/v1/vroom", tags=["textbook formats"], responses=COMMON)

MAX_CONCURRENT = 1
GRACE_S = 30.0


async def _solve_in_process(
    slots: asyncio.Semaphore, lifeline_fd: int, problem: dict[str, Any], time_limit_s: float
) -> dict[str, Any]:
    """Run the solver in a worker process group and return its VROOM solution JSON."""
    async with slots:
        proc = await asyncio.create_subprocess_exec(
            *worker_command("vroom", str(time_limit_s), lifeline_fd),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=worker_env({}),
            pass_fds=(lifeline_fd,),
            start_new_session=True,
        )
        try:
            out, _ = await asyncio.wait_for(
                proc.communicate(json.dumps(problem).encode()), time_limit_s + GRACE_S
            )
        except TimeoutError:
            os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            raise InternalError(
                f"the VROOM solver overran {time_limit_s} s + {GRACE_S} s"
            ) from None
    if proc.returncode != 0:
        raise InternalError(f"the VROOM solver process failed (exit code {proc.returncode})")
    solution: dict[str, Any] = json.loads(out)
    return solution


@router.post(
    "",
    response_model=VroomSolution,
    summary="Solve a VROOM problem (VROOM JSON in and out)",
    responses={**responses(VroomRejected), **BODY},
)
async def vroom(
    request: Request,
    problem: VroomProblem,
    _: Reader,
    jobs: JobsDep,
    time_limit_s: Annotated[
        float, Query(gt=0, le=MAX_VROOM_TIME_LIMIT_S, allow_inf_nan=False)
    ] = 5.0,
) -> dict[str, Any]:
    """VROOM solution JSON (code 0); VROOM's error codes 2 and 3 answer 422 with `code`.

    A request failing this API's own checks answers 422 with `errors` naming each field.
    """
    body = problem.model_dump(mode="json", exclude_unset=True)
    solution = await _solve_in_process(
        request.app.state.vroom_slots, jobs.lifeline_fd, body, time_limit_s
    )
    code = solution.get("code", 1)
    if code == 0:
        return solution
    if code in (2, 3):
        raise VroomRejected(int(code), str(solution.get("error", "invalid input")))
    raise InternalError(f"VROOM solver: {solution.get('error', 'no solution')}")
