"""A parcel's trace: the planned chain beside the scans, and where it is now."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from api import day_store, scan_store
from api.auth import Principal, require
from api.day_store import DayFactsCache, DayFactsDep
from api.db import ParcelRow, reading
from api.deps import EngineDep, WorkspaceDep
from api.errors import COMMON, INVALID, Forbidden, NotFound, responses
from api.limits import MAX_ID_CHARS
from api.schemas import ParcelTrace
from dispatch.trace import TracedDay, parcel_trace
from dispatch.workspace import Workspace

router = APIRouter(prefix="/v1/parcels", tags=["parcels"], responses=COMMON)

TraceReader = Annotated[Principal, Depends(require("dispatcher", "planner", "driver", "station"))]
"""Any role; drivers and stations see only their own parcels."""
TrackingNo = Annotated[str, Path(min_length=1, max_length=MAX_ID_CHARS)]
#: Days after its last known day on which a carried-over parcel is looked for.
CARRY_DAYS = 7


def _trace(
    engine: Any, ws: Workspace, book: DayFactsCache, tracking_no: str, who: Principal
) -> dict[str, Any]:
    """The trace of a tracking number over every day it was planned or scanned."""
    rows = scan_store.events_of(engine, tracking_no)
    with reading(engine) as session:
        manifest_days = set(
            session.scalars(select(ParcelRow.date).where(ParcelRow.tracking_no == tracking_no))
        )
    days = sorted(manifest_days | {r.day for r in rows})
    if not days:
        raise NotFound(f"no parcel {tracking_no}")
    # one look-up for every day it may be on (fewer waits for the database and interpreter)
    released = day_store.released_per_day(engine, days[0], days[-1] + dt.timedelta(days=CARRY_DAYS))
    facts_of: dict[dt.date, Any] = {}
    for day in days:
        ids = released.get(day)
        facts_of[day] = book.facts(engine, ws, ids[-1]) if ids else None
    day = days[-1] + dt.timedelta(days=1)
    for _ in range(CARRY_DAYS):  # carried over (held, deferred, failed) to a later day
        ids = released.get(day)
        facts = book.facts(engine, ws, ids[-1]) if ids else None
        if facts is None or tracking_no not in facts.parcels:
            break
        facts_of[day] = facts
        day += dt.timedelta(days=1)
    _may_see(who, tracking_no, [f for f in facts_of.values() if f is not None])
    traced = [
        TracedDay(
            date=d,
            facts=facts_of[d],
            scans=[
                (scan_store.row_event(r), scan_store.row_scanner(r)) for r in rows if r.day == d
            ],
        )
        for d in sorted(facts_of)
    ]
    names = {p.point_id: p.name for p in ws.points}
    return parcel_trace(tracking_no, traced, names)


def _may_see(who: Principal, tracking_no: str, versions: list[Any]) -> None:
    """A driver sees parcels its vehicle carries, a station those passing it (403)."""
    if who.role == "driver":
        if not any(who.vehicle_id in f.vehicles_of(tracking_no) for f in versions):
            raise Forbidden(f"{tracking_no} is not on your vehicle")
    elif who.role == "station" and not any(
        who.station_id in f.points_of(tracking_no) for f in versions
    ):
        raise Forbidden(f"{tracking_no} does not pass your station")


@router.get(
    "/{tracking_no}",
    response_model=ParcelTrace,
    operation_id="trace_parcel",
    summary="A parcel's planned chain, its scans and where it is now",
    responses={**INVALID, **responses(NotFound)},
)
async def trace_parcel(
    tracking_no: TrackingNo,
    who: TraceReader,
    engine: EngineDep,
    ws: WorkspaceDep,
    book: DayFactsDep,
) -> dict[str, Any]:
    """Every day the parcel was planned or scanned (a tracking number keeps one identity
    across days): the released plan's legs with their planned times, the scans, and where
    the parcel is by its latest scan. Drivers and stations see only their own parcels."""
    return await run_in_threadpool(_trace, engine, ws, book, tracking_no, who)
