"""The papers of a done plan: route sheets (CSV, printable PDF in Chinese, GPX, GeoJSON),
loading lists for the depot crews, the plan's XLSX workbook, and the index of the routes
the caller may read. Drivers and stations read released plans only (api.visibility).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response
from starlette.concurrency import run_in_threadpool

from api.auth import Principal, Reader, SheetReader
from api.db import iso_utc, reading
from api.deps import Caches, CachesDep, EngineDep, WorkspaceDep
from api.errors import COMMON, INVALID, Conflict, Forbidden, NotFound, responses
from api.limits import MAX_ID_CHARS
from api.manifest_store import load_parcels
from api.routes.plans import PlanId
from api.schemas import ID_PATTERN, PlanMap, RouteIndex
from api.visibility import check_released, check_route, may_read_loading, may_read_route
from dispatch.parcel import Parcel
from dispatch.plan import Plan, Route
from dispatch.workspace import Workspace

router = APIRouter(prefix="/v1/plans", tags=["sheets"], responses=COMMON)

RouteId = Annotated[str, Path(min_length=1, max_length=MAX_ID_CHARS, pattern=ID_PATTERN)]
Kind = Literal["csv", "pdf", "gpx", "geojson"]
LoadingKind = Literal["csv", "pdf"]

#: Sheet formats: media type and whether the response is a download.
SHEETS: dict[str, tuple[str, bool]] = {
    "csv": ("text/csv; charset=utf-8", True),
    "pdf": ("application/pdf", True),
    "gpx": ("application/gpx+xml", False),
    "geojson": ("application/geo+json", False),
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_CONTENT = {
    "text/csv": {"schema": {"type": "string"}},
    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
    "application/gpx+xml": {"schema": {"type": "string"}},
    "application/geo+json": {"schema": {"type": "object"}},
}
_ERRORS = {**responses(NotFound, Conflict, Forbidden), **INVALID}


def _route(plan: Plan, plan_id: str, route_id: str) -> Route:
    """One route of a plan; 404 when there is no such route."""
    try:
        return plan.route(route_id)
    except KeyError:
        raise NotFound(f"plan {plan_id} has no route {route_id}") from None


def _readable_route(
    engine: Any,
    caches: Caches,
    principal: Principal,
    plan_id: str,
    route_id: str,
    loading: bool = False,
) -> None:
    """Check the caller may read the route (worker thread): 404 no plan or route, 409 not
    done, 403 not released (drivers, stations) or not the caller's vehicle or station."""
    job, plan = caches.done_plan(engine, plan_id)
    check_released(principal, job)
    check_route(principal, _route(plan, plan_id, route_id).model_dump(by_alias=True), loading)


def _parcels(engine: Any, job: Any, numbers: set[str] | None = None) -> list[Parcel]:
    """The plan's parcels from its stored manifests (only `numbers` when given)."""
    with reading(engine) as session:
        return load_parcels(session, job.request["manifest_ids"], numbers)


def _sheet(
    engine: Any, ws: Workspace, caches: Caches, plan_id: str, route_id: str, kind: str
) -> bytes:
    """One route's sheet: csv, pdf, gpx or geojson (worker thread)."""
    from dispatch import service

    job, plan = caches.done_plan(engine, plan_id)
    route = _route(plan, plan_id, route_id)
    numbers = {t for stop in route.stops for t in (*stop.load, *stop.drop)}
    if kind == "csv":
        return service.route_sheet_csv(ws, plan, route_id, _parcels(engine, job, numbers)).encode()
    if kind == "pdf":
        return service.route_sheet_pdf(ws, plan, route_id, _parcels(engine, job, numbers))
    if kind == "gpx":
        return service.route_gpx_text(ws, plan, route_id).encode()
    return json.dumps(service.route_geojson(ws, plan, route_id), ensure_ascii=False).encode()


