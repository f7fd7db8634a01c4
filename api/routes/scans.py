"""Scan events from drivers and station crews (batches, idempotent), and plan against actual."""

from __future__ import annotations

import asyncio
import datetime as dt
import zoneinfo
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from api import day_store, scan_store
from api.auth import Principal, Reader, require
from api.day_store import DayFactsCache, DayFactsDep
from api.deps import EngineDep, WorkspaceDep
from api.errors import BODY, COMMON, INVALID, NotFound, responses
from api.schemas import DayActualReport, ScanBatch, ScanBatchResult, ScanEventIn, ScanOutcome
from dispatch.scan_events import CLOCK_TOLERANCE_S, ScanEvent, Scanner, local_day
from dispatch.workspace import Workspace
from geodata.crs import gcj02_to_wgs84

router = APIRouter(tags=["scans"], responses=COMMON)

#: Batches judged and stored at once by this server process. Judging is Python work that
#: holds the interpreter, and SQLite writes one batch at a time anyway: with one batch at a
#: time the reads (traces, the assessment) share the interpreter with one upload, not eight
#: (measured: README, Scans, traces and the assessment).
INGEST_SLOTS = 1


ScanKey = Annotated[Principal, Depends(require("dispatcher", "driver", "station"))]
"""A key that may scan: the hub (dispatcher), a driver or a station crew."""


def scanner_of(principal: Principal) -> Scanner:
    """Who scans, from the key: a driver's vehicle, a station crew's station, or the hub."""
    return Scanner(
        role=principal.role,
        vehicle_id=principal.vehicle_id if principal.role == "driver" else None,
        station_id=principal.station_id if principal.role == "station" else None,
    )


def to_event(e: ScanEventIn, zone: dt.tzinfo) -> ScanEvent:
    """A request event as judged and stored: local day, seconds since midnight, WGS-84."""
    lon, lat = e.lon, e.lat
    if lon is not None and lat is not None and e.crs == "gcj02":
        lon, lat = gcj02_to_wgs84(lon, lat)
    day, time_s = local_day(e.time, zone)
    return ScanEvent(
        event_id=e.event_id,
        tracking_no=e.tracking_no,
        event=e.event,
        time=e.time,
        day=day,
        time_s=time_s,
        reason=e.reason,
        lon=lon,
        lat=lat,
    )


def zone_of(ws: Workspace) -> dt.tzinfo:
    """The county's time zone."""
    return zoneinfo.ZoneInfo(ws.county.settings.time_zone)


@router.post(
    "/v1/scans",
    response_model=ScanBatchResult,
    operation_id="post_scans",
    summary="Upload a batch of scan events",
    responses={**INVALID, **BODY},
)
async def post_scans(
    body: ScanBatch,
    principal: ScanKey,
    engine: EngineDep,
    ws: WorkspaceDep,
    book: DayFactsDep,
    request: Request,
) -> ScanBatchResult:
    """Store a batch of scans (dispatcher, driver or station keys).

    Every event is judged by its own time; the answer says per index whether it was
    stored, a duplicate of one stored before (same event_id and content: nothing changes)
    or refused with the reason. Refused events are not stored; the others are, and are on
    disk when the answer arrives.
    """
    slots: asyncio.Semaphore = request.app.state.ingest_slots
    async with slots:  # batches beyond the slots wait here, not in threadpool threads
        return await run_in_threadpool(_ingest_batch, body, principal, engine, ws, book)


def _ingest_batch(
    body: ScanBatch, principal: Principal, engine: Engine, ws: Workspace, book: DayFactsCache
) -> ScanBatchResult:
    """Judge and store a batch, fold what was stored into its days' sums, and the answer
    (built here, in a worker thread: the event loop only sends it)."""
    scanner = scanner_of(principal)
    zone = zone_of(ws)
    events = [to_event(e, zone) for e in body.events]
    in_force: dict[dt.date, str] = {}

    def versions(day: dt.date) -> list[Any]:
        ids = day_store.released_plan_ids(engine, day)
        if ids:
            in_force[day] = ids[-1]
        return book.versions(engine, ws, ids)

    results = scan_store.ingest(engine, events, scanner, principal.key_id, versions)
    stored_days = {e.day for e, r in zip(events, results, strict=True) if r.status == "stored"}
    for day in sorted(stored_days & in_force.keys()):
        book.catch_up(engine, ws, in_force[day])  # readers then find the day's sums current
    counts = {s: sum(1 for r in results if r.status == s) for s in ("stored", "duplicate")}
    return ScanBatchResult(
        stored=counts["stored"],
        duplicates=counts["duplicate"],
        refused=len(results) - counts["stored"] - counts["duplicate"],
        clock_tolerance_s=CLOCK_TOLERANCE_S,
        results=[ScanOutcome(**r.__dict__) for r in results],
    )


@router.get(
    "/v1/actuals",
    response_model=DayActualReport,
    operation_id="get_actuals",
    summary="A day's released plan against its scans, per route and per town",
    responses={**INVALID, **responses(NotFound)},
)
async def get_actuals(
    _: Reader,
    engine: EngineDep,
    ws: WorkspaceDep,
    book: DayFactsDep,
    date: Annotated[dt.date, Query()],
) -> dict[str, Any]:
    """On-time share against the planned arrival plus a tolerance, failures by reason,
    parcels still open, produce collected against planned, and the return list."""

    def compute() -> dict[str, Any]:
        ids = day_store.released_plan_ids(engine, date)
        if not ids:
            raise NotFound(f"no released plan for {date.isoformat()}")
        return book.with_actuals(engine, ws, ids[-1], None, lambda a: a.report())

    return await run_in_threadpool(compute)
