"""OpenStreetMap extracts (.osm.pbf, .osm) read with pyosmium: the drivable roads as a graph.

The only module that imports `osmium` (at first use). Only drivable ways are read (highway tags
of `roadclass.HIGHWAY_CLASS`, not closed to motor vehicles); node locations come from the
file. Extracts as delivered are clipped: a way whose nodes are missing from the file is cut
there and its pieces inside are kept; with a `clip` polygon (the county outline plus a margin)
ways are cut at its edge too. How many ways were cut is kept in the graph attributes
`ways_cut` (at the file's edge) and `ways_clipped` (at the clip polygon). The graph is reduced
to intersections (and way ends) with the bends as edge geometry, then to its largest strongly
connected component. Speeds: the class speed by highway tag, capped by a lower `maxspeed`.
One-way: `oneway=yes|true|1|-1|reverse`, roundabouts, motorways (implied unless `oneway=no`).

The table read from a file is cached on disk (`$RURALDISPATCH_CACHE/roads`), keyed by the
SHA-256 of the file, the clip polygon and the speeds, so the second start skips the parse.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry.base import BaseGeometry

from geodata.cache import cache_folder
from geodata.crs import great_circle_m
from geodata.road_table import RoadTable
from geodata.roadclass import HIGHWAY_CLASS, highway_speeds

#: File name endings read by this module.
SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz")
_CACHE_FORMAT = "extract-v1"  # bump when the table changes
_UNDEFINED = 2_147_483_647  # osmium's x/y of a node location missing from the file
_TAGS = sorted(HIGHWAY_CLASS)
_ONEWAY_YES = {"yes", "true", "1"}
_ONEWAY_REVERSE = {"-1", "reverse"}
_CLOSED = {"no", "private"}
_OPEN = {"yes", "designated", "permissive", "destination", "delivery"}
_SKIPPED_SERVICE = {"parking_aisle", "emergency_access"}
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
IntArray = npt.NDArray[np.int64]


def is_extract(path: Path) -> bool:
    """True when the file name says OSM data this module reads."""
    return str(path).lower().endswith(SUFFIXES)


def load_extract(
    path: Path,
    speeds_kph: Mapping[str, float] | None = None,
    clip: BaseGeometry | None = None,
) -> nx.MultiDiGraph:
    """The drivable road graph of an OSM extract, from the disk cache when seen before.

    `clip`: a WGS-84 polygon the roads are cut to (None: the whole file). ValueError on an
    unreadable file or one without drivable roads (inside the clip polygon).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such road file")
    tag_speed = highway_speeds(speeds_kph)
    key = _cache_key(path, tag_speed, clip)
    folder = cache_folder("roads")
    table = RoadTable.load(folder / f"{key}.npz") if folder else None
    if table is None:
        table = read_extract(path, tag_speed, clip)
        if folder is not None:
            with contextlib.suppress(OSError):  # a read-only or full cache folder is no error
                table.save(folder / f"{key}.npz")
    return table.to_graph()


def read_extract(
    path: Path, tag_speed: Mapping[str, float], clip: BaseGeometry | None = None
) -> RoadTable:
    """Parse the file (no cache): drivable ways, cut, reduced to the largest strong component.

    `tag_speed`: km/h per drivable highway tag.
    """
    ways = _read_ways(path)
    if not ways.osmid:
        raise ValueError(f"{path}: no drivable roads (highway tags {', '.join(_TAGS)})")
    table = _table(ways, tag_speed, clip)
    if len(table.edge_u) == 0:
        where = " inside the county outline and its margin" if clip is not None else ""
        raise ValueError(f"{path}: no connected drivable roads{where}")
    return table


@dataclass
class _Ways:
    """Drivable ways as flat lists: way i's nodes are entries start[i]:start[i + 1]."""

    osmid: list[int] = field(default_factory=list)
    tag: list[int] = field(default_factory=list)
    oneway: list[int] = field(default_factory=list)  # 1 forward, -1 backward, 0 both
    maxspeed: list[float] = field(default_factory=list)  # km/h, nan if not given
    start: list[int] = field(default_factory=lambda: [0])
    ref: list[int] = field(default_factory=list)
    x: list[int] = field(default_factory=list)  # lon x 1e7, _UNDEFINED if missing
    y: list[int] = field(default_factory=list)


