"""The county's service points: hub, town stations, villages."""

from __future__ import annotations

import json

from fastapi import APIRouter, Response

from api.auth import Reader
from api.deps import CachesDep, workspace
from api.errors import COMMON
from api.schemas import NetworkPoints, RoadLines

router = APIRouter(prefix="/v1/network", tags=["network"], responses=COMMON)


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


@router.get(
    "/points",
    response_model=NetworkPoints,
    summary="Hub, town stations and village service points",
)
async def get_points(_: Reader, caches: CachesDep) -> Response:
    """The county served (name, code, time zone, hub id, road source, how many points were
    placed) and every service point: point_id, name, kind, town_id, lon, lat, open_s, close_s,
    placed."""
    return Response(await caches.memo(("points",), _points_body), media_type="application/json")


def _roads_body() -> bytes:
    """The served county's roads as JSON bytes (cached per app)."""
    from dispatch.service import road_lines

    body = {"classes": road_lines(workspace())}
    return json.dumps(body, separators=(",", ":")).encode()


@router.get("/roads", response_model=RoadLines, summary="The county's roads, to draw a map")
async def get_roads(_: Reader, caches: CachesDep) -> Response:
    """Every road once as a polyline of [lon, lat] (5 decimals), grouped by OSM highway class
    (`primary`, `secondary`, ...): what the dispatcher's page draws under the routes."""
    return Response(await caches.memo(("roads",), _roads_body), media_type="application/json")
