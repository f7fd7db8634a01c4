"""What handlers get through `Depends`: the engine, the workspace, the job manager, limits,
and caches of what is derived from finished plans.

A done plan never changes, so what is derived from it (parsed JSON, route sheets, town KPIs)
is cached; read handlers answer cache hits on the event loop without a thread hop. Every
provider here is `async` for the same reason (FastAPI runs plain functions in a thread).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from api.errors import Conflict, NotFound
from api.jobs import JobManager
from api.limits import Limits
from api.plan_store import get_job
from dispatch.plan import Plan, read_plan
from dispatch.workspace import Workspace

if TYPE_CHECKING:
    from api.db import PlanJob

T = TypeVar("T")
_ws_lock = threading.Lock()
_ws: list[Workspace] = []
_county: list[Path | None] = [None]  # the county folder served (None: the embedded one)


def serve_county(folder: Path | None) -> None:
    """Set the county folder this process serves (one county per server)."""
    with _ws_lock:
        if _county[0] != folder:
            _county[0] = folder
            _ws.clear()


def workspace() -> Workspace:
    """The served county's workspace, loaded once per process on first use (blocking)."""
    with _ws_lock:
        if not _ws:
            _ws.append(Workspace.load(_county[0]))
        return _ws[0]


async def current_workspace() -> Workspace:
    """The workspace; its first load runs in a worker thread."""
    return _ws[0] if _ws else await run_in_threadpool(workspace)


async def engine_of(request: Request) -> Engine:
    """The app's database engine."""
    engine: Engine = request.app.state.engine
    return engine


async def jobs_of(request: Request) -> JobManager:
    """The app's plan-job manager."""
    manager: JobManager = request.app.state.jobs
    return manager


async def limits_of(request: Request) -> Limits:
    """The app's runtime limits."""
    limits: Limits = request.app.state.limits
    return limits


class Lru:
    """A small thread-safe least-recently-used cache."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        """The cached value, or None."""
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Any) -> None:
        """Cache `value`, evicting the least recently used beyond `size`."""
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class Caches:
    """Parsed done plans and results derived from them (sheets, KPIs, network points)."""

    def __init__(self) -> None:
        self.plans = Lru(8)
        self.results = Lru(512)

    async def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """`compute()` (run in a worker thread) cached under `key`."""
        hit = self.results.get(key)
        if hit is not None:
            return hit
        value = await run_in_threadpool(compute)
        self.results.put(key, value)
        return value

    def done_plan(self, engine: Engine, plan_id: str) -> tuple[PlanJob, Plan]:
        """The job row and parsed plan of a done job; 404 unknown, 409 not done."""
        job = get_job(engine, plan_id)
        if job is None:
            raise NotFound(f"no plan {plan_id}")
        if job.status != "done" or job.plan_json is None:
            raise Conflict(f"plan {plan_id} is {job.status}, not done")
        plan = self.plans.get(plan_id)
        if plan is None:
            plan = read_plan(json.loads(job.plan_json))
            self.plans.put(plan_id, plan)
        return job, plan


async def caches_of(request: Request) -> Caches:
    """The app's caches."""
    caches: Caches = request.app.state.caches
    return caches


EngineDep = Annotated[Engine, Depends(engine_of)]
WorkspaceDep = Annotated[Workspace, Depends(current_workspace)]
JobsDep = Annotated[JobManager, Depends(jobs_of)]
LimitsDep = Annotated[Limits, Depends(limits_of)]
CachesDep = Annotated[Caches, Depends(caches_of)]
