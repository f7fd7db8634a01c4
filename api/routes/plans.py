"""Plan jobs: start, poll, list, cancel, re-plan after events."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from api import plan_store
from api.auth import Dispatcher, Reader, SheetReader
from api.day_store import DayFactsDep, next_day_carry_over
from api.db import iso_utc
from api.deps import Caches, CachesDep, EngineDep, JobsDep, WorkspaceDep
from api.errors import BODY, COMMON, INVALID, Conflict, Invalid, NotFound, responses
from api.event_checks import event_problems
from api.fleet_store import current_fleet_toml
from api.limits import MAX_ID_CHARS
from api.manifest_store import missing_manifests
from api.schemas import (
    ID_PATTERN,
    LateParcels,
    PlanAccepted,
    PlanCancelled,
    PlanChanges,
    PlanJob,
    PlanList,
    PlanReleased,
    PlanRequest,
    ReplanEvent,
    ReplanRequest,
    RoadClosed,
)
from api.visibility import FIELD_ROLES
from dispatch.closures import ClosureError, request_field
from dispatch.workspace import Workspace

router = APIRouter(prefix="/v1/plans", tags=["plans"], responses=COMMON)

PlanId = Annotated[str, Path(min_length=1, max_length=MAX_ID_CHARS, pattern=ID_PATTERN)]

_LOCATION = {
    "Location": {"schema": {"type": "string"}, "description": "/v1/plans/{plan_id} to poll"}
}
_JOB_LINKS = {
    "GetPlan": {
        "operationId": "get_plan",
        "parameters": {"path.plan_id": "$response.body#/plan_id"},
        "description": "poll the job",
    },
    "CancelPlan": {
        "operationId": "cancel_plan",
        "parameters": {"path.plan_id": "$response.body#/plan_id"},
    },
}


def _accepted(response: Response, plan_id: str) -> dict[str, Any]:
    """The 202 body with a Location header."""
    response.headers["Location"] = f"/v1/plans/{plan_id}"
    return {"plan_id": plan_id, "status": "queued"}


@router.post(
    "",
    status_code=202,
    response_model=PlanAccepted,
    operation_id="start_plan",
    summary="Start a plan job",
    responses={
        202: {"headers": _LOCATION, "links": _JOB_LINKS, "description": "queued"},
        **INVALID,
        **BODY,
    },
)
async def start_plan(
    body: PlanRequest,
    _: Dispatcher,
    engine: EngineDep,
    ws: WorkspaceDep,
    jobs: JobsDep,
    book: DayFactsDep,
    response: Response,
) -> dict[str, Any]:
    """Queue a plan job for stored manifests; poll GET /v1/plans/{plan_id}.

    `vehicles_off` must name vehicles of the current fleet; `carry_over_plan_id` a done plan
    of an earlier day (its held produce and deferred parcels are planned today, and so are
    the deliveries and pickups its day's scans say failed for a reason that is re-attempted;
    refused and damaged parcels go back to their carriers instead).
    """
    ids = list(dict.fromkeys(body.manifest_ids))

    def create() -> str:
        missing = missing_manifests(engine, ids)
        if missing:
            raise Invalid.field("manifest_ids", f"unknown manifest_ids: {', '.join(missing)}")
        fleet_toml = current_fleet_toml(engine)
        known = _vehicle_ids(ws, fleet_toml)
        for i, vid in enumerate(body.vehicles_off):
            if vid not in known:
                raise Invalid.field(f"vehicles_off[{i}]", f"no vehicle {vid} in the fleet")
        if body.carry_over_plan_id is not None:
            _check_carry_over(engine, body.carry_over_plan_id, body.date)
        closures = [c.record() for c in body.closures]
        if closures:
            _check_closures(ws, closures, "closures")
        request: dict[str, Any] = {
            "manifest_ids": ids,
            "time_limit_s": body.time_limit_s,
            "mode": body.mode,
            "engine": body.engine,
            "vehicles_off": list(dict.fromkeys(body.vehicles_off)),
        }
        if body.carry_over_plan_id is not None:
            request["carry_over_plan_id"] = body.carry_over_plan_id
            # what the next day takes: held, deferred and the failures its scans re-attempt
            handed = next_day_carry_over(engine, ws, book, body.carry_over_plan_id)
            request["carry_over"] = handed["carry_over"]
        if closures:
            request["closures"] = closures
        return plan_store.create_job(engine, date=body.date, request=request, fleet_toml=fleet_toml)

    plan_id = await run_in_threadpool(create)
    jobs.notify()
    return _accepted(response, plan_id)


@router.get(
    "",
    response_model=PlanList,
    operation_id="list_plans",
    summary="List plan jobs",
    responses=INVALID,
)
async def list_plans(
    principal: SheetReader, engine: EngineDep, date: Annotated[dt.date | None, Query()] = None
) -> dict[str, Any]:
    """Plan jobs (of `date` if given), newest first, without their plans. Drivers and
    stations see released plans only; GET /v1/plans/{plan_id}/routes lists their routes."""
    released_only = principal.role in FIELD_ROLES
    jobs = await run_in_threadpool(plan_store.list_jobs, engine, date, released_only)
    return {"plans": jobs}


@router.get(
    "/{plan_id}",
    response_model=PlanJob,
    operation_id="get_plan",
    summary="Status of a plan job, and its plan when done",
    responses={
        200: {
            "links": {
                "Replan": {
                    "operationId": "replan_plan",
                    "parameters": {"path.plan_id": "$response.body#/plan_id"},
                    "requestBody": {
                        "events": [
                            {
                                "type": "breakdown",
                                "vehicle_id": "$response.body#/plan/routes/0/vehicle_id",
                                "time_s": "$response.body#/plan/routes/0/stops/1/arrival_s",
                            }
                        ],
                        "time_limit_s": 1,
                    },
                },
                "RouteSheet": {
                    "operationId": "route_sheet",
                    "parameters": {
                        "path.plan_id": "$response.body#/plan_id",
                        "path.route_id": "$response.body#/plan/routes/0/route_id",
                    },
                },
            }
        },
        **responses(NotFound),
        **INVALID,
    },
)
async def get_plan(plan_id: PlanId, _: Reader, engine: EngineDep) -> Response:
    """Status, progress, best cost so far; `plan` (the plan JSON) once done."""
    job = await run_in_threadpool(plan_store.get_job, engine, plan_id)
    if job is None:
        raise NotFound(f"no plan {plan_id}")
    head = json.dumps(plan_store.job_head(job), ensure_ascii=False, separators=(",", ":"))
    if job.status == "done" and job.plan_json is not None:
        body = head[:-1] + ',"plan":' + job.plan_json + "}"  # the stored plan, not re-encoded
    else:
        body = head
    return Response(body.encode(), media_type="application/json")


@router.delete(
    "/{plan_id}",
    response_model=PlanCancelled,
    operation_id="cancel_plan",
    summary="Cancel a queued or running plan job",
    responses={**responses(NotFound, Conflict), **INVALID},
)
async def cancel_plan(
    plan_id: PlanId, _: Dispatcher, engine: EngineDep, jobs: JobsDep
) -> dict[str, Any]:
    """Cancel the job (its solver processes are killed); 409 when already finished."""
    if not await run_in_threadpool(jobs.cancel, plan_id):
        job = await run_in_threadpool(plan_store.get_job, engine, plan_id)
        if job is None:
            raise NotFound(f"no plan {plan_id}")
        raise Conflict(f"plan {plan_id} is already {job.status}")
    return {"plan_id": plan_id, "status": "cancelled"}


@router.post(
    "/{plan_id}/release",
    response_model=PlanReleased,
    operation_id="release_plan",
    summary="Release a done plan to drivers and stations",
    responses={**responses(NotFound, Conflict), **INVALID},
)
async def release_plan(plan_id: PlanId, principal: Dispatcher, engine: EngineDep) -> dict[str, Any]:
    """From now on drivers and stations read this plan's sheets and loading lists.

    Releasing again answers the first release. 404 unknown plan; 409 a plan not done.
    """
    job = await run_in_threadpool(plan_store.release, engine, plan_id, principal.key_id)
    if job is None:
        raise NotFound(f"no plan {plan_id}")
    if job.released_at is None or job.released_by is None:
        raise Conflict(f"plan {plan_id} is {job.status}; only a done plan is released")
    return {
        "plan_id": plan_id,
        "released_at": iso_utc(job.released_at),
        "released_by": job.released_by,
    }


def _changes(engine: Engine, caches: Caches, plan_id: str) -> dict[str, Any]:
    """The changes of re-plan `plan_id` against its base (worker thread)."""
    from dispatch.plan_changes import plan_changes

    job, plan = caches.done_plan(engine, plan_id)
    if job.version_of is None:
        raise Conflict(f"plan {plan_id} is not a re-plan: it changes no other plan")
    base_job, base = caches.done_plan(engine, job.version_of)
    body = plan_changes(base, plan).as_json()
    released = base_job.released_at
    return {**body, "old_released_at": iso_utc(released) if released else None}


@router.get(
    "/{plan_id}/changes",
    response_model=PlanChanges,
    operation_id="plan_changes",
    summary="What a re-plan changed per route, and whose sheets changed",
    responses={**responses(NotFound, Conflict), **INVALID},
)
async def get_changes(
    plan_id: PlanId, _: Reader, engine: EngineDep, caches: CachesDep
) -> dict[str, Any]:
    """Per route of re-plan `plan_id` against the plan it replaces: stops added, removed and
    re-timed (arrival moved by a minute or more), parcels handed over differently; the
    vehicles whose drivers need new sheets. 409 when the plan is not a re-plan or not done.
    """
    return await run_in_threadpool(_changes, engine, caches, plan_id)


def _check_carry_over(engine: Engine, plan_id: str, date: dt.date) -> None:
    """A plan to carry over from: done, and of an earlier day (422 naming the field)."""
    earlier = plan_store.get_job(engine, plan_id)
    if earlier is None:
        raise Invalid.field("carry_over_plan_id", f"no plan {plan_id}")
    if earlier.status != "done":
        raise Invalid.field("carry_over_plan_id", f"plan {plan_id} is {earlier.status}, not done")
    if earlier.date >= date:
        raise Invalid.field(
            "carry_over_plan_id", f"plan {plan_id} is of {earlier.date}, not a day before {date}"
        )


def _check_closures(
    ws: Workspace, records: list[dict[str, Any]], source: str, first_row: int = 0
) -> None:
    """Closures whose places are on the county's roads (422 naming `source[i].field`)."""
    from dispatch.service import check_closures

    try:
        check_closures(ws, records, source, first_row)
    except ClosureError as exc:
        raise _closure_invalid(exc) from exc


