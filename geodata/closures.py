"""Road closures for a day: a road between two places, or every road near a place.

A closure is given (TOML or CSV file, API request, re-planning event) as either

- `from` and `to`: the road between two places is closed; the closed edges are those of the
  shortest road path (by length) between them, in both directions;
- `near` and `radius_m`: every road passing within `radius_m` metres of the place is closed
  (a landslide on a hill road, a flooded crossing).

A place is a service point id, or `"lon,lat"` in WGS-84 degrees (snapped to the nearest road
node, refused beyond `max_access_m`). `label` says what happened; it is shown to dispatchers.

Syntax is checked by `parse_closures`, the network by `close_roads`; both raise ClosureError
naming every problem by file (or request field), row and field. A point with no open road to
or from the hub is cut off; `ClosedRoads.cut_off` names the closures that cut it off.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order
from shapely import STRtree

from geodata.crs import to_utm, utm_crs_of
from geodata.network import Edge, RoadNetwork, edge_lines
from geodata.problems import Problem

#: The widest area a closure may cover (m): a landslide or a flood, not a town.
MAX_RADIUS_M = 20_000.0
#: The most closures one day (or one request) may carry.
MAX_CLOSURES = 200
#: The columns of a closures CSV file and the keys of a closure (TOML, JSON).
FIELDS = ("from", "to", "near", "radius_m", "label")
_LONLAT = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")


class ClosureError(ValueError):
    """Closures that cannot be applied; `problems` names each by file (or request field), row
    (CSV data row, TOML entry or list index) and field."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        shown = "\n".join(str(p) for p in self.problems[:50])
        more = f"\n... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        super().__init__(f"{len(self.problems)} problem(s) with the road closures:\n{shown}{more}")


@dataclass(frozen=True)
class Closure:
    """One closure as given: `start`-`end` (a road) or `near` + `radius_m` (an area).

    `source` and `row` say where it was given (file and data row, or request field and index).
    """

    source: str
    row: int
    label: str
    start: str | None = None
    end: str | None = None
    near: str | None = None
    radius_m: float | None = None
    #: Closed since this time (s since midnight) by a re-planning event: routes that left
    #: their depot by then drove on the roads without it. None: closed all day.
    since_s: int | None = None

    @property
    def is_road(self) -> bool:
        """True for a road between two places, False for an area around one."""
        return self.near is None

    def as_json(self) -> dict[str, Any]:
        """The closure as a JSON object (the keys of FIELDS that apply, and `since_s`)."""
        out: dict[str, Any] = (
            {"from": self.start, "to": self.end, "label": self.label}
            if self.is_road
            else {"near": self.near, "radius_m": self.radius_m, "label": self.label}
        )
        if self.since_s is not None:
            out["since_s"] = self.since_s
        return out

    def describe(self) -> str:
        """A short sentence: the label and what is closed."""
        what = (
            f"road {self.start} - {self.end}"
            if self.is_road
            else f"roads within {self.radius_m:,.0f} m of {self.near}"
        )
        return f"{self.label}: {what}" if self.label else what


def read_closures(path: Path) -> list[Closure]:
    """Closures from a `.toml` file (`[[closure]]` tables) or a `.csv` file (FIELDS columns).

    ClosureError naming the file, row and field of every problem.
    """
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ClosureError([Problem(name, 0, "file", f"cannot be read: {exc}")]) from exc
    if path.suffix.lower() == ".toml":
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ClosureError([Problem(name, 0, "file", f"not TOML: {exc}")]) from exc
        unknown = sorted(set(doc) - {"closure"})
        if unknown:
            raise ClosureError([Problem(name, 0, unknown[0], "unknown key; use [[closure]]")])
        records = doc.get("closure", [])
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise ClosureError([Problem(name, 0, "closure", "must be [[closure]] tables")])
        return parse_closures(records, name, first_row=1)
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        header = [h.strip() for h in reader.fieldnames or []]
        unknown = [h for h in header if h not in FIELDS]
        if not header or unknown:
            bad = unknown[0] if unknown else "header"
            raise ClosureError(
                [Problem(name, 0, bad, f"unknown column; the columns are {', '.join(FIELDS)}")]
            )
        rows = [
            {k.strip(): v.strip() for k, v in rec.items() if k is not None and v and v.strip()}
            for rec in reader
        ]
        return parse_closures(rows, name, first_row=1)
    raise ClosureError([Problem(name, 0, "file", "closures are a .toml or .csv file")])


