from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from geodata.network import attach_points
from geodata.osm import load_network, save_network
from geodata.points import ServicePoint

# A little town: a two-way primary (maxspeed 30) and a one-way motorway bypass between nodes 1
# and 3, a tertiary then a track out to node 5, a footway (not drivable) to node 6 and a one-way
# dead end 6 -> 7 (outside the largest strongly connected component).
OSM_XML = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="test">
  <node id="1" lat="29.350" lon="105.890"/>
  <node id="2" lat="29.352" lon="105.895"/>
  <node id="3" lat="29.355" lon="105.900"/>
  <node id="4" lat="29.360" lon="105.905"/>
  <node id="5" lat="29.362" lon="105.910"/>
  <node id="6" lat="29.340" lon="105.880"/>
  <node id="7" lat="29.338" lon="105.875"/>
  <node id="8" lat="29.345" lon="105.886"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="primary"/><tag k="maxspeed" v="30"/></way>
  <way id="11"><nd ref="3"/><nd ref="4"/><tag k="highway" v="tertiary"/></way>
  <way id="12"><nd ref="4"/><nd ref="5"/><tag k="highway" v="track"/></way>
  <way id="13"><nd ref="1"/><nd ref="6"/><tag k="highway" v="footway"/></way>
  <way id="14"><nd ref="6"/><nd ref="7"/>
    <tag k="highway" v="unclassified"/><tag k="oneway" v="yes"/></way>
  <way id="15"><nd ref="1"/><nd ref="8"/><nd ref="3"/>
    <tag k="highway" v="motorway"/><tag k="oneway" v="yes"/></way>
</osm>
"""


@pytest.fixture
def osm_file(tmp_path: Path) -> Path:
    path = tmp_path / "town.osm"
    path.write_text(OSM_XML, encoding="utf-8")
    return path


def _speeds(graph: nx.MultiDiGraph) -> dict[str, float]:
    return {d["highway"]: d["speed_kph"] for _, _, d in graph.edges(data=True)}


def test_osm_xml_speeds_and_component(osm_file: Path) -> None:
    graph = load_network(osm_file)
    assert nx.is_strongly_connected(graph)
    assert not {6, 7} & set(graph.nodes)  # footway and one-way dead end dropped
    assert {1, 3, 5} <= set(graph.nodes)
    assert _speeds(graph) == {"primary": 30.0, "motorway": 75.0, "tertiary": 35.0, "track": 22.0}
    for _, _, d in graph.edges(data=True):
        assert d["travel_time"] == pytest.approx(d["length"] / d["speed_kph"] * 3.6)
    assert graph.number_of_edges(1, 3) == 2 and graph.number_of_edges(3, 1) == 1


def test_speed_overrides_and_maxspeed_caps(osm_file: Path) -> None:
    graph = load_network(osm_file, {"county": 20.0, "national": 60.0, "village": 15.0})
    speeds = _speeds(graph)
    assert speeds["tertiary"] == 20.0 and speeds["track"] == 15.0
    assert speeds["primary"] == 30.0  # the posted limit is below the class speed


def test_points_attach_to_the_road_beside_them(osm_file: Path) -> None:
    graph = load_network(osm_file)
    points = [
        # ~31 m from node 1 but ~2 m from the primary 1-2-3 (and ~15 m from the motorway 1-8-3)
        ServicePoint("A", "甲", "station", "500118001", 105.8903, 29.3501, 0, 86400),
        # beyond the end of the track at node 5
        ServicePoint("B", "乙", "village", "500118001", 105.9101, 29.3620, 0, 86400),
    ]
    net = attach_points(graph, points)
    assert net.point_nodes[1] == 5 and 0 < net.snap_m[1] < 50
    new = net.point_nodes[0]
    assert new not in graph.nodes and net.snap_m[0] < 5  # the primary was split at A's foot
    split = net.graph
    primary = [d for d in split.edges(new, data=True) if d[2]["highway"] == "primary"]
    assert {v for _, v, _ in primary} == {1, 3}  # both ways, towards both ends
    before = sum(d["length"] for _, _, d in graph.edges(data=True) if d["highway"] == "primary")
    after = sum(d["length"] for _, _, d in split.edges(data=True) if d["highway"] == "primary")
    assert after == pytest.approx(before)
    assert graph.number_of_nodes() + 1 == split.number_of_nodes()  # the input is not changed


def test_graphml_round_trip(osm_file: Path, tmp_path: Path) -> None:
    graph = load_network(osm_file)
    path = tmp_path / "town.graphml"
    save_network(graph, path)
    again = load_network(path)
    assert sorted(again.nodes) == sorted(graph.nodes)
    assert sorted(again.edges(keys=True)) == sorted(graph.edges(keys=True))
    for u, v, k, d in graph.edges(keys=True, data=True):
        e = again.edges[u, v, k]
        assert e["length"] == pytest.approx(d["length"])
        assert e["speed_kph"] == d["speed_kph"] and e["highway"] == d["highway"]
        assert e["travel_time"] == pytest.approx(d["travel_time"])
    slower = load_network(path, {"expressway": 50.0})
    assert _speeds(slower)["motorway"] == 50.0


def test_synthetic_graphml_round_trip(small_graph: nx.MultiDiGraph, tmp_path: Path) -> None:
    path = tmp_path / "synthetic.graphml"
    save_network(small_graph, path)
    again = load_network(path)
    assert again.number_of_nodes() == small_graph.number_of_nodes()
    assert again.number_of_edges() == small_graph.number_of_edges()
    assert again.graph["crs"] == "epsg:4326"
    assert all(isinstance(d["oneway"], bool) for _, _, d in again.edges(data=True))


def test_projected_graphml_rejected(osm_file: Path, tmp_path: Path) -> None:
    graph = load_network(osm_file)
    graph.graph["crs"] = "epsg:32648"
    path = tmp_path / "projected.graphml"
    save_network(graph, path)
    with pytest.raises(ValueError, match="expected unprojected"):
        load_network(path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("roads.shp", "x", "unknown road file type"),
        ("missing.osm", None, "no such road file"),
        ("broken.osm", "<osm><node id=", "cannot read"),
        ("empty.osm", '<osm version="0.6"></osm>', "no drivable roads"),
        ("broken.graphml", "not xml", "cannot read"),
        (
            "paths.osm",
            '<osm version="0.6"><node id="1" lat="29.3" lon="105.9"/>'
            '<node id="2" lat="29.31" lon="105.9"/>'
            '<way id="3"><nd ref="1"/><nd ref="2"/><tag k="highway" v="footway"/></way></osm>',
            "no drivable roads",
        ),
    ],
)
def test_bad_files(tmp_path: Path, name: str, content: str | None, message: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_network(path)
