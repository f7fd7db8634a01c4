from __future__ import annotations

import dataclasses

import networkx as nx
import pytest

from geodata.county import County
from geodata.network import attach_points
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
