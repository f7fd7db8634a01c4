"""Who the caller is: the role and binding of its key (the dispatcher's page signs in here)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.auth import SheetReader
from api.errors import COMMON
from api.schemas import Me

router = APIRouter(prefix="/v1", tags=["keys"], responses=COMMON)


@router.get("/me", response_model=Me, operation_id="whoami", summary="The caller's key")
async def whoami(principal: SheetReader) -> dict[str, Any]:
    """The key id, role, and the vehicle (driver) or station (station key) it is bound to."""
    return {
        "key_id": principal.key_id,
        "role": principal.role,
        "vehicle_id": principal.vehicle_id,
        "station_id": principal.station_id,
    }
