"""A road graph as flat arrays: what an OSM extract is read into, cached on disk, made a graph.

Arrays load and save in a fraction of a second (`.npz`), so a cached extract starts fast; the
networkx graph built from them follows osmnx conventions (node `x`/`y` lon/lat; edge `osmid`,
`highway`, `oneway`, `reversed`, `length` m, `speed_kph`, `travel_time` s, `maxspeed` (km/h)
where the way posts one and, where the road bends between its end nodes, a lon/lat `geometry`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt
import shapely

from geodata.cache import write_atomic

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
_FORMAT = "road-table-v1"  # bump when the arrays change


@dataclass
class RoadTable:
    """Nodes, directed edges and their bends; `stats` are counts worth reporting (ways cut...).

    Edge e runs from node id `edge_u[e]` to `edge_v[e]`; its bends (interior points, lon/lat,
    in driving order) are `bend_lon/lat[bend_start[e]:bend_start[e + 1]]`.
    """

    node_id: IntArray
    node_lon: FloatArray
    node_lat: FloatArray
    edge_u: IntArray
    edge_v: IntArray
    edge_osmid: IntArray
    edge_tag: IntArray  # index into `tags`
    edge_oneway: npt.NDArray[np.bool_]
    edge_reversed: npt.NDArray[np.bool_]
    edge_length_m: FloatArray
    edge_speed_kph: FloatArray
    edge_maxspeed_kph: FloatArray  # the way's posted limit, nan where it gives none
    bend_start: IntArray  # len(edges) + 1 offsets
    bend_lon: FloatArray
    bend_lat: FloatArray
    tags: list[str]
    stats: dict[str, int] = field(default_factory=dict)

    def to_graph(self) -> nx.MultiDiGraph:
        """The networkx MultiDiGraph (osmnx conventions, crs epsg:4326); stats as graph attrs."""
        graph = nx.MultiDiGraph(crs="epsg:4326", simplified=True, **self.stats)
        graph.add_nodes_from(
            (int(n), {"x": float(x), "y": float(y)})
            for n, x, y in zip(
                self.node_id.tolist(), self.node_lon.tolist(), self.node_lat.tolist(), strict=True
            )
        )
        geometries = self._geometries()
        time_s = self.edge_length_m / (self.edge_speed_kph / 3.6)
        columns = zip(
            self.edge_u.tolist(),
            self.edge_v.tolist(),
            self.edge_osmid.tolist(),
            self.edge_tag.tolist(),
            self.edge_oneway.tolist(),
            self.edge_reversed.tolist(),
            self.edge_length_m.tolist(),
            self.edge_speed_kph.tolist(),
            time_s.tolist(),
            self.edge_maxspeed_kph.tolist(),
            geometries,
            strict=True,
        )
        edges = []
        for u, v, osmid, tag, oneway, rev, length, kph, seconds, limit, geometry in columns:
            attrs: dict[str, Any] = {
                "osmid": osmid,
                "highway": self.tags[tag],
                "oneway": oneway,
                "reversed": rev,
                "length": length,
                "speed_kph": kph,
                "travel_time": seconds,
            }
            if limit == limit:  # not nan
                attrs["maxspeed"] = f"{limit:g}"
            if geometry is not None:
                attrs["geometry"] = geometry
            edges.append((u, v, attrs))
        graph.add_edges_from(edges)
        return graph

    def _geometries(self) -> list[Any]:
        """Per edge: a lon/lat LineString from u through its bends to v, None if straight."""
        n = len(self.edge_u)
        bends = np.diff(self.bend_start)
        out: list[Any] = [None] * n
        bent = np.flatnonzero(bends > 0)
        if not len(bent):
            return out
        position = {int(node): i for i, node in enumerate(self.node_id.tolist())}
        u_at = np.array([position[int(u)] for u in self.edge_u[bent]], dtype=np.int64)
        v_at = np.array([position[int(v)] for v in self.edge_v[bent]], dtype=np.int64)
        counts = bends[bent] + 2
        owner = np.repeat(np.arange(len(bent)), counts)
        lon = np.empty(int(counts.sum()))
        lat = np.empty_like(lon)
        ends = np.cumsum(counts)
        starts = ends - counts
        lon[starts], lat[starts] = self.node_lon[u_at], self.node_lat[u_at]
        lon[ends - 1], lat[ends - 1] = self.node_lon[v_at], self.node_lat[v_at]
        inner = np.ones(len(lon), dtype=bool)
        inner[starts] = inner[ends - 1] = False
        pick = np.concatenate(
            [np.arange(self.bend_start[e], self.bend_start[e + 1]) for e in bent.tolist()]
        )
        lon[inner], lat[inner] = self.bend_lon[pick], self.bend_lat[pick]
        lines = shapely.linestrings(np.column_stack([lon, lat]), indices=owner)
        for e, line in zip(bent.tolist(), lines, strict=True):
            out[e] = line
        return out

    def save(self, path: Path) -> None:
        """Write the table to `path` (.npz) atomically (temp file + rename)."""
        arrays = {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if name not in ("tags", "stats")
        }
        meta = json.dumps({"format": _FORMAT, "tags": self.tags, "stats": self.stats})
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, lambda handle: np.savez(handle, meta=np.array(meta), **arrays))

    @classmethod
    def load(cls, path: Path) -> RoadTable | None:
        """The table saved at `path`, or None when it is missing, unreadable or of an old format."""
        try:
            with np.load(path) as data:
                meta = json.loads(str(data["meta"]))
                if meta.get("format") != _FORMAT:
                    return None
                arrays = {
                    name: np.asarray(data[name])
                    for name in cls.__dataclass_fields__
                    if name not in ("tags", "stats")
                }
        except (OSError, ValueError, KeyError, json.JSONDecodeError):
            return None
        return cls(**arrays, tags=list(meta["tags"]), stats=dict(meta["stats"]))
