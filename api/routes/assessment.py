"""The towns' assessment and the carriers' settlement over a period, as JSON or XLSX."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from api import day_store, scan_store
from api.auth import Reader
from api.day_store import DayFactsCache, DayFactsDep
from api.deps import EngineDep, Lru, WorkspaceDep
from api.errors import COMMON, INVALID, Invalid
from api.limits import MAX_KPI_DAYS
from api.schemas import Assessment, Settlement
from dispatch.workspace import Workspace

router = APIRouter(prefix="/v1", tags=["assessment"], responses=COMMON)

#: Town sums of the earlier days of recent periods, by (plan id, scans seq) of each day.
_SUMS = Lru(32)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Format = Literal["json", "xlsx"]
_XLSX_RESPONSE = {
    200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}},
    **INVALID,
}


def _check(first: dt.date, last: dt.date) -> None:
    if last < first:
        raise Invalid.field("to", "'to' is before 'from'")
    if (last - first).days >= MAX_KPI_DAYS:
        raise Invalid.field("to", f"at most {MAX_KPI_DAYS} days per request")


def day_reports(
    engine: Engine,
    ws: Workspace,
    book: DayFactsCache,
    first: dt.date,
    last: dt.date,
    section: str,
) -> list[dict[str, Any]]:
    """Plan against actual of each day in [first, last] with a released plan (the day's
    latest) with only its `section` ("towns" or "carriers") of rows, reading only the scans
    that arrived since each was last folded (an upload folds its own: usually none)."""
    released = day_store.released_per_day(engine, first, last)
    revisions = scan_store.day_revisions(engine, released)
    return [
        book.with_actuals(engine, ws, ids[-1], revisions.get(day, 0), lambda a: a.summary(section))
        for day, ids in sorted(released.items())
    ]


def _answer(body: dict[str, Any], tables: Any, fmt: str, name: str) -> Any:
    if fmt == "json":
        return body
    from dispatch.workbook import table_workbook

    data = table_workbook(tables(body))
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(data, media_type=XLSX, headers=headers)


@router.get(
    "/assessment",
    response_model=Assessment,
    operation_id="get_assessment",
    summary="The towns' assessment over a period (JSON or XLSX)",
    responses=_XLSX_RESPONSE,
)
async def get_assessment(
    _: Reader,
    engine: EngineDep,
    ws: WorkspaceDep,
    book: DayFactsDep,
    date_from: Annotated[dt.date, Query(alias="from")],
    date_to: Annotated[dt.date, Query(alias="to")],
    format: Annotated[Format, Query(description="json, or xlsx for the county office")] = "json",
) -> Any:
    """Per town: delivered, collected, on-time share, failure rate by reason, planned cost
    per parcel, produce shipped out (count, kg), from each day's released plan and scans."""
    from dispatch.assessment import assess, assessment_tables, merge_sums, town_sums

    _check(date_from, date_to)

    def compute() -> dict[str, Any]:
        reports = day_reports(engine, ws, book, date_from, date_to, "towns")
        names = {p.point_id: p.name for p in ws.points}
        # the days before the last rarely change: their sums are kept by their scan counts
        key = tuple((r["plan_id"], r["scans_seq"]) for r in reports[:-1])
        earlier = _SUMS.get(key)
        if earlier is None:
            earlier = town_sums(reports[:-1])
            _SUMS.put(key, earlier)
        sums = merge_sums(earlier, town_sums(reports[-1:]))
        return assess(reports, names, date_from.isoformat(), date_to.isoformat(), sums)

    body = await run_in_threadpool(compute)
    return _answer(body, assessment_tables, format, f"assessment-{date_from}-{date_to}.xlsx")


@router.get(
    "/settlement",
    response_model=Settlement,
    operation_id="get_settlement",
    summary="What each carrier is billed for a period (JSON or XLSX)",
    responses=_XLSX_RESPONSE,
)
async def get_settlement(
    _: Reader,
    engine: EngineDep,
    ws: WorkspaceDep,
    book: DayFactsDep,
    date_from: Annotated[dt.date, Query(alias="from")],
    date_to: Annotated[dt.date, Query(alias="to")],
    format: Annotated[Format, Query(description="json, or xlsx")] = "json",
) -> Any:
    """Per carrier and town: parcels carried, delivered, collected, failures, and the planned
    route cost shared out to the carrier by the settlement rule (stated in `rule`)."""
    from dispatch.assessment import settle, settlement_tables

    _check(date_from, date_to)

    def compute() -> dict[str, Any]:
        reports = day_reports(engine, ws, book, date_from, date_to, "carriers")
        return settle(reports, date_from.isoformat(), date_to.isoformat())

    body = await run_in_threadpool(compute)
    return _answer(body, settlement_tables, format, f"settlement-{date_from}-{date_to}.xlsx")
