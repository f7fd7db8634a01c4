"""Plan jobs: start, poll, list, cancel, re-plan; route sheets (CSV, GeoJSON, PDF, GPX)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import defer

from api.auth import Dispatcher, Principal, Reader, SheetReader
from api.db import PlanJob, reading
from api.deps import done_plan, engine_of, memo, workspace
from api.fleet_store import current_fleet_toml
from api.jobs import JobManager, create_job, job_head
from api.manifest_store import load_parcels, missing_manifests
from dispatch.parcel import Parcel

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
        fleet_toml=current_fleet_toml(engine_of(request)),
    )
    _jobs(request).notify()
    return _accepted(response, plan_id)


@router.get("", summary="List plan jobs")
async def list_plans(
    request: Request,
    _: Reader,
    date: Annotated[dt.date | None, Query()] = None,
) -> dict[str, Any]:
    """Plan jobs (of `date` if given), newest first, without their plans."""
    query = select(PlanJob).options(defer(PlanJob.plan_json)).order_by(PlanJob.created_at.desc())
    if date is not None:
        query = query.where(PlanJob.date == date)
    with reading(engine_of(request)) as session:
        return {"plans": [job_head(j) for j in session.scalars(query)]}


@router.get("/{plan_id}", summary="Status of a plan job, and its plan when done")
async def get_plan(
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


def _route(request: Request, plan_id: str, route_id: str) -> tuple[PlanJob, dict[str, Any]]:
    """The job and one route of a done plan; 404 when there is no such route."""
    job, plan = done_plan(request, plan_id)
    route = next((r for r in plan.get("routes", []) if r.get("route_id") == route_id), None)
    if route is None:
        raise HTTPException(404, f"plan {plan_id} has no route {route_id}")
    return job, route


def _route_parcels(request: Request, plan_id: str, route_id: str) -> list[Parcel]:
    """The parcels one route of a done plan handles (for sheets grouped by carrier)."""
    job, route = _route(request, plan_id, route_id)
    numbers = {t for stop in route.get("stops", []) for t in (*stop["load"], *stop["drop"])}
    with reading(engine_of(request)) as session:
        return load_parcels(session, job.request["manifest_ids"], numbers)


def _sheet(request: Request, plan_id: str, route_id: str, kind: str) -> tuple[str, bytes]:
    """(vehicle id, bytes) of one route's sheet: csv, pdf, gpx or geojson."""
    from dispatch import service

    _, route = _route(request, plan_id, route_id)
    plan = done_plan(request, plan_id)[1]
    ws = workspace()
    if kind == "csv":
        parcels = _route_parcels(request, plan_id, route_id)
        body = service.route_sheet_csv(ws, plan, route_id, parcels).encode()
    elif kind == "pdf":
        body = service.route_sheet_pdf(
            ws, plan, route_id, _route_parcels(request, plan_id, route_id)
        )
    elif kind == "gpx":
        body = service.route_gpx_text(ws, plan, route_id).encode()
    else:
        body = json.dumps(service.route_geojson(ws, plan, route_id), ensure_ascii=False).encode()
    return route["vehicle_id"], body


def _only_own_vehicle(principal: Principal, vehicle_id: str, route_id: str) -> None:
    """403 when a driver asks for a route of another vehicle."""
    if principal.role == "driver" and vehicle_id != principal.vehicle_id:
        raise HTTPException(403, f"route {route_id} is not on your vehicle")


#: Sheet formats: media type and whether the response is a download.
SHEETS: dict[str, tuple[str, bool]] = {
    "csv": ("text/csv; charset=utf-8", True),
    "pdf": ("application/pdf", True),
    "gpx": ("application/gpx+xml", False),
    "geojson": ("application/geo+json", False),
}


@router.get(
    "/{plan_id}/routes/{route_id}/sheet.{kind}",
    summary="Route sheet for the driver: csv, pdf (A4, Chinese), gpx (phone) or geojson (map)",
    response_class=Response,
)
async def route_sheet(
    plan_id: str,
    route_id: str,
    kind: str,
    request: Request,
    principal: SheetReader,
) -> Response:
    """One route's sheet. CSV is UTF-8 with BOM so spreadsheet programs read the Chinese."""
    if kind not in SHEETS:
        raise HTTPException(404, f"no sheet format {kind!r}; use one of {', '.join(SHEETS)}")
    vehicle_id, body = await memo(
        request, (kind, plan_id, route_id), lambda: _sheet(request, plan_id, route_id, kind)
    )
    _only_own_vehicle(principal, vehicle_id, route_id)
    media_type, download = SHEETS[kind]
    headers = (
        {"Content-Disposition": f'attachment; filename="{plan_id}-{route_id}.{kind}"'}
        if download
        else {}
    )
    return Response(body, media_type=media_type, headers=headers)
