"""Printable A4 route sheets and loading lists in Chinese (the one module that imports reportlab).

The font (`dispatch.fonts`, WenQuanYi Micro Hei by default) is embedded as a subset of the
glyphs used, so a sheet prints the same on a machine with no Chinese fonts. It is registered
with reportlab at first use, not at import. Every text, digits included, is set in it.

Route sheet: the route facts beside a small map of the route along the roads, then one row per
stop with the parcels to hand over and to collect (tracking numbers per carrier, cold ones
marked 【冷】) and a box to sign. Loading list: the parcels in loading order with weight and
volume per stop. Pages are numbered "第 i 页 / 共 n 页" and name the route.
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from dispatch.fonts import FONT_FACE, FontError, font_path
from dispatch.loading_list import LoadingList
from dispatch.route_sheet import Handover, RouteSheet, SheetStop, hhmm

FONT = "RuralDispatchSans"
COLD_MARK = "【冷】"
_MARGIN = 12 * mm
_PAD = 3  # cell padding (pt)
#: signature box: at least this high, so there is room to sign
SIGN_HEIGHT = 14 * mm
#: route sheet columns (header, width in mm); the widths fill A4 between the margins
STOP_COLUMNS = [
    ("序号", 8),
    ("站点", 40),
    ("到达\n离开", 13),
    ("交件（卸下）", 57),
    ("收件（装上）", 42),
    ("签收", 26),
]
LOADING_COLUMNS = [
    ("装车\n顺序", 10),
    ("序号", 8),
    ("站点", 38),
    ("到达", 11),
    ("件数", 27),
    ("运单号", 58),
    ("重量\n公斤", 12),
    ("体积\n升", 12),
    ("核对", 10),
]
_MAP_SIZE = (74 * mm, 60 * mm)
_ROUTE_COLOUR = colors.HexColor("#1f5fbf")


@functools.cache
def _font() -> str:
    """Register the sheet font with reportlab (once) and return its name; FontError if the
    file is not a TrueType font reportlab can embed."""
    path = font_path()
    try:
        pdfmetrics.registerFont(TTFont(FONT, str(path), subfontIndex=FONT_FACE))
    except (TTFError, OSError) as exc:
        raise FontError(f"{path}: not a TrueType font that can be embedded: {exc}") from exc
    return FONT


@functools.cache
def _styles() -> dict[str, ParagraphStyle]:
    """Paragraph styles in the sheet font."""
    font = _font()
    cell = ParagraphStyle("cell", fontName=font, fontSize=8, leading=10, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", fontName=font, fontSize=15, leading=19),
        "note": ParagraphStyle("note", fontName=font, fontSize=7.5, leading=9.5),
        "head": ParagraphStyle("head", parent=cell, fontSize=8.5, leading=10.5),
        "cell": cell,
        "name": ParagraphStyle("name", parent=cell, fontSize=9, leading=11),
        "small": ParagraphStyle("small", parent=cell, fontSize=7, leading=8.5, wordWrap=None),
        "caption": ParagraphStyle(
            "caption", parent=cell, fontSize=6.5, leading=8, textColor=colors.grey
        ),
    }


def route_sheet_pdf(sheet: RouteSheet, road: Sequence[tuple[float, float]]) -> bytes:
    """The A4 route sheet of `sheet` as PDF bytes; `road` is its polyline (lon, lat)."""
    st = _styles()
    r = sheet.route
    title = Paragraph(f"农村物流配送路线单　{escape(r.route_id)}", st["title"])
    facts = [
        ("日期", sheet.date),
        ("路线", f"{r.route_id}（第 {r.trip} 趟）"),
        ("车辆", f"{r.vehicle_id} / {sheet.vehicle_label}"),
        ("级别", sheet.echelon_name),
        ("出发站", sheet.depot_name),
        ("出发 / 返回", f"{hhmm(r.stops[0].departure_s)} / {hhmm(r.stops[-1].arrival_s)}"),
        ("停靠点", f"{len(r.visits)} 个"),
        ("里程", f"{r.distance_m / 1000:.1f} 公里"),
        ("交件 / 收件", f"{sheet.drops} 件 / {sheet.collected} 件"),
        ("冷链件", f"{sheet.cold} 件，标{COLD_MARK}" if sheet.cold else "无"),
    ]
    top = Table(
        [[_facts_table(facts, 106 * mm), route_map(sheet.stops, road, *_MAP_SIZE)]],
        colWidths=[110 * mm, _MAP_SIZE[0] + 2 * mm],
    )
    top.setStyle(
        TableStyle(
            [("FONTNAME", (0, 0), (-1, -1), FONT), ("VALIGN", (0, 0), (-1, -1), "TOP")]
            + [(side, (0, 0), (-1, -1), 0) for side in _SIDES]
        )
    )
    head = [Paragraph(escape(name).replace("\n", "<br/>"), st["head"]) for name, _ in STOP_COLUMNS]
    body = [_stop_row(s) for s in sheet.stops]
    table = Table(
        [head, *body],
        colWidths=[w * mm for _, w in STOP_COLUMNS],
        repeatRows=1,
        splitInRow=1,
    )
    table.setStyle(_grid())
    story = [title, Spacer(1, 2 * mm), top, Spacer(1, 3 * mm), table]
    footer = f"路线单 {r.route_id} · {r.vehicle_id} · {sheet.date} · 计划 {sheet.plan_id}"
    return _build(story, footer, f"路线单 {r.route_id} {sheet.date}")


def loading_list_pdf(ll: LoadingList) -> bytes:
    """The A4 loading list as PDF bytes: entries in loading order, totals, crew signatures."""
    st = _styles()
    s, r = ll.sheet, ll.sheet.route
    title = Paragraph(f"装车单　{escape(r.vehicle_id)}　第 {r.trip} 趟", st["title"])
    weight, volume = f"{ll.weight_g / 1000:.1f} 公斤", f"{ll.volume_ml / 1000:.1f} 升"
    if ll.capacity is not None and ll.capacity.capacity_g and ll.capacity.capacity_ml:
        weight += f"（载重的 {100 * ll.weight_g / ll.capacity.capacity_g:.0f}%）"
        volume += f"（容积的 {100 * ll.volume_ml / ll.capacity.capacity_ml:.0f}%）"
    cold = sum(e.parcels.cold_count for e in ll.entries)
    facts = [
        ("日期", s.date),
        ("路线", f"{r.route_id}（第 {r.trip} 趟）"),
        ("车辆", f"{r.vehicle_id} / {s.vehicle_label}"),
        ("装车地点", s.depot_name),
        ("出发", hhmm(r.stops[0].departure_s)),
        ("件数", f"{ll.count} 件，冷链 {cold} 件" if cold else f"{ll.count} 件"),
        ("重量", weight),
        ("体积", volume),
    ]
    note = Paragraph(
        "按装车顺序装车：先装最后一站的货（放在车厢最里面），第一站的货最后装（靠车门）。"
        f"冷链件运单号后标 {COLD_MARK}，装入冷藏区。",
        st["note"],
    )
    head = [
        Paragraph(escape(name).replace("\n", "<br/>"), st["head"]) for name, _ in LOADING_COLUMNS
    ]
    body = [
        [
            Paragraph(str(e.order), st["cell"]),
            Paragraph(str(e.seq), st["cell"]),
            _name(e.name, LOADING_COLUMNS[2][1] * mm),
            Paragraph(hhmm(e.arrival_s), st["cell"]),
            Paragraph(_count_line(e.parcels), st["cell"]),
            [_numbers(g.tracking_nos, g.cold, g.carrier) for g in e.parcels.groups],
            Paragraph(f"{e.parcels.weight_g / 1000:.1f}", st["cell"]),
            Paragraph(f"{e.parcels.volume_ml / 1000:.1f}", st["cell"]),
            "",
        ]
        for e in ll.entries
    ]
    total = ["", "", Paragraph("合计", st["head"]), "", Paragraph(f"{ll.count} 件", st["cell"]), ""]
    total += [Paragraph(f"{ll.weight_g / 1000:.1f}", st["cell"])]
    total += [Paragraph(f"{ll.volume_ml / 1000:.1f}", st["cell"]), ""]
    table = Table(
        [head, *body, total],
        colWidths=[w * mm for _, w in LOADING_COLUMNS],
        repeatRows=1,
        splitInRow=1,
    )
    table.setStyle(_grid())
    signs = Paragraph("装车人签字：＿＿＿＿＿＿＿＿　　司机签字：＿＿＿＿＿＿＿＿", st["head"])
    story = [
        title,
        Spacer(1, 2 * mm),
        _facts_table(facts, 186 * mm),
        Spacer(1, 2 * mm),
        note,
        Spacer(1, 2 * mm),
        table,
        Spacer(1, 8 * mm),
        signs,
    ]
    footer = f"装车单 {r.route_id} · {r.vehicle_id} · {s.date} · 计划 {s.plan_id}"
    return _build(story, footer, f"装车单 {r.route_id} {s.date}")


def _facts_table(facts: Sequence[tuple[str, str]], width: float) -> Table:
    """Label / value pairs in two columns of pairs."""
    st = _styles()
    half = math.ceil(len(facts) / 2)
    rows = []
    for i in range(half):
        row: list[Any] = []
        for label, value in (facts[i], facts[i + half] if i + half < len(facts) else ("", "")):
            row += [Paragraph(escape(label), st["head"]), Paragraph(escape(value), st["head"])]
        rows.append(row)
    label_w = 20 * mm
    value_w = width / 2 - label_w
    table = Table(rows, colWidths=[label_w, value_w, label_w, value_w])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), _font()),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
                ("BACKGROUND", (2, 0), (2, -1), colors.whitesmoke),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table


def _stop_row(stop: SheetStop) -> list[Any]:
    """One stop: seq, name, times, parcels handed over and collected, signature box."""
    st = _styles()
    times = f"{hhmm(stop.arrival_s)}<br/>{hhmm(stop.departure_s)}"
    return [
        Paragraph(str(stop.seq), st["cell"]),
        _name(stop.name, STOP_COLUMNS[1][1] * mm),
        Paragraph(times, st["cell"]),
        _handover_cell(stop.drop, stop.depot, "卸"),
        _handover_cell(stop.load, stop.depot, "装"),
        [Paragraph("签收人：", st["caption"]), Spacer(1, SIGN_HEIGHT - 8 - 2 * _PAD)],
    ]


def _name(name: str, column: float) -> Paragraph:
    """A stop name on one line of a `column` pt wide cell where it fits (the font shrinks to
    6.5 pt before it wraps)."""
    st = _styles()["name"]
    width = column - 2 * _PAD
    size = st.fontSize
    while size > 6.5 and pdfmetrics.stringWidth(name, _font(), size) > width:
        size -= 0.5
    return Paragraph(escape(name), ParagraphStyle("fit", parent=st, fontSize=size))


def _count_line(h: Handover) -> str:
    """ "3 件：中通 2，圆通 1（冷链 1）" as paragraph markup."""
    cold = f"（冷链 {h.cold_count}）" if h.cold_count else ""
    return f"<b>{h.count} 件</b>：{escape(h.counts_text())}{cold}"


def _handover_cell(h: Handover, depot: bool, verb: str) -> list[Paragraph]:
    """Counts per carrier, then (away from the depot) every tracking number per carrier."""
    st = _styles()
    if not h.count:
        return [Paragraph("—", st["cell"])]
    lines = [Paragraph(_count_line(h), st["cell"])]
    if depot:
        where = "装车单" if verb == "装" else "各站收件"
        lines.append(Paragraph(f"运单号见{where}", st["caption"]))
        return lines
    lines += [_numbers(g.tracking_nos, g.cold, g.carrier) for g in h.groups]
    return lines


def _numbers(numbers: Sequence[str], cold: frozenset[str], carrier: str) -> Paragraph:
    """ "中通：A1 A2【冷】 A3" in small type; cold tracking numbers bold and marked."""
    marked = [f"<b>{escape(t)}{COLD_MARK}</b>" if t in cold else escape(t) for t in numbers]
    return Paragraph(f"{escape(carrier)}：{' '.join(marked)}", _styles()["small"])


def _grid() -> TableStyle:
    """Table style of the stop and loading tables: grid, grey header, top-aligned cells."""
    return TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), _font()),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
            ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            *[(side, (0, 0), (-1, -1), _PAD) for side in _SIDES],
        ]
    )


_SIDES = ("LEFTPADDING", "RIGHTPADDING", "TOPPADDING", "BOTTOMPADDING")


def route_map(
    stops: Sequence[SheetStop],
    road: Sequence[tuple[float, float]],
    width: float,
    height: float,
) -> Drawing:
    """A small map (width × height pt): the road polyline, numbered stops, depot, scale, north.

    Lon/lat are projected to local metres (equirectangular about the centre: at county scale
    the error is far below a line's width).
    """
    font = _font()
    d = Drawing(width, height, initialFontName=font)
    d.add(Rect(0, 0, width, height, strokeColor=colors.grey, strokeWidth=0.5, fillColor=None))
    places = [(s.lon, s.lat) for s in stops]
    every = [*road, *places]
    lon0 = (min(p[0] for p in every) + max(p[0] for p in every)) / 2
    lat0 = (min(p[1] for p in every) + max(p[1] for p in every)) / 2
    kx, ky = 111_320 * math.cos(math.radians(lat0)), 110_574

    def metres(p: tuple[float, float]) -> tuple[float, float]:
        return (p[0] - lon0) * kx, (p[1] - lat0) * ky

    xs, ys = zip(*(metres(p) for p in every), strict=True)
    span_x = max(max(xs) - min(xs), 500.0)
    span_y = max(max(ys) - min(ys), 500.0)
    inner_w, inner_h = width - 16, height - 20
    scale = min(inner_w / span_x, inner_h / span_y)  # pt per metre
    cx, cy = width / 2, 12 + inner_h / 2

    def at(p: tuple[float, float]) -> tuple[float, float]:
        x, y = metres(p)
        return cx + x * scale, cy + y * scale

    if len(road) >= 2:
        flat = [c for p in road for c in at(p)]
        d.add(PolyLine(flat, strokeColor=_ROUTE_COLOUR, strokeWidth=1.3, strokeLineJoin=1))
    depot = at(places[0])
    d.add(Rect(depot[0] - 3.5, depot[1] - 3.5, 7, 7, fillColor=colors.black, strokeWidth=0))
    d.add(String(depot[0] + 5, depot[1] - 2.5, "出发", fontName=font, fontSize=6.5))
    for stop in stops[1:-1]:
        x, y = at((stop.lon, stop.lat))
        d.add(Circle(x, y, 4.2, fillColor=colors.white, strokeColor=_ROUTE_COLOUR, strokeWidth=0.8))
        d.add(String(x, y - 2, str(stop.seq), fontName=font, fontSize=5.5, textAnchor="middle"))
    _scale_bar(d, scale, font)
    d.add(String(width - 8, height - 11, "北↑", fontName=font, fontSize=7, textAnchor="end"))
    return d


def _scale_bar(d: Drawing, scale: float, font: str) -> None:
    """A scale bar of a round length, about a quarter of the map wide, bottom left."""
    target = d.width / 4 / scale
    length = next((m for m in _ROUND_M if m >= target * 0.6), _ROUND_M[-1])
    w = length * scale
    d.add(Line(6, 6, 6 + w, 6, strokeWidth=1.2))
    d.add(Line(6, 4, 6, 8, strokeWidth=0.8))
    d.add(Line(6 + w, 4, 6 + w, 8, strokeWidth=0.8))
    label = f"{length // 1000} 公里" if length >= 1000 else f"{length} 米"
    d.add(String(10 + w, 4, label, fontName=font, fontSize=6))


_ROUND_M = (100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000)


class _NumberedCanvas(Canvas):
    """A canvas that knows the page count when it draws each page's footer."""

    footer = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont(FONT, 7.5)
            self.setFillColor(colors.grey)
            self.drawString(_MARGIN, _MARGIN / 2, self.footer)
            text = f"第 {self._pageNumber} 页 / 共 {total} 页"
            self.drawRightString(A4[0] - _MARGIN, _MARGIN / 2, text)
            super().showPage()
        super().save()


def _build(story: list[Any], footer: str, title: str) -> bytes:
    """Lay out `story` on A4 pages with the footer; the PDF bytes."""
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN,
        title=title,
        author="ruraldispatch",
        initialFontName=_font(),
    )
    canvas = type("_Canvas", (_NumberedCanvas,), {"footer": footer})
    doc.build(story, canvasmaker=canvas)
    return buf.getvalue()
