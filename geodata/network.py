"""A road graph with the service points attached to their nearest road.

Each point is attached where the nearest road passes it: at an end node of the nearest edge
when that is at most `SPLIT_GAIN_M` farther, else at a new node splitting that edge (and its
reverse twin) at the point's foot. Geometry is done in metres of the points' UTM zone. A point
farther than a stated distance from every drivable road is refused (`FarFromRoad`), never
snapped.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt
import shapely
from shapely import STRtree
from shapely.geometry import LineString
from shapely.ops import substring

from geodata.crs import from_utm, great_circle_m, to_utm, utm_crs_of
from geodata.points import ServicePoint

#: A point is attached to an end node of its nearest edge unless splitting the edge brings the
#: attachment more than this much closer (m).
SPLIT_GAIN_M = 10.0
_MERGE_M = 0.5  # points whose feet are this close (m) along an edge share one new node

Edge = tuple[Any, Any, Any]  # (u, v, key)


@dataclass
class RoadNetwork:
    """`graph` (osmnx conventions) and `points`; point i is at `point_nodes[i]`, `snap_m[i]` m away.

    Treat the graph as frozen once attached: the fingerprint is computed once and cached.
    """

    graph: nx.MultiDiGraph
    points: list[ServicePoint]
    point_nodes: list[Any]
    snap_m: list[float]
    _fingerprint: str | None = field(default=None, init=False, repr=False, compare=False)

    def fingerprint(self) -> str:
        """Stable SHA-256 (hex) of the graph's nodes, edges, lengths, speeds and the point set."""
        if self._fingerprint is None:
            self._fingerprint = _fingerprint(self.graph, self.points, self.point_nodes)
        return self._fingerprint


class FarFromRoad(ValueError):
    """Points farther than `limit_m` from every drivable road: `far` = [(point id, metres)]."""

    def __init__(self, far: Sequence[tuple[str, float]], limit_m: float) -> None:
        self.far = list(far)
        self.limit_m = limit_m
        shown = "; ".join(f"{pid}: {metres:,.0f} m" for pid, metres in self.far[:20])
        more = f"; ... and {len(self.far) - 20} more" if len(self.far) > 20 else ""
        super().__init__(
            f"{len(self.far)} point(s) farther than {limit_m:,.0f} m from the nearest drivable "
            f"road (refused, not snapped): {shown}{more}"
        )


def _fingerprint(graph: nx.MultiDiGraph, points: list[ServicePoint], nodes: list[Any]) -> str:
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


def attach_points(
    graph: nx.MultiDiGraph, points: list[ServicePoint], max_access_m: float | None = None
) -> RoadNetwork:
    """Attach each point to the nearest road of `graph` (which is copied if an edge is split).

    FarFromRoad (a ValueError) naming every point farther than `max_access_m` from the nearest
    road (None: no limit); ValueError for a graph without roads.
    """
    if graph.number_of_edges() == 0:
        raise ValueError("cannot attach points to a road graph without roads")
    crs = utm_crs_of([p.lon for p in points], [p.lat for p in points])
    edges, lines = _edge_lines(graph, crs)
    px, py = to_utm([p.lon for p in points], [p.lat for p in points], crs)
    feet = shapely.points(px, py)
    usable = np.flatnonzero(~shapely.is_empty(lines))
    if len(usable) == 0:
        raise ValueError("no road of the graph lies where its coordinates can be projected")
    tree = STRtree(lines[usable])
    pairs = tree.query_nearest(feet, all_matches=False)
    nearest = np.empty(len(points), dtype=np.int64)
    nearest[pairs[0]] = usable[pairs[1]]

    node_of: list[Any] = [None] * len(points)
    splits: dict[Edge, list[tuple[float, int]]] = defaultdict(list)  # canonical edge -> (t, i)
    for i, e in enumerate(nearest.tolist()):
        u, v, k = edges[e]
        along = float(lines[e].distance(feet[i]))
        ends_x, ends_y = to_utm(
            [graph.nodes[u]["x"], graph.nodes[v]["x"]],
            [graph.nodes[u]["y"], graph.nodes[v]["y"]],
            crs,
        )
        to_u, to_v = (
            math.hypot(float(x) - px[i], float(y) - py[i])
            for x, y in zip(ends_x, ends_y, strict=True)
        )
        end_m, end_node = (to_u, u) if to_u <= to_v else (to_v, v)
        if not end_m - along > SPLIT_GAIN_M:
            node_of[i] = end_node
            continue
        canonical = _canonical(graph, (u, v, k))
        oriented = _oriented_line(graph, canonical, crs)
        t = float(oriented.project(feet[i]))
        if _MERGE_M < t < oriented.length - _MERGE_M:
            splits[canonical].append((t, i))
        else:
            node_of[i] = canonical[0] if t <= _MERGE_M else canonical[1]
    if splits:
        graph = graph.copy()
        next_id = min([n for n in graph.nodes if isinstance(n, int)] + [0]) - 1
        for canonical, feet_on_edge in splits.items():
            next_id = _split(graph, canonical, feet_on_edge, node_of, next_id, crs)
    snap = [_ground_m(p, graph.nodes[n]) for p, n in zip(points, node_of, strict=True)]
    if max_access_m is not None:
        far = [(p.point_id, m) for p, m in zip(points, snap, strict=True) if m > max_access_m]
        if far:
            raise FarFromRoad(far, max_access_m)
    return RoadNetwork(graph=graph, points=list(points), point_nodes=node_of, snap_m=snap)


