"""The driver's page at /driver (phone-sized): today's stops in order, each parcel marked
delivered, collected or failed with a reason; marks are queued on the phone while offline and
sent to POST /v1/scans when it is back online. The page shares the service's static folder
with the dispatcher's page (api/static/driver/)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from api import day_store
from api.auth import Principal, require
from api.day_store import DayFactsCache, DayFactsDep
from api.db import PlanJob, reading
from api.deps import EngineDep, WorkspaceDep
from api.errors import COMMON, INVALID, Forbidden, Invalid
from api.limits import MAX_ID_CHARS
from api.routes.scans import zone_of
from api.schemas import DriverDay
from dispatch.actuals import DayActuals, state
from dispatch.scan_events import REASONS
from dispatch.workspace import Workspace

STATIC = Path(__file__).resolve().parent.parent / "static" / "driver"
_MEDIA = {"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
_HEADERS = {"Content-Security-Policy": _CSP, "Cache-Control": "no-cache"}

page_router = APIRouter(include_in_schema=False)
router = APIRouter(prefix="/v1/driver", tags=["driver"], responses=COMMON)
StopsReader = Annotated[Principal, Depends(require("dispatcher", "planner", "driver"))]


@page_router.get("/driver")
async def page() -> FileResponse:
    """The driver's page."""
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=_HEADERS)


@page_router.get("/driver/{name}")
async def asset(name: Literal["app.js", "app.css"]) -> FileResponse:
    """The page's script and style sheet."""
    return FileResponse(STATIC / name, media_type=_MEDIA[name], headers=_HEADERS)


def _day(
    engine: Any, ws: Workspace, book: DayFactsCache, vehicle: str, date: dt.date
) -> dict[str, Any]:
    """The vehicle's stops in the day's released plan, with each parcel's scan status."""
    labels = {code: label for code, (_, label) in REASONS.items()}
    ids = day_store.released_plan_ids(engine, date)
    empty: dict[str, Any] = {
        "date": date,
        "plan_id": None,
        "vehicle_id": vehicle,
        "stops": [],
        "reasons": labels,
    }
    if not ids:
        return empty
    with reading(engine) as session:
        job = session.get(PlanJob, ids[-1])
    if job is None or job.plan_json is None:
        return empty
    plan = json.loads(job.plan_json)
    names = {p.point_id: p.name for p in ws.points}

    def stops(actuals: DayActuals) -> list[dict[str, Any]]:
        facts = actuals.facts
        out = []
        mine = [r for r in plan["routes"] if r["vehicle_id"] == vehicle]
        for r in sorted(mine, key=lambda r: r["stops"][0]["arrival_s"]):
            for s in r["stops"][1:-1]:
                parcels = []
                for t, moving in [(t, "drop") for t in s["drop"]] + [
                    (t, "load") for t in s["load"]
                ]:
                    f = facts.parcels.get(t)
                    if f is None:
                        continue
                    p = f.parcel
                    if moving == "drop":
                        action = "deliver" if p.point_id == s["point_id"] else "unload"
                    else:
                        action = "collect" if p.point_id == s["point_id"] else "load"
                    day = actuals.parcels.get(t)
                    parcels.append(
                        {
                            "tracking_no": t,
                            "carrier": p.carrier,
                            "kind": p.kind,
                            "action": action,
                            "status": state(f, day),
                            "reason": day.failed_reason if day else None,
                        }
                    )
                out.append(
                    {
                        "route_id": r["route_id"],
                        "seq": s["seq"],
                        "point_id": s["point_id"],
                        "name": names.get(s["point_id"], s["point_id"]),
                        "arrival_s": s["arrival_s"],
                        "parcels": parcels,
                    }
                )
        return out

    return {
        "date": date,
        "plan_id": ids[-1],
        "vehicle_id": vehicle,
        "stops": book.with_actuals(engine, ws, ids[-1], None, stops),
        "reasons": labels,
    }


@router.get(
    "/stops",
    response_model=DriverDay,
    operation_id="driver_stops",
    summary="The driver's stops of the day's released plan, in order",
    responses=INVALID,
)
async def driver_stops(
    who: StopsReader,
    engine: EngineDep,
    ws: WorkspaceDep,
    book: DayFactsDep,
    date: Annotated[dt.date | None, Query(description="default: today in the county")] = None,
    vehicle_id: Annotated[
        str | None,
        Query(max_length=MAX_ID_CHARS, description="dispatchers and planners: whose page"),
    ] = None,
) -> dict[str, Any]:
    """Stops of the key's vehicle (a dispatcher or planner names `vehicle_id`) in order with
    the parcels to hand over or collect and what their scans say; no stops when nothing is
    released for the day or the vehicle has no route in it."""
    if who.role == "driver":
        if vehicle_id is not None and vehicle_id != who.vehicle_id:
            raise Forbidden(f"vehicle {vehicle_id} is not yours")
        vehicle_id = who.vehicle_id
    elif vehicle_id is None:
        raise Invalid.field("vehicle_id", "name the vehicle whose stops to show")
    day = date or dt.datetime.now(zone_of(ws)).date()
    return await run_in_threadpool(_day, engine, ws, book, vehicle_id or "", day)
