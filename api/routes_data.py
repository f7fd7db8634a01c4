"""Reference data and monitoring: network points, the fleet (TOML), KPIs per town per day."""

from __future__ import annotations

import datetime as dt
import json
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from api.auth import Dispatcher, Reader
from api.db import PlanJob, reading
from api.deps import done_plan, engine_of, memo, workspace
from api.fleet_store import current_fleet_toml, store_fleet
from api.manifest_store import load_parcels

router = APIRouter(prefix="/v1", tags=["data"])

MAX_KPI_DAYS = 366
MAX_FLEET_BYTES = 1024 * 1024


def _points_body() -> bytes:
    """The served county and its network points as JSON bytes (cached per app)."""
    from dispatch.service import network_points

    ws = workspace()
    settings = ws.county.settings
    county = {
        "name": ws.county.name,
        "code": settings.code,
        "time_zone": settings.time_zone,
        "hub_id": ws.county.hub_id,
        "network": ws.network_source,
        "placed_points": len(ws.county.placed),
        "attribution": settings.attribution,
    }
    body = {"county": county, "points": network_points(ws)}
    return json.dumps(body, ensure_ascii=False).encode()


def _default_fleet_toml() -> str:
    """The served county's default fleet as TOML (cached per app)."""
    from dispatch.service import fleet_toml

    return fleet_toml(workspace().fleet)


@router.get("/network/points", summary="Hub, town stations and village service points")
async def get_points(request: Request, _: Reader) -> Response:
    """The county served (name, code, time zone, hub id, road source, how many points were
    placed) and every service point: point_id, name, kind, town_id, lon, lat, open_s, close_s,
    placed."""
    return Response(await memo(request, ("points",), _points_body), media_type="application/json")


@router.get(
    "/fleet",
    summary="The fleet in force, as TOML text",
    response_class=Response,
    responses={200: {"content": {"application/toml": {}}}},
)
async def get_fleet(request: Request, _: Reader) -> Response:
    """The fleet (TOML): the last one PUT, else the county's default fleet."""
    text = current_fleet_toml(engine_of(request))
    if text is None:
        text = await memo(request, ("default fleet",), _default_fleet_toml)
    return Response(text.encode(), media_type="application/toml; charset=utf-8")


@router.put("/fleet", summary="Replace the fleet (TOML text body)")
async def put_fleet(request: Request, _: Dispatcher) -> dict[str, Any]:
    """Check and store a new fleet; plans started afterwards use it. 422 names the bad key."""
    from dispatch.service import fleet_from_toml

    data = await request.body()
    if len(data) > MAX_FLEET_BYTES:
        raise HTTPException(413, "fleet file larger than 1 MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HTTPException(422, "fleet TOML must be UTF-8 text") from exc
    try:
        fleet = await run_in_threadpool(fleet_from_toml, text, workspace())
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    version_id = await run_in_threadpool(store_fleet, engine_of(request), text)
    return {
        "fleet_version": version_id,
        "vehicle_types": len(fleet.types),
        "vehicles": len(fleet.vehicles),
    }


def _town_rows(request: Request, plan_id: str) -> list[dict[str, Any]]:
    """Per-town KPIs of one done plan."""
    from dispatch.service import town_kpis

    job, plan = done_plan(request, plan_id)
    with reading(engine_of(request)) as session:
        parcels = load_parcels(session, job.request["manifest_ids"])
    return town_kpis(workspace(), plan, parcels)


@router.get("/kpis", summary="KPIs per town per day from finished plans")
async def get_kpis(
    request: Request,
    _: Reader,
    date_from: Annotated[dt.date, Query(alias="from")],
    date_to: Annotated[dt.date, Query(alias="to")],
) -> dict[str, Any]:
    """For each day in [from, to] with a done plan: its latest version's KPIs per town."""
    if date_to < date_from:
        raise HTTPException(422, "'to' is before 'from'")
    if (date_to - date_from).days >= MAX_KPI_DAYS:
        raise HTTPException(422, f"at most {MAX_KPI_DAYS} days per request")
    with reading(engine_of(request)) as session:
        jobs = session.execute(
            select(PlanJob.plan_id, PlanJob.date)
            .where(PlanJob.status == "done", PlanJob.date.between(date_from, date_to))
            .order_by(PlanJob.date, PlanJob.created_at)
        ).all()
    latest: dict[dt.date, str] = {}
    for plan_id, day in jobs:
        latest[day] = plan_id  # later created wins
    rows = []
    for day, plan_id in sorted(latest.items()):
        towns = await memo(request, ("kpis", plan_id), partial(_town_rows, request, plan_id))
        rows += [{"date": day.isoformat(), "plan_id": plan_id, **town} for town in towns]
    return {"from": date_from.isoformat(), "to": date_to.isoformat(), "towns": rows}
