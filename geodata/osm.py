"""Real road data: OSM extracts (.osm.pbf, .osm; read by `geodata.extract` with pyosmium) and
osmnx GraphML files (this is the only module that imports osmnx).

Only drivable ways are kept (tags in `roadclass.HIGHWAY_CLASS`), then the largest strongly
connected component. Speeds come from the class defaults by highway tag; where OSM gives a
`maxspeed` lower than that default, the limit wins (a legal limit caps the effective speed, it
does not raise it).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import networkx as nx
import osmnx as ox
from shapely.geometry.base import BaseGeometry

from geodata.extract import SUFFIXES, is_extract, load_extract
from geodata.roadclass import HIGHWAY_CLASS, highway_speeds

_VILLAGE_TAG = "unclassified"


def load_network(
    path: Path,
    speeds_kph: Mapping[str, float] | None = None,
    clip: BaseGeometry | None = None,
) -> nx.MultiDiGraph:
    """Road graph from an OSM extract (`.osm.pbf`, `.osm`) or osmnx `.graphml` at `path`.

    `speeds_kph` overrides class speeds (km/h); `clip` (WGS-84 polygon) cuts an extract's roads
    to the county and its margin (GraphML files are taken whole). ValueError on an unknown
    suffix, an unreadable file, or a file with no drivable roads.
    """
    path = Path(path)
    if is_extract(path):
        return load_extract(path, speeds_kph, clip)
    suffix = path.suffix.lower()
    if suffix != ".graphml":
        raise ValueError(
            f"{path}: unknown road file type {suffix!r} (expected {', '.join(SUFFIXES)} "
            "or .graphml)"
        )
    if not path.is_file():
        raise ValueError(f"{path}: no such road file")
    tag_speed = highway_speeds(speeds_kph)
    try:
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
