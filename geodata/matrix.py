"""Travel-time and distance matrices between service points, and road polylines between them.

All compiled: the graph becomes a CSR matrix of edge times once per profile, scipy's Dijkstra runs
from every point's node at once, and the length along each fastest path is summed over the
shortest-path trees by pointer jumping (log2(depth) vectorised steps). Results are cached in memory
and on disk (`$RURALDISPATCH_CACHE`, default `~/.cache/ruraldispatch`; empty string disables it).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from geodata.cache import cache_folder, write_atomic
from geodata.network import RoadNetwork

_CACHE_FORMAT = "travel-matrix-v2"
_MEMORY_ENTRIES = 16
_ROUTING_ENTRIES = 4
_CHUNK_CELLS = 4_000_000  # sources x nodes per Dijkstra batch, bounds memory on large graphs
_MIN_EDGE_S = 1e-6  # zero-length edges still count as edges in the CSR matrix
#: Speed (km/h, before the profile's factor and cap) on the access from a point to the road
#: node it is snapped to: a yard or lane the network does not hold.
ACCESS_KPH = 20.0

IntMatrix = npt.NDArray[np.int64]


@dataclass(frozen=True)
class TravelProfile:
    """How a vehicle class drives: edge speed x `speed_factor`, capped at `max_speed_kph`."""

    speed_factor: float = 1.0
    max_speed_kph: float | None = None

    def __post_init__(self) -> None:
        if not self.speed_factor > 0:
            raise ValueError(f"speed_factor must be > 0, got {self.speed_factor!r}")
        if self.max_speed_kph is not None and not self.max_speed_kph > 0:
            raise ValueError(f"max_speed_kph must be > 0 km/h, got {self.max_speed_kph!r}")


@dataclass
class TravelMatrix:
    """`distance_m[i, j]` (m) and `duration_s[i, j]` (s) along the fastest path from i to j.

    Both include the straight access from each point to the road node it is snapped to, so a
    distance is never shorter than the straight line between the two points.
    """

    distance_m: IntMatrix
    duration_s: IntMatrix


@dataclass(frozen=True)
class _Routing:
    """The graph as a CSR time matrix for one profile, plus per-edge lookups by (u, v)."""

    node_ids: list[Any]
    index: dict[Any, int]
    times: csr_matrix  # seconds, fastest parallel edge only
    pair_keys: npt.NDArray[np.int64]  # sorted u * n + v of the kept edges
    lengths: npt.NDArray[np.float64]  # metres, aligned with pair_keys
    edge_keys: list[Any]  # multigraph key of the kept edge, aligned with pair_keys


_memory: OrderedDict[str, TravelMatrix] = OrderedDict()
_routings: OrderedDict[str, _Routing] = OrderedDict()


def clear_memory_cache() -> None:
    """Forget in-memory matrices and routing tables (the disk cache is left alone)."""
    _memory.clear()
    _routings.clear()


def travel_matrix(net: RoadNetwork, profile: TravelProfile = TravelProfile()) -> TravelMatrix:
    """Matrix over `net.points` for `profile`, from cache when the same network was seen before.

    ValueError if some point cannot reach another (graph not strongly connected).
    """
    key = _key(net, profile)
    if key in _memory:
        _memory.move_to_end(key)
        return _memory[key]
    n = len(net.points)
    matrix = _read_disk(key, n)
    if matrix is None:
        matrix = _compute(net, profile)
        _write_disk(key, matrix)
    for array in (matrix.distance_m, matrix.duration_s):
        array.flags.writeable = False
    _memory[key] = matrix
    while len(_memory) > _MEMORY_ENTRIES:
        _memory.popitem(last=False)
    return matrix


def road_path(
    net: RoadNetwork, point_sequence: list[int], profile: TravelProfile = TravelProfile()
) -> list[tuple[float, float]]:
    """Lon/lat polyline along the fastest roads visiting the points (indices) in order."""
    routing = _routing(net, profile)
    graph = net.graph
    coords: list[tuple[float, float]] = []

    def add(lon: float, lat: float) -> None:
        if not coords or coords[-1] != (lon, lat):
            coords.append((lon, lat))

    def add_node(node: Any) -> None:
        add(float(graph.nodes[node]["x"]), float(graph.nodes[node]["y"]))

    trees: dict[int, npt.NDArray[np.int32]] = {}
    for leg, point in enumerate(point_sequence):
        add(net.points[point].lon, net.points[point].lat)
        add_node(net.point_nodes[point])
        if leg + 1 == len(point_sequence):
            break
        source = routing.index[net.point_nodes[point]]
        target = routing.index[net.point_nodes[point_sequence[leg + 1]]]
        if source not in trees:
            trees[source] = dijkstra(routing.times, indices=source, return_predecessors=True)[1]
        for u, v in _walk(trees[source], source, target):
            for lon, lat in _edge_coords(net, routing, u, v):
                add(lon, lat)
    return coords


def _walk(pred: npt.NDArray[np.int32], source: int, target: int) -> list[tuple[int, int]]:
    """Edges (node indices) of the tree path from source to target."""
    edges: list[tuple[int, int]] = []
    node = target
    while node != source:
        parent = int(pred[node])
        if parent < 0:
            raise ValueError(f"no road path from node index {source} to {target}")
        edges.append((parent, node))
        node = parent
    return edges[::-1]


def _edge_coords(net: RoadNetwork, routing: _Routing, u: int, v: int) -> list[tuple[float, float]]:
    """Coordinates of the chosen u->v edge: its `geometry` if it has one, else its end nodes."""
    n = len(routing.node_ids)
    position = int(np.searchsorted(routing.pair_keys, u * n + v))
    node_u, node_v = routing.node_ids[u], routing.node_ids[v]
    data = net.graph.edges[node_u, node_v, routing.edge_keys[position]]
    start = (float(net.graph.nodes[node_u]["x"]), float(net.graph.nodes[node_u]["y"]))
    end = (float(net.graph.nodes[node_v]["x"]), float(net.graph.nodes[node_v]["y"]))
    geometry = data.get("geometry")
    if geometry is None:
        return [start, end]
    line = [(float(x), float(y)) for x, y in geometry.coords]
    gap_start = (line[0][0] - start[0]) ** 2 + (line[0][1] - start[1]) ** 2
    gap_end = (line[-1][0] - start[0]) ** 2 + (line[-1][1] - start[1]) ** 2
    return line if gap_start <= gap_end else line[::-1]


def _compute(net: RoadNetwork, profile: TravelProfile) -> TravelMatrix:
    routing = _routing(net, profile)
    n_nodes = len(routing.node_ids)
    targets = np.array([routing.index[node] for node in net.point_nodes], dtype=np.int64)
    sources, row_of = np.unique(targets, return_inverse=True)
    chunk = max(1, _CHUNK_CELLS // max(n_nodes, 1))
    times: list[npt.NDArray[np.float64]] = []
    lengths: list[npt.NDArray[np.float64]] = []
    for start in range(0, len(sources), chunk):
        batch = sources[start : start + chunk]
        time, pred = dijkstra(routing.times, indices=batch, return_predecessors=True)
        times.append(time[:, targets])
        lengths.append(_tree_lengths(pred, routing)[:, targets])
    duration = np.vstack(times)[row_of] if times else np.zeros((0, 0))
    distance = np.vstack(lengths)[row_of] if lengths else np.zeros((0, 0))
    unreachable = np.argwhere(~np.isfinite(duration))
    if len(unreachable):
        i, j = (int(k) for k in unreachable[0])
        raise ValueError(
            f"point {net.points[j].point_id} cannot be reached from {net.points[i].point_id}"
            f" ({len(unreachable)} unreachable pairs): the road graph is not strongly connected"
        )
    snap = np.asarray(net.snap_m, dtype=np.float64)
    access = snap[:, None] + snap[None, :]
    np.fill_diagonal(access, 0.0)
    kph = ACCESS_KPH * profile.speed_factor
    if profile.max_speed_kph is not None:
        kph = min(kph, profile.max_speed_kph)
    return TravelMatrix(
        distance_m=np.rint(distance + access).astype(np.int64),
        duration_s=np.rint(duration + access / (kph / 3.6)).astype(np.int64),
    )


def _tree_lengths(pred: npt.NDArray[np.int32], routing: _Routing) -> npt.NDArray[np.float64]:
    """Metres from each row's source to every node along its shortest-path tree."""
    rows, n = pred.shape
    nodes = np.broadcast_to(np.arange(n, dtype=np.int64), (rows, n))
    has_parent = pred >= 0
    step = np.zeros((rows, n))
    pair = pred[has_parent].astype(np.int64) * n + nodes[has_parent]
    step[has_parent] = routing.lengths[np.searchsorted(routing.pair_keys, pair)]
    ancestor = np.where(has_parent, pred, nodes)  # roots and unreachable nodes point to themselves
    total = step
    while True:
        next_ancestor = np.take_along_axis(ancestor, ancestor, axis=1)
        if np.array_equal(next_ancestor, ancestor):
            return total
        total = total + np.take_along_axis(total, ancestor, axis=1)
        ancestor = next_ancestor