def _read_ways(path: Path) -> _Ways:
    """Every drivable way with its node ids and locations (one pass, locations in memory)."""
    import osmium

    tag_index = {t: i for i, t in enumerate(_TAGS)}
    ways = _Ways()
    try:
        processor = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations("flex_mem")
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.TagFilter(*(("highway", t) for t in _TAGS)))
        )
        way: Any
        for way in processor:
            tags = way.tags
            if not _drivable(tags):
                continue
            nodes = [(n.ref, n.x, n.y) for n in way.nodes]
            if len(nodes) < 2:
                continue
            highway = str(tags.get("highway", ""))
            ways.osmid.append(way.id)
            ways.tag.append(tag_index[highway])
            ways.oneway.append(_oneway(highway, tags))
            ways.maxspeed.append(_maxspeed(str(tags.get("maxspeed", ""))))
            refs, xs, ys = zip(*nodes, strict=True)
            ways.ref.extend(refs)
            ways.x.extend(xs)
            ways.y.extend(ys)
            ways.start.append(len(ways.ref))
    except RuntimeError as exc:  # osmium's parse errors (bad XML, truncated PBF, ...)
        raise ValueError(f"{path}: cannot read OSM data ({exc})") from exc
    return ways


def _drivable(tags: Any) -> bool:
    """False for ways closed to motor vehicles, areas, parking aisles and emergency accesses."""
    if tags.get("area", "no") == "yes" or tags.get("service", "") in _SKIPPED_SERVICE:
        return False
    for key in ("motor_vehicle", "motorcar", "vehicle"):
        value = tags.get(key, "")
        if value in _OPEN:
            return True
        if value in _CLOSED:
            return False
    return tags.get("access", "yes") not in _CLOSED


def _oneway(highway: str, tags: Any) -> int:
    value = tags.get("oneway", "")
    if value in _ONEWAY_YES:
        return 1
    if value in _ONEWAY_REVERSE:
        return -1
    if value == "no":
        return 0
    if tags.get("junction", "") in ("roundabout", "circular") or highway == "motorway":
        return 1
    return 0


def _maxspeed(text: str) -> float:
    """km/h of an OSM maxspeed value ("50", "30 mph", "50;70" -> the first); nan if none."""
    match = _NUMBER.search(text.split(";")[0])
    if match is None:
        return math.nan
    kph = float(match.group()) * (1.609344 if "mph" in text else 1.0)
    return kph if kph > 0 else math.nan


