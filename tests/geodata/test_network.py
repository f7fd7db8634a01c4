from __future__ import annotations

import dataclasses

import networkx as nx
import pytest

from geodata.county import County
from geodata.network import FarFromRoad, attach_points
from geodata.points import ServicePoint
from geodata.roads import synthetic_network


def test_fingerprint_stable_and_sensitive(
    small_county: County, small_graph: nx.MultiDiGraph
) -> None:
    first = attach_points(small_graph, small_county.points)
    assert (
        first.fingerprint()
        == attach_points(synthetic_network(small_county), small_county.points).fingerprint()
    )
    moved = [dataclasses.replace(small_county.points[0], lon=small_county.points[0].lon + 0.01)]
    assert (
        attach_points(small_graph, moved + small_county.points[1:]).fingerprint()
        != first.fingerprint()
    )
    faster = synthetic_network(small_county, {"village": 30.0})
    assert attach_points(faster, small_county.points).fingerprint() != first.fingerprint()
    assert attach_points(small_graph, small_county.points[:-1]).fingerprint() != first.fingerprint()


def test_snapping_distance(small_county: County, small_graph: nx.MultiDiGraph) -> None:
    hub = small_county.points[0]
    off_road = dataclasses.replace(hub, point_id="X", lat=hub.lat + 0.001)  # ~111 m north
    net = attach_points(small_graph, [hub, off_road])
    assert net.snap_m[0] < 0.01
    assert 0 < net.snap_m[1] <= 112
    assert net.graph.nodes[net.point_nodes[0]]["x"] == hub.lon


def test_empty_graph_rejected(small_county: County) -> None:
    with pytest.raises(ValueError, match="without roads"):
        attach_points(nx.MultiDiGraph(crs="epsg:4326"), small_county.points)


def test_a_point_far_from_every_road_is_refused_with_its_distance(
    small_county: County, small_graph: nx.MultiDiGraph
) -> None:
    hub = small_county.points[0]
    near = dataclasses.replace(hub, point_id="NEAR", lat=hub.lat + 0.01)  # ~1.1 km north
    far = dataclasses.replace(hub, point_id="FAR", lon=hub.lon - 0.6)  # ~58 km west
    net = attach_points(small_graph, [hub, near], max_access_m=2000)
    assert net.snap_m[1] < 2000
    with pytest.raises(FarFromRoad) as info:
        attach_points(small_graph, [hub, near, far], max_access_m=2000)
    ((point_id, metres),) = info.value.far
    assert point_id == "FAR" and 20_000 < metres < 70_000
    assert f"FAR: {metres:,.0f} m" in str(info.value) and "2,000 m" in str(info.value)


def test_a_point_beside_a_long_road_splits_it_both_ways() -> None:
    graph = nx.MultiDiGraph(crs="epsg:4326")
    graph.add_node(1, x=105.90, y=29.30)
    graph.add_node(2, x=105.95, y=29.30)  # ~4.9 km east
    for a, b in ((1, 2), (2, 1)):
        graph.add_edge(a, b, osmid=7, highway="tertiary", length=4900.0, speed_kph=35.0)
    beside = ServicePoint("P", "P", "village", "T", 105.925, 29.3005, 0, 86400)  # ~55 m north
    net = attach_points(graph, [beside], max_access_m=2000)
    (node,) = net.point_nodes
    assert node not in (1, 2) and 50 < net.snap_m[0] < 60
    split = net.graph
    assert sorted(split.edges()) == sorted([(1, node), (node, 1), (2, node), (node, 2)])
    halves = {(u, v): d["length"] for u, v, d in split.edges(data=True)}
    assert halves[(1, node)] == pytest.approx(2450.0, rel=0.01)
    assert halves[(1, node)] + halves[(node, 2)] == pytest.approx(4900.0)
    assert halves[(2, node)] == pytest.approx(halves[(node, 2)])
    assert graph.number_of_edges() == 2  # the input graph is left as it was