def parse_closures(
    records: Sequence[Mapping[str, Any]], source: str, first_row: int = 0
) -> list[Closure]:
    """Closures from records with FIELDS keys; rows are numbered from `first_row`.

    ClosureError naming the source, row and field of every problem (syntax only: the places
    are looked up on the network by `close_roads`).
    """
    problems: list[Problem] = []
    if len(records) > MAX_CLOSURES:
        raise ClosureError([Problem(source, 0, "closure", f"at most {MAX_CLOSURES} closures")])
    out: list[Closure] = []
    for k, rec in enumerate(records):
        row = first_row + k
        closure = _closure(rec, source, row, problems)
        if closure is not None:
            out.append(closure)
    if problems:
        raise ClosureError(problems)
    return out


def _closure(
    rec: Mapping[str, Any], source: str, row: int, problems: list[Problem]
) -> Closure | None:
    """One closure record, or None after adding its problems."""
    before = len(problems)

    def bad(field: str, message: str) -> None:
        problems.append(Problem(source, row, field, message))

    for key in rec:
        if key not in FIELDS:
            bad(str(key), f"unknown field; the fields are {', '.join(FIELDS)}")
    places: dict[str, str | None] = {}
    for key in ("from", "to", "near"):
        value = rec.get(key)
        if value is None or value == "":
            places[key] = None
        elif isinstance(value, str) and value.strip():
            places[key] = value.strip()
            if _LONLAT.match(value) and _lonlat(value) is None:
                bad(key, f"{value!r}: lon must be within -180..180 and lat within -90..90")
        else:
            bad(key, f"must be a point id or 'lon,lat', not {value!r}")
    label = rec.get("label") or ""
    if not isinstance(label, str):
        bad("label", f"must be text, not {label!r}")
        label = ""
    radius = _radius(rec.get("radius_m"), bad)
    road = places["from"] is not None or places["to"] is not None
    area = places["near"] is not None or rec.get("radius_m") not in (None, "")
    if road and area:
        bad("near", "a closure is a road (from, to) or an area (near, radius_m), not both")
    elif road:
        for key in ("from", "to"):
            if places[key] is None and not any(p.field == key for p in problems[before:]):
                bad(key, "a closed road needs both ends: from and to")
        if places["from"] is not None and places["from"] == places["to"]:
            bad("to", "the road's two ends are the same place")
    elif area:
        if places["near"] is None and not any(p.field == "near" for p in problems[before:]):
            bad("near", "a closed area needs its centre: near (a point id or 'lon,lat')")
        if rec.get("radius_m") in (None, ""):
            bad("radius_m", "a closed area needs radius_m (metres)")
    else:
        bad("from", "give from and to (a closed road) or near and radius_m (a closed area)")
    if len(problems) > before:
        return None
    if road:
        return Closure(source, row, label.strip(), start=places["from"], end=places["to"])
    return Closure(source, row, label.strip(), near=places["near"], radius_m=radius)


def _radius(value: Any, bad: Any) -> float | None:
    """radius_m as metres, or None (missing, or refused with a problem)."""
    if value is None or value == "":
        return None
    try:
        metres = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        bad("radius_m", f"must be a number of metres, not {value!r}")
        return None
    if not 1.0 <= metres <= MAX_RADIUS_M:
        bad("radius_m", f"must be between 1 and {MAX_RADIUS_M:,.0f} m, not {value!r}")
        return None
    return metres


def _lonlat(text: str) -> tuple[float, float] | None:
    """(lon, lat) of a 'lon,lat' text within the valid ranges, else None."""
    m = _LONLAT.match(text)
    if m is None:
        return None
    lon, lat = float(m.group(1)), float(m.group(2))
    return (lon, lat) if -180 <= lon <= 180 and -90 <= lat <= 90 else None


@dataclass(frozen=True)
class ClosedRoads:
    """Closures applied to a network: the network with them (`network`), the directed edges
    each closes, and the points cut off (point index -> indices of the closures that cut it
    off; all of them when only together they do)."""

    closures: tuple[Closure, ...]
    network: RoadNetwork
    edges_of: tuple[frozenset[Edge], ...]
    cut_off: Mapping[int, tuple[int, ...]]

    @property
    def closed_m(self) -> float:
        """Length of the closed roads (m), each road counted once (the longer direction)."""
        graph = self.network.graph
        by_pair: dict[frozenset[Any], float] = {}
        for u, v, k in self.network.closed:
            pair = frozenset((u, v))
            by_pair[pair] = max(by_pair.get(pair, 0.0), float(graph.edges[u, v, k]["length"]))
        return sum(by_pair.values())


