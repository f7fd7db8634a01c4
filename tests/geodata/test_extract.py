"""OSM extracts read with pyosmium: a real clipped extract, cutting, clipping, the disk cache,
and agreement with osmnx's own reader on the ways both can read."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import numpy as np
import osmium
import osmnx as ox
import pytest
from shapely.geometry import Point, box

from geodata import extract
from geodata.extract import load_extract
from geodata.osm import load_network
from geodata.roadclass import HIGHWAY_CLASS

PBF = Path(__file__).parent / "data" / "karhula.osm.pbf"
FILE_BOX = box(26.9299999, 60.52, 26.9699999, 60.5399999)  # the extract's header bounds


def _missing_node_ways() -> int:
    """Drivable ways (any reader's sense) referring to nodes the file does not hold."""
    cut = 0
    processor = osmium.FileProcessor(str(PBF)).with_locations()
    for obj in processor.with_filter(osmium.filter.KeyFilter("highway")):
        if obj.is_way() and obj.tags["highway"] in HIGHWAY_CLASS:
            private = obj.tags.get("access") == "private"
            aisle = obj.tags.get("service") == "parking_aisle"
            if not private and not aisle and not all(n.location.valid() for n in obj.nodes):
                cut += 1
    return cut


def test_a_clipped_real_extract_loads_and_reports_the_cut_ways() -> None:
    graph = load_network(PBF)
    assert graph.graph["ways_cut"] == _missing_node_ways() > 0
    assert graph.graph["ways_clipped"] == 0
    assert nx.is_strongly_connected(graph) and graph.number_of_nodes() > 200
    assert all(FILE_BOX.contains(Point(d["x"], d["y"])) for _, d in graph.nodes(data=True))
    for _, _, d in graph.edges(data=True):
        assert d["length"] > 0 and d["travel_time"] > 0
        assert d["travel_time"] == pytest.approx(d["length"] / d["speed_kph"] * 3.6)
        assert d["highway"] in HIGHWAY_CLASS
    secondary = {
        d["speed_kph"] for _, _, d in graph.edges(data=True) if d["highway"] == "secondary"
    }
    assert secondary == {45.0}  # the class speed; the one posted limit (80) is higher


def test_clipping_to_a_polygon_cuts_ways_at_its_edge() -> None:
    west = box(26.93, 60.52, 26.95, 60.54)
    whole = load_network(PBF)
    clipped = load_network(PBF, clip=west)
    assert clipped.graph["ways_clipped"] > 0
    assert all(west.contains(Point(d["x"], d["y"])) for _, d in clipped.nodes(data=True))
    for _, _, d in clipped.edges(data=True):
        if "geometry" in d:
            assert west.buffer(1e-9).contains(d["geometry"])
    assert 0 < clipped.number_of_nodes() < whole.number_of_nodes()
    with pytest.raises(ValueError, match="no connected drivable roads inside"):
        load_network(PBF, clip=box(100.0, 20.0, 100.1, 20.1))


def test_edge_geometry_runs_from_u_to_v_and_matches_the_length() -> None:
    graph = load_network(PBF)
    bent = 0
    for u, v, d in graph.edges(data=True):
        if "geometry" not in d:
            continue
        bent += 1
        coords = list(d["geometry"].coords)
        assert coords[0] == (graph.nodes[u]["x"], graph.nodes[u]["y"])
        assert coords[-1] == (graph.nodes[v]["x"], graph.nodes[v]["y"])
        metres = sum(
            ox.distance.great_circle(lat1, lon1, lat2, lon2)
            for (lon1, lat1), (lon2, lat2) in itertools.pairwise(coords)
        )
        assert metres == pytest.approx(d["length"], rel=1e-9)
    assert bent > 100


def _complete_ways_xml(path: Path) -> Path:
    """The extract's ways that every node of is in the file, drivable for both readers, as
    OSM XML (osmnx refuses ways with missing nodes)."""
    nodes: dict[int, tuple[float, float]] = {}
    ways: list[tuple[int, list[int], dict[str, str]]] = []
    processor = osmium.FileProcessor(str(PBF)).with_locations()
    for obj in processor:
        if obj.is_node():
            nodes[obj.id] = (obj.location.lon, obj.location.lat)
        elif obj.is_way() and obj.tags.get("highway") in HIGHWAY_CLASS:
            tags = dict(obj.tags)
            refs = [n.ref for n in obj.nodes]
            if tags.get("access") == "private" or tags.get("service") == "parking_aisle":
                continue
            if all(n.location.valid() for n in obj.nodes):
                ways.append((obj.id, refs, tags))
    root = ET.Element("osm", version="0.6")
    used = sorted({ref for _, refs, _ in ways for ref in refs})
    for ref in used:
        lon, lat = nodes[ref]
        ET.SubElement(root, "node", id=str(ref), lat=f"{lat:.7f}", lon=f"{lon:.7f}")
    for way_id, refs, tags in ways:
        way = ET.SubElement(root, "way", id=str(way_id))
        for ref in refs:
            ET.SubElement(way, "nd", ref=str(ref))
        for key, value in tags.items():
            ET.SubElement(way, "tag", k=key, v=value)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


def test_distances_agree_with_osmnx_on_complete_ways(tmp_path: Path) -> None:
    xml = _complete_ways_xml(tmp_path / "complete.osm")
    ours = load_network(xml)
    assert ours.graph["ways_cut"] == 0
    theirs = ox.graph_from_xml(xml, simplify=True, retain_all=True)
    theirs = ox.truncate.largest_component(theirs, strongly=True)
    common = sorted(set(ours.nodes) & set(theirs.nodes))
    assert len(common) > 0.9 * ours.number_of_nodes()
    rng = np.random.default_rng(11)
    for a, b in rng.choice(common, size=(40, 2)):
        mine = nx.shortest_path_length(ours, int(a), int(b), weight="length")
        other = nx.shortest_path_length(theirs, int(a), int(b), weight="length")
        assert mine == pytest.approx(other, abs=0.01)


def test_the_second_load_comes_from_the_disk_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RURALDISPATCH_CACHE", str(tmp_path / "cache"))
    first = load_extract(PBF)
    assert len(list((tmp_path / "cache" / "roads").glob("*.npz"))) == 1

    def no_parse(*args: object) -> None:
        raise AssertionError("the extract was parsed again")

    monkeypatch.setattr(extract, "read_extract", no_parse)
    again = load_extract(PBF)
    assert sorted(again.nodes) == sorted(first.nodes)
    assert sorted(again.edges(keys=True)) == sorted(first.edges(keys=True))
    for u, v, k, d in first.edges(keys=True, data=True):
        e = again.edges[u, v, k]
        assert (e["length"], e["speed_kph"], e["highway"]) == (
            d["length"],
            d["speed_kph"],
            d["highway"],
        )
        assert ("geometry" in e) == ("geometry" in d)
    with pytest.raises(AssertionError, match="parsed again"):
        load_extract(PBF, {"village": 15.0})  # other speeds: another cache entry


def test_clipped_osm_xml_loads_too(tmp_path: Path) -> None:
    path = tmp_path / "clipped.osm"
    path.write_text(
        """<osm version="0.6">
  <node id="1" lat="29.350" lon="105.890"/>
  <node id="2" lat="29.352" lon="105.895"/>
  <node id="3" lat="29.355" lon="105.900"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="99"/>
    <tag k="highway" v="tertiary"/></way>
  <way id="11"><nd ref="98"/><nd ref="1"/><tag k="highway" v="footway"/></way>
</osm>""",
        encoding="utf-8",
    )
    graph = load_network(path)
    assert graph.graph["ways_cut"] == 1  # the footway is not a drivable way
    assert sorted(graph.edges()) == [(1, 3), (3, 1)]


@pytest.mark.parametrize(
    ("text", "kph"),
    [("50", 50.0), ("30 mph", 30 * 1.609344), ("40;60", 40.0), ("none", None), ("RU:urban", None)],
)
def test_maxspeed_values(text: str, kph: float | None) -> None:
    value = extract._maxspeed(text)
    assert (value != value) if kph is None else value == pytest.approx(kph)


def test_a_broken_pbf_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.osm.pbf"
    broken.write_bytes(PBF.read_bytes()[:5000])
    with pytest.raises(ValueError, match="cannot read OSM data"):
        load_network(broken)
