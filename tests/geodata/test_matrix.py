from __future__ import annotations

import itertools
import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from geodata.matrix import TravelProfile, clear_memory_cache, road_path, travel_matrix
from geodata.network import RoadNetwork, attach_points
from geodata.osm import load_network
from geodata.points import ServicePoint
from tests.geodata.test_osm import OSM_XML


def _point(point_id: str, lon: float, lat: float) -> ServicePoint:
    return ServicePoint(point_id, point_id, "village", "500118001", lon, lat, 0, 86400)


def _triangle() -> RoadNetwork:
    """A and B joined by a slow village road, a faster secondary, and a motorway detour via C."""
    graph = nx.MultiDiGraph(crs="epsg:4326")
    graph.add_node(10, x=105.90, y=29.30)
    graph.add_node(11, x=105.95, y=29.30)
    graph.add_node(12, x=105.925, y=29.33)
    roads = [
        (10, 11, 5000.0, 22.0, "unclassified"),
        (10, 11, 5200.0, 45.0, "secondary"),
        (10, 12, 4000.0, 75.0, "motorway"),
        (12, 11, 4000.0, 75.0, "motorway"),
    ]
    for osmid, (u, v, length, kph, tag) in enumerate(roads):
        for a, b in ((u, v), (v, u)):
            graph.add_edge(
                a,
                b,
                osmid=osmid,
                highway=tag,
                oneway=False,
                length=length,
                speed_kph=kph,
                travel_time=length / kph * 3.6,
            )
    points = [_point("A", 105.90, 29.30), _point("B", 105.95, 29.30), _point("C", 105.925, 29.33)]
    return attach_points(graph, points)


def test_distance_is_along_the_fastest_path() -> None:
    matrix = travel_matrix(_triangle())
    assert matrix.duration_s[0, 1] == round(8000 / 75 * 3.6)
    assert matrix.distance_m[0, 1] == 8000  # not the 5000 m village road
    assert matrix.distance_m[1, 0] == 8000
    assert np.all(np.diag(matrix.duration_s) == 0) and np.all(np.diag(matrix.distance_m) == 0)
    assert matrix.duration_s.dtype == np.int64 and matrix.distance_m.dtype == np.int64


def test_speed_cap_changes_the_route() -> None:
    matrix = travel_matrix(_triangle(), TravelProfile(max_speed_kph=40.0))
    assert matrix.distance_m[0, 1] == 5200  # the secondary road wins once motorways are capped
    assert matrix.duration_s[0, 1] == round(5200 / 40 * 3.6)


def test_access_from_a_point_off_the_road_counts() -> None:
    net = _triangle()
    off = _point("D", 105.90, 29.299)  # about 111 m south of node 10, where every road ends
    net = attach_points(net.graph, [*net.points, off])
    matrix = travel_matrix(net)
    snap = net.snap_m[3]
    assert 100 < snap < 120
    assert matrix.distance_m[3, 1] == round(8000 + snap)
    assert matrix.duration_s[3, 1] == round(8000 / 75 * 3.6 + snap / (20 / 3.6))
    assert matrix.distance_m[3, 0] == round(snap)  # never shorter than the straight line


def test_unreachable_points_are_reported() -> None:
    graph = nx.MultiDiGraph(crs="epsg:4326")
    graph.add_node(1, x=105.90, y=29.30)
    graph.add_node(2, x=105.91, y=29.30)
    graph.add_edge(1, 2, length=1000.0, speed_kph=30.0)
    net = attach_points(graph, [_point("A", 105.90, 29.30), _point("B", 105.91, 29.30)])
    with pytest.raises(ValueError, match="cannot be reached from B"):
        travel_matrix(net)


def test_matches_networkx(net: RoadNetwork) -> None:
    matrix = travel_matrix(net)
    assert matrix.duration_s.shape == (291, 291)
    rng = np.random.default_rng(7)
    for a, b in rng.integers(0, len(net.points), size=(6, 2)):
        source, target = net.point_nodes[a], net.point_nodes[b]
        seconds, path = nx.single_source_dijkstra(net.graph, source, target, weight="travel_time")
        metres = sum(
            min(net.graph[u][v].values(), key=lambda d: d["travel_time"])["length"]
            for u, v in itertools.pairwise(path)
        )
        assert abs(matrix.duration_s[a, b] - seconds) <= 1
        assert abs(matrix.distance_m[a, b] - metres) <= 1


