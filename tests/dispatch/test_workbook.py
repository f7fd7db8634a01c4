"""The plan workbook: opens with openpyxl, a sheet per route, Chinese intact, no formulas."""

from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path

import openpyxl

from dispatch.plan import read_plan
from dispatch.route_sheet import route_sheet
from dispatch.workbook import SUMMARY, UNASSIGNED, _sheet_names, write_plan_workbook
from tests.dispatch.plan_fixture import PARCELS, POINTS, make_plan, route

PARCEL_MAP = {p.tracking_no: p for p in PARCELS}


def write(path: Path, raw: dict | None = None, parcels: dict | None = None) -> Path:
    plan = read_plan(raw or make_plan())
    parcels = parcels or PARCEL_MAP
    sheets = [route_sheet(plan, r.route_id, POINTS, parcels) for r in plan.routes]
    write_plan_workbook(path, plan, sheets, POINTS, parcels)
    return path


def test_sheets_summary_routes_unassigned(tmp_path: Path) -> None:
    book = openpyxl.load_workbook(write(tmp_path / "plan.xlsx"))
    assert book.sheetnames == [SUMMARY, "R001", "R002", "R003", UNASSIGNED]
    summary = book[SUMMARY]
    values = [c for row in summary.iter_rows(values_only=True) for c in row if c is not None]
    assert "配送计划 Plan 2024-05-20-test" in values
    facts = {row[0]: row[1] for row in summary.iter_rows(min_row=2, max_row=14, values_only=True)}
    assert facts["包裹总数 Parcels"] == 6
    assert facts["成本 元 Cost yuan"] == 816.35
    assert facts["里程 km Distance"] == 87.0
    header = next(r for r in summary.iter_rows(values_only=True) if r[0] == "路线 Route")
    rows = [r for r in summary.iter_rows(values_only=True) if r[0] in ("R001", "R002", "R003")]
    by = [dict(zip(header, r, strict=True)) for r in rows]
    assert [r["出发站 Depot"] for r in by] == [
        "永川快递分拨中心",
        "中山路街道服务站",
        "永川快递分拨中心",
    ]
    assert [r["卸件 Handed over"] for r in by] == [4, 3, 0]
    assert by[1]["冷链 Cold"] == 1
    assert by[1]["里程 km"] == 15.0


def test_route_sheet_rows(tmp_path: Path) -> None:
    ws = openpyxl.load_workbook(write(tmp_path / "plan.xlsx"))["R002"]
    rows = list(ws.iter_rows(values_only=True))
    head = rows.index(next(r for r in rows if r[0] == "序号 Seq"))
    stops = [dict(zip(rows[head], r, strict=True)) for r in rows[head + 1 :]]
    assert [s["站点 Stop"] for s in stops] == [
        "中山路街道服务站",
        "和平村服务点",
        "双竹村服务点",
        "中山路街道服务站",
    ]
    a = stops[1]
    assert a["到达 ETA"] == "08:31"
    assert a["卸件数 Handed over"] == 2
    assert a["卸件运单号 Tracking numbers"] == "中通: P1; 圆通: P2"
    assert a["冷链件 Cold chain"] == "P2"
    assert a["车上重量 kg Load after"] == 5.0


def test_unassigned_with_reasons(tmp_path: Path) -> None:
    ws = openpyxl.load_workbook(write(tmp_path / "plan.xlsx"))[UNASSIGNED]
    rows = list(ws.iter_rows(values_only=True))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["运单号 Tracking no"] == "P6"
    assert row["原因 Reason"] == "明天到期，今天运力已满，顺延。"
    assert row["站点 Point"] == "双竹村服务点"
    assert row["乡镇 Town"] == "中山路街道服务站"
    assert len(rows) == 2


def test_formula_looking_text_stays_text(tmp_path: Path) -> None:
    parcels = dict(PARCEL_MAP)
    parcels["P6"] = dataclasses.replace(PARCELS[5], carrier="=1+1", tracking_no="P6")
    path = write(tmp_path / "plan.xlsx", parcels=parcels)
    ws = openpyxl.load_workbook(path)[UNASSIGNED]
    cell = ws.cell(row=2, column=2)
    assert (cell.value, cell.data_type) == ("=1+1", "s")
    with zipfile.ZipFile(path) as z:
        assert not any(b"<f>" in z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))


def test_numbers_are_numbers(tmp_path: Path) -> None:
    ws = openpyxl.load_workbook(write(tmp_path / "plan.xlsx"))["R001"]
    seqs = [r[0] for r in ws.iter_rows(min_row=6, values_only=True)]
    assert seqs == [0, 1, 2, 3]


def test_sheet_names_are_valid_and_unique() -> None:
    names = _sheet_names(["R1", "a/b", "x" * 40, "x" * 40, "汇总", "History"])
    assert names[:2] == ["R1", "a_b"]
    assert len(set(names)) == len(names)
    assert all(len(n) <= 31 for n in names)
    assert "汇总" not in names and "History" not in names


def test_long_cells_are_cut_to_excels_limit(tmp_path: Path) -> None:
    raw = make_plan()
    parcels = dict(PARCEL_MAP)
    many = [f"T{i:08d}" for i in range(4000)]
    for t in many:
        parcels[t] = dataclasses.replace(PARCELS[0], tracking_no=t)
    route(raw, "R002")["stops"][1]["drop"] += many
    route(raw, "R002")["stops"][0]["load"] += many
    ws = openpyxl.load_workbook(write(tmp_path / "plan.xlsx", raw, parcels))["R002"]
    longest = max(len(str(c)) for row in ws.iter_rows(values_only=True) for c in row if c)
    assert longest == 32767
