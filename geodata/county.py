"""A county: its service points (one hub, town stations, villages), outline and settings.

Every county comes from a county folder (`county.toml`, `points.csv`, optionally an outline,
a road network and a fleet; see `geodata.county_files` and the README). The reference county,
Yongchuan District (永川区, Chongqing), is the folder shipped in `geodata/data/yongchuan/` (see
SOURCES.md there); no network access. Villages a folder gives no position are placed by
`placement.place_villages` and flagged `placed` (and `assumed`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path

import shapely
from shapely.geometry import MultiPoint, Point
from shapely.geometry.base import BaseGeometry

from geodata.county_files import (
    POINTS_FILE,
    CountySettings,
    PointRow,
    read_outline,
    read_points,
    read_settings,
)
from geodata.crs import from_utm, geometry_from_utm, geometry_to_utm, to_utm, utm_crs_of
from geodata.placement import VillageSeed, place_villages
from geodata.points import ServicePoint
from geodata.problems import CountyError, Problem

#: The embedded reference county's folder (shipped in the package).
EMBEDDED_FOLDER = Path(str(resources.files("geodata").joinpath("data", "yongchuan")))
#: Without an outline, the county is the convex hull of its points plus this margin (m).
HULL_MARGIN_M = 3000.0
# Yongchuan's urban-core sub-districts (中山路, 胜利路, 南大街): the demo weights their communities.
URBAN_CORE_TOWNS = frozenset({"500118001", "500118002", "500118003"})


@dataclass
class County:
    """Service points (in the order of the points file), the outline and the folder's settings.

    `rows` maps a point id to its row in the points file (1 = first data row), `warnings` are
    the folder's remarks (e.g. a town without a station) and `folder` where it was read from.
    """

    points: list[ServicePoint]
    boundary: BaseGeometry  # district outline, WGS-84 lon/lat
    settings: CountySettings = field(default_factory=CountySettings)
    folder: Path | None = None
    rows: dict[str, int] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)
    _positions: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._positions = {p.point_id: i for i, p in enumerate(self.points)}
        if len(self._positions) != len(self.points):
            raise ValueError("duplicate point ids in County.points")
        if sum(p.kind == "hub" for p in self.points) > 1:
            raise ValueError("a county has exactly one hub")

    @property
    def name(self) -> str:
        """The county's name (county.toml)."""
        return self.settings.name

    @property
    def hub(self) -> ServicePoint:
        """The county's hub; ValueError if it has none."""
        for p in self.points:
            if p.kind == "hub":
                return p
        raise ValueError("the county has no hub")

    @property
    def hub_id(self) -> str:
        """Point id of the county's hub (from its points file)."""
        return self.hub.point_id

    @property
    def crs(self) -> str:
        """The projected CRS (UTM zone) where the county's geometry is done in metres."""
        minx, miny, maxx, maxy = self.boundary.bounds
        return utm_crs_of([minx, maxx], [miny, maxy])

    @property
    def placed(self) -> list[str]:
        """Ids of the points whose position was placed, not given."""
        return [p.point_id for p in self.points if p.placed]

    def point(self, point_id: str) -> ServicePoint:
        """The service point with this id; KeyError if unknown."""
        return self.points[self.index(point_id)]

    def index(self, point_id: str) -> int:
        """Position of the point in `points`; KeyError if unknown."""
        try:
            return self._positions[point_id]
        except KeyError:
            raise KeyError(f"unknown service point id {point_id!r}") from None


