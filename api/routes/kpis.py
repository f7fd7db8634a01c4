"""KPIs per town per day, from each day's latest done plan."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from api import plan_store
from api.auth import Reader
from api.db import reading
from api.deps import Caches, CachesDep, EngineDep, WorkspaceDep
from api.errors import COMMON, INVALID, Invalid
from api.limits import MAX_KPI_DAYS
from api.manifest_store import load_parcels
from api.schemas import KpiReport
from dispatch.workspace import Workspace

router = APIRouter(prefix="/v1/kpis", tags=["kpis"], responses=COMMON)


def _town_rows(engine: Any, ws: Workspace, caches: Caches, plan_id: str) -> list[dict[str, Any]]:
    """Per-town KPIs of one done plan (worker thread)."""
    from dispatch.service import town_kpis

    job, plan = caches.done_plan(engine, plan_id)
    with reading(engine) as session:
        parcels = load_parcels(session, job.request["manifest_ids"])
    return town_kpis(ws, plan, parcels)


@router.get("", response_model=KpiReport, summary="KPIs per town per day", responses=INVALID)
async def get_kpis(
    _: Reader,
    engine: EngineDep,
    ws: WorkspaceDep,
    caches: CachesDep,
    date_from: Annotated[dt.date, Query(alias="from")],
    date_to: Annotated[dt.date, Query(alias="to")],
) -> dict[str, Any]:
    """For each day in [from, to] with a done plan: its latest version's KPIs per town."""
    if date_to < date_from:
        raise Invalid.field("to", "'to' is before 'from'")
    if (date_to - date_from).days >= MAX_KPI_DAYS:
        raise Invalid.field("to", f"at most {MAX_KPI_DAYS} days per request")
    latest = await run_in_threadpool(plan_store.latest_done_per_day, engine, date_from, date_to)
    rows = []
    for day, plan_id in sorted(latest.items()):
        towns = await caches.memo(
            ("kpis", plan_id), functools.partial(_town_rows, engine, ws, caches, plan_id)
        )
        rows += [{"date": day.isoformat(), "plan_id": plan_id, **town} for town in towns]
    return {"from": date_from.isoformat(), "to": date_to.isoformat(), "towns": rows}
