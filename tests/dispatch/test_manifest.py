"""Manifest parsing: every error kind, encodings, GCJ-02, JSON, cross-file checks, robustness."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from dispatch.manifest import (
    MANIFEST_COLUMNS,
    parse_manifest,
    read_manifests,
    write_manifest_csv,
)
from dispatch.parcel import InputError, ManifestError, Parcel
from geodata.areas import ServiceAreas
from geodata.county import County
from geodata.crs import wgs84_to_gcj02
from geodata.points import ServicePoint


def _point(pid: str, kind: str, lon: float, lat: float) -> ServicePoint:
    town = pid[:9] if kind != "hub" else ""
    return ServicePoint(pid, f"点{pid}", kind, town, lon, lat, 8 * 3600, 19 * 3600)  # type: ignore[arg-type]


# A tiny county: village A and village B sit ~450 m apart, B to the south-east of A, so a
# GCJ-02 coordinate of A read as WGS-84 (offset ~+0.0035 lon / -0.003 lat) lands in B's cell.
VILLAGE_A = _point("500118104001", "village", 105.9600, 29.2400)
VILLAGE_B = _point("500118104002", "village", 105.9636, 29.2369)
COUNTY = County(
    points=[
        _point("HUB", "hub", 105.90, 29.30),
        _point("500118104", "station", 105.95, 29.25),
        _point("500118001", "station", 105.90, 29.36),
        VILLAGE_A,
        VILLAGE_B,
        _point("500118001001", "village", 105.91, 29.35),
    ],
    boundary=box(105.80, 29.15, 106.05, 29.45),
)
AREAS = ServiceAreas(COUNTY.points, COUNTY.boundary)
DAY = dt.date(2026, 3, 5)

GOOD = {
    "tracking_no": "YT2603050000001",
    "carrier": "圆通速递",
    "kind": "delivery",
    "point_id": "500118104001",
    "lon": "",
    "lat": "",
    "crs": "",
    "weight_kg": "1.25",
    "volume_l": "3.5",
    "cold": "0",
    "due_date": "2026-03-05",
}


def csv_bytes(rows: list[dict[str, str]], columns=MANIFEST_COLUMNS, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([columns, *([r.get(c, "") for c in columns] for r in rows)])
    return out.getvalue().encode(encoding)


def parse(rows: list[dict[str, str]], **kw) -> tuple[list[Parcel], list[InputError]]:
    return parse_manifest(csv_bytes(rows, **kw), "yto.csv", COUNTY, AREAS)


def test_good_row_becomes_parcel() -> None:
    parcels, errors = parse([GOOD])
    assert errors == []
    assert parcels == [
        Parcel(
            "YT2603050000001",
            "圆通速递",
            "delivery",
            "500118104001",
            1250,
            3500,
            False,
            DAY,
            "yto.csv",
            1,
        )
    ]


def test_station_id_coordinates_and_flags() -> None:
    rows = [
        {**GOOD, "tracking_no": "T1", "point_id": "500118104", "kind": "Pickup", "cold": "true"},
        {**GOOD, "tracking_no": "T2", "point_id": "", "lon": "105.9101", "lat": "29.3502"},
        {**GOOD, "tracking_no": "T3", "kind": "揽件", "cold": "", "volume_l": "0"},
    ]
    parcels, errors = parse(rows)
    assert errors == []
    assert [(p.point_id, p.kind, p.cold) for p in parcels] == [
        ("500118104", "pickup", True),
        ("500118001001", "delivery", False),
        ("500118104001", "pickup", False),
    ]
    assert parcels[2].volume_ml == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"point_id": "500118104999"}, "point_id"),  # unknown point
        ({"point_id": "HUB"}, "point_id"),
        ({"point_id": "5.00118E+11"}, "point_id"),
        ({"point_id": "", "lon": "106.5", "lat": "29.3"}, "lon"),  # outside the county
        ({"point_id": "", "lon": "east", "lat": "29.3"}, "lon"),
        ({"point_id": "", "lon": "105.9", "lat": "95"}, "lat"),
        ({"point_id": "", "lon": "105.9", "lat": "29.3", "crs": "bd09"}, "crs"),
        ({"point_id": ""}, "point_id"),  # neither point_id nor lon/lat
        ({"weight_kg": "-1"}, "weight_kg"),
        ({"weight_kg": "abc"}, "weight_kg"),
        ({"weight_kg": "0"}, "weight_kg"),
        ({"weight_kg": "nan"}, "weight_kg"),
        ({"weight_kg": ""}, "weight_kg"),
        ({"volume_l": "-0.5"}, "volume_l"),
        ({"volume_l": "1,5"}, "volume_l"),
        ({"kind": "return"}, "kind"),
        ({"cold": "2"}, "cold"),
        ({"due_date": "2026-13-01"}, "due_date"),
        ({"due_date": "05/03/2026"}, "due_date"),
        ({"tracking_no": " "}, "tracking_no"),
        ({"tracking_no": "X" * 65}, "tracking_no"),
        ({"tracking_no": "A\x00B"}, "tracking_no"),
        ({"carrier": ""}, "carrier"),
    ],
)
def test_each_error_names_file_row_field(change: dict[str, str], field: str) -> None:
    rows = [{**GOOD, "tracking_no": "OK1"}, {**GOOD, **change}]
    parcels, errors = parse(rows)
    assert [p.tracking_no for p in parcels] == ["OK1"]
    assert len(errors) == 1, errors
    assert (errors[0].file, errors[0].row, errors[0].field) == ("yto.csv", 2, field)
    assert errors[0].message


def test_duplicate_tracking_number_in_file() -> None:
    parcels, errors = parse([GOOD, {**GOOD, "carrier": "申通快递"}])
    assert len(parcels) == 1
    assert [(e.row, e.field) for e in errors] == [(2, "tracking_no")]
    assert "row 1" in errors[0].message


@pytest.mark.parametrize("column", ["weight_kg", "tracking_no", "due_date"])
def test_missing_column_is_row_zero(column: str) -> None:
    columns = tuple(c for c in MANIFEST_COLUMNS if c != column)
    parcels, errors = parse([GOOD], columns=columns)
    assert parcels == []
    assert [(e.row, e.field) for e in errors] == [(0, column)]


def test_location_columns_are_optional_given_point_id() -> None:
    columns = tuple(c for c in MANIFEST_COLUMNS if c not in ("lon", "lat", "crs", "cold"))
    parcels, errors = parse([GOOD], columns=columns)
    assert errors == [] and len(parcels) == 1
    no_where = tuple(c for c in columns if c != "point_id")
    _, errors = parse([GOOD], columns=no_where)
    assert {(e.row, e.field) for e in errors} == {(0, "lon"), (0, "lat")}


def test_all_errors_are_collected() -> None:
    bad = {**GOOD, "kind": "x", "weight_kg": "-2", "cold": "maybe", "due_date": "soon"}
    rows = [bad, {**GOOD, "tracking_no": "T2", "volume_l": "big"}, {**GOOD, "tracking_no": ""}]
    parcels, errors = parse(rows)
    assert parcels == []
    assert [(e.row, e.field) for e in errors] == [
        (1, "kind"),
        (1, "weight_kg"),
        (1, "cold"),
        (1, "due_date"),
        (2, "volume_l"),
        (3, "tracking_no"),
    ]


def test_gbk_and_bom_files_parse() -> None:
    row = {**GOOD, "carrier": "韵达快递"}
    for encoding in ("gbk", "gb18030", "utf-8-sig"):
        parcels, errors = parse([row], encoding=encoding)
        assert errors == [] and parcels[0].carrier == "韵达快递", encoding


def test_gcj02_row_is_converted_then_located() -> None:
    lon, lat = wgs84_to_gcj02(VILLAGE_A.lon, VILLAGE_A.lat)
    at = {**GOOD, "point_id": "", "lon": f"{lon:.6f}", "lat": f"{lat:.6f}"}
    parcels, errors = parse([{**at, "crs": "gcj02"}])
    assert errors == [] and parcels[0].point_id == VILLAGE_A.point_id
    parcels, _ = parse([{**at, "crs": "wgs84"}])  # read unconverted it is the neighbour's
    assert parcels[0].point_id == VILLAGE_B.point_id


def test_blank_lines_keep_row_numbers_and_semicolons_work() -> None:
    text = csv_bytes([GOOD, {**GOOD, "tracking_no": "T2", "kind": "bad"}]).decode()
    lines = text.splitlines()
    with_blank = "\n".join([lines[0], lines[1], "", lines[2]]) + "\n"
    _, errors = parse_manifest(with_blank.encode(), "a.csv", COUNTY, AREAS)
    assert [(e.row, e.field) for e in errors] == [(3, "kind")]
    semi = text.replace(",", ";").encode()  # no decimal commas in this text
    parcels, errors = parse_manifest(semi, "a.csv", COUNTY, AREAS)
    assert len(parcels) == 1 and [(e.row, e.field) for e in errors] == [(2, "kind")]


def test_json_list_and_object_forms() -> None:
    record = {**GOOD, "weight_kg": 1.25, "volume_l": 3.5, "cold": True}
    for doc in ([record], {"parcels": [record]}):
        parcels, errors = parse_manifest(json.dumps(doc).encode(), "jd.json", COUNTY, AREAS)
        assert errors == []
        assert (parcels[0].weight_g, parcels[0].cold, parcels[0].row) == (1250, True, 1)
    bad = [record, {**record, "tracking_no": "J2", "kind": None}, "oops", {"carrier": "x"}]
    parcels, errors = parse_manifest(json.dumps(bad).encode(), "jd.json", COUNTY, AREAS)
    assert len(parcels) == 1
    assert (2, "kind") in {(e.row, e.field) for e in errors}
    assert (3, "record") in {(e.row, e.field) for e in errors}
    assert (4, "tracking_no") in {(e.row, e.field) for e in errors}
    _, errors = parse_manifest(b'{"rows": []}', "jd.json", COUNTY, AREAS)
    assert [(e.row, e.field) for e in errors] == [(0, "parcels")]


def test_read_manifests_cross_file_duplicate(tmp_path: Path) -> None:
    a, b = tmp_path / "yto.csv", tmp_path / "sto.csv"
    a.write_bytes(csv_bytes([GOOD]))
    b.write_bytes(csv_bytes([{**GOOD, "tracking_no": "S1"}, {**GOOD, "carrier": "申通快递"}]))
    with pytest.raises(ManifestError) as info:
        read_manifests([a, b], COUNTY, AREAS)
    [error] = info.value.errors
    assert (error.file, error.row, error.field) == ("sto.csv", 2, "tracking_no")
    assert "yto.csv" in error.message


def test_skip_invalid_returns_valid_rows_and_errors(tmp_path: Path) -> None:
    a = tmp_path / "yto.csv"
    a.write_bytes(csv_bytes([GOOD, {**GOOD, "tracking_no": "T2", "cold": "?"}]))
    missing = tmp_path / "none.csv"
    parcels, errors = read_manifests([a, missing], COUNTY, AREAS, skip_invalid=True)
    assert [p.tracking_no for p in parcels] == [GOOD["tracking_no"]]
    assert {(e.file, e.row, e.field) for e in errors} == {
        ("yto.csv", 2, "cold"),
        ("none.csv", 0, "file"),
    }


def test_written_csv_reads_back(tmp_path: Path) -> None:
    parcels = [
        Parcel(f"T{i}", "中通快递", "delivery", pid, 1000 + i, 500 * i, i % 2 == 0, DAY)
        for i, pid in enumerate(["500118104001", "500118104", "500118001001"] * 4)
    ]
    for mode in ("point_id", "wgs84", "gcj02", "mixed"):
        path = tmp_path / f"{mode}.csv"
        write_manifest_csv(parcels, path, COUNTY, mode, encoding="gbk")
        back, errors = parse_manifest(path.read_bytes(), path.name, COUNTY, AREAS)
        assert errors == []
        assert [(p.tracking_no, p.point_id, p.weight_g, p.volume_ml, p.cold) for p in back] == [
            (p.tracking_no, p.point_id, p.weight_g, p.volume_ml, p.cold) for p in parcels
        ]


def test_undecodable_and_empty_files() -> None:
    _, errors = parse_manifest(b"\x81\x30\xff\xff", "x.csv", COUNTY, AREAS)
    assert [(e.row, e.field) for e in errors] == [(0, "file")]
    _, errors = parse_manifest(b"", "x.csv", COUNTY, AREAS)
    assert [(e.row, e.field) for e in errors] == [(0, "file")]


def _check_result(result: tuple[list[Parcel], list[InputError]]) -> None:
    parcels, errors = result
    assert all(isinstance(e, InputError) and e.file == "f.csv" for e in errors)
    assert all(isinstance(p, Parcel) and p.weight_g > 0 for p in parcels)
    assert len({p.tracking_no for p in parcels}) == len(parcels)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    _check_result(parse_manifest(data, "f.csv", COUNTY, AREAS))
    _check_result(parse_manifest(b"[" + data, "f.csv", COUNTY, AREAS))


cell = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            "1",
            "0",
            "-1",
            "1e400",
            "500118104001",
            "500118104",
            "HUB",
            "105.93",
            "29.34",
            "gcj02",
            "delivery",
            "pickup",
            "2026-03-05",
            "true",
        ]
    ),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries({c: cell for c in MANIFEST_COLUMNS}), max_size=8))
def test_arbitrary_rows_never_crash(rows: list[dict[str, str]]) -> None:
    _check_result(parse_manifest(csv_bytes(rows), "f.csv", COUNTY, AREAS))
    # content starting with "[" is read as JSON whatever the file is called
    _check_result(parse_manifest(json.dumps(rows).encode(), "f.csv", COUNTY, AREAS))


def test_manifests_are_written_for_the_project_not_escaped_for_spreadsheets(
    tmp_path: Path,
) -> None:
    """Only sheets meant for spreadsheets defuse formula-looking text (dispatch.safe_csv); a
    manifest the project writes for itself reads back exactly."""
    parcels = [
        Parcel(t, c, "delivery", "500118104001", 1000, 500, False, DAY)
        for t, c in (("-T1", "=中通快递"), ("@T2", "+圆通速递"))
    ]
    path = tmp_path / "odd.csv"
    write_manifest_csv(parcels, path, COUNTY, "point_id")
    back, errors = parse_manifest(path.read_bytes(), path.name, COUNTY, AREAS)
    assert errors == []
    assert [(p.tracking_no, p.carrier) for p in back] == [
        ("-T1", "=中通快递"),
        ("@T2", "+圆通速递"),
    ]
