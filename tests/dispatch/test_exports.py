"""Exports: GeoJSON, CSV route sheets, atomic plan outputs, the Chinese PDF sheet and GPX."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from dispatch.exports import (
    CSV_COLUMNS,
    hhmm,
    routes_geojson,
    sheet_csv_text,
    sheet_rows,
    write_plan_outputs,
    write_sheet_csv,
)
from dispatch.gpx import GPX_NS, route_gpx
from dispatch.parcel import Parcel
from dispatch.sheet_pdf import ROWS_PER_PAGE, write_route_pdf
from geodata.points import ServicePoint
from tests.dispatch.plan_fixture import PARCELS, POINTS, A, B, S, make_plan, route

PARCEL_MAP = {p.tracking_no: p for p in PARCELS}


def road(ids: list[str]) -> list[tuple[float, float]]:
    """A fake road polyline: the points with a midpoint between each pair (2n - 1 vertices)."""
    out: list[tuple[float, float]] = []
    for a, b in zip(ids, [*ids[1:], None], strict=True):
        pa = POINTS[a]
        out.append((pa.lon, pa.lat))
        if b is not None:
            pb = POINTS[b]
            out.append(((pa.lon + pb.lon) / 2, (pa.lat + pb.lat) / 2))
    return out


def long_route(n: int) -> tuple[dict[str, Any], dict[str, ServicePoint], dict[str, Parcel]]:
    """The fixture plan with R002 replaced by a route through `n` villages (2 parcels each)."""
    points, parcels = dict(POINTS), dict(PARCEL_MAP)
    load: list[str] = []
    stops: list[dict[str, Any]] = []
    for i in range(1, n + 1):
        pid = f"5001180013{i:02d}"
        points[pid] = dataclasses.replace(POINTS[A], point_id=pid, name=f"第{i}村")
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


# --- GeoJSON ----------------------------------------------------------------------------------


def test_routes_geojson_lines_and_stops() -> None:
    plan = make_plan()
    fc = routes_geojson(plan, road, points=POINTS)
    json.dumps(fc)  # serialisable
    lines = [f for f in fc["features"] if f["geometry"]["type"] == "LineString"]
    stops = [f for f in fc["features"] if f["geometry"]["type"] == "Point"]
    assert fc["type"] == "FeatureCollection"
    assert [f["properties"]["route_id"] for f in lines] == ["R001", "R002", "R003"]
    r2 = lines[1]
    assert len(r2["geometry"]["coordinates"]) == 2 * 4 - 1
    assert r2["geometry"]["coordinates"][0] == [POINTS[S].lon, POINTS[S].lat]
    assert r2["properties"] == {
        "route_id": "R002",
        "vehicle_id": "VAN1",
        "vehicle_type": "van_cold",
        "echelon": 2,
        "distance_m": 15000,
        "duration_s": 4100,
        "cost_fen": 24344,
        "stops": 2,
    }
    assert len(stops) == 4 + 4 + 3
    a = next(
        f for f in stops if f["properties"]["route_id"] == "R002" and f["properties"]["seq"] == 1
    )
    assert a["geometry"]["coordinates"] == [POINTS[A].lon, POINTS[A].lat]
    assert a["properties"]["name"] == "和平村服务点"
    assert a["properties"]["eta"] == "08:31"
    assert (a["properties"]["drop"], a["properties"]["load"]) == (2, 1)


def test_routes_geojson_positions_from_geometry_without_points() -> None:
    fc = routes_geojson(make_plan(), road)
    b = next(f for f in fc["features"] if f["properties"].get("point_id") == B)
    assert b["geometry"]["coordinates"] == [POINTS[B].lon, POINTS[B].lat]
    assert b["properties"]["name"] == B


# --- CSV sheets -------------------------------------------------------------------------------


def test_hhmm() -> None:
    assert hhmm(0) == "00:00"
    assert hhmm(8 * 3600 + 59 * 60 + 59) == "08:59"
    assert hhmm(25 * 3600) == "25:00"


def test_sheet_rows_group_parcels_by_carrier() -> None:
    rows = sheet_rows(make_plan(), "R002", POINTS, PARCEL_MAP)
    assert [r["point_name"] for r in rows] == [
        "中山路街道服务站",
        "和平村服务点",
        "双竹村服务点",
        "中山路街道服务站",
    ]
    assert rows[0]["load"] == {"中通": ["P1", "P3"], "圆通": ["P2"]}
    assert rows[0]["load_count"] == 3
    assert rows[1] == {
        "seq": 1,
        "point_id": A,
        "point_name": "和平村服务点",
        "eta": "08:31",
        "departure": "08:38",
        "drop_count": 2,
        "drop": {"圆通": ["P2"], "中通": ["P1"]},
        "load_count": 1,
        "load": {"邮政": ["P5"]},
    }


def test_unknown_route_is_named() -> None:
    with pytest.raises(KeyError, match="R999"):
        sheet_rows(make_plan(), "R999", POINTS, PARCEL_MAP)


def test_sheet_csv_has_bom_bilingual_header_and_one_row_per_stop(tmp_path: Path) -> None:
    plan = make_plan()
    path = tmp_path / "R002.csv"
    write_sheet_csv(sheet_rows(plan, "R002", POINTS, PARCEL_MAP), path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8") == sheet_csv_text(plan, "R002", POINTS, PARCEL_MAP)
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0] == list(CSV_COLUMNS.values())
    assert "站点 Stop" in table[0]
    assert len(table) == 1 + 4
    row = dict(zip(CSV_COLUMNS, table[1], strict=True))
    assert row["load_detail"] == "中通 2: P1 P3; 圆通 1: P2"
    assert row["load_count"] == "3"
    assert table[2][2] == "和平村服务点"


# --- atomic plan outputs ------------------------------------------------------------------------


def test_write_plan_outputs(tmp_path: Path) -> None:
    plan = make_plan()
    out = tmp_path / "out"
    geojson = routes_geojson(plan, road, points=POINTS)
    paths = write_plan_outputs(out, plan, geojson, POINTS, PARCEL_MAP)
    names = sorted(str(p.relative_to(out)) for p in paths)
    assert names == [
        "plan.json",
        "routes.geojson",
        "sheets/R001.csv",
        "sheets/R002.csv",
        "sheets/R003.csv",
    ]
    assert all(p.is_file() for p in paths)
    assert json.loads((out / "plan.json").read_text(encoding="utf-8")) == plan
    assert "和平村" in (out / "routes.geojson").read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temp dirs left


def test_write_plan_outputs_replaces_a_previous_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "sheets").mkdir(parents=True)
    (out / "sheets" / "R999.csv").write_text("stale")
    plan = make_plan()
    write_plan_outputs(out, plan, {"type": "FeatureCollection", "features": []}, POINTS, PARCEL_MAP)
    assert sorted(p.name for p in (out / "sheets").iterdir()) == [
        "R001.csv",
        "R002.csv",
        "R003.csv",
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_write_plan_outputs_failure_leaves_nothing_half_written(tmp_path: Path) -> None:
    plan = make_plan()
    route(plan, "R003")["stops"][1]["point_id"] = "NOWHERE"  # fails on the last sheet
    out = tmp_path / "out"
    with pytest.raises(KeyError):
        write_plan_outputs(out, plan, {}, POINTS, PARCEL_MAP)
    assert list(tmp_path.iterdir()) == []
    out.mkdir()
    (out / "plan.json").write_text("old")
    with pytest.raises(KeyError):
        write_plan_outputs(out, plan, {}, POINTS, PARCEL_MAP)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert [p.name for p in out.iterdir()] == ["plan.json"]
    assert (out / "plan.json").read_text() == "old"


# --- PDF --------------------------------------------------------------------------------------


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def test_route_pdf_one_page(tmp_path: Path) -> None:
    path = tmp_path / "R002.pdf"
    write_route_pdf(path, make_plan(), "R002", POINTS, PARCEL_MAP)
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    assert b"STSong-Light" in data
    assert page_count(data) == 1


@pytest.mark.parametrize("villages", [ROWS_PER_PAGE - 2, ROWS_PER_PAGE - 1, 40])
def test_long_route_pdf_pages(tmp_path: Path, villages: int) -> None:
    plan, points, parcels = long_route(villages)
    path = tmp_path / "long.pdf"
    write_route_pdf(path, plan, "R002", points, parcels)
    rows = villages + 2
    assert page_count(path.read_bytes()) == -(-rows // ROWS_PER_PAGE)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm not installed")
def test_long_route_pdf_renders(tmp_path: Path) -> None:
    plan, points, parcels = long_route(30)
    path = tmp_path / "long.pdf"
    write_route_pdf(path, plan, "R002", points, parcels)
    subprocess.run(["pdftoppm", "-r", "10", "-png", str(path), str(tmp_path / "p")], check=True)
    assert len(list(tmp_path.glob("p-*.png"))) == 3


def test_route_pdf_unknown_route_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(KeyError):
        write_route_pdf(tmp_path / "x.pdf", make_plan(), "R999", POINTS, PARCEL_MAP)
    assert list(tmp_path.iterdir()) == []


# --- GPX --------------------------------------------------------------------------------------


def test_route_gpx(tmp_path: Path) -> None:
    text = route_gpx(make_plan(), "R002", POINTS, road)
    root = ET.fromstring(text.encode("utf-8"))
    ns = {"g": GPX_NS}
    assert root.tag == f"{{{GPX_NS}}}gpx"
    assert root.get("version") == "1.1"
    wpts = root.findall("g:wpt", ns)
    assert len(wpts) == 4
    assert wpts[1].findtext("g:name", namespaces=ns) == "1 和平村服务点"
    assert (wpts[1].get("lat"), wpts[1].get("lon")) == ("29.3300000", "105.8800000")
    desc = wpts[1].findtext("g:desc", namespaces=ns) or ""
    assert "08:31" in desc
    assert "卸 2 件" in desc
    assert "装 1 件" in desc
    assert len(root.findall("g:trk/g:trkseg/g:trkpt", ns)) == 2 * 4 - 1
