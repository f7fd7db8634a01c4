"""County folders: the embedded one, a test county on real OSM data, every kind of bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from shapely.geometry import Point

from geodata.county import EMBEDDED_FOLDER, load_county, load_county_dir, read_county
from geodata.county_roads import check_roads, county_graph
from geodata.crs import wgs84_to_gcj02
from geodata.problems import CountyError, Problem

DATA = Path(__file__).parent / "data"
KARHULA = DATA / "karhula"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A writable copy of the Karhula test county (its network path made absolute)."""
    target = tmp_path / "karhula"
    shutil.copytree(KARHULA, target)
    toml = target / "county.toml"
    network = (DATA / "karhula.osm.pbf").resolve()
    toml.write_text(
        toml.read_text(encoding="utf-8").replace('"../karhula.osm.pbf"', f'"{network}"'),
        encoding="utf-8",
    )
    return target


def _edit_points(folder: Path, old: str, new: str) -> None:
    path = folder / "points.csv"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _errors(folder: Path) -> list[Problem]:
    county, problems = read_county(folder)
    errors = [p for p in problems if not p.warning]
    assert (county is None) == bool(errors)
    return errors


def test_embedded_county_is_a_folder_like_any_other() -> None:
    county, problems = read_county(EMBEDDED_FOLDER)
    assert county is not None and problems == []
    assert county.name == "永川区" and county.settings.identity == "500118"
    assert county.hub_id == "HUB" and county.crs == "EPSG:32648"
    assert len(county.placed) == 267 and all(county.point(i).assumed for i in county.placed)
    assert county.settings.fleet_file == (EMBEDDED_FOLDER / "fleet.toml").resolve()
    assert county.rows["HUB"] == 1 and county.rows["500118001"] == 2
    assert [p.point_id for p in load_county().points] == [p.point_id for p in county.points]


def test_test_county_reads_with_one_placed_village(folder: Path) -> None:
    county = load_county_dir(folder)
    assert county.name == "Karhula" and county.settings.time_zone == "Europe/Helsinki"
    assert county.hub_id == "HUB" and county.crs == "EPSG:32635"  # Finland: UTM zone 35
    assert county.placed == ["ML-4"]
    placed = county.point("ML-4")
    assert placed.assumed and county.boundary.contains(Point(placed.lon, placed.lat))
    given = county.point("RK-1")
    assert (given.lon, given.lat, given.placed) == (26.9341, 60.5318, False)
    assert county.point("RK-3").max_vclass == "tricycle"
    assert county.point("RK").cold_storage and not county.point("ML").cold_storage
    assert county.point("RK-1").town_id == "RK" and county.point("RK").town_id == "RK"
    assert (county.point("HUB").open_s, county.point("HUB").close_s) == (5 * 3600, 22 * 3600)


def test_placement_is_deterministic(folder: Path) -> None:
    first = load_county_dir(folder).point("ML-4")
    again = load_county_dir(folder).point("ML-4")
    assert (first.lon, first.lat) == (again.lon, again.lat)


def test_gcj02_positions_are_converted(folder: Path) -> None:
    # Out of China GCJ-02 equals WGS-84; inside it is shifted by a few hundred metres.
    county = load_county()
    station = county.point("500118100")
    glon, glat = wgs84_to_gcj02(station.lon, station.lat)
    assert abs(glon - station.lon) > 1e-3
    target = folder / "points.csv"
    rows = target.read_text(encoding="utf-8").splitlines()
    rows[1] = f"HUB,Karhula hub,hub,,{glon},{glat},gcj02,05:00-22:00,truck,yes,yes,"
    (folder / "outline.geojson").unlink()
    toml = folder / "county.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace('outline = "outline.geojson"\n', ""),
        encoding="utf-8",
    )
    target.write_text("\n".join(r for r in rows if ",ML-4," not in r and "Kannikko" not in r))
    hub = load_county_dir(folder).point("HUB")
    assert hub.lon == pytest.approx(station.lon, abs=1e-6)
    assert hub.lat == pytest.approx(station.lat, abs=1e-6)


@pytest.mark.parametrize(
    ("old", "new", "row", "field", "message"),
    [
        ("RK-2,Vanha", "RK-1,Vanha", 5, "id", "duplicate id 'RK-1' (first on row 4)"),
        (",village,RK,26.9341", ",hamlet,RK,26.9341", 4, "kind", "'hamlet' is not one of"),
        ("26.9341,60.5318,wgs84", "26.9341,60.5318,bd09", 4, "crs", "not wgs84 or gcj02"),
        ("26.9341,60.5318,wgs84,08:00-19:00", "26.9341,60.5318,wgs84,19:00-08:00", 4, "hours", ""),
        ("08:00-19:00,van,no,yes,beside Virsu", "8-19,van,no,yes,beside Virsu", 4, "hours", ""),
        ("19:00,van,no,yes,beside Virsu", "19:00,lorry,no,yes,beside Virsu", 4, "max_vehicle", ""),
        ("truck,no,yes,beside Marttilankatu", "truck,maybe,yes,x", 3, "cold_room", "yes or no"),
        ("RK-1,Virsumäki,village,RK,26.9341", "RK-1,Virsumäki,village,,26.9341", 4, "town", ""),
        ("ML,Marttila station,station,ML", "ML,Marttila station,station,RK", 3, "town", ""),
        ("26.9341,60.5318", "26.9341,", 4, "lat", "give both"),
        ("26.9341,60.5318", "x26.9341,60.5318", 4, "lon", "not a number"),
        ("26.9341,60.5318", "26.9341,95.5", 4, "lat", "not a valid lat"),
        ("26.9455,60.5248", ",", 3, "lon", "a station's position is required"),
        ("26.9341,60.5318", "26.9941,60.5318", 4, "lon", "outside the outline"),
        ("ML,Marttila station,station,ML", "ML,Marttila station,hub,", 3, "kind", "a second hub"),
        ("Karhula hub,hub,", "Karhula hub,station,HUB", 1, "", ""),
    ],
)
def test_bad_rows_are_named_by_file_row_and_field(
    folder: Path, old: str, new: str, row: int, field: str, message: str
) -> None:
    _edit_points(folder, old, new)
    errors = _errors(folder)
    assert errors, "the broken folder was accepted"
    if field:
        assert any(
            e.file == "points.csv" and e.row == row and e.field == field and message in e.message
            for e in errors
        ), errors
    with pytest.raises(CountyError) as info:
        load_county_dir(folder)
    assert f"points.csv: row {errors[0].row}: {errors[0].field}" in str(info.value)


