"""Road closures: reading them, closing the edges, the matrix recomputed around them, and the
points they cut off."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from geodata.closures import ClosureError, close_roads, parse_closures, read_closures
from geodata.county import County
from geodata.matrix import UNREACHABLE, TravelProfile, affected, road_path
from geodata.matrix import full_matrix as recompute_all
from geodata.matrix import travel_matrix as matrix_of
from geodata.network import RoadNetwork, attach_points
from geodata.roads import synthetic_network

FAST = TravelProfile()
SLOW = TravelProfile(speed_factor=0.6, max_speed_kph=30.0)


@pytest.fixture(scope="module")
def small(small_county: County) -> RoadNetwork:
    return attach_points(synthetic_network(small_county), small_county.points)


def hub(net: RoadNetwork) -> int:
    return next(i for i, p in enumerate(net.points) if p.kind == "hub")


def village_and_station(net: RoadNetwork) -> tuple[str, str]:
    v = next(p for p in net.points if p.kind == "village" and p.town_id == "500118001")
    return v.point_id, v.town_id


def full_matrix(net: RoadNetwork, profile: TravelProfile) -> tuple[np.ndarray, np.ndarray]:
    """The closed network's matrix computed from scratch: the same graph with the closed edges
    removed, as an open network of its own."""
    graph = net.graph.copy()
    graph.remove_edges_from(net.closed)
    full = recompute_all(RoadNetwork(graph, net.points, net.point_nodes, net.snap_m), profile)
    return full.duration_s, full.distance_m


@pytest.mark.parametrize(
    ("records", "partial"),
    [
        ([{"from": "V", "to": "S", "label": "塌方"}], True),
        ([{"near": "V", "radius_m": 400}], True),
        ([{"near": "S", "radius_m": 2500}, {"from": "H", "to": "S"}], False),
    ],
    ids=["road", "area", "area-and-road"],
)
@pytest.mark.parametrize("profile", [FAST, SLOW], ids=["fast", "slow"])
def test_the_matrix_recomputed_around_closures_equals_a_full_recompute(
    small: RoadNetwork, records: list[dict[str, object]], partial: bool, profile: TravelProfile
) -> None:
    village, station = village_and_station(small)
    names = {"V": village, "S": station, "H": small.points[hub(small)].point_id}
    given = [{k: names.get(v, v) if k != "radius_m" else v for k, v in r.items()} for r in records]
    closed = close_roads(small, parse_closures(given, "test"), hub(small), 2000.0)
    open_m = matrix_of(small, profile)
    got = matrix_of(closed.network, profile)
    todo = affected(closed.network, profile)
    seconds, metres = full_matrix(closed.network, profile)
    assert np.array_equal(got.duration_s, seconds)
    assert np.array_equal(got.distance_m, metres)
    n = len(small.points)
    if partial:  # a small closure: only part of the matrix was recomputed
        assert len(todo.rows) + len(todo.columns) < n
    assert (got.duration_s >= open_m.duration_s).all()  # closing roads never makes one faster
    assert (got.duration_s != open_m.duration_s).any()


def test_a_point_cut_off_is_named_with_its_closure(small: RoadNetwork) -> None:
    village, _ = village_and_station(small)
    closures = parse_closures([{"near": village, "radius_m": 300, "label": "山体滑坡"}], "t")
    closed = close_roads(small, closures, hub(small), 2000.0)
    index = next(i for i, p in enumerate(small.points) if p.point_id == village)
    assert closed.cut_off == {index: (0,)}
    m = matrix_of(closed.network, FAST)
    h = hub(small)
    assert m.duration_s[h, index] == UNREACHABLE and m.distance_m[index, h] == UNREACHABLE
    others = [i for i in range(len(small.points)) if i != index]
    assert (m.duration_s[np.ix_(others, others)] < UNREACHABLE).all()
    with pytest.raises(ValueError, match="no road path"):
        road_path(closed.network, [h, index])
    assert closed.closed_m > 0


def test_a_road_between_two_places_given_by_coordinates(small: RoadNetwork) -> None:
    village, station = village_and_station(small)
    a = next(p for p in small.points if p.point_id == station)
    b = next(p for p in small.points if p.point_id == village)
    by_id = close_roads(small, parse_closures([{"from": station, "to": village}], "t"), 0, 2000)
    by_xy = close_roads(
        small,
        parse_closures([{"from": f"{a.lon},{a.lat}", "to": f"{b.lon},{b.lat}"}], "t"),
        hub(small),
        2000,
    )
    assert by_xy.network.closed == by_id.network.closed
    assert by_id.network.fingerprint() != small.fingerprint()


def test_files_toml_and_csv(tmp_path: Path) -> None:
    toml = tmp_path / "closures.toml"
    toml.write_text(
        '[[closure]]\nfrom = "A"\nto = "B"\nlabel = "塌方"\n\n'
        '[[closure]]\nnear = "105.93,29.35"\nradius_m = 800\n',
        encoding="utf-8",
    )
    road, area = read_closures(toml)
    assert (road.start, road.end, road.label, road.row) == ("A", "B", "塌方", 1)
    assert (area.near, area.radius_m, area.row) == ("105.93,29.35", 800.0, 2)
    csv = tmp_path / "closures.csv"
    csv.write_text(
        'from,to,near,radius_m,label\nA,B,,,塌方\n,,"105.93,29.35",800,滑坡\n', encoding="utf-8"
    )
    assert [c.as_json() for c in read_closures(csv)] == [
        {"from": "A", "to": "B", "label": "塌方"},
        {"near": "105.93,29.35", "radius_m": 800.0, "label": "滑坡"},
    ]


@pytest.mark.parametrize(
    ("text", "row", "field", "words"),
    [
        ("from,to,near,radius_m,label\nA,,,,x\n", 1, "to", "both ends"),
        ("from,to,near,radius_m,label\nA,B,,,x\n,,P,-5,y\n", 2, "radius_m", "between 1 and"),
        ("from,to,near,radius_m,label\n,,P,wide,y\n", 1, "radius_m", "number of metres"),
        ("from,to,near,radius_m,label\n,,P,,y\n", 1, "radius_m", "needs radius_m"),
        ("from,to,near,radius_m,label\n,,P,90000,y\n", 1, "radius_m", "between 1 and"),
        ("from,to,near,radius_m,label\nA,B,P,100,y\n", 1, "near", "not both"),
        ("from,to,near,radius_m,label\nA,A,,,y\n", 1, "to", "same place"),
        ("from,to,near,radius_m,label\n,,,,y\n", 1, "from", "give from and to"),
        ('from,to,near,radius_m,label\n,,"200,29",100,y\n', 1, "near", "lon must be"),
        ("from,to,centre,radius_m\nA,B,,\n", 0, "centre", "unknown column"),
    ],
)
def test_bad_closure_files_name_file_row_and_field(
    tmp_path: Path, text: str, row: int, field: str, words: str
) -> None:
    path = tmp_path / "closures.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ClosureError) as caught:
        read_closures(path)
    problem = caught.value.problems[0]
    assert (problem.file, problem.row, problem.field) == ("closures.csv", row, field)
    assert words in problem.message
    assert f"closures.csv: row {row}: {field}:" in str(caught.value)


def test_bad_toml_and_unknown_points(tmp_path: Path, small: RoadNetwork) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[[closure]]\nfrom = "A"\nto = "B"\nwidth = 3\n', encoding="utf-8")
    with pytest.raises(ClosureError, match=r"c.toml: row 1: width: unknown field"):
        read_closures(path)
    path.write_text("[[closure]\n", encoding="utf-8")
    with pytest.raises(ClosureError, match=r"c.toml: row 0: file: not TOML"):
        read_closures(path)
    (tmp_path / "c.txt").write_text("", encoding="utf-8")
    with pytest.raises(ClosureError, match=r"a \.toml or \.csv file"):
        read_closures(tmp_path / "c.txt")
    village, _ = village_and_station(small)
    v = next(p for p in small.points if p.point_id == village)
    bad = parse_closures(
        [
            {"from": village, "to": "NOPE"},
            {"near": "106.9,30.9", "radius_m": 50},
            {"from": "106.9,30.9", "to": village},
            {"from": village, "to": f"{v.lon + 0.00001},{v.lat}"},
        ],
        "closures",
    )
    with pytest.raises(ClosureError) as caught:
        close_roads(small, bad, hub(small), 2000.0)
    found = [(p.row, p.field) for p in caught.value.problems]
    assert found == [(0, "to"), (1, "radius_m"), (2, "from"), (3, "to")]
    assert "same place on the roads" in caught.value.problems[3].message
    assert "unknown point 'NOPE'" in caught.value.problems[0].message
    assert "no road within 50 m" in caught.value.problems[1].message
    assert "from the nearest road node" in caught.value.problems[2].message
