"""The county's service points: hub, town stations, villages."""

from __future__ import annotations

import functools
import json

from fastapi import APIRouter, Response

from api.auth import Reader
from api.deps import CachesDep, workspace
from api.errors import COMMON
from api.schemas import NetworkPoints

router = APIRouter(prefix="/v1/network", tags=["network"], responses=COMMON)


@functools.cache
def _points_body() -> bytes:
    """The network points as JSON bytes (the county does not change while the server runs)."""
    from dispatch.service import network_points

    return json.dumps({"points": network_points(workspace())}, ensure_ascii=False).encode()


@router.get(
    "/points",
    response_model=NetworkPoints,
    summary="Hub, town stations and village service points",
)
async def get_points(_: Reader, caches: CachesDep) -> Response:
    """Every service point: point_id, name, kind, town_id, lon, lat, open_s, close_s."""
    return Response(await caches.memo(("points",), _points_body), media_type="application/json")
