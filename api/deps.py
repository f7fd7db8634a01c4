"""Shared per-process state of the HTTP service: engine, workspace, caches of finished plans.

A done plan never changes, so what is derived from it (parsed JSON, route sheets, town KPIs)
is cached; read handlers answer cache hits on the event loop without a thread hop.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import HTTPException, Request
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from api.db import PlanJob, reading

if TYPE_CHECKING:
    from dispatch.service import Workspace

T = TypeVar("T")
_ws_lock = threading.Lock()
_county: Path | None = None  # the county folder this process serves (None: the embedded one)


def serve_county(folder: Path | None) -> None:
    """Set the county folder this process serves (one county per server)."""
    global _county
    _county = folder


def workspace() -> Workspace:
    """The served county's workspace, loaded once per process on first use."""
    from dispatch.service import Workspace

    with _ws_lock:
        return Workspace.load(_county)


def engine_of(request: Request) -> Engine:
    """The app's database engine."""
    engine: Engine = request.app.state.engine
    return engine


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


async def memo(request: Request, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()` (run in a worker thread) cached under `key` in the app's result cache."""
    cache: Lru = request.app.state.results
    hit = cache.get(key)
    if hit is not None:
        return hit
    value = await run_in_threadpool(compute)
    cache.put(key, value)
    return value


def done_plan(request: Request, plan_id: str) -> tuple[PlanJob, dict[str, Any]]:
    """The job row and parsed plan of a done job; 404 unknown, 409 not done."""
    with reading(engine_of(request)) as session:
        job = session.get(PlanJob, plan_id)
    if job is None:
        raise HTTPException(404, f"no plan {plan_id}")
    if job.status != "done" or job.plan_json is None:
        raise HTTPException(409, f"plan {plan_id} is {job.status}, not done")
    cache: Lru = request.app.state.plans
    plan = cache.get(plan_id)
    if plan is None:
        plan = json.loads(job.plan_json)
        cache.put(plan_id, plan)
    return job, plan
