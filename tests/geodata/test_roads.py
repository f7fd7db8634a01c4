from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from geodata.county import County, load_county
from geodata.network import RoadNetwork
from geodata.roadclass import DEFAULT_SPEEDS_KPH, HIGHWAY_CLASS
from geodata.roads import synthetic_network


def _haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_009 * math.asin(math.sqrt(h))


def test_osmnx_conventions(graph: nx.MultiDiGraph) -> None:
    assert graph.graph["crs"] == "epsg:4326"
    assert nx.is_strongly_connected(graph)
    for _, data in graph.nodes(data=True):
        assert 105.5 < data["x"] < 106.2 and 28.9 < data["y"] < 29.7
    for u, v, data in graph.edges(data=True):
        assert data["oneway"] is False
        assert graph.has_edge(v, u)
        assert data["highway"] in HIGHWAY_CLASS
        speed = DEFAULT_SPEEDS_KPH[HIGHWAY_CLASS[data["highway"]]]
        assert data["speed_kph"] == speed
        assert data["travel_time"] == pytest.approx(data["length"] / speed * 3.6)
        nu, nv = graph.nodes[u], graph.nodes[v]
        assert data["length"] == pytest.approx(_haversine_m(nu["x"], nu["y"], nv["x"], nv["y"]))
        assert 0 < data["length"] < 1500
        assert isinstance(data["osmid"], int)
    tags = {tag for _, _, tag in graph.edges(data="highway")}
    assert {"motorway", "primary", "secondary", "tertiary", "unclassified"} <= tags


def test_every_point_is_a_node(net: RoadNetwork) -> None:
    assert max(net.snap_m) < 0.01
    assert len(set(net.point_nodes)) == len(net.points)


def test_deterministic(county: County, graph: nx.MultiDiGraph) -> None:
    again = synthetic_network(county)
    assert list(again.nodes(data=True)) == list(graph.nodes(data=True))
    assert list(again.edges(keys=True, data=True)) == list(graph.edges(keys=True, data=True))


def test_circuity_is_realistic(net: RoadNetwork) -> None:
    """Shortest road distance / straight line between service points: median 1.15-1.45."""
    ratios = []
    for a in range(0, len(net.points), 29):
        lengths = nx.single_source_dijkstra_path_length(
            net.graph, net.point_nodes[a], weight="length"
        )
        for b, pb in enumerate(net.points):
            pa = net.points[a]
            straight = _haversine_m(pa.lon, pa.lat, pb.lon, pb.lat)
            if straight > 2000:
                ratios.append(lengths[net.point_nodes[b]] / straight)
    assert 1.15 <= float(np.median(ratios)) <= 1.45
    assert min(ratios) >= 1.0


def test_speeds_configurable(county: County) -> None:
    slow = synthetic_network(county, {"village": 10.0, "expressway": 60.0})
    speeds = {tag: kph for _, _, tag, kph in _tag_speeds(slow)}
    assert speeds["unclassified"] == 10.0 and speeds["motorway"] == 60.0
    assert speeds["tertiary"] == DEFAULT_SPEEDS_KPH["county"]
    with pytest.raises(ValueError, match="unknown road class"):
        synthetic_network(county, {"dirt": 5.0})
    with pytest.raises(ValueError, match="> 0"):
        synthetic_network(county, {"village": 0.0})


def _tag_speeds(graph: nx.MultiDiGraph) -> list[tuple[int, int, str, float]]:
    return [(u, v, d["highway"], d["speed_kph"]) for u, v, d in graph.edges(data=True)]


def test_hub_on_a_station_still_connected() -> None:
    station = load_county().point("500118100")
    county = load_county((station.lon, station.lat))
    graph = synthetic_network(county)
    assert nx.is_strongly_connected(graph)
    assert graph.degree(0) > 0
