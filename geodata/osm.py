"""Real road data: OSM XML extracts and osmnx GraphML files (the only module that imports osmnx).

Only drivable ways are kept (tags in `roadclass.HIGHWAY_CLASS`), then the largest strongly
connected component, simplified to intersections and changes of road class. Speeds come from
the class defaults by highway tag; where OSM gives a `maxspeed` lower than that default, the
limit wins (a legal limit caps the effective speed, it does not raise it).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import networkx as nx
import osmnx as ox

from geodata.roadclass import HIGHWAY_CLASS, highway_speeds

_VILLAGE_TAG = "unclassified"


def load_network(path: Path, speeds_kph: Mapping[str, float] | None = None) -> nx.MultiDiGraph:
    """Road graph from `.osm` (OSM XML) or `.graphml` (osmnx) at `path`, with speeds and times.

    `speeds_kph` overrides class speeds (km/h). ValueError on an unknown suffix, an unreadable
    file, or a file with no drivable roads.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".osm", ".graphml"):
        raise ValueError(f"{path}: unknown road file type {suffix!r} (expected .osm or .graphml)")
    if not path.is_file():
        raise ValueError(f"{path}: no such road file")
    tag_speed = highway_speeds(speeds_kph)
    try:
        if suffix == ".osm":
            graph = ox.graph_from_xml(path, simplify=False, retain_all=True)
        else:
            graph = ox.load_graphml(path)
    except (ET.ParseError, OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: cannot read road data ({exc})") from exc
    crs = str(graph.graph.get("crs", "epsg:4326")).lower()
    if crs != "epsg:4326":
        raise ValueError(f"{path}: road graph is in {crs}; expected unprojected epsg:4326")
    graph = _drivable(graph)
    if graph.number_of_edges() == 0:
        raise ValueError(f"{path}: no drivable roads (highway tags {sorted(HIGHWAY_CLASS)})")
    graph = ox.truncate.largest_component(graph, strongly=True)
    if suffix == ".osm":
        graph = ox.simplify_graph(graph, edge_attrs_differ=["highway"])
    for _, _, data in graph.edges(data=True):
        data.pop("speed_kph", None)
        data.pop("travel_time", None)
    graph = ox.routing.add_edge_speeds(
        graph, hwy_speeds=tag_speed, fallback=tag_speed[_VILLAGE_TAG]
    )
    for _, _, data in graph.edges(data=True):
        data["speed_kph"] = min(float(data["speed_kph"]), tag_speed[_main_tag(data["highway"])])
    return ox.routing.add_edge_travel_times(graph)


def save_network(graph: nx.MultiDiGraph, path: Path) -> None:
    """Write a road graph as osmnx GraphML (readable again with `load_network`)."""
    ox.save_graphml(graph, filepath=Path(path))


def _main_tag(highway: Any) -> str:
    """The first drivable tag of an edge (simplified edges may carry a list of tags)."""
    tags = highway if isinstance(highway, list) else [highway]
    return next((str(t) for t in tags if t in HIGHWAY_CLASS), _VILLAGE_TAG)


def _drivable(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Copy without edges whose highway tags are all non-drivable, nor nodes left isolated."""
    drop = [
        (u, v, k)
        for u, v, k, highway in graph.edges(keys=True, data="highway")
        if not any(
            t in HIGHWAY_CLASS for t in (highway if isinstance(highway, list) else [highway])
        )
    ]
    graph = graph.copy()
    graph.remove_edges_from(drop)
    graph.remove_nodes_from([n for n in list(graph.nodes) if graph.degree(n) == 0])
    return graph