def test_no_hub_and_every_problem_at_once(folder: Path) -> None:
    _edit_points(folder, "HUB,Karhula hub,hub,,", "HUB,Karhula hub,station,HUB,")
    _edit_points(folder, "RK-2,Vanha", "RK-1,Vanha")
    _edit_points(folder, ",tricycle,", ",bike,")
    errors = _errors(folder)
    keys = {(e.row, e.field) for e in errors}
    assert {(0, "kind"), (5, "id"), (6, "max_vehicle")} <= keys
    assert any("no hub" in e.message for e in errors)


def test_outside_points_report_their_distance(folder: Path) -> None:
    _edit_points(folder, "26.9683,60.5346", "27.0683,60.5346")  # ~5 km east of the box
    (error,) = _errors(folder)
    assert (error.file, error.row, error.field) == ("points.csv", 7, "lon")
    metres = float(error.message.split("outline.geojson), ")[1].split(" m")[0].replace(",", ""))
    assert 5200 < metres < 5450  # 0.0973 degrees of longitude at 60.53 N


def test_settings_errors_name_the_key(folder: Path) -> None:
    toml = folder / "county.toml"
    text = toml.read_text(encoding="utf-8")
    text = text.replace('time_zone = "Europe/Helsinki"', 'time_zone = "Europe/Atlantis"')
    text = text.replace("max_access_m = 2000", "max_access_m = -5")
    text += '\ncolour = "red"\n[speeds_kph]\nvillage = 0\nmotorway = 90\n'
    toml.write_text(text, encoding="utf-8")
    keys = {(e.file, e.field) for e in _errors(folder)}
    assert keys == {
        ("county.toml", "time_zone"),
        ("county.toml", "max_access_m"),
        ("county.toml", "colour"),
        ("county.toml", "speeds_kph.village"),
        ("county.toml", "speeds_kph.motorway"),
    }


def test_missing_files_and_columns(folder: Path, tmp_path: Path) -> None:
    (folder / "outline.geojson").write_text('{"type": "Point", "coordinates": [1, 2]}')
    errors = _errors(folder)
    assert (errors[0].file, errors[0].row, errors[0].field) == ("outline.geojson", 0, "geometry")
    (folder / "points.csv").write_text("id,name,kind\nHUB,hub,hub\n", encoding="utf-8")
    missing = {e.field for e in _errors(folder) if e.file == "points.csv"}
    assert missing == {"town", "lon", "lat", "crs", "hours", "max_vehicle", "cold_room"}
    (folder / "county.toml").unlink()
    assert ("county.toml", "file") in {(e.file, e.field) for e in _errors(folder)}
    assert _errors(tmp_path / "nowhere")[0].field == "folder"


def test_town_without_station_is_a_warning(folder: Path) -> None:
    _edit_points(folder, "RK-4,Harakankello,village,RK", "RK-4,Harakankello,village,MUURALA")
    county, problems = read_county(folder)
    assert county is not None
    (warning,) = problems
    assert warning.warning and (warning.row, warning.field) == (7, "town")
    assert "MUURALA" in warning.message and "direct" in warning.message
    assert county.warnings == [warning]


def test_placing_needs_a_station_and_an_outline(folder: Path) -> None:
    _edit_points(folder, "ML-4,Kannikko,village,ML", "ML-4,Kannikko,village,NOWHERE")
    errors = _errors(folder)
    assert [(e.row, e.field) for e in errors] == [(11, "lon")]
    assert "no station" in errors[0].message


def test_points_far_from_the_roads_are_problems(folder: Path) -> None:
    # 4.8 km east of the extract, inside a county outline grown to hold it
    outline = folder / "outline.geojson"
    outline.write_text(outline.read_text(encoding="utf-8").replace("26.971", "27.1"))
    _edit_points(folder, "26.9683,60.5346", "27.06,60.5346")
    county = load_county_dir(folder)
    graph, source = county_graph(county)
    net, problems = check_roads(county, graph, source)
    (far,) = problems
    assert (far.file, far.row, far.field) == ("points.csv", 7, "lon")
    assert far.message.startswith("RK-4 is ")
    metres = net.snap_m[county.index("RK-4")]
    assert 4500 < metres < 5000 and f"{metres:,.0f} m" in far.message