@router.get(
    "/{plan_id}/routes/{route_id}/sheet.{kind}",
    operation_id="route_sheet",
    summary="Route sheet for the driver: csv, pdf (A4, Chinese), gpx (phone) or geojson (map)",
    response_class=Response,
    responses={200: {"content": _CONTENT, "description": "the sheet"}, **_ERRORS},
)
async def route_sheet(
    plan_id: PlanId,
    route_id: RouteId,
    kind: Kind,
    principal: SheetReader,
    engine: EngineDep,
    ws: WorkspaceDep,
    caches: CachesDep,
) -> Response:
    """One route's sheet. CSV is UTF-8 with BOM so spreadsheet programs read the Chinese.

    404: no such plan or route; 409: the plan is not done; 403: a plan not released yet
    (drivers, stations), another vehicle's route (driver), a route that neither starts nor
    transfers at the key's station.
    """
    await run_in_threadpool(_readable_route, engine, caches, principal, plan_id, route_id)
    body = await caches.memo(
        (kind, plan_id, route_id), lambda: _sheet(engine, ws, caches, plan_id, route_id, kind)
    )
    media_type, download = SHEETS[kind]
    headers = (
        {"Content-Disposition": f'attachment; filename="{plan_id}-{route_id}.{kind}"'}
        if download
        else {}
    )
    return Response(body, media_type=media_type, headers=headers)


def _loading(
    engine: Any, ws: Workspace, caches: Caches, plan_id: str, route_id: str, kind: str
) -> bytes | None:
    """One trip's loading list as csv or pdf bytes; None when it loads nothing (worker)."""
    from dispatch import service

    job, plan = caches.done_plan(engine, plan_id)
    route = _route(plan, plan_id, route_id)
    numbers = {t for stop in route.stops for t in (*stop.load, *stop.drop)}
    made = service.route_loading_list(ws, plan, route_id, _parcels(engine, job, numbers), kind)
    return made.encode() if isinstance(made, str) else made


@router.get(
    "/{plan_id}/routes/{route_id}/loading.{kind}",
    operation_id="loading_list",
    summary="Loading list of one trip for its depot's crew: csv or pdf (A4, Chinese)",
    response_class=Response,
    responses={
        200: {
            "content": {k: v for k, v in _CONTENT.items() if k in ("text/csv", "application/pdf")},
            "description": "the loading list, last stop's parcels first",
        },
        **_ERRORS,
    },
)
async def loading_list(
    plan_id: PlanId,
    route_id: RouteId,
    kind: LoadingKind,
    principal: SheetReader,
    engine: EngineDep,
    ws: WorkspaceDep,
    caches: CachesDep,
) -> Response:
    """The parcels the trip loads at its depot, grouped by the stop they leave at, in
    reverse stop order, with weight and volume per stop.

    A station key reads the trips that leave from its station; a driver its vehicle's.
    404 also when the trip loads nothing at its depot (it only fetches produce).
    """
    await run_in_threadpool(_readable_route, engine, caches, principal, plan_id, route_id, True)
    body = await caches.memo(
        ("loading", kind, plan_id, route_id),
        lambda: _loading(engine, ws, caches, plan_id, route_id, kind),
    )
    if body is None:
        raise NotFound(f"route {route_id} loads nothing at its depot: it has no loading list")
    media_type = SHEETS[kind][0]
    disposition = f'attachment; filename="{plan_id}-{route_id}-loading.{kind}"'
    return Response(body, media_type=media_type, headers={"Content-Disposition": disposition})


def _workbook(engine: Any, ws: Workspace, caches: Caches, plan_id: str) -> bytes:
    """The plan's XLSX workbook (worker thread)."""
    from dispatch import service

    job, plan = caches.done_plan(engine, plan_id)
    return service.plan_workbook(ws, plan, _parcels(engine, job))