def close_roads(
    net: RoadNetwork,
    closures: Sequence[Closure],
    hub: int,
    max_access_m: float,
) -> ClosedRoads:
    """Apply `closures` to `net` (an open network); `hub` is the hub's point index.

    ClosureError naming the source, row and field of every closure that names an unknown
    point, a place farther than `max_access_m` from a road, ends with no road between them, or
    an area with no road in it.
    """
    if net.base is not None:
        raise ValueError("closures apply to the open network, not to one already closed")
    index = {p.point_id: i for i, p in enumerate(net.points)}
    lookup = _Lookup(net, max_access_m)
    problems: list[Problem] = []
    edges_of: list[frozenset[Edge]] = []
    for c in closures:
        before = len(problems)
        found: frozenset[Edge] = frozenset()
        if c.is_road:
            assert c.start is not None and c.end is not None
            a = lookup.node(c, "from", c.start, index, problems)
            b = lookup.node(c, "to", c.end, index, problems)
            if a is not None and b is not None and len(problems) == before:
                found = lookup.road(c, a, b, problems)
        else:
            assert c.near is not None and c.radius_m is not None
            found = lookup.area(c, index, problems)
        edges_of.append(found)
    if problems:
        raise ClosureError(problems)
    closed = frozenset().union(*edges_of) if edges_of else frozenset()
    closed_net = net.with_closed(closed)
    cut = _cut_off(net, hub, [closed], [None])
    per_closure = _cut_off(net, hub, edges_of, list(range(len(closures))))
    cut_off = {
        i: tuple(k for k in range(len(closures)) if i in per_closure.get(k, set()))
        or tuple(range(len(closures)))
        for i in sorted(cut.get(None, set()))
    }
    return ClosedRoads(tuple(closures), closed_net, tuple(edges_of), cut_off)


class _Lookup:
    """Places and roads of an open network, built once per `close_roads`."""

    def __init__(self, net: RoadNetwork, max_access_m: float) -> None:
        self.net = net
        self.max_access_m = max_access_m
        self.crs = utm_crs_of([p.lon for p in net.points], [p.lat for p in net.points])
        self._nodes: list[Any] | None = None
        self._node_tree: STRtree | None = None
        self._edges: list[Edge] | None = None
        self._edge_tree: STRtree | None = None
        self._lines: Any = None

    def _xy(self, lon: float, lat: float) -> shapely.Point:
        x, y = to_utm([lon], [lat], self.crs)
        return shapely.Point(float(x[0]), float(y[0]))

    def node(
        self, c: Closure, field: str, place: str, index: Mapping[str, int], problems: list[Problem]
    ) -> Any | None:
        """The road node of a place (a point's attachment, or the node nearest 'lon,lat')."""
        if place in index:
            return self.net.point_nodes[index[place]]
        lonlat = _lonlat(place)
        if lonlat is None:
            problems.append(Problem(c.source, c.row, field, f"unknown point {place!r}"))
            return None
        if self._node_tree is None:
            graph = self.net.graph
            self._nodes = list(graph.nodes)
            x, y = to_utm(
                [graph.nodes[n]["x"] for n in self._nodes],
                [graph.nodes[n]["y"] for n in self._nodes],
                self.crs,
            )
            self._node_tree = STRtree(shapely.points(x, y))
        assert self._nodes is not None
        foot = self._xy(*lonlat)
        nearest = int(self._node_tree.nearest(foot))
        gap = float(shapely.distance(self._node_tree.geometries[nearest], foot))
        if gap > self.max_access_m:
            problems.append(
                Problem(
                    c.source,
                    c.row,
                    field,
                    f"{place} is {gap:,.0f} m from the nearest road node "
                    f"(at most {self.max_access_m:,.0f} m)",
                )
            )
            return None
        return self._nodes[nearest]

    def road(self, c: Closure, a: Any, b: Any, problems: list[Problem]) -> frozenset[Edge]:
        """Both directions of every edge on the shortest road (by length) from a to b."""
        graph = self.net.graph
        if a == b:
            problems.append(
                Problem(
                    c.source,
                    c.row,
                    "to",
                    f"{c.start} and {c.end} are at the same place on the roads: no road between",
                )
            )
            return frozenset()
        try:
            path = nx.shortest_path(graph, a, b, weight="length")
        except nx.NetworkXNoPath:
            try:
                path = nx.shortest_path(graph, b, a, weight="length")[::-1]
            except nx.NetworkXNoPath:
                problems.append(
                    Problem(c.source, c.row, "to", f"no road between {c.start} and {c.end}")
                )
                return frozenset()
        closed: set[Edge] = set()
        for u, v in itertools.pairwise(path):
            for x, y in ((u, v), (v, u)):
                for k in graph.get_edge_data(x, y) or {}:
                    closed.add((x, y, k))
        return frozenset(closed)

    def area(
        self, c: Closure, index: Mapping[str, int], problems: list[Problem]
    ) -> frozenset[Edge]:
        """Every edge passing within `radius_m` of the centre."""
        assert c.near is not None and c.radius_m is not None
        if c.near in index:
            p = self.net.points[index[c.near]]
            lonlat = (p.lon, p.lat)
        else:
            found = _lonlat(c.near)
            if found is None:
                problems.append(Problem(c.source, c.row, "near", f"unknown point {c.near!r}"))
                return frozenset()
            lonlat = found
        if self._edge_tree is None:
            self._edges, self._lines, self._edge_tree = _road_lines(self.net, self.crs)
        assert self._edges is not None
        centre = self._xy(*lonlat)
        hits = self._edge_tree.query(centre, predicate="dwithin", distance=c.radius_m)
        if len(hits) == 0:
            nearest = int(self._edge_tree.nearest(centre))
            gap = float(shapely.distance(self._lines[nearest], centre))
            problems.append(
                Problem(
                    c.source,
                    c.row,
                    "radius_m",
                    f"no road within {c.radius_m:,.0f} m of {c.near}: "
                    f"the nearest is {gap:,.0f} m away",
                )
            )
            return frozenset()
        return frozenset(self._edges[int(h)] for h in np.sort(hits))


