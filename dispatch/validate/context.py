"""What every check of the plan validator shares: the inputs, lookups and the fault list.

The validator shares no code with the planner or the optimizer: it reads the plan JSON and
the day's inputs (parcels, fleet, points, travel callbacks) and recomputes what it checks.
Every fault is one line naming the route, the stop and the rule: "route R004 stop 3
(500118104001) [service_time]: ..." (or the parcel, driver or KPI concerned).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dispatch.fleet import CLASS_RANK, Fleet, FleetVehicle, VehicleType
from dispatch.parcel import Parcel
from geodata.matrix import UNREACHABLE
from geodata.points import ServicePoint

Travel = Callable[[str, str, str], int]  # (vehicle type, from point, to point) -> s or m


@dataclass(frozen=True)
class Roads:
    """Travel on the roads as they stand for some routes: seconds and metres by vehicle type;
    UNREACHABLE between points no open road joins."""

    travel_s: Travel
    travel_m: Travel


@dataclass(frozen=True)
class PlanInputs:
    """What a plan is checked against: the day's parcels, the fleet, points and travel.

    `started_at` maps parcels carried in from an earlier day that wait at a station to that
    station (the earlier plan's `carry_over`). `travel_s`/`travel_m` are the roads as they are
    today, around every closure; with road closures, `open_roads` are the roads without any
    (to name a route that goes over a closed road), and `roads_at` gives the roads of a route
    that left its depot at a time (s), for a re-plan whose events closed roads after some
    routes had left (None: today's roads for every route).
    """

    parcels: Sequence[Parcel]
    fleet: Fleet
    points: Mapping[str, ServicePoint]
    travel_s: Travel
    travel_m: Travel
    started_at: Mapping[str, str] = field(default_factory=dict)
    open_roads: Roads | None = None
    roads_at: Callable[[int], Roads] | None = None


def where(route: Mapping[str, Any], i: int | None = None) -> str:
    """'route R004' or 'route R004 stop 3 (point)'."""
    if i is None:
        return f"route {route['route_id']}"
    return f"route {route['route_id']} stop {i} ({route['stops'][i]['point_id']})"


@dataclass
class Context:
    """The plan, its inputs, lookups built once, and the faults found so far."""

    plan: Mapping[str, Any]
    inputs: PlanInputs
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.points = self.inputs.points
        self.settings = self.inputs.fleet.settings
        self.parcels = {p.tracking_no: p for p in self.inputs.parcels}
        self.vehicles = {v.vehicle_id: v for v in self.inputs.fleet.vehicles}
        self.date = dt.date.fromisoformat(self.plan["date"])
        self.hub = next(p.point_id for p in self.points.values() if p.kind == "hub")
        self.off = {v["vehicle_id"] for v in self.plan["vehicles"] if not v["available"]}
        self.routes_of: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for r in self.plan["routes"]:
            self.routes_of[r["vehicle_id"]].append(r)
        for mine in self.routes_of.values():
            mine.sort(key=lambda r: r["stops"][0]["arrival_s"])
        self.events = list(self.plan.get("events", []))
        self.direct = self.plan["mode"] == "direct"
        self.today = Roads(self.inputs.travel_s, self.inputs.travel_m)
        self._cut: dict[tuple[str, int], bool] = {}

    def fault(self, at: str, rule: str, message: str) -> None:
        """Record one violation of `rule` at `at`."""
        self.errors.append(f"{at} [{rule}]: {message}")

    def vtype(self, vehicle_id: str) -> VehicleType:
        """The type of a fleet vehicle."""
        return self.inputs.fleet.types[self.vehicles[vehicle_id].vtype]

    def working(self) -> list[FleetVehicle]:
        """Fleet vehicles the plan may use: not off today, not broken down, not based at a
        point road closures cut off."""
        broken = {e.get("vehicle_id") for e in self.events if e.get("type") == "breakdown"}
        return [
            v
            for v in self.inputs.fleet.vehicles
            if v.vehicle_id not in self.off
            and v.vehicle_id not in broken
            and not self.cut_off(v.depot, self.today)
        ]

    def roads(self, route: Mapping[str, Any]) -> Roads:
        """The roads a route drove on: without the closures of re-planning events after it
        left its depot, else today's."""
        if self.inputs.roads_at is None:
            return self.today
        return self.inputs.roads_at(route["stops"][0]["departure_s"])

    def cut_off(self, point_id: str, roads: Roads) -> bool:
        """True when no open road joins the point and the hub (either way) on `roads`."""
        key = (point_id, id(roads))
        if key not in self._cut:
            vtype = next(iter(self.inputs.fleet.types))
            self._cut[key] = point_id != self.hub and (
                roads.travel_s(vtype, self.hub, point_id) >= UNREACHABLE
                or roads.travel_s(vtype, point_id, self.hub) >= UNREACHABLE
            )
        return self._cut[key]

    def could_serve(self, parcel: Parcel) -> list[FleetVehicle]:
        """Working vehicles that may serve the parcel's point: the hub's, and for a village
        its own town station's (station vehicles serve only their town's villages; a direct
        plan leaves them at their stations)."""
        point = self.points[parcel.point_id]
        direct = self.direct or point.kind == "station"
        depots = {self.hub} if direct else {self.hub, point.town_id}
        return [v for v in self.working() if v.depot in depots]

    def enters(self, vehicle: FleetVehicle, point_id: str) -> bool:
        """True when the point's road admits the vehicle's class."""
        vt = self.inputs.fleet.types[vehicle.vtype]
        return CLASS_RANK[vt.vclass] <= CLASS_RANK[self.points[point_id].max_vclass]

    def event_time(self, event: Mapping[str, Any]) -> int | None:
        """Seconds since local midnight of a re-planning event, if it states one."""
        if isinstance(event.get("time_s"), int):
            return int(event["time_s"])
        if isinstance(event.get("time"), str):
            try:
                t = dt.datetime.fromisoformat(event["time"])
            except ValueError:
                return None
            if t.tzinfo is not None:
                t = t.astimezone(dt.timezone(dt.timedelta(hours=8)))
            return t.hour * 3600 + t.minute * 60 + t.second
        return None
