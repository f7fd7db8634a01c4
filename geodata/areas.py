"""Service areas: which station or village point serves a location (Voronoi cells in the district).

Cells are built in metres of the district's UTM zone (so "nearest" means nearest on the ground)
and returned in WGS-84. The hub has no cell: it serves stations, not addresses.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import numpy.typing as npt
import shapely
from shapely import STRtree
from shapely.geometry import MultiPoint, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geodata.crs import geometry_from_utm, geometry_to_utm, to_utm, utm_crs_of
from geodata.points import ServicePoint


class ServiceAreas:
    """Voronoi cells of the non-hub points, clipped to the district outline."""

    def __init__(self, points: list[ServicePoint], boundary: BaseGeometry) -> None:
        served = [p for p in points if p.kind != "hub"]
        if not served:
            raise ValueError("service areas need at least one station or village point")
        ids = [p.point_id for p in served]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate point ids in service areas")
        minx, miny, maxx, maxy = boundary.bounds
        self._crs = utm_crs_of([minx, maxx], [miny, maxy])
        x, y = to_utm([p.lon for p in served], [p.lat for p in served], self._crs)
        district = geometry_to_utm(boundary, self._crs)
        extent = district.envelope.buffer(10_000.0)
        if len(served) == 1:
            raw = [extent]
        else:
            voronoi = shapely.voronoi_polygons(
                MultiPoint(np.column_stack([x, y])), extend_to=extent, ordered=True
            )
            raw = list(voronoi.geoms)
        self._ids = ids
        self._cells_utm = [cell.intersection(district) for cell in raw]
        self._tree = STRtree(self._cells_utm)
        self._cells: dict[str, Polygon | MultiPolygon] | None = None

    def locate(self, lon: float, lat: float) -> str | None:
        """Point id of the cell containing (lon, lat), None if outside the district."""
        return self.locate_many([lon], [lat])[0]

    def locate_many(self, lons: npt.ArrayLike, lats: npt.ArrayLike) -> list[str | None]:
        """`locate` for many locations at once (one STRtree query)."""
        lon_array, lat_array = np.atleast_1d(lons), np.atleast_1d(lats)
        if lon_array.shape != lat_array.shape or lon_array.ndim != 1:
            raise ValueError(f"{lon_array.shape} longitudes but {lat_array.shape} latitudes")
        x, y = to_utm(lon_array, lat_array, self._crs)
        found: list[str | None] = [None] * len(x)
        if len(x) == 0:
            return found
        query, cell = self._tree.query(shapely.points(x, y), predicate="intersects")
        for q, c in zip(query.tolist(), cell.tolist(), strict=True):
            if found[q] is None:  # on a shared edge the first cell wins
                found[q] = self._ids[c]
        return found

    def cells(self) -> dict[str, Polygon | MultiPolygon]:
        """Point id -> its cell in WGS-84 (a MultiPolygon where the district cuts it in two)."""
        if self._cells is None:
            self._cells = {
                point_id: cast(Polygon | MultiPolygon, geometry_from_utm(cell, self._crs))
                for point_id, cell in zip(self._ids, self._cells_utm, strict=True)
            }
        return dict(self._cells)
