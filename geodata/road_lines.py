"""The road network as lines to draw: one polyline (lon, lat) per road, grouped by class."""

from __future__ import annotations

from typing import Any

import networkx as nx

#: Decimal places kept (about 1 m at the equator): enough for a county map.
DIGITS = 5


def road_lines(graph: nx.MultiDiGraph) -> dict[str, list[list[tuple[float, float]]]]:
    """Each road once (a two-way road is two edges of the graph), as its `geometry` or its
    end nodes, keyed by its OSM `highway` class (the first one when the edge lists several)."""
    seen: set[tuple[Any, Any, Any]] = set()
    out: dict[str, list[list[tuple[float, float]]]] = {}
    for u, v, key, data in graph.edges(keys=True, data=True):
        ident = (u, v, key) if str(u) <= str(v) else (v, u, key)
        if ident in seen:
            continue
        seen.add(ident)
        geometry = data.get("geometry")
        if geometry is not None:
            coords = [(float(x), float(y)) for x, y in geometry.coords]
        else:
            coords = [(float(graph.nodes[n]["x"]), float(graph.nodes[n]["y"])) for n in (u, v)]
        kind = data.get("highway", "road")
        if isinstance(kind, list):
            kind = kind[0] if kind else "road"
        line = [(round(x, DIGITS), round(y, DIGITS)) for x, y in coords]
        out.setdefault(str(kind), []).append(line)
    return out