def _closure_invalid(exc: ClosureError) -> Invalid:
    """422 naming the request field of every closure problem."""

    return Invalid(
        [e for p in exc.problems for e in Invalid.field(request_field(p), p.message).errors]
    )


def _vehicle_ids(ws: Workspace, fleet_toml: str | None) -> frozenset[str]:
    """Vehicle ids of the fleet a plan was made with."""
    from dispatch.service import fleet_from_toml

    fleet = fleet_from_toml(fleet_toml, ws) if fleet_toml else ws.fleet
    return frozenset(v.vehicle_id for v in fleet.vehicles)


def check_events(
    ws: Workspace,
    engine: Any,
    events: Sequence[ReplanEvent],
    date: dt.date,
    vehicles: frozenset[str],
) -> list[str]:
    """Check events against the plan (422 naming the field); the late manifests' ids.

    See api.event_checks; besides, a late batch's manifest must be stored, and a closed
    road's places must be on the county's roads.
    """
    errors = [Invalid.field(f, m) for f, m in event_problems(ws, events, date, vehicles)]
    late: dict[str, int] = {}
    for i, event in enumerate(events):
        if isinstance(event, LateParcels):
            late.setdefault(event.manifest_id, i)
        elif isinstance(event, RoadClosed):
            from dispatch.service import check_closures

            try:
                check_closures(ws, [event.record()], "events", first_row=i)
            except ClosureError as exc:
                errors.append(_closure_invalid(exc))
    for manifest_id in missing_manifests(engine, late):
        errors.append(
            Invalid.field(f"events[{late[manifest_id]}].manifest_id", f"no manifest {manifest_id}")
        )
    if errors:
        raise Invalid([e for error in errors for e in error.errors])
    return list(late)


