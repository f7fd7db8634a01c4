"""A deterministic synthetic road network for a county, shaped like an unsimplified OSM graph.

There is no OSM extract for Yongchuan in the repository, so the default network is built from the
service points: trunk roads between the hub and town seats (Gabriel graph; its minimum spanning
tree is national road, the rest provincial, and an expressway spine runs north-south through the
hub), county roads from each seat out to its villages (the seat's minimum spanning tree; branches
carrying three or more villages are county roads, twigs village roads) and village roads between
neighbouring villages. Roads are polylines with a node every few hundred metres and a smooth,
seeded wiggle, so path circuity against the straight line is about 1.2-1.4. Every service point
is a node exactly at its position. Conventions follow osmnx: graph `crs`, node `x`/`y` (lon/lat),
both directions of every road with `length` (m), `highway`, `speed_kph`, `travel_time` (s),
`oneway`, `reversed` and `osmid`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping

import networkx as nx
import numpy as np
import numpy.typing as npt
from scipy.sparse.csgraph import minimum_spanning_tree, shortest_path
from scipy.spatial import Delaunay

from geodata.county import County
from geodata.crs import from_utm, great_circle_m, to_utm, utm_crs_of
from geodata.roadclass import highway_speeds

# Node spacing (m) and wiggle amplitudes (fraction of chord, for sin(pi t), sin(2 pi t), ...)
_SPACING_M = {"motorway": 900.0, "primary": 450.0, "secondary": 450.0}
_DEFAULT_SPACING_M = 350.0
_WIGGLE = {
    "motorway": (0.08, 0.03, 0.0),
    "primary": (0.2, 0.08, 0.04),
    "secondary": (0.22, 0.09, 0.045),
    "tertiary": (0.2, 0.09, 0.045),
    "unclassified": (0.22, 0.1, 0.05),
}
_JITTER = 0.08  # per-node perpendicular noise, fraction of the node spacing
_VILLAGE_LINK_MAX_M = 5000.0  # longest extra village road between neighbouring villages
_BRANCH_MIN_VILLAGES = 3  # an MST branch serving this many villages is a county road

Road = tuple[int, int, str]  # (point index a, point index b, OSM highway tag)


def synthetic_network(
    county: County, speeds_kph: Mapping[str, float] | None = None
) -> nx.MultiDiGraph:
    """Build the county's synthetic road graph; `speeds_kph` overrides class speeds (km/h)."""
    tag_speed = highway_speeds(speeds_kph)
    lons, lats = [p.lon for p in county.points], [p.lat for p in county.points]
    crs = utm_crs_of(lons, lats)
    x, y = to_utm(lons, lats, crs)
    xy = np.column_stack([x, y])
    roads = _roads(county, xy)

    graph = nx.MultiDiGraph(crs="epsg:4326", simplified=False, created_with="ruraldispatch")
    for i, p in enumerate(county.points):
        graph.add_node(i, x=p.lon, y=p.lat)
    next_node = len(county.points)
    for osmid, (a, b, tag) in enumerate(roads, start=1):
        line = _polyline(xy[a], xy[b], tag, seed=(min(a, b), max(a, b)))
        inner_lons, inner_lats = from_utm(line[1:-1, 0], line[1:-1, 1], crs)
        inner = list(range(next_node, next_node + len(inner_lons)))
        next_node += len(inner_lons)
        for node, lon, lat in zip(inner, inner_lons, inner_lats, strict=True):
            graph.add_node(node, x=float(lon), y=float(lat))
        chain = [a, *inner, b]
        speed = tag_speed[tag]
        for u, v in itertools.pairwise(chain):
            length = great_circle_m(
                graph.nodes[u]["x"], graph.nodes[u]["y"], graph.nodes[v]["x"], graph.nodes[v]["y"]
            )
            attrs = {
                "osmid": osmid,
                "highway": tag,
                "oneway": False,
                "length": length,
                "speed_kph": speed,
                "travel_time": length / (speed / 3.6),
            }
            graph.add_edge(u, v, reversed=False, **attrs)
            graph.add_edge(v, u, reversed=True, **attrs)
    return graph


def _roads(county: County, xy: npt.NDArray[np.float64]) -> list[Road]:
    """Road segments between service points, each pair at most once, with their highway tag."""
    seen: set[tuple[int, int]] = set()
    roads: list[Road] = []

    def add(a: int, b: int, tag: str) -> None:
        key = (min(a, b), max(a, b))
        if a != b and key not in seen:
            seen.add(key)
            roads.append((a, b, tag))

    for a, b, tag in _trunk_roads(county, xy):
        add(a, b, tag)
    for a, b, tag in _town_trees(county, xy):
        add(a, b, tag)
    villages = {i for i, p in enumerate(county.points) if p.kind == "village"}
    for a, b in _gabriel(xy, list(range(len(county.points)))):
        both_villages = a in villages and b in villages
        if both_villages and math.dist(xy[a], xy[b]) <= _VILLAGE_LINK_MAX_M:
            add(a, b, "unclassified")
    return roads


