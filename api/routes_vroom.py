"""POST /v1/vroom: a VROOM problem solved by the project's optimizer, in a worker process."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from api.auth import Reader

router = APIRouter(prefix="/v1", tags=["textbook formats"])

MAX_VROOM_TIME_LIMIT_S = 300.0


class VroomPool:
    """One solver process for VROOM requests, created on first use, renewed if it breaks."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def get(self) -> ProcessPoolExecutor:
        """The live pool."""
        with self._lock:
            if self._pool is None:
                ctx = multiprocessing.get_context("forkserver")
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=ctx)
            return self._pool

    def discard(self, pool: ProcessPoolExecutor) -> None:
        """Drop a broken pool so the next request starts a fresh process."""
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> None:
        """Stop the solver process."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


def _solve(problem: dict[str, Any], time_limit_s: float) -> dict[str, Any]:
    """Worker-side call of the optimizer's VROOM solver."""
    from optimizer.vroom import solve_vroom

    return solve_vroom(problem, time_limit_s)


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
    pools: VroomPool = request.app.state.vroom
    pool = pools.get()
    loop = asyncio.get_running_loop()
    try:
        solution = await loop.run_in_executor(pool, _solve, problem, time_limit_s)
    except BrokenProcessPool as exc:
        pools.discard(pool)
        raise HTTPException(500, "the solver process died; try again") from exc
    code = solution.get("code", 1)
    if code == 0:
        return JSONResponse(solution)
    error = str(solution.get("error", "unknown error"))
    return JSONResponse(
        {"detail": error, "code": code, "error": error}, status_code=500 if code == 1 else 422
    )
