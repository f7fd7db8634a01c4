"""What a driver's route sheet says, independent of its format (PDF, CSV, workbook).

Per stop: the parcels handed over (dropped) and collected (loaded) there, grouped by carrier
with their tracking numbers, cold parcels marked, and the load on board after the stop.
Times are seconds since local midnight, shown as HH:MM; weights in g, volumes in ml.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dispatch.parcel import Parcel
from dispatch.plan import Plan, Route
from geodata.points import ServicePoint

#: echelon number -> what the sheet calls it
ECHELON_NAMES = {1: "一级（分拨中心→乡镇）", 2: "二级（乡镇→村）"}


def hhmm(seconds: int) -> str:
    """Seconds since midnight as HH:MM (hours past 24 continue counting)."""
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


@dataclass(frozen=True)
class CarrierParcels:
    """One carrier's parcels at a stop: tracking numbers sorted, the cold ones named."""

    carrier: str
    tracking_nos: tuple[str, ...]
    cold: frozenset[str]


@dataclass(frozen=True)
class Handover:
    """Parcels that change hands at a stop, by carrier (most parcels first); weight g, volume ml."""

    groups: tuple[CarrierParcels, ...]
    weight_g: int
    volume_ml: int

    @property
    def count(self) -> int:
        """Number of parcels."""
        return sum(len(g.tracking_nos) for g in self.groups)

    @property
    def cold_count(self) -> int:
        """Number of cold-chain parcels."""
        return sum(len(g.cold) for g in self.groups)

    def counts_text(self) -> str:
        """Per-carrier counts on one line, e.g. "中通 3，圆通 1"; "" when empty."""
        return "，".join(f"{g.carrier} {len(g.tracking_nos)}" for g in self.groups)


def handover(ids: Iterable[str], parcels: Mapping[str, Parcel]) -> Handover:
    """The parcels `ids` grouped by carrier; KeyError naming a parcel that is not known."""
    groups: dict[str, list[Parcel]] = {}
    for t in ids:
        if t not in parcels:
            raise KeyError(f"parcel {t!r} is in no manifest")
        groups.setdefault(parcels[t].carrier, []).append(parcels[t])
    order = sorted(groups, key=lambda c: (-len(groups[c]), c))
    return Handover(
        groups=tuple(
            CarrierParcels(
                carrier=c,
                tracking_nos=tuple(sorted(p.tracking_no for p in groups[c])),
                cold=frozenset(p.tracking_no for p in groups[c] if p.cold),
            )
            for c in order
        ),
        weight_g=sum(p.weight_g for ps in groups.values() for p in ps),
        volume_ml=sum(p.volume_ml for ps in groups.values() for p in ps),
    )


@dataclass(frozen=True)
class SheetStop:
    """One stop of a sheet; `depot` is true for the first and the last stop."""

    seq: int
    point_id: str
    name: str
    kind: str
    lon: float
    lat: float
    arrival_s: int
    departure_s: int
    drop: Handover
    load: Handover
    weight_g_after: int
    volume_ml_after: int
    depot: bool


@dataclass(frozen=True)
class RouteSheet:
    """A route as its sheet shows it."""

    plan_id: str
    date: str
    route: Route
    vehicle_label: str
    depot_name: str
    stops: tuple[SheetStop, ...]

    @property
    def drops(self) -> int:
        """Parcels handed over at the visited points (not counting the return to the depot)."""
        return sum(s.drop.count for s in self.stops[1:-1])

    @property
    def collected(self) -> int:
        """Parcels collected at the visited points."""
        return sum(s.load.count for s in self.stops[1:-1])

    @property
    def cold(self) -> int:
        """Cold-chain parcels on the trip (loaded anywhere)."""
        return sum(s.load.cold_count for s in self.stops)

    @property
    def echelon_name(self) -> str:
        """Echelon in words."""
        return ECHELON_NAMES.get(self.route.echelon, str(self.route.echelon))


def route_sheet(
    plan: Plan,
    route_id: str,
    points: Mapping[str, ServicePoint],
    parcels: Mapping[str, Parcel],
    vehicle_labels: Mapping[str, str] | None = None,
) -> RouteSheet:
    """The sheet of `route_id`; `vehicle_labels` maps vehicle types to names (e.g. 冷藏面包车).

    KeyError naming the route, point or parcel that is missing.
    """
    route = plan.route(route_id)
    last = len(route.stops) - 1
    stops = []
    for i, stop in enumerate(route.stops):
        if stop.point_id not in points:
            raise KeyError(f"route {route_id}: point {stop.point_id!r} is not a service point")
        point = points[stop.point_id]
        stops.append(
            SheetStop(
                seq=stop.seq,
                point_id=stop.point_id,
                name=point.name,
                kind=point.kind,
                lon=point.lon,
                lat=point.lat,
                arrival_s=stop.arrival_s,
                departure_s=stop.departure_s,
                drop=handover(stop.drop, parcels),
                load=handover(stop.load, parcels),
                weight_g_after=stop.weight_g_after,
                volume_ml_after=stop.volume_ml_after,
                depot=i in (0, last),
            )
        )
    label = (vehicle_labels or {}).get(route.vehicle_type, route.vehicle_type)
    return RouteSheet(
        plan_id=plan.plan_id,
        date=plan.date.isoformat(),
        route=route,
        vehicle_label=label,
        depot_name=stops[0].name,
        stops=tuple(stops),
    )