@router.get(
    "/{plan_id}/plan.xlsx",
    operation_id="plan_workbook",
    summary="The whole plan as an XLSX workbook (summary, a sheet per route, unassigned)",
    response_class=Response,
    responses={
        200: {
            "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
            "description": "the workbook",
        },
        **responses(NotFound, Conflict),
        **INVALID,
    },
)
async def plan_workbook(
    plan_id: PlanId, _: Reader, engine: EngineDep, ws: WorkspaceDep, caches: CachesDep
) -> Response:
    """The plan's workbook, Chinese intact, readable by Excel and LibreOffice."""
    body = await caches.memo(("xlsx", plan_id), lambda: _workbook(engine, ws, caches, plan_id))
    disposition = f'attachment; filename="{plan_id}.xlsx"'
    return Response(body, media_type=XLSX, headers={"Content-Disposition": disposition})


def _loads_at_depot(route: dict[str, Any]) -> bool:
    """True when the trip loads parcels at its depot (it has a loading list)."""
    stops = route.get("stops", [])
    return bool(stops and stops[0].get("load"))


def _index(engine: Any, caches: Caches, principal: Principal, plan_id: str) -> dict[str, Any]:
    """The routes of a done plan the caller may read, with links (worker thread)."""
    job, plan = caches.done_plan(engine, plan_id)
    check_released(principal, job)
    base = f"/v1/plans/{plan_id}/routes"
    routes = []
    for typed in plan.routes:
        r = typed.model_dump(by_alias=True)
        if not may_read_route(principal, r):
            continue
        rid = r["route_id"]
        loading = _loads_at_depot(r) and may_read_loading(principal, r)
        routes.append(
            {
                "route_id": rid,
                "vehicle_id": r["vehicle_id"],
                "vehicle_type": r["vehicle_type"],
                "echelon": r["echelon"],
                "trip": r.get("trip"),
                "depot": r["depot"],
                "start_s": r["stops"][0]["departure_s"],
                "end_s": r["stops"][-1]["arrival_s"],
                "stops": len(r["stops"]),
                "links": {
                    **{k: f"{base}/{rid}/sheet.{k}" for k in SHEETS},
                    "loading_csv": f"{base}/{rid}/loading.csv" if loading else None,
                    "loading_pdf": f"{base}/{rid}/loading.pdf" if loading else None,
                },
            }
        )
    released = iso_utc(job.released_at) if job.released_at else None
    return {"plan_id": plan_id, "date": job.date, "released_at": released, "routes": routes}


@router.get(
    "/{plan_id}/routes",
    response_model=RouteIndex,
    operation_id="plan_routes",
    summary="The routes of a plan the caller may read, with links to their papers",
    responses={**responses(NotFound, Conflict, Forbidden), **INVALID},
)
async def plan_routes(
    plan_id: PlanId, principal: SheetReader, engine: EngineDep, caches: CachesDep
) -> dict[str, Any]:
    """Every route for dispatchers and planners; a driver's vehicle's routes; a station's
    routes that start or transfer there. Drivers and stations: released plans only (403)."""
    return await run_in_threadpool(_index, engine, caches, principal, plan_id)


def _map(engine: Any, ws: Workspace, caches: Caches, plan_id: str) -> bytes:
    """Every route of the plan along the roads as JSON bytes (worker thread)."""
    from dispatch.service import plan_lines

    _, plan = caches.done_plan(engine, plan_id)
    body = {"plan_id": plan_id, "routes": plan_lines(ws, plan.to_json())}
    return json.dumps(body, separators=(",", ":")).encode()


@router.get(
    "/{plan_id}/map",
    response_model=PlanMap,
    operation_id="plan_map",
    summary="Every route of a plan along the roads, for a map",
    responses={**responses(NotFound, Conflict), **INVALID},
)
async def plan_map(
    plan_id: PlanId, _: Reader, engine: EngineDep, ws: WorkspaceDep, caches: CachesDep
) -> Response:
    """Per route its echelon and its polyline of [lon, lat] along the fastest roads."""
    body = await caches.memo(("map", plan_id), lambda: _map(engine, ws, caches, plan_id))
    return Response(body, media_type="application/json")
