"""Plan jobs: start, poll, list, cancel, re-plan; route sheets (CSV, GeoJSON) of a done plan."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from api.auth import Dispatcher, Principal, Reader, SheetReader
from api.db import FleetVersion, PlanJob, reading
from api.deps import engine_of, plan_cache, workspace
from api.jobs import JobManager, create_job, job_head
from api.manifest_store import load_parcels, missing_manifests

router = APIRouter(prefix="/v1/plans", tags=["plans"])

MAX_TIME_LIMIT_S = 3600.0


class PlanRequest(BaseModel):
    """Start a plan for `date` from stored manifests."""

    date: dt.date
    manifest_ids: list[str] = Field(min_length=1)
    time_limit_s: float = Field(30.0, gt=0, le=MAX_TIME_LIMIT_S)
    mode: Literal["auto", "via_station", "direct"] = "auto"


class ReplanRequest(BaseModel):
    """Re-plan a done plan after events (breakdown, late_parcels, point_closed)."""

    events: list[dict[str, Any]] = Field(min_length=1)
    time_limit_s: float = Field(30.0, gt=0, le=MAX_TIME_LIMIT_S)


def _jobs(request: Request) -> JobManager:
    """The app's job manager."""
    manager: JobManager = request.app.state.jobs
    return manager


def _current_fleet_toml(request: Request) -> str | None:
    """The fleet set through PUT /v1/fleet, or None for the default fleet."""
    with reading(engine_of(request)) as session:
        latest = session.scalars(
            select(FleetVersion).order_by(FleetVersion.id.desc()).limit(1)
        ).first()
        return latest.toml if latest else None


def _accepted(response: Response, plan_id: str) -> dict[str, Any]:
    """The 202 body with a Location header."""
    response.headers["Location"] = f"/v1/plans/{plan_id}"
    return {"plan_id": plan_id, "status": "queued"}


@router.post("", status_code=202, summary="Start a plan job")
def start_plan(
    body: PlanRequest,
    request: Request,
    _: Dispatcher,
    response: Response,
) -> dict[str, Any]:
    """Queue a plan job for stored manifests; poll GET /v1/plans/{plan_id}."""
    ids = list(dict.fromkeys(body.manifest_ids))
    missing = missing_manifests(engine_of(request), ids)
    if missing:
        raise HTTPException(422, f"unknown manifest_ids: {', '.join(missing)}")
    plan_id = create_job(
        engine_of(request),
        date=body.date,
        request={"manifest_ids": ids, "time_limit_s": body.time_limit_s, "mode": body.mode},
        fleet_toml=_current_fleet_toml(request),
    )
    _jobs(request).notify()
    return _accepted(response, plan_id)


@router.get("", summary="List plan jobs")
def list_plans(
    request: Request,
    _: Reader,
    date: Annotated[dt.date | None, Query()] = None,
) -> dict[str, Any]:
    """Plan jobs (of `date` if given), newest first, without their plans."""
    query = select(PlanJob).order_by(PlanJob.created_at.desc())
    if date is not None:
        query = query.where(PlanJob.date == date)
    with reading(engine_of(request)) as session:
        return {"plans": [job_head(j) for j in session.scalars(query)]}


@router.get("/{plan_id}", summary="Status of a plan job, and its plan when done")
def get_plan(
    plan_id: str,
    request: Request,
    _: Reader,
) -> Response:
    """Status, progress, best cost so far; `plan` (the plan JSON) once done."""
    with reading(engine_of(request)) as session:
        job = session.get(PlanJob, plan_id)
    if job is None:
        raise HTTPException(404, f"no plan {plan_id}")
    head = json.dumps(job_head(job), ensure_ascii=False, separators=(",", ":"))
    if job.status == "done" and job.plan_json is not None:
        body = head[:-1] + ',"plan":' + job.plan_json + "}"  # the stored plan, not re-encoded
    else:
        body = head
    return Response(body.encode(), media_type="application/json")


@router.delete("/{plan_id}", summary="Cancel a queued or running plan job")
def cancel_plan(
    plan_id: str,
    request: Request,
    _: Dispatcher,
) -> dict[str, Any]:
    """Cancel the job (its solver process is terminated); 409 when already finished."""
    if not _jobs(request).cancel(plan_id):
        with reading(engine_of(request)) as session:
            job = session.get(PlanJob, plan_id)
        if job is None:
            raise HTTPException(404, f"no plan {plan_id}")
        raise HTTPException(409, f"plan {plan_id} is already {job.status}")
    return {"plan_id": plan_id, "status": "cancelled"}


