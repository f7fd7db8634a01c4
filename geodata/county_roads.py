"""A county's roads: which network it runs on, and whether every point can use it.

The network is the file given (`--network`), else the one county.toml names, else the
synthetic network built from the points (`geodata.roads`). An OSM extract is cut to the
county's outline grown by `clip_margin_m`. A point farther than `max_access_m` from every
drivable road, or one the hub cannot reach by road (or be reached from), is a problem.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order

from geodata.county import County
from geodata.county_files import POINTS_FILE, SETTINGS_FILE
from geodata.crs import buffer_m
from geodata.network import RoadNetwork, attach_points
from geodata.problems import Problem
from geodata.roads import synthetic_network

SYNTHETIC = "synthetic"


def county_graph(county: County, network: Path | None = None) -> tuple[nx.MultiDiGraph, str]:
    """The county's road graph and where it came from (a file path or "synthetic").

    ValueError when the road file cannot be read or has no roads in the county.
    """
    path = network or county.settings.network_file
    speeds = county.settings.speeds_kph
    if path is None:
        return synthetic_network(county, speeds), SYNTHETIC
    clip = buffer_m(county.boundary, county.settings.clip_margin_m)
    from geodata.osm import load_network  # osmnx and osmium are imported at first use only

    return load_network(Path(path), speeds, clip), str(path)


def check_roads(
    county: County, graph: nx.MultiDiGraph, source: str
) -> tuple[RoadNetwork, list[Problem]]:
    """The points attached to the graph, and a problem for every point too far from a road or
    cut off from the hub (file points.csv, the point's row)."""
    net = attach_points(graph, county.points)
    limit = county.settings.max_access_m
    problems = []
    for point, metres in zip(county.points, net.snap_m, strict=True):
        if metres > limit:
            placed = " (its position was placed, not given)" if point.placed else ""
            problems.append(
                Problem(
                    POINTS_FILE,
                    county.rows.get(point.point_id, 0),
                    "lon",
                    f"{point.point_id} is {metres:,.0f} m from the nearest drivable road of "
                    f"{source}{placed}; at most {limit:,.0f} m ({SETTINGS_FILE} max_access_m)",
                )
            )
    problems += _cut_off(county, net, source)
    return net, problems


def _cut_off(county: County, net: RoadNetwork, source: str) -> list[Problem]:
    """Points with no road from the hub to them, or none from them back to the hub."""
    nodes = list(net.graph.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    pairs = np.array([(index[u], index[v]) for u, v in net.graph.edges()], dtype=np.int64)
    size = len(nodes)
    roads = csr_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(size, size))
    hub = index[net.point_nodes[county.index(county.hub_id)]]
    out_of_hub = set(breadth_first_order(roads, hub, directed=True, return_predecessors=False))
    into_hub = set(breadth_first_order(roads.T.tocsr(), hub, return_predecessors=False))
    problems = []
    for point, node in zip(county.points, net.point_nodes, strict=True):
        missing = []
        if index[node] not in out_of_hub:
            missing.append("from the hub to it")
        if index[node] not in into_hub:
            missing.append("from it back to the hub")
        if missing:
            problems.append(
                Problem(
                    POINTS_FILE,
                    county.rows.get(point.point_id, 0),
                    "lon",
                    f"{point.point_id} is cut off: no road of {source} " + " nor ".join(missing),
                )
            )
    return problems
