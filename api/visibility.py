"""What each role may read of a plan: drivers and stations see released plans only, a driver
the routes of its vehicle, a station the routes that start or transfer at it and the loading
lists of the trips that load there. Dispatchers and planners see everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from api.auth import Principal
from api.errors import Forbidden

if TYPE_CHECKING:
    from api.db import PlanJob

#: Roles bound to a vehicle or a station, who see released plans only.
FIELD_ROLES = ("driver", "station")


def check_released(principal: Principal, job: PlanJob) -> None:
    """403 when a driver or station asks for a plan not released yet."""
    if principal.role in FIELD_ROLES and job.released_at is None:
        raise Forbidden(
            f"plan {job.plan_id} is not released yet; drivers and stations see released plans only"
        )


def starts_at(route: Mapping[str, Any], station: str) -> bool:
    """True when the route's trip leaves from `station` (its loading list is the station's)."""
    return bool(route.get("depot") == station)


def transfers_at(route: Mapping[str, Any], station: str) -> bool:
    """True when the route loads or drops parcels at `station` on its way."""
    return any(
        s.get("point_id") == station and (s.get("load") or s.get("drop"))
        for s in route.get("stops", [])[1:]
    )


def may_read_route(principal: Principal, route: Mapping[str, Any]) -> bool:
    """Whether the caller may read this route's sheets."""
    if principal.role == "driver":
        return bool(route.get("vehicle_id") == principal.vehicle_id)
    if principal.role == "station":
        station = principal.station_id or ""
        return starts_at(route, station) or transfers_at(route, station)
    return True


def may_read_loading(principal: Principal, route: Mapping[str, Any]) -> bool:
    """Whether the caller may read this route's loading list (a station: trips leaving it)."""
    if principal.role == "station":
        return starts_at(route, principal.station_id or "")
    return may_read_route(principal, route)


def check_route(principal: Principal, route: Mapping[str, Any], loading: bool = False) -> None:
    """403 naming the route when the caller's vehicle or station has nothing to do with it."""
    allowed = may_read_loading if loading else may_read_route
    if allowed(principal, route):
        return
    rid = route.get("route_id")
    if principal.role == "driver":
        raise Forbidden(f"route {rid} is not on your vehicle")
    what = "does not leave from" if loading else "neither starts nor transfers at"
    raise Forbidden(f"route {rid} {what} your station {principal.station_id}")
