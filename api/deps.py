"""Shared per-process state of the HTTP service: engine, the loaded workspace, plan cache."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException, Request
from sqlalchemy.engine import Engine

from api.db import PlanJob, reading

if TYPE_CHECKING:
    from dispatch.service import Workspace

_ws_lock = threading.Lock()


def workspace() -> Workspace:
    """The embedded county workspace, loaded once per process on first use."""
    from dispatch.service import Workspace

    with _ws_lock:
        return Workspace.default()


def engine_of(request: Request) -> Engine:
    """The app's database engine."""
    engine: Engine = request.app.state.engine
    return engine


class PlanCache:
    """Parsed plan JSON of finished jobs (immutable once done), least recently used out."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._plans: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, engine: Engine, plan_id: str) -> tuple[PlanJob, dict[str, Any]]:
        """The job row and parsed plan of a done job; 404 unknown, 409 not done."""
        with reading(engine) as session:
            job = session.get(PlanJob, plan_id)
        if job is None:
            raise HTTPException(404, f"no plan {plan_id}")
        if job.status != "done" or job.plan_json is None:
            raise HTTPException(409, f"plan {plan_id} is {job.status}, not done")
        with self._lock:
            plan = self._plans.get(plan_id)
            if plan is not None:
                self._plans.move_to_end(plan_id)
                return job, plan
        plan = json.loads(job.plan_json)
        with self._lock:
            self._plans[plan_id] = plan
            while len(self._plans) > self.size:
                self._plans.popitem(last=False)
        return job, plan


def plan_cache(request: Request) -> PlanCache:
    """The app's plan cache."""
    cache: PlanCache = request.app.state.plans
    return cache
