"""A tiny hand-built county for unit tests of the day planner's parts.

Hub H; station S1 (town T1, cold room) with villages V11 and V12; station S2 (town T2, no
cold room) with villages V21 and V22 (V22's lane admits tricycles only). Roads: county roads
H-S1 (10 km) and H-S2 (20 km) at 40 km/h, village lanes at 20 km/h (2-4 km). The fleet:
a hub truck, a hub van and a hub refrigerated van; a van and a tricycle at each station and a
refrigerated tricycle at S1.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import networkx as nx
from shapely.geometry import box

from dispatch.fleet import Fleet, FleetVehicle, Settings, VehicleType
from dispatch.parcel import Parcel
from dispatch.workspace import Workspace
from geodata.areas import ServiceAreas
from geodata.county import County
from geodata.network import attach_points
from geodata.points import ServicePoint

DAY = dt.date(2026, 11, 28)
H, S1, S2 = "HUB", "500118901", "500118902"
V11, V12, V21, V22 = "500118901001", "500118901002", "500118902001", "500118902002"

# Degrees per km near 29.3 N: 1/96.9 of longitude, 1/110.9 of latitude.
_KM_LON, _KM_LAT = 1 / 96.9, 1 / 110.9
_ORIGIN = (105.90, 29.30)


def _at(x_km: float, y_km: float) -> tuple[float, float]:
    return _ORIGIN[0] + x_km * _KM_LON, _ORIGIN[1] + y_km * _KM_LAT


def _point(
    pid: str, name: str, kind: str, town: str, xy: tuple[float, float], **kw: Any
) -> ServicePoint:
    lon, lat = _at(*xy)
    hours = {"hub": (5 * 3600, 22 * 3600), "station": (7 * 3600, 20 * 3600)}
    open_s, close_s = hours.get(kind, (8 * 3600, 19 * 3600))
    return ServicePoint(pid, name, kind, town, lon, lat, open_s, close_s, **kw)  # type: ignore[arg-type]


POINTS = [
    _point(H, "县快递分拨中心", "hub", "", (0, 0)),
    _point(S1, "甲镇供销社服务站", "station", S1, (10, 0), cold_storage=True),
    _point(S2, "乙镇供销社服务站", "station", S2, (0, 20)),
    _point(V11, "甲一村", "village", S1, (12, 1), max_vclass="van"),
    _point(V12, "甲二村", "village", S1, (11, -2), max_vclass="van"),
    _point(V21, "乙一村", "village", S2, (2, 21), max_vclass="van"),
    _point(V22, "乙二村", "village", S2, (-1, 23), max_vclass="tricycle"),
]

_ROADS = [(H, S1, 40, "secondary"), (H, S2, 40, "secondary")] + [
    (a, b, 20, "unclassified")
    for a, b in ((S1, V11), (S1, V12), (V11, V12), (S2, V21), (S2, V22), (V21, V22))
]


def graph() -> nx.MultiDiGraph:
    """Nodes at the points, both directions of every road, length 1.2 x the straight line."""
    g = nx.MultiDiGraph(crs="epsg:4326")
    by_id = {p.point_id: p for p in POINTS}
    for k, p in enumerate(POINTS):
        g.add_node(k, x=p.lon, y=p.lat)
    index = {p.point_id: k for k, p in enumerate(POINTS)}
    for a, b, kph, tag in _ROADS:
        pa, pb = by_id[a], by_id[b]
        km = (((pa.lon - pb.lon) / _KM_LON) ** 2 + ((pa.lat - pb.lat) / _KM_LAT) ** 2) ** 0.5
        for u, v in ((a, b), (b, a)):
            g.add_edge(index[u], index[v], length=km * 1200, speed_kph=float(kph), highway=tag)
    return g


TYPES = {
    "truck": VehicleType(
        "truck", "厢式货车", "truck", 2_000_000, 16_000_000, False, 25000, 250, 3500
    ),
    "van": VehicleType("van", "面包车", "van", 800_000, 5_000_000, False, 12000, 120, 3000),
    "van_cold": VehicleType(
        "van_cold", "冷藏面包车", "van", 600_000, 3_500_000, True, 18000, 180, 3200
    ),
    "trike": VehicleType(
        "trike",
        "电动三轮车",
        "tricycle",
        300_000,
        2_000_000,
        False,
        2500,
        10,
        2500,
        0.6,
        30.0,
        60_000,
        1800,
    ),
    "trike_cold": VehicleType(
        "trike_cold",
        "冷藏电动三轮车",
        "tricycle",
        200_000,
        1_200_000,
        True,
        3500,
        15,
        2500,
        0.6,
        30.0,
        50_000,
        1800,
    ),
}


def fleet(*, off: tuple[str, ...] = (), settings: Settings | None = None) -> Fleet:
    """The tiny county's fleet (see the module docstring)."""
    vehicles = [
        FleetVehicle("HUB-T01", "truck", H, 6 * 3600 + 1800, 18 * 3600 + 1800, 2),
        FleetVehicle("HUB-V01", "van", H, 7 * 3600, 18 * 3600, 3),
        FleetVehicle("HUB-R01", "van_cold", H, 7 * 3600, 18 * 3600, 3),
        FleetVehicle(f"{S1}-V1", "van", S1, 8 * 3600, 18 * 3600, 3),
        FleetVehicle(f"{S1}-E1", "trike", S1, 8 * 3600, 18 * 3600, 3),
        FleetVehicle(f"{S1}-R1", "trike_cold", S1, 8 * 3600, 18 * 3600, 3),
        FleetVehicle(f"{S2}-V1", "van", S2, 8 * 3600, 18 * 3600, 3),
        FleetVehicle(f"{S2}-E1", "trike", S2, 8 * 3600, 18 * 3600, 3),
    ]
    return Fleet(
        types=dict(TYPES), vehicles=vehicles, settings=settings or Settings(), off=frozenset(off)
    )


def workspace() -> Workspace:
    """The tiny county's workspace (roads, service areas, fleet)."""
    outline = box(*_at(-10, -10), *_at(25, 35))
    county = County(points=list(POINTS), boundary=outline)
    net = attach_points(graph(), county.points)
    return Workspace(
        county=county,
        network=net,
        areas=ServiceAreas(county.points, outline),
        fleet=fleet(),
        network_source="tiny",
    )


def parcel(n: int, point: str, kind: str = "delivery", **kw: Any) -> Parcel:
    """Parcel T{n}: 2 kg, 8 l, not cold, due on DAY, unless `kw` says otherwise."""
    fields: dict[str, Any] = {
        "tracking_no": f"T{n:04d}",
        "carrier": "中通快递",
        "kind": kind,
        "point_id": point,
        "weight_g": 2000,
        "volume_ml": 8000,
        "cold": False,
        "due_date": DAY,
    }
    fields.update(kw)
    return Parcel(**fields)