def read_county(
    folder: Path, hub_lonlat: tuple[float, float] | None = None
) -> tuple[County | None, list[Problem]]:
    """The county of a folder and every problem found (errors and warnings).

    The county is None when any problem is an error. `hub_lonlat` (WGS-84) moves the hub.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return None, [Problem(str(folder), 0, "folder", "not a folder")]
    settings, problems = read_settings(folder)
    rows, row_problems = read_points(folder / POINTS_FILE)
    problems += row_problems
    outline = None
    if settings.outline_file is not None:
        outline, outline_problems = read_outline(settings.outline_file)
        problems += outline_problems
    if hub_lonlat is not None:
        rows = [
            replace(r, lon=float(hub_lonlat[0]), lat=float(hub_lonlat[1]), assumed=True)
            if r.kind == "hub"
            else r
            for r in rows
        ]
    given = [r for r in rows if r.lon is not None and r.lat is not None]
    if outline is not None:
        problems += _outside(outline, given, settings.outline_file)
    elif not given:
        return None, problems
    boundary = outline if outline is not None else _hull(given)
    spots, place_problems = _place(rows, boundary, outline is not None)
    problems += place_problems
    if any(not p.warning for p in problems):
        return None, problems
    points = [_point(r, spots.get(r.point_id)) for r in rows]
    county = County(
        points=points,
        boundary=boundary,
        settings=settings,
        folder=folder.resolve(),
        rows={r.point_id: r.row for r in rows},
        warnings=[p for p in problems if p.warning],
    )
    return county, problems


def load_county_dir(folder: Path, hub_lonlat: tuple[float, float] | None = None) -> County:
    """The county of a folder; CountyError (a ValueError) naming every problem if invalid."""
    county, problems = read_county(folder, hub_lonlat)
    if county is None:
        raise CountyError(problems)
    return county


def load_county(hub_lonlat: tuple[float, float] | None = None) -> County:
    """The embedded Yongchuan county, with the hub at `hub_lonlat` (default: its file position).

    CountyError (a ValueError) if the hub lies outside the district outline.
    """
    county = _embedded(hub_lonlat)
    return replace(county, points=list(county.points), warnings=list(county.warnings))


@lru_cache(maxsize=4)
def _embedded(hub_lonlat: tuple[float, float] | None) -> County:
    return load_county_dir(EMBEDDED_FOLDER, hub_lonlat)


def _point(row: PointRow, spot: tuple[float, float] | None) -> ServicePoint:
    lon, lat = spot if spot is not None else (row.lon, row.lat)
    assert lon is not None and lat is not None
    return ServicePoint(
        point_id=row.point_id,
        name=row.name,
        kind=row.kind,
        town_id=row.town_id,
        lon=lon,
        lat=lat,
        open_s=row.open_s,
        close_s=row.close_s,
        max_vclass=row.max_vclass,
        cold_storage=row.cold_storage,
        assumed=row.assumed,
        placed=spot is not None,
    )


def _outside(outline: BaseGeometry, rows: list[PointRow], path: Path | None) -> list[Problem]:
    """A problem for every given position outside the outline, with its distance to it (m)."""
    shapely.prepare(outline)
    lons = [r.lonlat[0] for r in rows]
    lats = [r.lonlat[1] for r in rows]
    inside = shapely.contains_xy(outline, lons, lats)
    outside = [r for r, ok in zip(rows, inside.tolist(), strict=True) if not ok]
    if not outside:
        return []
    crs = utm_crs_of(lons, lats)
    outline_m = geometry_to_utm(outline, crs)
    name = path.name if path is not None else "outline"
    problems = []
    for r in outside:
        x, y = to_utm([r.lonlat[0]], [r.lonlat[1]], crs)
        metres = outline_m.distance(Point(float(x[0]), float(y[0])))
        problems.append(
            Problem(
                POINTS_FILE,
                r.row,
                "lon",
                f"({r.lon:.6f}, {r.lat:.6f}) is outside the outline ({name}), "
                f"{metres:,.0f} m from it",
            )
        )
    return problems


def _hull(rows: list[PointRow]) -> BaseGeometry:
    """Convex hull of the given positions plus HULL_MARGIN_M, in WGS-84."""
    lons = [r.lonlat[0] for r in rows]
    lats = [r.lonlat[1] for r in rows]
    crs = utm_crs_of(lons, lats)
    x, y = to_utm(lons, lats, crs)
    hull = MultiPoint(list(zip(x.tolist(), y.tolist(), strict=True))).convex_hull
    return geometry_from_utm(hull.buffer(HULL_MARGIN_M), crs)


def _place(
    rows: list[PointRow], boundary: BaseGeometry, has_outline: bool
) -> tuple[dict[str, tuple[float, float]], list[Problem]]:
    """WGS-84 positions (rounded to 1e-6 degree) for the villages the folder gives none."""
    todo = [r for r in rows if r.lon is None]
    if not todo:
        return {}, []
    stations = {r.point_id: r for r in rows if r.kind == "station" and r.lon is not None}
    problems = []
    for r in todo:
        if not has_outline:
            problems.append(
                Problem(POINTS_FILE, r.row, "lon", "missing: placing a village needs an outline")
            )
        elif r.town_id not in stations:
            problems.append(
                Problem(
                    POINTS_FILE,
                    r.row,
                    "lon",
                    f"missing: town {r.town_id!r} has no station to place the village around",
                )
            )
    if problems:
        return {}, problems
    minx, miny, maxx, maxy = boundary.bounds
    crs = utm_crs_of([minx, maxx], [miny, maxy])
    seat_lonlat = [s.lonlat for s in stations.values()]
    sx, sy = to_utm([p[0] for p in seat_lonlat], [p[1] for p in seat_lonlat], crs)
    seats = {sid: (float(x), float(y)) for sid, x, y in zip(stations, sx, sy, strict=True)}
    seeds = [VillageSeed(r.point_id, r.town_id, r.name.endswith("社区")) for r in todo]
    spots = place_villages(seeds, seats, geometry_to_utm(boundary, crs))
    lons, lats = from_utm(
        [spots[s.code12][0] for s in seeds], [spots[s.code12][1] for s in seeds], crs
    )
    return {
        s.code12: (round(float(lon), 6), round(float(lat), 6))
        for s, lon, lat in zip(seeds, lons, lats, strict=True)
    }, []