#: Per open network (by fingerprint): its edges' lines and their tree, and its topology.
_LINES: dict[str, tuple[list[Edge], Any, STRtree]] = {}
_TOPOLOGY: dict[str, tuple[dict[Any, int], Any, Any, dict[Edge, int]]] = {}
_KEEP = 2  # networks remembered (a server has one county)


def _road_lines(net: RoadNetwork, crs: str) -> tuple[list[Edge], Any, STRtree]:
    """Every edge, its line in UTM metres and an STRtree of them (cached per network)."""
    key = f"{net.fingerprint()}|{crs}"
    if key not in _LINES:
        edges, lines = edge_lines(net.graph, crs)
        while len(_LINES) >= _KEEP:
            _LINES.pop(next(iter(_LINES)))
        _LINES[key] = (edges, lines, STRtree(lines))
    return _LINES[key]


def _topology(net: RoadNetwork) -> tuple[dict[Any, int], Any, Any, dict[Edge, int]]:
    """Node index, edge tails and heads (node indices) and edge rows (cached per network)."""
    key = net.fingerprint()
    if key not in _TOPOLOGY:
        at = {n: i for i, n in enumerate(net.graph.nodes)}
        edges = list(net.graph.edges(keys=True))
        u = np.array([at[e[0]] for e in edges], dtype=np.int64)
        v = np.array([at[e[1]] for e in edges], dtype=np.int64)
        while len(_TOPOLOGY) >= _KEEP:
            _TOPOLOGY.pop(next(iter(_TOPOLOGY)))
        _TOPOLOGY[key] = (at, u, v, {e: i for i, e in enumerate(edges)})
    return _TOPOLOGY[key]


def _cut_off(
    net: RoadNetwork, hub: int, closed_sets: Sequence[frozenset[Edge]], keys: Sequence[Any]
) -> dict[Any, set[int]]:
    """For each set of closed edges: the point indices with no open road from or to the hub."""
    at, u, v, position = _topology(net)
    n = len(at)
    start = at[net.point_nodes[hub]]
    point_rows = np.array([at[x] for x in net.point_nodes], dtype=np.int64)
    out: dict[Any, set[int]] = {}
    for key, closed in zip(keys, closed_sets, strict=True):
        keep = np.ones(len(u), dtype=bool)
        keep[[position[e] for e in closed]] = False
        ones = np.ones(int(keep.sum()), dtype=np.int8)
        forward = csr_matrix((ones, (u[keep], v[keep])), shape=(n, n))
        reach = np.zeros(n, dtype=bool)
        back = np.zeros(n, dtype=bool)
        reach[breadth_first_order(forward, start, directed=True, return_predecessors=False)] = True
        back[
            breadth_first_order(forward.T.tocsr(), start, directed=True, return_predecessors=False)
        ] = True
        lost = ~(reach[point_rows] & back[point_rows])
        out[key] = set(np.flatnonzero(lost).tolist())
    return out
