"""The fleet in force: read it as TOML, replace it with a checked TOML file."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from api.auth import Dispatcher, Reader
from api.deps import CachesDep, EngineDep, LimitsDep, WorkspaceDep, workspace
from api.errors import BODY, COMMON, INVALID, Invalid
from api.fleet_store import current_fleet_toml, store_fleet
from api.limits import Limits
from api.schemas import FleetStored
from dispatch.workspace import Workspace

router = APIRouter(prefix="/v1/fleet", tags=["fleet"], responses=COMMON)

_TOML = {"schema": {"type": "string", "description": "fleet TOML (the county folder's fleet.toml)"}}


def _default_fleet_toml() -> str:
    """The served county's default fleet as TOML (cached per app)."""
    from dispatch.service import fleet_toml

    return fleet_toml(workspace().fleet)


@router.get(
    "",
    summary="The fleet in force, as TOML text",
    response_class=Response,
    responses={200: {"content": {"application/toml": _TOML}, "description": "the fleet"}},
)
async def get_fleet(_: Reader, engine: EngineDep, caches: CachesDep) -> Response:
    """The fleet (TOML): the last one PUT, else the default Yongchuan fleet."""
    text = await run_in_threadpool(current_fleet_toml, engine)
    if text is None:
        text = await caches.memo(("default fleet",), _default_fleet_toml)
    return Response(text.encode(), media_type="application/toml; charset=utf-8")


def _check(ws: Workspace, limits: Limits, text: str) -> tuple[int, int]:
    """(vehicle types, vehicles) of a valid fleet; FleetError or 422 naming the key."""
    from dispatch.service import fleet_from_toml

    fleet = fleet_from_toml(text, ws)
    if not fleet.vehicles:
        raise Invalid.field("vehicles", "the fleet has no vehicles")
    if len(fleet.vehicles) > limits.fleet_vehicles:
        raise Invalid.field(
            "vehicles",
            f"{len(fleet.vehicles)} vehicles; at most {limits.fleet_vehicles} "
            "(limit fleet_vehicles)",
        )
    return len(fleet.types), len(fleet.vehicles)


@router.put(
    "",
    response_model=FleetStored,
    summary="Replace the fleet (TOML text body)",
    responses={**INVALID, **BODY},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/toml": _TOML, "text/plain": _TOML},
        }
    },
)
async def put_fleet(
    request: Request, _: Dispatcher, engine: EngineDep, ws: WorkspaceDep, limits: LimitsDep
) -> dict[str, Any]:
    """Check and store a new fleet; plans started afterwards use it. 422 names the bad key."""
    data = await request.body()  # api.gate has capped its size
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid.field("body", "fleet TOML must be UTF-8 text") from None
    if "\x00" in text:
        raise Invalid.field("body", "fleet TOML contains a NUL character")
    types, vehicles = await run_in_threadpool(_check, ws, limits, text)
    version_id = await run_in_threadpool(store_fleet, engine, text)
    return {"fleet_version": version_id, "vehicle_types": types, "vehicles": vehicles}