def _trunk_roads(county: County, xy: npt.NDArray[np.float64]) -> list[Road]:
    """Hub and seats: Gabriel graph; MST edges primary, others secondary, motorway spine N-S."""
    seats = [i for i, p in enumerate(county.points) if p.kind in ("hub", "station")]
    edges = _gabriel(xy, seats)
    n = len(xy)
    weights = np.zeros((n, n))
    for a, b in edges:
        weights[a, b] = weights[b, a] = math.dist(xy[a], xy[b])
    mst = minimum_spanning_tree(weights).toarray()
    hub = next(i for i, p in enumerate(county.points) if p.kind == "hub")
    north = max(seats, key=lambda i: xy[i, 1])
    south = min(seats, key=lambda i: xy[i, 1])
    _, pred = shortest_path(weights, directed=False, indices=hub, return_predecessors=True)
    spine: set[tuple[int, int]] = set()
    for end in (north, south):
        node = end
        while node != hub:
            parent = int(pred[node])
            spine.add((min(node, parent), max(node, parent)))
            node = parent
    roads: list[Road] = []
    for a, b in edges:
        if (a, b) in spine:
            tag = "motorway"
        elif mst[a, b] > 0 or mst[b, a] > 0:
            tag = "primary"
        else:
            tag = "secondary"
        roads.append((a, b, tag))
    return roads


def _town_trees(county: County, xy: npt.NDArray[np.float64]) -> list[Road]:
    """Per town, the minimum spanning tree of its seat and villages, rooted at the seat."""
    roads: list[Road] = []
    for seat, station in enumerate(county.points):
        if station.kind != "station":
            continue
        members = [seat] + [
            i
            for i, p in enumerate(county.points)
            if p.kind == "village" and p.town_id == station.point_id
        ]
        sub = xy[members]
        dist = np.hypot(sub[:, None, 0] - sub[None, :, 0], sub[:, None, 1] - sub[None, :, 1])
        tree = minimum_spanning_tree(dist).toarray()
        adjacency = (tree + tree.T) > 0
        _, pred = shortest_path(adjacency, directed=False, indices=0, return_predecessors=True)
        served = np.ones(len(members), dtype=int)
        depth = [_depth(pred, k) for k in range(len(members))]
        for k in sorted(range(1, len(members)), key=lambda k: -depth[k]):
            served[pred[k]] += served[k]
        for k in range(1, len(members)):
            parent = int(pred[k])
            county_road = parent == 0 or served[k] >= _BRANCH_MIN_VILLAGES
            roads.append(
                (members[parent], members[k], "tertiary" if county_road else "unclassified")
            )
    return roads


def _depth(pred: npt.NDArray[np.int32], k: int) -> int:
    """Hops from node k to the root of a predecessor tree."""
    hops = 0
    while pred[k] >= 0:
        k = int(pred[k])
        hops += 1
    return hops


def _gabriel(xy: npt.NDArray[np.float64], subset: list[int]) -> list[tuple[int, int]]:
    """Gabriel-graph edges (i < j, indices into xy) among the subset's points."""
    pts = xy[subset]
    if len(subset) < 3:
        return [(subset[0], subset[1])] if len(subset) == 2 else []
    tri = Delaunay(pts, qhull_options="QJ")  # joggle: coincident or collinear points stay vertices
    pairs: set[tuple[int, int]] = set()
    for simplex in tri.simplices:
        for i in range(3):
            a, b = sorted((int(simplex[i]), int(simplex[(i + 1) % 3])))
            pairs.add((a, b))
    edges: list[tuple[int, int]] = []
    for a, b in sorted(pairs):
        centre = (pts[a] + pts[b]) / 2.0
        radius2 = float(np.sum((pts[a] - centre) ** 2))
        inside = np.sum((pts - centre) ** 2, axis=1) < radius2 - 1e-6
        inside[[a, b]] = False
        if not inside.any():
            edges.append((subset[a], subset[b]))
    return edges


def _polyline(
    start: npt.NDArray[np.float64], end: npt.NDArray[np.float64], tag: str, seed: tuple[int, int]
) -> npt.NDArray[np.float64]:
    """Projected polyline from start to end: smooth seeded wiggle plus small per-node noise."""
    rng = np.random.default_rng(seed)
    chord = end - start
    length = float(np.hypot(*chord))
    if length < 1.0:
        return np.vstack([start, end])
    spacing = _SPACING_M.get(tag, _DEFAULT_SPACING_M)
    segments = max(1, math.ceil(length / spacing))
    t = np.linspace(0.0, 1.0, segments + 1)
    normal = np.array([-chord[1], chord[0]]) / length
    offset = np.zeros_like(t)
    for k, amplitude in enumerate(_WIGGLE[tag], start=1):
        offset += length * rng.uniform(-amplitude, amplitude) * np.sin(k * math.pi * t)
    noise = rng.uniform(-_JITTER, _JITTER, size=t.shape) * (length / segments)
    noise[[0, -1]] = 0.0
    offset += noise
    return start + t[:, None] * chord + offset[:, None] * normal
