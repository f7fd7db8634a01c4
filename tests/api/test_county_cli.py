"""County folders end to end through the command line, on a real OSM extract no one here drew:
`county check`, a day planned and checked against the real roads, bad folders refused."""

from __future__ import annotations

import csv
import itertools
import json
import math
import shutil
from pathlib import Path

import networkx as nx
import pytest

from dispatch.fleet import fleet_for_county
from geodata.county import EMBEDDED_FOLDER, load_county_dir
from geodata.network import attach_points
from geodata.osm import load_network
from tests.api.test_cli import run

DATA = Path(__file__).parents[1] / "geodata" / "data"
KARHULA = DATA / "karhula"
PBF = DATA / "karhula.osm.pbf"
DAY = "2026-12-02"
POINTS = ["RK", "ML", "RK-1", "RK-2", "RK-3", "RK-4", "ML-1", "ML-2", "ML-3", "ML-4"]


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 parcels of one carrier to every station and village of the test county."""
    path = tmp_path_factory.mktemp("karhula") / "posti.csv"
    rows = ["tracking_no,carrier,kind,point_id,weight_kg,volume_l,cold,due_date"]
    for i in range(40):
        kind = "pickup" if i % 9 == 0 else "delivery"
        point = POINTS[i % len(POINTS)]
        rows.append(f"PO{i:06d},Posti,{kind},{point},{1 + i % 5}.5,{5 + i % 7},0,{DAY}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def planned(manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("karhula-plan")
    r = run(
        "plan",
        str(manifest),
        "--county",
        str(KARHULA),
        "--network",
        str(PBF),
        "--out",
        str(out),
        "--time-limit",
        "3",
        "--date",
        DAY,
    )
    assert r.returncode == 0, r.stderr
    assert "cut at the extract's edge" in r.stderr
    plan: dict[str, object] = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    return plan


def _ground_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle metres between two lon/lat points."""
    lat1, lat2 = math.radians(a[1]), math.radians(b[1])
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin(math.radians(b[0] - a[0]) / 2) ** 2
    )
    return 2 * 6_371_009.0 * math.asin(math.sqrt(h))


@pytest.mark.parametrize("folder", [EMBEDDED_FOLDER, KARHULA])
def test_county_check_passes(folder: Path) -> None:
    r = run("county", "check", str(folder))
    assert r.returncode == 0, r.stderr
    assert "0 error(s), 0 warning(s)" in r.stderr


def test_county_check_reports_the_cut_ways_of_the_extract() -> None:
    r = run("county", "check", str(KARHULA))
    assert "cut at the extract's edge" in r.stderr and "8 villages (1 placed)" in r.stderr


def test_a_day_on_real_roads_follows_the_roads(planned: dict[str, object]) -> None:
    plan = planned
    kpis = plan["kpis"]
    assert isinstance(kpis, dict)
    assert plan["status"] in ("optimal", "feasible")
    assert kpis["parcels"] == 40 and kpis["delivered"] + kpis["picked_up"] >= 36
    assert kpis["county"] == "Karhula" and kpis["placed_points"] == 1
    county = load_county_dir(KARHULA)
    fleet = fleet_for_county(county)
    graph = load_network(PBF, county.settings.speeds_kph)
    net = attach_points(graph, county.points)
    where = {p.point_id: (p.lon, p.lat) for p in county.points}
    routes = plan["routes"]
    assert isinstance(routes, list) and routes
    for route in routes:
        stops = [s["point_id"] for s in route["stops"]]
        straight = sum(_ground_m(where[a], where[b]) for a, b in itertools.pairwise(stops))
        assert route["distance_m"] >= straight - len(stops)  # metres rounded per leg
        vtype = fleet.types[route["vehicle_type"]]
        factor, cap = vtype.speed_factor, vtype.max_speed_kph or math.inf

        def seconds(
            u: object, v: object, edges: dict[object, dict[str, float]], f=factor, c=cap
        ) -> float:
            """The vehicle's fastest time over the parallel edges u->v (s)."""
            return min(d["length"] / (min(d["speed_kph"] * f, c) / 3.6) for d in edges.values())

        along = 0.0
        for a, b in itertools.pairwise(stops):
            if a == b:
                continue
            i, j = county.index(a), county.index(b)
            path = nx.shortest_path(net.graph, net.point_nodes[i], net.point_nodes[j], seconds)
            road = sum(
                min(d["length"] for d in net.graph[u][v].values())
                for u, v in itertools.pairwise(path)
            )
            along += road + net.snap_m[i] + net.snap_m[j]
        assert abs(route["distance_m"] - along) <= len(stops), route["route_id"]
        assert route["distance_m"] > 1.05 * straight or straight < 200  # roads bend