def _table(ways: _Ways, tag_speed: Mapping[str, float], clip: BaseGeometry | None) -> RoadTable:
    """Cut the ways, reduce them to intersections, keep the largest strong component."""
    start = np.asarray(ways.start, dtype=np.int64)
    way_of = np.repeat(np.arange(len(ways.osmid)), np.diff(start))
    ref = np.asarray(ways.ref, dtype=np.int64)
    x = np.asarray(ways.x, dtype=np.int64)
    present = x != _UNDEFINED
    lon = np.where(present, x, 0) / 1e7
    lat = np.where(present, np.asarray(ways.y, dtype=np.int64), 0) / 1e7
    keep = present.copy()
    stats = {"ways": len(ways.osmid), "ways_cut": _ways_with(~present, way_of, len(ways.osmid))}
    if clip is not None:
        shapely.prepare(clip)
        inside = np.zeros(len(ref), dtype=bool)
        inside[present] = shapely.contains_xy(clip, lon[present], lat[present])
        partly = _ways_with(inside, way_of, len(ways.osmid), mask=True)
        outside = _ways_with(present & ~inside, way_of, len(ways.osmid), mask=True)
        stats["ways_clipped"] = int(np.count_nonzero(partly & outside))
        keep &= inside
    else:
        stats["ways_clipped"] = 0
    # Segment i joins entries i and i + 1 of the same way, both kept.
    segment = keep[:-1] & keep[1:] & (way_of[:-1] == way_of[1:])
    used = np.zeros(len(ref), dtype=bool)
    used[:-1] |= segment
    used[1:] |= segment
    refs_used, counts = np.unique(ref[used], return_counts=True)
    shared = np.zeros(len(ref), dtype=bool)
    shared[used] = counts[np.searchsorted(refs_used, ref[used])] > 1
    first = used & ~np.concatenate([[False], segment])
    last = used & ~np.concatenate([segment, [False]])
    vertex = shared | first | last
    seg = np.flatnonzero(segment)
    if len(seg) == 0:
        return _empty(stats)
    owner, edge_ids, from_entry, to_entry = _edges(vertex, seg)
    loops = (ref[from_entry] == ref[to_entry]) & (to_entry - from_entry >= 2)
    if loops.any():  # a way looping back to where it joins: split it in the middle
        vertex[(from_entry[loops] + to_entry[loops]) // 2] = True
        owner, edge_ids, from_entry, to_entry = _edges(vertex, seg)
    seg_m = great_circle_m(lon[seg], lat[seg], lon[seg + 1], lat[seg + 1])
    length = np.bincount(np.searchsorted(edge_ids, owner), weights=seg_m, minlength=len(edge_ids))
    way = way_of[from_entry]
    kph_by_tag = np.array([tag_speed[t] for t in _TAGS])
    tag = np.asarray(ways.tag, dtype=np.int64)[way]
    maxspeed = np.asarray(ways.maxspeed, dtype=np.float64)[way]
    speed = np.where(np.isnan(maxspeed), kph_by_tag[tag], np.fmin(kph_by_tag[tag], maxspeed))
    oneway = np.asarray(ways.oneway, dtype=np.int64)[way]
    loop = ref[from_entry] == ref[to_entry]
    forward = (oneway >= 0) & ~loop
    backward = (oneway <= 0) & ~loop
    directed = np.concatenate([np.flatnonzero(forward), np.flatnonzero(backward)])
    is_back = np.concatenate([np.zeros(forward.sum(), bool), np.ones(backward.sum(), bool)])
    u = np.where(is_back, ref[to_entry[directed]], ref[from_entry[directed]])
    v = np.where(is_back, ref[from_entry[directed]], ref[to_entry[directed]])
    giant = _largest_strong_component(u, v)
    directed, is_back, u, v = directed[giant], is_back[giant], u[giant], v[giant]
    bend_start, bend_entries = _bends(from_entry[directed], to_entry[directed], is_back)
    node_id, node_at = np.unique(np.concatenate([u, v]), return_index=True)
    entry_of = np.concatenate(
        [
            np.where(is_back, to_entry[directed], from_entry[directed]),
            np.where(is_back, from_entry[directed], to_entry[directed]),
        ]
    )[node_at]
    stats["edges"] = len(u)
    return RoadTable(
        node_id=node_id,
        node_lon=lon[entry_of],
        node_lat=lat[entry_of],
        edge_u=u,
        edge_v=v,
        edge_osmid=np.asarray(ways.osmid, dtype=np.int64)[way[directed]],
        edge_tag=tag[directed],
        edge_oneway=oneway[directed] != 0,
        edge_reversed=is_back,
        edge_length_m=length[directed],
        edge_speed_kph=speed[directed],
        edge_maxspeed_kph=maxspeed[directed],
        bend_start=bend_start,
        bend_lon=lon[bend_entries],
        bend_lat=lat[bend_entries],
        tags=list(_TAGS),
        stats=stats,
    )


def _empty(stats: dict[str, int]) -> RoadTable:
    """A table without roads (every way was cut away)."""
    ints, floats = np.zeros(0, dtype=np.int64), np.zeros(0)
    flags = np.zeros(0, dtype=bool)
    return RoadTable(
        node_id=ints,
        node_lon=floats,
        node_lat=floats,
        edge_u=ints,
        edge_v=ints,
        edge_osmid=ints,
        edge_tag=ints,
        edge_oneway=flags,
        edge_reversed=flags,
        edge_length_m=floats,
        edge_speed_kph=floats,
        edge_maxspeed_kph=floats,
        bend_start=np.zeros(1, dtype=np.int64),
        bend_lon=floats,
        bend_lat=floats,
        tags=list(_TAGS),
        stats={**stats, "edges": 0},
    )


def _edges(
    vertex: npt.NDArray[np.bool_], seg: npt.NDArray[np.int64]
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Edges between vertex entries: each segment's edge number among the vertices, the edge
    numbers, and each edge's first and last entry. Segment i joins entries i and i + 1."""
    owner = np.cumsum(vertex)[seg] - 1  # the vertex at or before each segment's start
    edge_ids, first_seg = np.unique(owner, return_index=True)
    last_seg = np.append(first_seg[1:], len(seg)) - 1
    return owner, edge_ids, np.flatnonzero(vertex)[edge_ids], seg[last_seg] + 1


def _ways_with(
    flag: npt.NDArray[np.bool_], way_of: npt.NDArray[np.int64], n_ways: int, mask: bool = False
) -> Any:
    """Ways having at least one flagged entry: their count, or with `mask` a boolean per way."""
    hit = np.bincount(way_of[flag], minlength=n_ways) > 0
    return hit if mask else int(np.count_nonzero(hit))


def _bends(
    start: npt.NDArray[np.int64], end: npt.NDArray[np.int64], backward: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Offsets and entry indices of each edge's interior points, in driving order."""
    inner = end - start - 1
    offsets = np.concatenate([[0], np.cumsum(inner)]).astype(np.int64)
    total = int(offsets[-1])
    if total == 0:
        return offsets, np.zeros(0, dtype=np.int64)
    owner = np.repeat(np.arange(len(start)), inner)
    step = np.arange(total) - offsets[owner]  # 0.. inner-1 within each edge
    forward_entry = start[owner] + 1 + step
    backward_entry = end[owner] - 1 - step
    return offsets, np.where(backward[owner], backward_entry, forward_entry)


def _largest_strong_component(
    u: npt.NDArray[np.int64], v: npt.NDArray[np.int64]
) -> npt.NDArray[np.bool_]:
    """Mask of the edges inside the largest strongly connected component."""
    if len(u) == 0:
        return np.zeros(0, dtype=bool)
    nodes, index = np.unique(np.concatenate([u, v]), return_inverse=True)
    a, b = index[: len(u)], index[len(u) :]
    graph = csr_matrix((np.ones(len(u)), (a, b)), shape=(len(nodes), len(nodes)))
    _, label = connected_components(graph, directed=True, connection="strong")
    biggest = np.bincount(label).argmax()
    return (label[a] == biggest) & (label[b] == biggest)


def _cache_key(path: Path, tag_speed: Mapping[str, float], clip: BaseGeometry | None) -> str:
    """SHA-256 of the file's bytes, the clip polygon and the speeds."""
    digest = hashlib.sha256(_CACHE_FORMAT.encode())
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    digest.update(repr(sorted(tag_speed.items())).encode())
    digest.update(b"" if clip is None else shapely.to_wkb(clip))
    return digest.hexdigest()


def tile_extract(source: Path, target: Path, columns: int, rows: int) -> None:
    """Write `columns` x `rows` copies of an extract side by side into one PBF (benchmarks).

    Each copy keeps every node, way and tag (ids offset per copy, relations dropped); each
    copy's east and north road ends are joined to the next copy's west and south ones by a
    two-way secondary road, so the tiling is one road network of the source's real density.
    """
    import osmium

    nodes: list[tuple[int, float, float, dict[str, str]]] = []
    ways: list[tuple[int, list[int], dict[str, str]]] = []
    obj: Any
    for obj in osmium.FileProcessor(str(source), osmium.osm.NODE | osmium.osm.WAY):
        if obj.is_node() and obj.location.valid():
            nodes.append((obj.id, obj.location.lon, obj.location.lat, dict(obj.tags)))
        elif obj.is_way():
            ways.append((obj.id, [n.ref for n in obj.nodes], dict(obj.tags)))
    if not nodes:
        raise ValueError(f"{source}: no nodes to tile")
    roads = read_extract(source, highway_speeds()).to_graph()
    ends = {d["x"]: n for n, d in roads.nodes(data=True)}
    west, east = ends[min(ends)], ends[max(ends)]
    by_lat = {d["y"]: n for n, d in roads.nodes(data=True)}
    south, north = by_lat[min(by_lat)], by_lat[max(by_lat)]
    step = 10 ** len(str(max(max(n[0] for n in nodes), max(w[0] for w in ways))))
    lons, lats = [n[1] for n in nodes], [n[2] for n in nodes]
    width, height = max(lons) - min(lons) + 0.002, max(lats) - min(lats) + 0.002
    copies = [(c, r) for c in range(columns) for r in range(rows)]

    def offset(copy: tuple[int, int]) -> int:
        return (copy[0] * rows + copy[1] + 1) * step

    target.unlink(missing_ok=True)
    with osmium.SimpleWriter(str(target)) as writer:
        for copy in copies:
            base = offset(copy)
            for node_id, lon, lat, tags in nodes:
                location = (lon + copy[0] * width, lat + copy[1] * height)
                writer.add_node(
                    osmium.osm.mutable.Node(id=base + node_id, location=location, tags=tags)
                )
        for copy in copies:
            base = offset(copy)
            for way_id, refs, tags in ways:
                writer.add_way(
                    osmium.osm.mutable.Way(
                        id=base + way_id, nodes=[base + r for r in refs], tags=tags
                    )
                )
        link = (columns * rows + 1) * step
        for c, r in copies:
            joins = [((c + 1, r), east, west), ((c, r + 1), north, south)]
            for (c2, r2), a, b in joins:
                if c2 < columns and r2 < rows:
                    link += 1
                    refs = [offset((c, r)) + a, offset((c2, r2)) + b]
                    writer.add_way(
                        osmium.osm.mutable.Way(id=link, nodes=refs, tags={"highway": "secondary"})
                    )