def _routing(net: RoadNetwork, profile: TravelProfile) -> _Routing:
    key = _key(net, profile)
    if key in _routings:
        _routings.move_to_end(key)
        return _routings[key]
    routing = _build_routing(net, profile)
    _routings[key] = routing
    while len(_routings) > _ROUTING_ENTRIES:
        _routings.popitem(last=False)
    return routing


def _build_routing(net: RoadNetwork, profile: TravelProfile) -> _Routing:
    """CSR of edge times (s) = length / min(speed x factor, cap), fastest parallel edge kept."""
    graph = net.graph
    node_ids = list(graph.nodes)
    index = {node: i for i, node in enumerate(node_ids)}
    n_edges = graph.number_of_edges()
    u = np.empty(n_edges, dtype=np.int64)
    v = np.empty(n_edges, dtype=np.int64)
    length = np.empty(n_edges)
    speed = np.empty(n_edges)
    keys: list[Any] = []
    for e, (a, b, k, data) in enumerate(graph.edges(keys=True, data=True)):
        u[e], v[e], length[e] = index[a], index[b], float(data["length"])
        speed[e] = _edge_speed(a, b, data)
        keys.append(k)
    kph = speed * profile.speed_factor
    if profile.max_speed_kph is not None:
        kph = np.minimum(kph, profile.max_speed_kph)
    time = np.maximum(length / (kph / 3.6), _MIN_EDGE_S)
    n = len(node_ids)
    pair = u * n + v
    order = np.lexsort((time, pair))
    order = order[u[order] != v[order]]  # self-loops never help
    first = np.ones(len(order), dtype=bool)
    first[1:] = pair[order][1:] != pair[order][:-1]
    kept = order[first]
    times = csr_matrix((time[kept], (u[kept], v[kept])), shape=(n, n))
    return _Routing(
        node_ids=node_ids,
        index=index,
        times=times,
        pair_keys=pair[kept],
        lengths=length[kept],
        edge_keys=[keys[e] for e in kept],
    )