def _edge_lines(graph: nx.MultiDiGraph, crs: str) -> tuple[list[Edge], npt.NDArray[np.object_]]:
    """Every edge and its line in UTM metres (its `geometry`, else the straight u-v segment)."""
    edges: list[Edge] = []
    lon: list[float] = []
    lat: list[float] = []
    owner: list[int] = []
    nodes = graph.nodes
    for e, (u, v, k, geometry) in enumerate(graph.edges(keys=True, data="geometry")):
        edges.append((u, v, k))
        if geometry is None:
            lon += [nodes[u]["x"], nodes[v]["x"]]
            lat += [nodes[u]["y"], nodes[v]["y"]]
            owner += [e, e]
        else:
            xy = shapely.get_coordinates(geometry)
            lon += xy[:, 0].tolist()
            lat += xy[:, 1].tolist()
            owner += [e] * len(xy)
    x, y = to_utm(lon, lat, crs)
    finite = np.isfinite(x) & np.isfinite(y)
    index = np.asarray(owner, dtype=np.int64)
    bad = np.unique(index[~finite])
    keep = finite & ~np.isin(index, bad)
    lines = np.array([LineString()] * len(edges), dtype=object)  # off the projection: empty
    if keep.any():
        made = shapely.linestrings(np.column_stack([x[keep], y[keep]]), indices=index[keep])
        lines[np.unique(index[keep])] = made
    return edges, lines


def _canonical(graph: nx.MultiDiGraph, edge: Edge) -> Edge:
    """The edge or its reverse twin (same way, same length), whichever sorts first."""
    twin = _twin(graph, edge)
    if twin is None:
        return edge
    return min(edge, twin, key=lambda e: (str(e[0]), str(e[1]), str(e[2])))


def _twin(graph: nx.MultiDiGraph, edge: Edge) -> Edge | None:
    """The reverse edge v->u of the same road (same osmid, same length), if any."""
    u, v, k = edge
    data = graph.edges[u, v, k]
    for k2, other in (graph.get_edge_data(v, u) or {}).items():
        same_way = other.get("osmid") == data.get("osmid")
        if same_way and abs(float(other["length"]) - float(data["length"])) < 1.0:
            return (v, u, k2)
    return None


def _oriented_line(graph: nx.MultiDiGraph, edge: Edge, crs: str) -> LineString:
    """The edge's line in UTM metres, running from u to v."""
    u, v, k = edge
    geometry = graph.edges[u, v, k].get("geometry")
    nodes = graph.nodes
    if geometry is None:
        lon = [nodes[u]["x"], nodes[v]["x"]]
        lat = [nodes[u]["y"], nodes[v]["y"]]
    else:
        xy = shapely.get_coordinates(geometry)
        start, end = xy[0], xy[-1]
        ux, uy = nodes[u]["x"], nodes[u]["y"]
        if (start[0] - ux) ** 2 + (start[1] - uy) ** 2 > (end[0] - ux) ** 2 + (end[1] - uy) ** 2:
            xy = xy[::-1]
        lon, lat = xy[:, 0].tolist(), xy[:, 1].tolist()
    x, y = to_utm(lon, lat, crs)
    return LineString(np.column_stack([x, y]))


def _split(
    graph: nx.MultiDiGraph,
    edge: Edge,
    feet: list[tuple[float, int]],
    node_of: list[Any],
    next_id: int,
    crs: str,
) -> int:
    """Split `edge` (and its twin) at the points' feet; sets node_of; returns the next free id."""
    line = _oriented_line(graph, edge, crs)
    total = line.length
    stops: list[float] = []
    new_nodes: list[int] = []
    for t, i in sorted(feet):
        if not stops or t - stops[-1] > _MERGE_M:
            x, y = line.interpolate(t).coords[0]
            lon, lat = from_utm([x], [y], crs)
            graph.add_node(next_id, x=float(lon[0]), y=float(lat[0]))
            stops.append(t)
            new_nodes.append(next_id)
            next_id -= 1
        node_of[i] = new_nodes[-1]
    chain = [edge[0], *new_nodes, edge[1]]
    cuts = [0.0, *stops, total]
    twin = _twin(graph, edge)
    _replace(graph, edge, chain, cuts, line, crs)
    if twin is not None:
        _replace(graph, twin, chain[::-1], [total - c for c in cuts[::-1]], line.reverse(), crs)
    return next_id


def _replace(
    graph: nx.MultiDiGraph,
    edge: Edge,
    chain: list[Any],
    cuts: list[float],
    line: LineString,
    crs: str,
) -> None:
    """Replace `edge` by edges along `chain`, cut at `cuts` (m along `line`, oriented u->v)."""
    u, v, k = edge
    data = graph.edges[u, v, k]
    graph.remove_edge(u, v, k)
    total = line.length
    for a, b, start, end in zip(chain, chain[1:], cuts, cuts[1:], strict=False):
        share = (end - start) / total if total > 0 else 0.0
        piece = dict(data)
        piece["length"] = float(data["length"]) * share
        if "travel_time" in data:
            piece["travel_time"] = float(data["travel_time"]) * share
        if "geometry" in data:
            xy = shapely.get_coordinates(substring(line, start, end))
            lon, lat = from_utm(xy[:, 0], xy[:, 1], crs)
            piece["geometry"] = LineString(np.column_stack([lon, lat]))
        graph.add_edge(a, b, **piece)


def _ground_m(point: ServicePoint, node: dict[str, Any]) -> float:
    """Great-circle metres from a point to a graph node (lon `x`, lat `y`)."""
    return great_circle_m(point.lon, point.lat, float(node["x"]), float(node["y"]))
