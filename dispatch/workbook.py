"""The plan as an XLSX workbook for dispatchers (the one module that imports openpyxl).

Sheets: 汇总 (plan facts, KPIs and one row per route), one sheet per route (its stops) and
未分配 (parcels not carried, with their reasons). Only plain cells, bold headers, column
widths and frozen header rows: what Excel and LibreOffice both read. Text is always stored as
text (data type string), so a carrier name such as "=1+1" from a manifest never becomes a
formula; numbers stay numbers (kg, litres, km, hours, yuan with their unit in the header).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dispatch.parcel import Parcel
from dispatch.plan import Kpis, Plan
from dispatch.route_sheet import Handover, RouteSheet, hhmm
from geodata.points import ServicePoint

SUMMARY = "汇总"
UNASSIGNED = "未分配"
#: summary figures: label, divisor turning the figure into the unit of the label, figure
_KPIS: tuple[tuple[str, float, Callable[[Kpis], int | float]], ...] = (
    ("包裹总数 Parcels", 1, lambda k: k.parcels),
    ("送达 Delivered", 1, lambda k: k.delivered),
    ("揽收农产品 Produce picked up", 1, lambda k: k.picked_up),
    ("未运 Left behind", 1, lambda k: k.unassigned),
    ("顺延 Deferred", 1, lambda k: k.deferred),
    ("路线数 Routes", 1, lambda k: k.routes),
    ("用车数 Vehicles used", 1, lambda k: k.vehicles_used),
    ("里程 km Distance", 1000, lambda k: k.distance_m),
    ("车辆工时 h Vehicle hours", 1, lambda k: k.vehicle_hours),
    ("成本 元 Cost yuan", 100, lambda k: k.cost_fen),
    ("单件成本 元 Cost per parcel yuan", 100, lambda k: k.cost_per_parcel_fen),
)
_ROUTE_HEAD = (
    "路线 Route",
    "车辆 Vehicle",
    "车型 Type",
    "级别 Echelon",
    "趟次 Trip",
    "出发站 Depot",
    "出发 Depart",
    "返回 Return",
    "停靠点 Stops",
    "卸件 Handed over",
    "收件 Collected",
    "冷链 Cold",
    "里程 km",
    "时长 h",
    "成本 元",
    "工作表 Sheet",
)
_STOP_HEAD = (
    "序号 Seq",
    "站点编码 Point ID",
    "站点 Stop",
    "到达 ETA",
    "离开 Departure",
    "卸件数 Handed over",
    "卸件按快递公司 By carrier",
    "卸件运单号 Tracking numbers",
    "收件数 Collected",
    "收件按快递公司 By carrier",
    "收件运单号 Tracking numbers",
    "冷链件 Cold chain",
    "车上重量 kg Load after",
    "车上体积 L Volume after",
    "签收 Signature",
)
_UNASSIGNED_HEAD = (
    "运单号 Tracking no",
    "快递公司 Carrier",
    "类型 Kind",
    "站点编码 Point ID",
    "站点 Point",
    "乡镇 Town",
    "原因代码 Code",
    "原因 Reason",
    "到期 Due",
    "重量 kg",
    "体积 L",
    "冷链 Cold",
)
#: characters XML 1.0 cannot hold (openpyxl refuses them)
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: most characters Excel keeps in one cell
_MAX_CELL = 32767
#: characters Excel forbids in sheet names
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


def write_plan_workbook(
    path: Path,
    plan: Plan,
    sheets: Sequence[RouteSheet],
    points: Mapping[str, ServicePoint],
    parcels: Mapping[str, Parcel],
) -> None:
    """Write the workbook of `plan` (its route sheets in plan order) to `path`."""
    from openpyxl import Workbook

    book = Workbook()
    summary = book.active
    summary.title = SUMMARY
    names = _sheet_names([s.route.route_id for s in sheets])
    _summary(summary, plan, sheets, names)
    for sheet, name in zip(sheets, names, strict=True):
        _route_sheet(book.create_sheet(name), sheet)
    _unassigned(book.create_sheet(UNASSIGNED), plan, points, parcels)
    book.save(path)


def _summary(ws: Any, plan: Plan, sheets: Sequence[RouteSheet], names: list[str]) -> None:
    _row(ws, 1, [f"配送计划 Plan {plan.plan_id}"], bold=True)
    facts: list[list[object]] = [
        ["日期 Date", plan.date.isoformat()],
        ["状态 Status", plan.status],
        ["方式 Mode", plan.mode],
    ]
    for label, divisor, figure in _KPIS:
        value = figure(plan.kpis)
        facts.append([label, value if divisor == 1 else round(value / divisor, 3)])
    for i, fact in enumerate(facts):
        _row(ws, 2 + i, fact)
    top = len(facts) + 3
    _row(ws, top, _ROUTE_HEAD, bold=True)
    for i, (s, name) in enumerate(zip(sheets, names, strict=True)):
        r = s.route
        _row(
            ws,
            top + 1 + i,
            [
                r.route_id,
                r.vehicle_id,
                s.vehicle_label,
                r.echelon,
                r.trip,
                s.depot_name,
                hhmm(r.stops[0].departure_s),
                hhmm(r.stops[-1].arrival_s),
                len(r.visits),
                s.drops,
                s.collected,
                s.cold,
                round(r.distance_m / 1000, 3),
                round(r.duration_s / 3600, 3),
                round(r.cost_fen / 100, 2),
                name,
            ],
        )
    _widths(ws, [24, 16, 14, 10, 8, 22, 9, 9, 8, 10, 10, 8, 10, 9, 10, 12])


def _route_sheet(ws: Any, sheet: RouteSheet) -> None:
    r = sheet.route
    _row(ws, 1, [f"路线单 {r.route_id}（第 {r.trip} 趟）{sheet.date}"], bold=True)
    _row(ws, 2, ["车辆", f"{r.vehicle_id} / {sheet.vehicle_label}", "级别", sheet.echelon_name])
    _row(ws, 3, ["出发站", sheet.depot_name, "里程 km", round(r.distance_m / 1000, 3)])
    _row(ws, 5, _STOP_HEAD, bold=True)
    for i, s in enumerate(sheet.stops):
        cold = sorted(t for g in (*s.drop.groups, *s.load.groups) for t in g.cold)
        _row(
            ws,
            6 + i,
            [
                s.seq,
                s.point_id,
                s.name,
                hhmm(s.arrival_s),
                hhmm(s.departure_s),
                s.drop.count,
                s.drop.counts_text(),
                _numbers(s.drop),
                s.load.count,
                s.load.counts_text(),
                _numbers(s.load),
                " ".join(cold),
                round(s.weight_g_after / 1000, 3),
                round(s.volume_ml_after / 1000, 3),
                "",
            ],
        )
    ws.freeze_panes = "A6"
    _widths(ws, [8, 15, 22, 9, 9, 9, 28, 40, 9, 28, 40, 20, 12, 12, 14])


def _unassigned(
    ws: Any, plan: Plan, points: Mapping[str, ServicePoint], parcels: Mapping[str, Parcel]
) -> None:
    _row(ws, 1, _UNASSIGNED_HEAD, bold=True)
    for i, u in enumerate(plan.unassigned):
        p = parcels[u.parcel_id]
        point = points.get(p.point_id)
        town = points.get(point.town_id) if point is not None else None
        _row(
            ws,
            2 + i,
            [
                u.parcel_id,
                p.carrier,
                "揽收 pickup" if p.kind == "pickup" else "派送 delivery",
                p.point_id,
                point.name if point is not None else "",
                town.name if town is not None else "",
                u.code,
                u.reason,
                p.due_date.isoformat(),
                round(p.weight_g / 1000, 3),
                round(p.volume_ml / 1000, 3),
                "是" if p.cold else "",
            ],
        )
    ws.freeze_panes = "A2"
    _widths(ws, [20, 14, 14, 15, 20, 22, 20, 60, 12, 9, 9, 8])


def _numbers(h: Handover) -> str:
    """Tracking numbers per carrier: "中通: A1 A2; 圆通: B7"."""
    return "; ".join(f"{g.carrier}: {' '.join(g.tracking_nos)}" for g in h.groups)


def _row(ws: Any, row: int, values: Sequence[object], bold: bool = False) -> None:
    """Write one row from column A; text is stored as text, never as a formula."""
    from openpyxl.styles import Font

    for col, value in enumerate(values, start=1):
        cell = ws.cell(row=row, column=col)
        if isinstance(value, str):
            text = _ILLEGAL.sub("\ufffd", value)
            cell.value = text if len(text) <= _MAX_CELL else text[: _MAX_CELL - 1] + "…"
            cell.data_type = "s"
        else:
            cell.value = value
        if bold:
            cell.font = Font(bold=True)


def _widths(ws: Any, widths: Sequence[float]) -> None:
    """Column widths in characters, from column A."""
    from openpyxl.utils import get_column_letter

    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width


def _sheet_names(route_ids: Sequence[str]) -> list[str]:
    """Excel-valid, unique sheet names (≤ 31 characters) for the routes, in order."""
    taken = {SUMMARY, UNASSIGNED, "History"}  # Excel reserves "History"
    names = []
    for rid in route_ids:
        base = _SHEET_NAME_BAD.sub("_", rid).strip("'")[:31] or "route"
        name, n = base, 1
        while name.lower() in {t.lower() for t in taken}:
            n += 1
            name = f"{base[: 31 - len(str(n)) - 1]}~{n}"
        taken.add(name)
        names.append(name)
    return names


@dataclass(frozen=True)
class TableSheet:
    """A report sheet: a title row, a note row, a bold header and plain rows (numbers stay
    numbers, text stays text)."""

    name: str
    title: str
    note: str
    header: Sequence[str]
    rows: Sequence[Sequence[object]]


def table_workbook(sheets: Sequence[TableSheet]) -> bytes:
    """An XLSX of report sheets (the towns' assessment, the carriers' settlement)."""
    from openpyxl import Workbook

    book = Workbook()
    first = True
    for sheet in sheets:
        ws = book.active if first else book.create_sheet()
        first = False
        ws.title = _SHEET_NAME_BAD.sub("_", sheet.name)[:31]
        _row(ws, 1, [sheet.title], bold=True)
        _row(ws, 2, [sheet.note])
        _row(ws, 3, list(sheet.header), bold=True)
        for i, values in enumerate(sheet.rows, start=4):
            _row(ws, i, ["" if v is None else v for v in values])
        ws.freeze_panes = "A4"
        _widths(ws, [max(10.0, min(40.0, len(h) * 1.1)) for h in sheet.header])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
