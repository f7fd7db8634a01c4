"""PDF route sheets and loading lists: the font is embedded, and renders with no fonts installed.

Rendered with poppler under a fontconfig that sees no fonts, so every glyph on the page comes
from the PDF itself; a twin sheet whose names are all boxes shows the glyph check can fail.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dispatch.fonts import FONT_ENV, FontError, font_path
from dispatch.loading_list import loading_list
from dispatch.parcel import Parcel
from dispatch.plan import read_plan
from dispatch.route_sheet import RouteSheet, route_sheet
from dispatch.sheet_pdf import COLD_MARK, loading_list_pdf, route_map, route_sheet_pdf
from geodata.points import ServicePoint
from tests.dispatch import poppler
from tests.dispatch.plan_fixture import PARCELS, POINTS, A, S, make_plan, route

PARCEL_MAP = {p.tracking_no: p for p in PARCELS}


def road(sheet: RouteSheet) -> list[tuple[float, float]]:
    """A road polyline through the stops with a bend between each two."""
    out: list[tuple[float, float]] = []
    for a, b in zip(sheet.stops, sheet.stops[1:], strict=False):
        out += [(a.lon, a.lat), ((a.lon + b.lon) / 2 + 0.004, (a.lat + b.lat) / 2)]
    return [*out, (sheet.stops[-1].lon, sheet.stops[-1].lat)]


def sheet_of(
    plan: dict[str, Any] | None = None,
    route_id: str = "R002",
    points: dict[str, ServicePoint] | None = None,
    parcels: dict[str, Parcel] | None = None,
) -> RouteSheet:
    return route_sheet(
        read_plan(plan or make_plan()), route_id, points or POINTS, parcels or PARCEL_MAP
    )


def write(path: Path, sheet: RouteSheet) -> Path:
    path.write_bytes(route_sheet_pdf(sheet, road(sheet)))
    return path


def long_route(n: int) -> tuple[dict[str, Any], dict[str, ServicePoint], dict[str, Parcel]]:
    """The fixture plan with R002 replaced by a route through `n` villages (2 parcels each)."""
    points, parcels = dict(POINTS), dict(PARCEL_MAP)
    load: list[str] = []
    stops: list[dict[str, Any]] = []
    for i in range(1, n + 1):
        pid = f"5001180013{i:02d}"
        base = POINTS[A]
        points[pid] = dataclasses.replace(
            base, point_id=pid, name=f"第{i}村", lon=base.lon + 0.01 * (i % 7), lat=base.lat
        )
        ids = [f"L{i}a", f"L{i}b"]
        for t, carrier in zip(ids, ("中通", "韵达"), strict=True):
            parcels[t] = dataclasses.replace(PARCELS[0], tracking_no=t, carrier=carrier)
        load += ids
        stops.append({"seq": i, "point_id": pid, "arrival_s": 30000 + 600 * i, "drop": ids})
    first = {"seq": 0, "point_id": S, "arrival_s": 29400, "drop": [], "load": load}
    last = {"seq": n + 1, "point_id": S, "arrival_s": 30000 + 600 * (n + 1), "drop": []}
    full = [first, *stops, last]
    for s in full:
        s.setdefault("load", [])
        s.update(departure_s=s["arrival_s"], weight_g_after=0, volume_ml_after=0)
    plan = make_plan()
    route(plan, "R002")["stops"] = full
    return plan, points, parcels


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


# --- the font ----------------------------------------------------------------------------------


def test_the_font_ships_with_its_licence() -> None:
    path = font_path()
    assert path.name == "wqy-microhei.ttc"
    assert path.read_bytes()[:4] == b"ttcf"
    licences = {p.name for p in path.parent.iterdir()}
    assert {"LICENSE-Apache-2.0", "COPYRIGHT-wqy-microhei", "README.md"} <= licences


def test_font_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    other = tmp_path / "other.ttf"
    other.write_bytes(b"x")
    monkeypatch.setenv(FONT_ENV, str(other))
    assert font_path() == other
    monkeypatch.setenv(FONT_ENV, str(tmp_path / "missing.ttf"))
    with pytest.raises(FontError, match=FONT_ENV):
        font_path()


def test_a_font_that_cannot_be_embedded_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "notafont.ttf"
    bad.write_bytes(b"not a font at all")
    code = (
        "from dispatch.fonts import FontError\n"
        "from dispatch.sheet_pdf import _font\n"
        "try:\n    _font()\nexcept FontError as exc:\n    print(exc)\n"
    )
    env = {**os.environ, FONT_ENV: str(bad)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert "notafont.ttf: not a TrueType font" in out.stdout, out.stderr


def test_font_is_registered_at_first_use_not_at_import() -> None:
    code = (
        "from reportlab.pdfbase import pdfmetrics\n"
        "import dispatch.sheet_pdf as m\n"
        "assert m.FONT not in pdfmetrics.getRegisteredFontNames()\n"
        "m._font()\n"
        "assert m.FONT in pdfmetrics.getRegisteredFontNames()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- layout ------------------------------------------------------------------------------------


def test_route_pdf_one_page_with_tracking_numbers_and_cold_marks(tmp_path: Path) -> None:
    data = route_sheet_pdf(sheet_of(), road(sheet_of()))
    assert data.startswith(b"%PDF")
    assert page_count(data) == 1
    assert b"STSong" not in data


@pytest.mark.parametrize("villages", [3, 40])
def test_long_route_pdf_pages(villages: int) -> None:
    plan, points, parcels = long_route(villages)
    data = route_sheet_pdf(sheet_of(plan, "R002", points, parcels), [(105.9, 29.3)])
    pages = page_count(data)
    assert (pages == 1) if villages == 3 else (pages >= 3)


def test_route_map_draws_the_road_and_numbers_the_stops() -> None:
    from reportlab.graphics.shapes import Circle, PolyLine, String

    sheet = sheet_of()
    line = road(sheet)
    drawing = route_map(sheet.stops, line, 200, 150)
    shapes = drawing.contents
    (poly,) = [s for s in shapes if isinstance(s, PolyLine)]
    assert len(poly.points) == 2 * len(line)
    xs, ys = poly.points[0::2], poly.points[1::2]
    assert all(0 <= x <= 200 for x in xs) and all(0 <= y <= 150 for y in ys)
    assert len([s for s in shapes if isinstance(s, Circle)]) == len(sheet.stops) - 2
    labels = {s.text for s in shapes if isinstance(s, String)}
    assert {"1", "2", "出发", "北↑"} <= labels
    assert any(t.endswith(("公里", "米")) for t in labels)


def test_loading_list_pdf(tmp_path: Path) -> None:
    sheet = sheet_of(route_id="R001")
    data = loading_list_pdf(loading_list(sheet, PARCEL_MAP))
    assert data.startswith(b"%PDF")
    assert page_count(data) == 1


# --- rendered with no fonts installed ---------------------------------------------------------


@poppler.needs_poppler
def test_fonts_are_embedded_subsets(tmp_path: Path) -> None:
    pdf = write(tmp_path / "R002.pdf", sheet_of())
    rows = poppler.fonts(pdf)
    assert rows, "the sheet uses fonts"
    assert all(r["emb"] == "yes" and r["sub"] == "yes" for r in rows), rows
    assert all("WenQuanYi" in r["name"] for r in rows), rows
    ll = tmp_path / "loading.pdf"
    ll.write_bytes(loading_list_pdf(loading_list(sheet_of(route_id="R001"), PARCEL_MAP)))
    assert all(r["emb"] == "yes" and r["sub"] == "yes" for r in poppler.fonts(ll))


@poppler.needs_poppler
def test_sheet_renders_glyphs_with_no_fonts_installed(tmp_path: Path) -> None:
    env = poppler.no_fonts_env(tmp_path)
    fc_list = subprocess.run(["fc-list"], env=env, capture_output=True, text=True, check=False)
    assert fc_list.stdout.strip() == "", "the isolated fontconfig must see no fonts"
    sheet = sheet_of()
    names = [s.name for s in sheet.stops]
    real = write(tmp_path / "real.pdf", sheet)
    boxes = {pid: dataclasses.replace(p, name="□" * len(p.name)) for pid, p in POINTS.items()}
    tofu = write(tmp_path / "tofu.pdf", sheet_of(points=boxes))

    def checks(pdf: Path, wanted: set[str]) -> list[poppler.GlyphCheck]:
        image = poppler.render(pdf, 1, env)
        found = [w for w in poppler.words(pdf, 1, env) if w.text in wanted]
        assert len(found) >= len(names), [w.text for w in poppler.words(pdf, 1, env)]
        return [poppler.glyph_check(image, w) for w in found]

    real_checks = checks(real, set(names))
    assert all(c.glyphs for c in real_checks), real_checks
    tofu_checks = checks(tofu, {"□" * len(n) for n in names})
    assert not any(c.glyphs for c in tofu_checks), tofu_checks
    assert min(c.ink for c in real_checks) > 3 * max(c.ink for c in tofu_checks)


@poppler.needs_poppler
def test_pdftotext_lists_the_stops_in_order(tmp_path: Path) -> None:
    env = poppler.no_fonts_env(tmp_path)
    plan, points, parcels = long_route(30)
    sheet = sheet_of(plan, "R002", points, parcels)
    pdf = write(tmp_path / "long.pdf", sheet)
    text = poppler.text(pdf, env)
    names = {s.name for s in sheet.stops}
    listed = [(seq, name) for seq, name in poppler.numbered_rows(text) if name in names]
    assert listed == [(s.seq, s.name) for s in sheet.stops]
    pages = page_count(pdf.read_bytes())
    assert pages >= 2
    footers = re.findall(r"第\s*(\d+)\s*页\s*/\s*共\s*(\d+)\s*页", text)
    assert footers == [(str(i), str(pages)) for i in range(1, pages + 1)]
    assert text.count("路线单 R002 · VAN1") == pages  # every page names its route


@poppler.needs_poppler
def test_cold_parcels_are_marked_and_numbers_listed(tmp_path: Path) -> None:
    env = poppler.no_fonts_env(tmp_path)
    text = poppler.text(write(tmp_path / "R002.pdf", sheet_of()), env)
    assert f"P2{COLD_MARK}" in text  # P2 is cold
    assert f"P1{COLD_MARK}" not in text
    assert re.search(r"中通：P1\b", text) and re.search(r"邮政：P5\b", text)
    assert "2 件：中通 1，圆通 1（冷链 1）" in text
    assert text.count("签收人") == 4  # a box per stop


@poppler.needs_poppler
def test_loading_list_is_in_reverse_stop_order(tmp_path: Path) -> None:
    env = poppler.no_fonts_env(tmp_path)
    plan, points, parcels = long_route(5)
    sheet = sheet_of(plan, "R002", points, parcels)
    pdf = tmp_path / "loading.pdf"
    pdf.write_bytes(loading_list_pdf(loading_list(sheet, parcels)))
    text = poppler.text(pdf, env)
    assert poppler.in_order(text, ["第5村", "第4村", "第3村", "第2村", "第1村", "合计"])
    assert "10 件" in text
