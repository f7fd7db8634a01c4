"""Route sheets of a done plan for drivers: CSV, printable PDF (Chinese), GPX, GeoJSON."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response

from api.auth import Principal, SheetReader
from api.db import reading
from api.deps import Caches, CachesDep, EngineDep, WorkspaceDep
from api.errors import COMMON, INVALID, Conflict, Forbidden, NotFound, responses
from api.limits import MAX_ID_CHARS
from api.manifest_store import load_parcels
from api.routes.plans import PlanId
from api.schemas import ID_PATTERN
from dispatch.parcel import Parcel
from dispatch.plan import Plan, Route
from dispatch.workspace import Workspace

router = APIRouter(prefix="/v1/plans", tags=["sheets"], responses=COMMON)

RouteId = Annotated[str, Path(min_length=1, max_length=MAX_ID_CHARS, pattern=ID_PATTERN)]
Kind = Literal["csv", "pdf", "gpx", "geojson"]

#: Sheet formats: media type and whether the response is a download.
SHEETS: dict[str, tuple[str, bool]] = {
    "csv": ("text/csv; charset=utf-8", True),
    "pdf": ("application/pdf", True),
    "gpx": ("application/gpx+xml", False),
    "geojson": ("application/geo+json", False),
}
_CONTENT = {
    "text/csv": {"schema": {"type": "string"}},
    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
    "application/gpx+xml": {"schema": {"type": "string"}},
    "application/geo+json": {"schema": {"type": "object"}},
}


def _route(plan: Plan, plan_id: str, route_id: str) -> Route:
    """One route of a plan; 404 when there is no such route."""
    try:
        return plan.route(route_id)
    except KeyError:
        raise NotFound(f"plan {plan_id} has no route {route_id}") from None


def _sheet(
    engine: Any, ws: Workspace, caches: Caches, plan_id: str, route_id: str, kind: str
) -> tuple[str, bytes]:
    """(vehicle id, bytes) of one route's sheet: csv, pdf, gpx or geojson (worker thread)."""
    from dispatch import service

    job, plan = caches.done_plan(engine, plan_id)
    route = _route(plan, plan_id, route_id)

    def parcels() -> list[Parcel]:
        numbers = {t for stop in route.stops for t in (*stop.load, *stop.drop)}
        with reading(engine) as session:
            return load_parcels(session, job.request["manifest_ids"], numbers)

    if kind == "csv":
        body = service.route_sheet_csv(ws, plan, route_id, parcels()).encode()
    elif kind == "pdf":
        body = service.route_sheet_pdf(ws, plan, route_id, parcels())
    elif kind == "gpx":
        body = service.route_gpx_text(ws, plan, route_id).encode()
    else:
        body = json.dumps(service.route_geojson(ws, plan, route_id), ensure_ascii=False).encode()
    return route.vehicle_id, body


def _only_own_vehicle(principal: Principal, vehicle_id: str, route_id: str) -> None:
    """403 when a driver asks for a route of another vehicle."""
    if principal.role == "driver" and vehicle_id != principal.vehicle_id:
        raise Forbidden(f"route {route_id} is not on your vehicle")


@router.get(
    "/{plan_id}/routes/{route_id}/sheet.{kind}",
    operation_id="route_sheet",
    summary="Route sheet for the driver: csv, pdf (A4, Chinese), gpx (phone) or geojson (map)",
    response_class=Response,
    responses={
        200: {"content": _CONTENT, "description": "the sheet"},
        **responses(NotFound, Conflict),
        **INVALID,
    },
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

    404: no such plan or route; 409: the plan is not done; 403: a driver's other vehicle.
    """
    vehicle_id, body = await caches.memo(
        (kind, plan_id, route_id), lambda: _sheet(engine, ws, caches, plan_id, route_id, kind)
    )
    _only_own_vehicle(principal, vehicle_id, route_id)
    media_type, download = SHEETS[kind]
    headers = (
        {"Content-Disposition": f'attachment; filename="{plan_id}-{route_id}.{kind}"'}
        if download
        else {}
    )
    return Response(body, media_type=media_type, headers=headers)