_EVENT_FIELDS = {
    "breakdown": ("vehicle_id",),
    "late_parcels": ("manifest_id",),
    "point_closed": ("point_id",),
}


def _check_events(request: Request, events: list[dict[str, Any]]) -> list[str]:
    """Validate event shapes; the manifest ids late_parcels events bring in."""
    late: list[str] = []
    for i, event in enumerate(events):
        kind = event.get("type")
        if kind not in _EVENT_FIELDS:
            raise HTTPException(
                422, f"events[{i}].type must be one of {', '.join(_EVENT_FIELDS)}, not {kind!r}"
            )
        for name in _EVENT_FIELDS[kind]:
            if not isinstance(event.get(name), str) or not event[name]:
                raise HTTPException(422, f"events[{i}].{name} is required for {kind}")
        if kind == "late_parcels":
            late.append(event["manifest_id"])
    missing = missing_manifests(engine_of(request), late)
    if missing:
        raise HTTPException(422, f"unknown manifest_id in late_parcels: {', '.join(missing)}")
    return late


@router.post("/{plan_id}/replan", status_code=202, summary="Re-plan after events")
def replan_plan(
    plan_id: str,
    body: ReplanRequest,
    request: Request,
    _: Dispatcher,
    response: Response,
) -> dict[str, Any]:
    """Queue a new plan version of a done plan; its result carries `version_of`."""
    with reading(engine_of(request)) as session:
        base = session.get(PlanJob, plan_id)
    if base is None:
        raise HTTPException(404, f"no plan {plan_id}")
    if base.status != "done":
        raise HTTPException(409, f"plan {plan_id} is {base.status}; only a done plan re-plans")
    late = _check_events(request, body.events)
    ids = list(dict.fromkeys([*base.request["manifest_ids"], *late]))
    new_id = create_job(
        engine_of(request),
        date=base.date,
        request={
            "manifest_ids": ids,
            "time_limit_s": body.time_limit_s,
            "mode": base.request.get("mode", "auto"),
            "events": body.events,
        },
        fleet_toml=base.fleet_toml,
        version_of=plan_id,
    )
    _jobs(request).notify()
    return _accepted(response, new_id)


def _route(
    request: Request, principal: Principal, plan_id: str, route_id: str
) -> tuple[PlanJob, dict[str, Any], dict[str, Any]]:
    """The job, plan and route; 404 unknown, 403 a driver asking for another vehicle."""
    job, plan = plan_cache(request).get(engine_of(request), plan_id)
    route = next((r for r in plan.get("routes", []) if r.get("route_id") == route_id), None)
    if route is None:
        raise HTTPException(404, f"plan {plan_id} has no route {route_id}")
    if principal.role == "driver" and route.get("vehicle_id") != principal.vehicle_id:
        raise HTTPException(403, f"route {route_id} is not on your vehicle")
    return job, plan, route


@router.get(
    "/{plan_id}/routes/{route_id}/sheet.csv",
    summary="Route sheet (CSV) for the driver",
    response_class=Response,
)
def route_sheet(
    plan_id: str,
    route_id: str,
    request: Request,
    principal: SheetReader,
) -> Response:
    """The route's stop list as CSV (UTF-8 with BOM so spreadsheet programs read Chinese)."""
    from dispatch.service import route_sheet_csv

    job, plan, route = _route(request, principal, plan_id, route_id)
    numbers = {t for stop in route.get("stops", []) for t in (*stop["load"], *stop["drop"])}
    with reading(engine_of(request)) as session:
        parcels = load_parcels(session, job.request["manifest_ids"], numbers)
    text = route_sheet_csv(workspace(), plan, route_id, parcels)
    return Response(
        ("\ufeff" + text).encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{plan_id}-{route_id}.csv"'},
    )


@router.get(
    "/{plan_id}/routes/{route_id}/sheet.geojson",
    summary="Route as GeoJSON (stops and path)",
)
def route_sheet_geojson(
    plan_id: str,
    route_id: str,
    request: Request,
    principal: SheetReader,
) -> Response:
    """The route as a GeoJSON FeatureCollection."""
    from dispatch.service import route_geojson

    _, plan, _ = _route(request, principal, plan_id, route_id)
    doc = route_geojson(workspace(), plan, route_id)
    return Response(json.dumps(doc, ensure_ascii=False).encode(), media_type="application/geo+json")
