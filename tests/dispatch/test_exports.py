"""Exports: GeoJSON, CSV route sheets, atomic plan outputs and GPX (PDF: test_sheet_pdf.py)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from dispatch.exports import CSV_COLUMNS, routes_geojson, sheet_csv_text, write_plan_outputs
from dispatch.gpx import GPX_NS, route_gpx
from dispatch.plan import read_plan
from dispatch.route_sheet import CarrierParcels, hhmm, route_sheet
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


# --- GeoJSON ----------------------------------------------------------------------------------


def test_routes_geojson_lines_and_stops() -> None:
    plan = read_plan(make_plan())
    fc = routes_geojson(plan.routes, road, points=POINTS)
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
    fc = routes_geojson(read_plan(make_plan()).routes, road)
    b = next(f for f in fc["features"] if f["properties"].get("point_id") == B)
    assert b["geometry"]["coordinates"] == [POINTS[B].lon, POINTS[B].lat]
    assert b["properties"]["name"] == B


# --- CSV sheets -------------------------------------------------------------------------------


def test_hhmm() -> None:
    assert hhmm(0) == "00:00"
    assert hhmm(8 * 3600 + 59 * 60 + 59) == "08:59"
    assert hhmm(25 * 3600) == "25:00"


def test_route_sheet_groups_parcels_by_carrier_and_marks_cold() -> None:
    sheet = route_sheet(read_plan(make_plan()), "R002", POINTS, PARCEL_MAP, {"van_cold": "冷藏车"})
    assert [s.name for s in sheet.stops] == [
        "中山路街道服务站",
        "和平村服务点",
        "双竹村服务点",
        "中山路街道服务站",
    ]
    assert sheet.vehicle_label == "冷藏车"
    first = sheet.stops[0]
    assert first.depot and not sheet.stops[1].depot and sheet.stops[-1].depot
    assert [g.carrier for g in first.load.groups] == ["中通", "圆通"]
    assert first.load.groups[0].tracking_nos == ("P1", "P3")
    assert first.load.count == 3
    assert first.load.counts_text() == "中通 2，圆通 1"
    assert (first.load.weight_g, first.load.volume_ml) == (6000, 15000)
    a = sheet.stops[1]
    assert (a.seq, a.point_id, hhmm(a.arrival_s), hhmm(a.departure_s)) == (1, A, "08:31", "08:38")
    assert a.drop.groups == (  # one parcel each: by carrier name
        CarrierParcels("中通", ("P1",), frozenset()),
        CarrierParcels("圆通", ("P2",), frozenset({"P2"})),
    )
    assert a.drop.cold_count == 1
    assert a.load.groups == (CarrierParcels("邮政", ("P5",), frozenset()),)
    assert (sheet.drops, sheet.collected, sheet.cold) == (3, 1, 1)


def test_unknown_route_and_parcel_are_named() -> None:
    plan = make_plan()
    with pytest.raises(KeyError, match="R999"):
        route_sheet(read_plan(plan), "R999", POINTS, PARCEL_MAP)
    route(plan, "R002")["stops"][1]["drop"].append("NOPE")
    with pytest.raises(KeyError, match="NOPE"):
        route_sheet(read_plan(plan), "R002", POINTS, PARCEL_MAP)


def test_sheet_csv_has_bom_bilingual_header_and_one_row_per_stop() -> None:
    raw = sheet_csv_text(route_sheet(read_plan(make_plan()), "R002", POINTS, PARCEL_MAP))
    assert raw.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(raw[1:])))
    assert table[0] == list(CSV_COLUMNS.values())
    assert "站点 Stop" in table[0]
    assert len(table) == 1 + 4
    row = dict(zip(CSV_COLUMNS, table[1], strict=True))
    assert row["load_detail"] == "中通 2: P1 P3; 圆通 1: P2"
    assert row["load_count"] == "3"
    assert row["cold"] == "P2"
    assert table[2][2] == "和平村服务点"


def test_sheet_csv_defuses_formulas_from_manifests() -> None:
    parcels = dict(PARCEL_MAP)
    parcels["P5"] = dataclasses.replace(PARCELS[4], carrier='=HYPERLINK("http://x","y")')
    raw = sheet_csv_text(route_sheet(read_plan(make_plan()), "R002", POINTS, parcels))
    table = list(csv.reader(io.StringIO(raw[1:])))
    row = dict(zip(CSV_COLUMNS, table[2], strict=True))
    assert row["load_detail"] == '\'=HYPERLINK("http://x","y") 1: P5'
    assert row["load_count"] == "1"


# --- atomic plan outputs ------------------------------------------------------------------------


def test_write_plan_outputs(tmp_path: Path) -> None:
    raw = make_plan()
    plan = read_plan(raw)
    out = tmp_path / "out"
    geojson = routes_geojson(plan.routes, road, points=POINTS)
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
    assert json.loads((out / "plan.json").read_text(encoding="utf-8")) == raw
    assert "和平村" in (out / "routes.geojson").read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temp dirs left


def test_write_plan_outputs_replaces_a_previous_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "sheets").mkdir(parents=True)
    (out / "sheets" / "R999.csv").write_text("stale")
    plan = read_plan(make_plan())
    write_plan_outputs(out, plan, {"type": "FeatureCollection", "features": []}, POINTS, PARCEL_MAP)
    assert sorted(p.name for p in (out / "sheets").iterdir()) == [
        "R001.csv",
        "R002.csv",
        "R003.csv",
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_write_plan_outputs_failure_leaves_nothing_half_written(tmp_path: Path) -> None:
    raw = make_plan()
    route(raw, "R003")["stops"][1]["point_id"] = "NOWHERE"  # fails on the last sheet
    plan = read_plan(raw)
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


# --- GPX --------------------------------------------------------------------------------------


def test_route_gpx(tmp_path: Path) -> None:
    plan = make_plan()
    text = route_gpx(
        read_plan(plan), "R002", POINTS, road([s["point_id"] for s in route(plan, "R002")["stops"]])
    )
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
