"""Printable A4 route sheet in Chinese for a driver (the one module that imports reportlab).

Uses the built-in CID font STSong-Light, so no font file is needed. Every page repeats the
route header and holds at most ROWS_PER_PAGE stops in rows of fixed height, leaving room to
sign; pages are numbered "第 i 页 / 共 n 页".
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from dispatch.exports import carrier_counts, find_route, hhmm, sheet_rows
from dispatch.parcel import Parcel
from geodata.points import ServicePoint

FONT = "STSong-Light"
#: stops per page; with ROW_HEIGHT this keeps every page's table inside the frame
ROWS_PER_PAGE = 14
ROW_HEIGHT = 14 * mm
_MARGIN = 12 * mm
_PAD = 3  # cell padding (pt)
#: (header, width in mm); the widths fill A4 between the margins
_COLUMNS = [("序号", 10), ("站点", 44), ("到达", 14), ("卸件（按快递公司）", 48), ("装件", 40)]
_COLUMNS += [("签收", 30)]

pdfmetrics.registerFont(UnicodeCIDFont(FONT))
_TITLE = ParagraphStyle("title", fontName=FONT, fontSize=15, leading=19, spaceAfter=3 * mm)
_CELL = ParagraphStyle("cell", fontName=FONT, fontSize=8.5, leading=10.5, wordWrap="CJK")
_HEAD = ParagraphStyle("head", parent=_CELL, fontSize=9)
#: cell styles from largest to smallest: a long cell shrinks rather than grow its row
_CELLS = [
    ParagraphStyle(f"cell{size}", parent=_CELL, fontSize=size, leading=size * 1.2)
    for size in (8.5, 7.5, 6.5, 5.5)
]


def write_route_pdf(
    path: Path,
    plan: Mapping[str, Any],
    route_id: str,
    points: Mapping[str, ServicePoint],
    parcels: Mapping[str, Parcel],
) -> None:
    """Write the route sheet of `route_id` to `path` (atomically: temp file, then rename)."""
    route = find_route(plan, route_id)
    rows = sheet_rows(plan, route_id, points, parcels)
    pages = max(1, math.ceil(len(rows) / ROWS_PER_PAGE))
    story: list[Any] = []
    for page in range(pages):
        if page:
            story.append(PageBreak())
        story += _header(plan, route, points)
        story.append(_stop_table(rows[page * ROWS_PER_PAGE : (page + 1) * ROWS_PER_PAGE]))

    def footer(canvas: Any, doc: Any) -> None:
        canvas.setFont(FONT, 9)
        text = f"第 {doc.page} 页 / 共 {pages} 页"
        canvas.drawCentredString(A4[0] / 2, _MARGIN / 2, text)

    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        doc = SimpleDocTemplate(
            tmp,
            pagesize=A4,
            leftMargin=_MARGIN,
            rightMargin=_MARGIN,
            topMargin=_MARGIN,
            bottomMargin=_MARGIN,
            title=f"路线单 {route_id} {plan['date']}",
            author="ruraldispatch",
        )
        doc.build(story, onFirstPage=footer, onLaterPages=footer)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _header(
    plan: Mapping[str, Any], route: Mapping[str, Any], points: Mapping[str, ServicePoint]
) -> list[Any]:
    """Title and the route facts: date, route, vehicle, depot, times, distance, parcels."""
    stops = route["stops"]
    drops = sum(len(s["drop"]) for s in stops)
    loads = sum(len(s["load"]) for s in stops)
    echelon = "一级（分拨中心→乡镇）" if route["echelon"] == 1 else "二级（乡镇→村）"
    facts = [
        ("日期", plan["date"], "路线", f"{route['route_id']}（第 {route['trip']} 趟）"),
        ("车辆", f"{route['vehicle_id']} / {route['vehicle_type']}", "级别", echelon),
        ("出发站", points[route["depot"]].name, "停靠点", f"{max(0, len(stops) - 2)} 个"),
        ("出发", hhmm(stops[0]["departure_s"]), "返回", hhmm(stops[-1]["arrival_s"])),
        ("里程", f"{route['distance_m'] / 1000:.1f} 公里", "件数", f"卸 {drops} 件，装 {loads} 件"),
    ]
    cells = [[Paragraph(str(v), _HEAD) for v in row] for row in facts]
    table = Table(cells, colWidths=[18 * mm, 75 * mm, 18 * mm, 75 * mm])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
                ("BACKGROUND", (2, 0), (2, -1), colors.whitesmoke),
            ]
        )
    )
    title = Paragraph(f"农村物流配送路线单　{route['route_id']}", _TITLE)
    return [title, table, Spacer(1, 4 * mm)]


def _stop_table(rows: list[dict[str, Any]]) -> Table:
    """One page of stops: seq, name, ETA, departure, drops by carrier, loads, signature box."""
    head = [Paragraph(name, _HEAD) for name, _ in _COLUMNS]
    body = [
        [
            _fit(text, width * mm)
            for text, (_, width) in zip(
                (
                    str(r["seq"]),
                    r["point_name"],
                    r["eta"],
                    _count_text(r["drop_count"], r["drop"]),
                    _count_text(r["load_count"], r["load"]),
                    "□",
                ),
                _COLUMNS,
                strict=True,
            )
        ]
        for r in rows
    ]
    table = Table(
        [head, *body],
        colWidths=[w * mm for _, w in _COLUMNS],
        rowHeights=[8 * mm] + [ROW_HEIGHT] * len(body),
        repeatRows=1,
    )
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                *[(side, (0, 0), (-1, -1), _PAD) for side in _PADDINGS],
            ]
        )
    )
    return table


_PADDINGS = ("LEFTPADDING", "RIGHTPADDING", "TOPPADDING", "BOTTOMPADDING")


def _fit(text: str, width: float) -> Paragraph:
    """A cell paragraph in the largest font size whose wrapped text fits the fixed row."""
    for style in _CELLS:
        para = Paragraph(text, style)
        _, height = para.wrap(width - 2 * _PAD, ROW_HEIGHT)
        if height <= ROW_HEIGHT - 2 * _PAD:
            break
    return para


def _count_text(count: int, groups: Mapping[str, list[str]]) -> str:
    """ "3（中通 2，圆通 1）", or "—" when nothing."""
    return f"{count}（{carrier_counts(groups)}）" if count else "—"
