"""Travel-time and distance matrices between service points, and road polylines between them.

All compiled: the graph becomes a CSR matrix of edge times once per profile, scipy's Dijkstra runs
from every point's node at once, and the length along each fastest path is summed over the
shortest-path trees by pointer jumping (log2(depth) vectorised steps). Results are cached in memory
and on disk (`$RURALDISPATCH_CACHE`, default `~/.cache/ruraldispatch`; empty string disables it).

A network with closed edges (geodata.closures) starts from its open network's matrix and
recomputes only the rows whose fastest paths may use a closed edge; a pair with no open road
between them is UNREACHABLE (in seconds and metres), never an error.
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
_ROUTING_ENTRIES = 8  # open and closed networks, a few profiles each
_CHUNK_CELLS = 4_000_000  # sources x nodes per Dijkstra batch, bounds memory on large graphs
_MIN_EDGE_S = 1e-6  # zero-length edges still count as edges in the CSR matrix
#: Speed (km/h, before the profile's factor and cap) on the access from a point to the road
#: node it is snapped to: a yard or lane the network does not hold.
ACCESS_KPH = 20.0
#: Travel time (s) and distance (m) between two points with no open road between them: a
#: closure cut one of them off. Larger than any day.
UNREACHABLE = 1_000_000_000
#: A path is taken to use a closed edge when going over it is at most this much slower (s)
#: than the fastest path (the open matrix is rounded to whole seconds).
_TIGHT_S = 1.0

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
    edge_times: npt.NDArray[np.float64]  # seconds, aligned with pair_keys
    edge_keys: list[Any]  # multigraph key of the kept edge, aligned with pair_keys


_memory: OrderedDict[str, TravelMatrix] = OrderedDict()
_routings: OrderedDict[str, _Routing] = OrderedDict()
_edge_arrays: OrderedDict[str, _Edges] = OrderedDict()


def clear_memory_cache() -> None:
    """Forget in-memory matrices and routing tables (the disk cache is left alone)."""
    _memory.clear()
    _routings.clear()
    _edge_arrays.clear()


def travel_matrix(net: RoadNetwork, profile: TravelProfile = TravelProfile()) -> TravelMatrix:
    """Matrix over `net.points` for `profile`, from cache when the same network was seen before.

    ValueError if some point cannot reach another on an open network (graph not strongly
    connected); on a network with closed edges such pairs are UNREACHABLE.
    """
    key = _key(net, profile)
    if key in _memory:
        _memory.move_to_end(key)
        return _memory[key]
    n = len(net.points)
    matrix = _closed_matrix(net, profile) if net.base is not None else _read_disk(key, n)
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
    duration, distance = _rows(net, routing, np.arange(len(net.points)))
    unreachable = np.argwhere(~np.isfinite(duration))
    if len(unreachable):
        i, j = (int(k) for k in unreachable[0])
        raise ValueError(
            f"point {net.points[j].point_id} cannot be reached from {net.points[i].point_id}"
            f" ({len(unreachable)} unreachable pairs): the road graph is not strongly connected"
        )
    return _with_access(net, profile, np.arange(len(net.points)), duration, distance)


def _rows(
    net: RoadNetwork, routing: _Routing, rows: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Seconds and metres along the fastest paths from the points `rows` to every point,
    node to node (inf where there is no path)."""
    n_nodes = len(routing.node_ids)
    targets = np.array([routing.index[node] for node in net.point_nodes], dtype=np.int64)
    sources, row_of = np.unique(targets[rows], return_inverse=True)
    chunk = max(1, _CHUNK_CELLS // max(n_nodes, 1))
    times: list[npt.NDArray[np.float64]] = []
    lengths: list[npt.NDArray[np.float64]] = []
    for start in range(0, len(sources), chunk):
        batch = sources[start : start + chunk]
        time, pred = dijkstra(routing.times, indices=batch, return_predecessors=True)
        times.append(time[:, targets])
        lengths.append(_tree_lengths(pred, routing)[:, targets])
    width = len(net.points)
    duration = np.vstack(times)[row_of] if times else np.zeros((0, width))
    distance = np.vstack(lengths)[row_of] if lengths else np.zeros((0, width))
    return duration, distance


def _access(net: RoadNetwork, profile: TravelProfile) -> tuple[npt.NDArray[np.float64], float]:
    """Metres from each point to its road node and back to the other's (0 on the diagonal),
    and the access speed (m/s) of the profile."""
    snap = np.asarray(net.snap_m, dtype=np.float64)
    access = snap[:, None] + snap[None, :]
    np.fill_diagonal(access, 0.0)
    kph = ACCESS_KPH * profile.speed_factor
    if profile.max_speed_kph is not None:
        kph = min(kph, profile.max_speed_kph)
    return access, kph / 3.6


def _with_access(
    net: RoadNetwork,
    profile: TravelProfile,
    rows: npt.NDArray[np.int64],
    duration: npt.NDArray[np.float64],
    distance: npt.NDArray[np.float64],
) -> TravelMatrix:
    """Whole seconds and metres of the rows, access included; UNREACHABLE where no path."""
    access, speed = _access(net, profile)
    reach = np.isfinite(duration)
    seconds = np.where(reach, duration + access[rows] / speed, UNREACHABLE)
    metres = np.where(reach, distance + access[rows], UNREACHABLE)
    return TravelMatrix(
        distance_m=np.rint(metres).astype(np.int64),
        duration_s=np.rint(seconds).astype(np.int64),
    )


@dataclass(frozen=True)
class Recompute:
    """What a closure makes the matrix recompute: whole rows (from these points, one forward
    Dijkstra each) and whole columns (to these points, one backward Dijkstra each)."""

    rows: list[int]
    columns: list[int]


def affected(net: RoadNetwork, profile: TravelProfile = TravelProfile()) -> Recompute:
    """The rows and columns of the matrix that the edges `net` closes may change.

    An edge u->v is on a fastest path from i to j when going i -> u -> v -> j is at most
    _TIGHT_S slower than the fastest i -> j on the open network; no other pair can change when
    the edge closes. Costs one Dijkstra per end of a closed edge; the pairs found are then
    covered greedily by the rows or columns that hold most of them.
    """
    n = len(net.points)
    if net.base is None or not net.closed:
        return Recompute([], [])
    base = travel_matrix(net.base, profile)
    before = _routing(net.base, profile)
    after = _routing(net, profile)
    n_nodes = len(before.node_ids)
    at = np.minimum(np.searchsorted(after.pair_keys, before.pair_keys), len(after.pair_keys) - 1)
    kept = after.pair_keys[at] == before.pair_keys if len(after.pair_keys) else np.zeros(0, bool)
    slower = kept & (after.edge_times[at] > before.edge_times + 1e-9)
    changed = ~kept | slower
    tails = before.pair_keys[changed] // n_nodes
    heads = before.pair_keys[changed] % n_nodes
    over = before.edge_times[changed]
    if len(over) == 0:
        return Recompute([], [])
    if len(np.unique(tails)) + len(np.unique(heads)) >= n:
        return Recompute(list(range(n)), [])  # as many searches as recomputing every row
    targets = np.array([before.index[node] for node in net.point_nodes], dtype=np.int64)
    tail_ids, tail_row = np.unique(tails, return_inverse=True)
    head_ids, head_row = np.unique(heads, return_inverse=True)
    to_tail = dijkstra(before.times.T.tocsr(), indices=tail_ids)[:, targets]  # point -> u
    from_head = dijkstra(before.times, indices=head_ids)[:, targets]  # v -> point
    access, speed = _access(net, profile)
    fastest = base.duration_s - access / speed + _TIGHT_S  # node to node, within rounding
    hit = np.zeros((n, n), dtype=bool)
    for e in range(len(over)):
        hit |= to_tail[tail_row[e]][:, None] + over[e] + from_head[head_row[e]][None, :] <= fastest
    return _cover(hit)


def _cover(hit: npt.NDArray[np.bool_]) -> Recompute:
    """Rows and columns covering every True cell, taking the fullest line first."""
    hit = hit.copy()
    rows: list[int] = []
    columns: list[int] = []
    while hit.any():
        per_row, per_column = hit.sum(axis=1), hit.sum(axis=0)
        i, j = int(per_row.argmax()), int(per_column.argmax())
        if per_row[i] >= per_column[j]:
            rows.append(i)
            hit[i, :] = False
        else:
            columns.append(j)
            hit[:, j] = False
    return Recompute(sorted(rows), sorted(columns))


def full_matrix(net: RoadNetwork, profile: TravelProfile = TravelProfile()) -> TravelMatrix:
    """Every row computed from scratch, uncached, UNREACHABLE where there is no path: what
    `travel_matrix` of a network with closed edges saves (benchmarks, tests)."""
    rows = np.arange(len(net.points))
    seconds, metres = _rows(net, _build_routing(net, profile), rows)
    return _with_access(net, profile, rows, seconds, metres)


def _closed_matrix(net: RoadNetwork, profile: TravelProfile) -> TravelMatrix:
    """The open network's matrix with the rows and columns closed edges may change
    recomputed."""
    assert net.base is not None
    base = travel_matrix(net.base, profile)
    distance = np.array(base.distance_m, dtype=np.int64)
    duration = np.array(base.duration_s, dtype=np.int64)
    todo = affected(net, profile)
    routing = _routing(net, profile)
    if todo.rows:
        rows = np.asarray(todo.rows, dtype=np.int64)
        seconds, metres = _rows(net, routing, rows)
        fresh = _with_access(net, profile, rows, seconds, metres)
        distance[rows] = fresh.distance_m
        duration[rows] = fresh.duration_s
    if todo.columns:
        columns = np.asarray(todo.columns, dtype=np.int64)
        seconds, metres = _rows(net, _reversed(routing), columns)
        fresh = _with_access(net, profile, columns, seconds, metres)  # access is symmetric
        distance[:, columns] = fresh.distance_m.T
        duration[:, columns] = fresh.duration_s.T
    return TravelMatrix(distance_m=distance, duration_s=duration)


def _reversed(routing: _Routing) -> _Routing:
    """The routing of the reversed graph: its shortest-path trees run towards a point."""
    n = len(routing.node_ids)
    flipped = (routing.pair_keys % n) * n + routing.pair_keys // n
    order = np.argsort(flipped)
    return _Routing(
        node_ids=routing.node_ids,
        index=routing.index,
        times=routing.times.T.tocsr(),
        pair_keys=flipped[order],
        lengths=routing.lengths[order],
        edge_times=routing.edge_times[order],
        edge_keys=[routing.edge_keys[k] for k in order],
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


@dataclass(frozen=True)
class _Edges:
    """A graph's edges as arrays (node indices, metres, km/h), read once per open network."""

    node_ids: list[Any]
    index: dict[Any, int]
    u: npt.NDArray[np.int64]
    v: npt.NDArray[np.int64]
    length: npt.NDArray[np.float64]
    speed: npt.NDArray[np.float64]
    keys: list[Any]
    position: dict[tuple[Any, Any, Any], int]  # (u, v, key) -> row


def _edges(net: RoadNetwork) -> _Edges:
    """The edge arrays of the open network under `net` (cached: closures share them)."""
    base = net.base or net
    key = base.fingerprint()
    if key in _edge_arrays:
        _edge_arrays.move_to_end(key)
        return _edge_arrays[key]
    graph = base.graph
    node_ids = list(graph.nodes)
    index = {node: i for i, node in enumerate(node_ids)}
    n_edges = graph.number_of_edges()
    u = np.empty(n_edges, dtype=np.int64)
    v = np.empty(n_edges, dtype=np.int64)
    length = np.empty(n_edges)
    speed = np.empty(n_edges)
    keys: list[Any] = []
    position: dict[tuple[Any, Any, Any], int] = {}
    for e, (a, b, k, data) in enumerate(graph.edges(keys=True, data=True)):
        u[e], v[e], length[e] = index[a], index[b], float(data["length"])
        speed[e] = _edge_speed(a, b, data)
        keys.append(k)
        position[(a, b, k)] = e
    edges = _Edges(node_ids, index, u, v, length, speed, keys, position)
    _edge_arrays[key] = edges
    while len(_edge_arrays) > _ROUTING_ENTRIES:
        _edge_arrays.popitem(last=False)
    return edges


def _build_routing(net: RoadNetwork, profile: TravelProfile) -> _Routing:
    """CSR of edge times (s) = length / min(speed x factor, cap), fastest parallel edge kept;
    closed edges left out."""
    edges = _edges(net)
    u, v, length = edges.u, edges.v, edges.length
    open_edge = np.ones(len(u), dtype=bool)
    if net.closed:
        open_edge[[edges.position[e] for e in net.closed]] = False
    kph = edges.speed * profile.speed_factor
    if profile.max_speed_kph is not None:
        kph = np.minimum(kph, profile.max_speed_kph)
    time = np.maximum(length / (kph / 3.6), _MIN_EDGE_S)
    n = len(edges.node_ids)
    pair = u * n + v
    order = np.lexsort((time, pair))
    order = order[(u[order] != v[order]) & open_edge[order]]  # self-loops never help
    first = np.ones(len(order), dtype=bool)
    first[1:] = pair[order][1:] != pair[order][:-1]
    kept = order[first]
    times = csr_matrix((time[kept], (u[kept], v[kept])), shape=(n, n))
    return _Routing(
        node_ids=edges.node_ids,
        index=edges.index,
        times=times,
        pair_keys=pair[kept],
        lengths=length[kept],
        edge_times=time[kept],
        edge_keys=[edges.keys[e] for e in kept],
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