def test_slower_profile(net: RoadNetwork) -> None:
    base = travel_matrix(net)
    slow = travel_matrix(net, TravelProfile(speed_factor=0.7))
    off_diagonal = ~np.eye(len(net.points), dtype=bool)
    assert np.all(slow.duration_s[off_diagonal] > base.duration_s[off_diagonal])
    assert np.allclose(slow.duration_s, base.duration_s / 0.7, atol=1.5)
    capped = travel_matrix(net, TravelProfile(max_speed_kph=25.0))
    assert np.all(capped.duration_s >= base.duration_s)
    assert np.all(capped.distance_m <= capped.duration_s * 25 / 3.6 + 5)


def test_profile_validation() -> None:
    with pytest.raises(ValueError):
        TravelProfile(speed_factor=0.0)
    with pytest.raises(ValueError):
        TravelProfile(max_speed_kph=-5.0)


def test_memory_and_disk_cache(
    small_graph: nx.MultiDiGraph, small_county, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RURALDISPATCH_CACHE", str(tmp_path))
    net = attach_points(small_graph, small_county.points)
    first = travel_matrix(net)
    assert travel_matrix(net) is first
    assert travel_matrix(attach_points(small_graph, small_county.points)) is first  # same content
    files = list((tmp_path / "matrix").glob("*.npz"))
    assert len(files) == 1
    # The disk entry is what a fresh process would read: tamper with it to prove it is used.
    np.savez(files[0], distance_m=first.distance_m + 1, duration_s=first.duration_s + 2)
    clear_memory_cache()
    from_disk = travel_matrix(net)
    assert np.array_equal(from_disk.duration_s, first.duration_s + 2)
    with pytest.raises(ValueError):
        from_disk.duration_s[0, 0] = 5  # cached arrays are shared, so read-only


def test_disk_cache_can_be_disabled(
    small_graph: nx.MultiDiGraph, small_county, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("RURALDISPATCH_CACHE", "")
    travel_matrix(attach_points(small_graph, small_county.points))
    assert not any(tmp_path.rglob("*.npz"))


def _haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    p1, p2 = math.radians(a[1]), math.radians(b[1])
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b[0] - a[0]) / 2) ** 2
    )
    return 2 * 6_371_009 * math.asin(math.sqrt(h))


def test_road_path_follows_the_matrix(net: RoadNetwork) -> None:
    sequence = [0, 30, 200, 5, 0]
    line = road_path(net, sequence)
    first, last = net.points[0], net.points[0]
    assert line[0] == (first.lon, first.lat) and line[-1] == (last.lon, last.lat)
    node_coords = {(d["x"], d["y"]) for _, d in net.graph.nodes(data=True)}
    assert set(line) <= node_coords
    matrix = travel_matrix(net)
    expected = sum(matrix.distance_m[a, b] for a, b in itertools.pairwise(sequence))
    walked = sum(_haversine_m(a, b) for a, b in itertools.pairwise(line))
    assert walked == pytest.approx(expected, rel=1e-3)
    assert road_path(net, []) == []
    assert road_path(net, [3]) == [(net.points[3].lon, net.points[3].lat)]


def test_road_path_uses_edge_geometry(tmp_path: Path) -> None:
    path = tmp_path / "town.osm"
    path.write_text(OSM_XML, encoding="utf-8")
    net = attach_points(
        load_network(path), [_point("A", 105.8901, 29.3501), _point("B", 105.9, 29.355)]
    )
    there = road_path(net, [0, 1])
    back = road_path(net, [1, 0])
    assert there[0] == (105.8901, 29.3501) and there[1] == (105.89, 29.35)
    assert (105.886, 29.345) in there  # out on the one-way motorway bypass
    assert (105.895, 29.352) in back and (105.886, 29.345) not in back  # back on the primary