@router.post(
    "/{plan_id}/replan",
    status_code=202,
    response_model=PlanAccepted,
    operation_id="replan_plan",
    summary="Re-plan after events",
    responses={
        202: {"headers": _LOCATION, "links": _JOB_LINKS, "description": "queued"},
        **responses(NotFound, Conflict),
        **INVALID,
        **BODY,
    },
)
async def replan_plan(
    plan_id: PlanId,
    body: ReplanRequest,
    _: Dispatcher,
    engine: EngineDep,
    ws: WorkspaceDep,
    jobs: JobsDep,
    caches: CachesDep,
    response: Response,
) -> dict[str, Any]:
    """Queue a new plan version of a done plan; its result carries `version_of`.

    Events are checked now (422 naming the field), not when the job runs.
    """
    base = await run_in_threadpool(plan_store.get_job, engine, plan_id)
    if base is None:
        raise NotFound(f"no plan {plan_id}")
    if base.status != "done":
        raise Conflict(f"plan {plan_id} is {base.status}; only a done plan re-plans")
    vehicles = await caches.memo(("vehicles", plan_id), lambda: _vehicle_ids(ws, base.fleet_toml))

    def create() -> str:
        late = check_events(ws, engine, body.events, base.date, vehicles)
        ids = list(dict.fromkeys([*base.request["manifest_ids"], *late]))
        return plan_store.create_job(
            engine,
            date=base.date,
            request={
                "manifest_ids": ids,
                "time_limit_s": body.time_limit_s,
                "mode": base.request.get("mode", "auto"),
                "events": [
                    e.model_dump(mode="json", exclude_none=True, by_alias=True) for e in body.events
                ],
            },
            fleet_toml=base.fleet_toml,
            version_of=plan_id,
        )

    new_id = await run_in_threadpool(create)
    jobs.notify()
    return _accepted(response, new_id)
