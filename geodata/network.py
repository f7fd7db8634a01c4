"""A road graph with the service points snapped to its nodes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
from scipy.spatial import cKDTree

from geodata.crs import to_utm
from geodata.points import ServicePoint


@dataclass
class RoadNetwork:
    """`graph` (osmnx conventions) and `points`, each snapped to `point_nodes[i]`, `snap_m[i]` away.

    Treat the graph as frozen once attached: the fingerprint is computed once and cached.
    """

    graph: nx.MultiDiGraph
    points: list[ServicePoint]
    point_nodes: list[int]
    snap_m: list[float]
    _fingerprint: str | None = field(default=None, init=False, repr=False, compare=False)

    def fingerprint(self) -> str:
        """Stable SHA-256 (hex) of the graph's nodes, edges, lengths, speeds and the point set."""
        if self._fingerprint is None:
            self._fingerprint = _fingerprint(self.graph, self.points, self.point_nodes)
        return self._fingerprint


def _fingerprint(graph: nx.MultiDiGraph, points: list[ServicePoint], nodes: list[int]) -> str:
    digest = hashlib.sha256()
    node_rows = sorted((str(n), float(d["x"]), float(d["y"])) for n, d in graph.nodes(data=True))
    digest.update(repr(node_rows).encode())
    edge_rows = sorted(
        (str(u), str(v), str(k), float(d["length"]), float(d.get("speed_kph", 0.0)))
        for u, v, k, d in graph.edges(keys=True, data=True)
    )
    digest.update(repr(edge_rows).encode())
    digest.update(repr([(p, str(n)) for p, n in zip(points, nodes, strict=True)]).encode())
    return digest.hexdigest()


def attach_points(graph: nx.MultiDiGraph, points: list[ServicePoint]) -> RoadNetwork:
    """Snap each point to its nearest graph node (KD-tree on UTM 48N metres)."""
    if graph.number_of_nodes() == 0:
        raise ValueError("cannot attach points to an empty road graph")
    node_ids = list(graph.nodes)
    nx_, ny_ = to_utm(
        [graph.nodes[n]["x"] for n in node_ids], [graph.nodes[n]["y"] for n in node_ids]
    )
    px, py = to_utm([p.lon for p in points], [p.lat for p in points])
    dist, nearest = cKDTree(np.column_stack([nx_, ny_])).query(np.column_stack([px, py]))
    return RoadNetwork(
        graph=graph,
        points=list(points),
        point_nodes=[node_ids[int(i)] for i in np.atleast_1d(nearest)],
        snap_m=[float(d) for d in np.atleast_1d(dist)],
    )