def _edge_speed(a: Any, b: Any, data: dict[str, Any]) -> float:
    """km/h of one edge from `speed_kph`, or from `length` / `travel_time`."""
    if "speed_kph" in data:
        return float(data["speed_kph"])
    if data.get("travel_time"):
        return float(data["length"]) / float(data["travel_time"]) * 3.6
    raise ValueError(f"edge {a}->{b} has neither speed_kph nor travel_time")


def _key(net: RoadNetwork, profile: TravelProfile) -> str:
    text = f"{_CACHE_FORMAT}|{net.fingerprint()}|{profile.speed_factor!r}|{profile.max_speed_kph!r}"
    return hashlib.sha256(text.encode()).hexdigest()


def _cache_dir() -> Path | None:
    """Disk cache folder, or None when `RURALDISPATCH_CACHE` is set to an empty string."""
    return cache_folder("matrix")


def _read_disk(key: str, n: int) -> TravelMatrix | None:
    folder = _cache_dir()
    path = folder / f"{key}.npz" if folder else None
    if path is None or not path.is_file():
        return None
    try:
        with np.load(path) as data:
            distance = np.asarray(data["distance_m"], dtype=np.int64)
            duration = np.asarray(data["duration_s"], dtype=np.int64)
    except (OSError, ValueError, KeyError):
        return None  # unreadable cache entry: recompute and overwrite it
    if distance.shape != (n, n) or duration.shape != (n, n):
        return None
    return TravelMatrix(distance_m=distance, duration_s=duration)


def _write_disk(key: str, matrix: TravelMatrix) -> None:
    """Atomic write (temp file + rename); a read-only or missing cache folder is not an error."""
    folder = _cache_dir()
    if folder is None:
        return
    distance, duration = matrix.distance_m, matrix.duration_s
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(
            folder / f"{key}.npz",
            lambda handle: np.savez(handle, distance_m=distance, duration_s=duration),
        )
