"""The reference county, Yongchuan District (永川区, Chongqing): hub, 23 stations, 267 villages.

Built from the project's own data files in `geodata/data/` (see SOURCES.md there); no network
access. Town seats are GeoNames points (two flagged as assumed); the hub and all village positions
are assumptions (`assumed=True`), the villages placed by `placement.place_villages`.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from geodata.crs import from_utm, geometry_to_utm, to_utm
from geodata.placement import VillageSeed, place_villages
from geodata.points import ServicePoint

HUB_ID = "HUB"
HUB_NAME = "永川区快递物流分拨中心"
# Assumed hub site: the south-eastern edge of the built-up area, towards the 凤凰湖 industrial
# park and its logistics zone, ~3 km SE of the 中山路街道 seat. Not a published address.
HUB_DEFAULT_LONLAT: tuple[float, float] = (105.93, 29.34)

HUB_HOURS_S = (5 * 3600, 22 * 3600)
STATION_HOURS_S = (7 * 3600, 20 * 3600)
VILLAGE_HOURS_S = (8 * 3600, 19 * 3600)
# Stations of towns with at least this many villages/communities keep a cold room (9 of 23).
COLD_STORAGE_MIN_VILLAGES = 14
# The urban-core sub-districts (中山路, 胜利路, 南大街): their communities admit trucks.
URBAN_CORE_TOWNS = frozenset({"500118001", "500118002", "500118003"})


@dataclass
class County:
    """Service points (hub, 23 stations, 267 villages; NBS order) and the district outline."""

    points: list[ServicePoint]
    boundary: BaseGeometry  # district outline, WGS-84 lon/lat
    _positions: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._positions = {p.point_id: i for i, p in enumerate(self.points)}
        if len(self._positions) != len(self.points):
            raise ValueError("duplicate point ids in County.points")

    def point(self, point_id: str) -> ServicePoint:
        """The service point with this id; KeyError if unknown."""
        return self.points[self.index(point_id)]

    def index(self, point_id: str) -> int:
        """Position of the point in `points`; KeyError if unknown."""
        try:
            return self._positions[point_id]
        except KeyError:
            raise KeyError(f"unknown service point id {point_id!r}") from None


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("geodata").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@lru_cache(maxsize=1)
def _district() -> BaseGeometry:
    text = resources.files("geodata").joinpath("data", "boundary.geojson").read_text("utf-8")
    return shape(json.loads(text)["geometry"])


@lru_cache(maxsize=1)
def _fixed_points() -> tuple[ServicePoint, ...]:
    """The 23 stations and 267 villages (everything but the hub), NBS order."""
    towns = _rows("towns.csv")
    villages = _rows("villages.csv")
    sizes = {t["code9"]: sum(v["town_code9"] == t["code9"] for v in villages) for t in towns}
    seat_x, seat_y = to_utm([float(t["lon"]) for t in towns], [float(t["lat"]) for t in towns])
    seats = {
        t["code9"]: (float(x), float(y)) for t, x, y in zip(towns, seat_x, seat_y, strict=True)
    }
    boundary_utm = geometry_to_utm(_district())
    seeds = [VillageSeed(v["code12"], v["town_code9"], v["type"] == "社区") for v in villages]
    spots = place_villages(seeds, seats, boundary_utm)
    lons, lats = from_utm([spots[s.code12][0] for s in seeds], [spots[s.code12][1] for s in seeds])

    stations = [
        ServicePoint(
            point_id=t["code9"],
            name=f"{t['name']}供销社服务站",
            kind="station",
            town_id=t["code9"],
            lon=float(t["lon"]),
            lat=float(t["lat"]),
            open_s=STATION_HOURS_S[0],
            close_s=STATION_HOURS_S[1],
            max_vclass="truck",
            cold_storage=sizes[t["code9"]] >= COLD_STORAGE_MIN_VILLAGES,
            assumed=not t["coord_note"].startswith("GeoNames"),
        )
        for t in towns
    ]
    village_points = [
        ServicePoint(
            point_id=v["code12"],
            name=v["name"],
            kind="village",
            town_id=v["town_code9"],
            lon=round(float(lon), 6),
            lat=round(float(lat), 6),
            open_s=VILLAGE_HOURS_S[0],
            close_s=VILLAGE_HOURS_S[1],
            max_vclass="truck"
            if v["type"] == "社区" and v["town_code9"] in URBAN_CORE_TOWNS
            else "van",
            assumed=True,
        )
        for v, lon, lat in zip(villages, lons, lats, strict=True)
    ]
    return (*stations, *village_points)


def load_county(hub_lonlat: tuple[float, float] | None = None) -> County:
    """Yongchuan's service points with the hub at `hub_lonlat` (default HUB_DEFAULT_LONLAT).

    The hub belongs to no town (`town_id` is ""); stations and villages do not depend on it.

    ValueError if the hub lies outside the district outline.
    """
    lon, lat = hub_lonlat if hub_lonlat is not None else HUB_DEFAULT_LONLAT
    boundary = _district()
    if not boundary.contains(Point(lon, lat)):
        raise ValueError(f"hub position ({lon}, {lat}) is outside the district boundary")
    hub = ServicePoint(
        point_id=HUB_ID,
        name=HUB_NAME,
        kind="hub",
        town_id="",
        lon=float(lon),
        lat=float(lat),
        open_s=HUB_HOURS_S[0],
        close_s=HUB_HOURS_S[1],
        max_vclass="truck",
        cold_storage=True,
        assumed=True,
    )
    return County(points=[hub, *_fixed_points()], boundary=boundary)