def test_points_csv_of_the_test_county(tmp_path: Path) -> None:
    out = tmp_path / "points.csv"
    r = run("network", "points", "--county", str(KARHULA), "--out", str(out))
    assert r.returncode == 0, r.stderr
    rows = {row["point_id"]: row for row in csv.DictReader(out.open(encoding="utf-8"))}
    assert set(rows) == {"HUB", *POINTS}
    assert rows["ML-4"]["placed"] == "1" and rows["RK-1"]["placed"] == "0"
    assert (rows["RK-1"]["lon"], rows["RK-1"]["lat"]) == ("26.9341", "60.5318")


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "county"
    shutil.copytree(KARHULA, folder)
    toml = folder / "county.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace('"../karhula.osm.pbf"', f'"{PBF.resolve()}"'), encoding="utf-8")
    return folder


def test_a_broken_county_folder_is_refused_with_file_row_and_field(
    tmp_path: Path, manifest: Path
) -> None:
    folder = _copy(tmp_path)
    points = folder / "points.csv"
    text = points.read_text(encoding="utf-8")
    text = text.replace("RK-2,Vanha Viipurintie,village", "RK-2,Vanha Viipurintie,hamlet")
    text = text.replace("26.9331,60.5234,wgs84,08:00-19:00", "26.9331,60.5234,wgs84,8am-7pm")
    points.write_text(text, encoding="utf-8")
    check = run("county", "check", str(folder))
    assert check.returncode == 2
    assert "points.csv: row 5: kind: 'hamlet' is not one of hub, station, village" in check.stderr
    assert "points.csv: row 8: hours:" in check.stderr and "2 error(s)" in check.stderr
    out = tmp_path / "out"
    plan = run("plan", str(manifest), "--county", str(folder), "--out", str(out))
    assert plan.returncode == 2 and "points.csv: row 5: kind" in plan.stderr
    assert not out.exists()


def test_a_point_5_km_from_any_road_is_refused_with_id_and_distance(
    tmp_path: Path, manifest: Path
) -> None:
    folder = _copy(tmp_path)
    outline = folder / "outline.geojson"
    outline.write_text(outline.read_text(encoding="utf-8").replace("26.971", "27.2"))
    points = folder / "points.csv"
    points.write_text(
        points.read_text(encoding="utf-8").replace("26.9683,60.5346", "27.06,60.5346"),
        encoding="utf-8",
    )
    check = run("county", "check", str(folder))
    assert check.returncode == 2
    assert "points.csv: row 7: lon: RK-4 is 4," in check.stderr
    out = tmp_path / "out"
    plan = run("plan", str(manifest), "--county", str(folder), "--out", str(out))
    assert plan.returncode == 2
    assert "RK-4: 4," in plan.stderr and "farther than 2,000 m" in plan.stderr
    assert not out.exists()


def test_the_embedded_county_on_a_foreign_extract_is_refused(tmp_path: Path) -> None:
    manifest = tmp_path / "zto.csv"
    manifest.write_text(
        "tracking_no,carrier,kind,point_id,weight_kg,volume_l,due_date\n"
        "ZT001,中通快递,delivery,500118118201,2.5,10,2026-11-28\n",
        encoding="utf-8",
    )
    r = run("plan", str(manifest), "--network", str(PBF), "--out", str(tmp_path / "out"))
    assert r.returncode == 2
    assert "no connected drivable roads inside the county outline" in r.stderr


def test_a_town_without_a_station_is_a_warning_and_served_direct(
    tmp_path: Path, manifest: Path
) -> None:
    folder = _copy(tmp_path)
    points = folder / "points.csv"
    text = points.read_text(encoding="utf-8")
    points.write_text(text.replace("RK-4,Harakankello,village,RK", "RK-4,Harakankello,village,MU"))
    check = run("county", "check", str(folder))
    assert check.returncode == 0, check.stderr
    assert "warning points.csv: row 7: town: town 'MU' has no station" in check.stderr
    out = tmp_path / "out"
    r = run("plan", str(manifest), "--county", str(folder), "--out", str(out), "--time-limit", "2")
    assert r.returncode == 0, r.stderr
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    for route in plan["routes"]:
        if any(s["point_id"] == "RK-4" for s in route["stops"]):
            assert route["echelon"] == 1 and route["depot"] == "HUB"
    served = {s["point_id"] for r in plan["routes"] for s in r["stops"] if s["drop"]}
    assert "RK-4" in served
