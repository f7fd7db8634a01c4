"""Route by route: where it starts and ends, each stop's time, service, class and load, the
distance along the roads, range, duration and cost from the fleet's prices; with road
closures, no stop at a point they cut off and no leg only a closed road makes possible."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from dispatch.fleet import VehicleType
from dispatch.validate.context import Context, Roads, where
from geodata.crs import great_circle_m
from geodata.matrix import UNREACHABLE

#: A road distance may undercut the straight line between its two points by this share and
#: this many metres (great circle against the projected network, rounding).
STRAIGHT_TOLERANCE = 0.005
STRAIGHT_SLACK_M = 5


@dataclass(frozen=True)
class Leg:
    """A parcel's ride on one route: loaded at one stop, dropped at a later one."""

    route_id: str
    echelon: int
    vehicle_type: str
    load_point: str
    load_departure_s: int
    drop_point: str
    drop_arrival_s: int
    drop_departure_s: int


@dataclass
class Rides:
    """What the replay of every route found: each parcel's legs, parcels that were on a
    broken-down vehicle, and every parcel loaded or dropped anywhere."""

    legs: dict[str, list[Leg]] = field(default_factory=lambda: defaultdict(list))
    stranded: set[str] = field(default_factory=set)
    touched: set[str] = field(default_factory=set)


def check_routes(ctx: Context) -> Rides:
    """Every route's own rules; returns the parcels' rides for the chain checks."""
    rides = Rides()
    for route in ctx.plan["routes"]:
        vt = ctx.vtype(route["vehicle_id"])
        roads = ctx.roads(route)
        _places(ctx, route)
        _cut_off(ctx, route, roads)
        _times(ctx, route, vt, roads)
        _loads(ctx, route, vt, rides)
        _distance_and_cost(ctx, route, vt, roads)
    return rides


def _cut_off(ctx: Context, route: Mapping[str, Any], roads: Roads) -> None:
    """No stop at a point that road closures cut off from the hub."""
    for i, stop in enumerate(route["stops"]):
        if ctx.cut_off(stop["point_id"], roads):
            ctx.fault(
                where(route, i),
                "road_closed",
                "the road closures cut this point off: no open road joins it and the hub",
            )


def _places(ctx: Context, route: Mapping[str, Any]) -> None:
    """Depot is the vehicle's base; start and end there; echelons where the network says."""
    stops = route["stops"]
    vid = route["vehicle_id"]
    base = ctx.vehicles[vid].depot
    if vid in ctx.off:
        ctx.fault(where(route), "availability", f"vehicle {vid} is off today")
    if route["depot"] != base:
        ctx.fault(where(route), "depot", f"depot {route['depot']} is not {vid}'s base {base}")
    if stops[0]["point_id"] != base:
        ctx.fault(where(route, 0), "depot", f"starts away from {vid}'s base {base}")
    broken = route.get("ended") == "breakdown"
    if not broken and stops[-1]["point_id"] != base:
        ctx.fault(where(route, len(stops) - 1), "depot", f"ends away from {vid}'s base {base}")
    if broken and not _breakdown_event(ctx, vid, stops[0]["departure_s"]):
        ctx.fault(where(route), "reason", f"ends in a breakdown but no event breaks down {vid}")
    kind = ctx.points[base].kind
    if route["echelon"] == 1 and kind != "hub":
        ctx.fault(where(route), "place", f"echelon 1 starts at the hub, not {base}")
    if route["echelon"] == 2:
        if ctx.direct:
            ctx.fault(
                where(route), "place", "a direct plan leaves station vehicles at their stations"
            )
        if kind != "station":
            ctx.fault(where(route), "place", f"echelon 2 starts at a station, not {base}")
        for i, stop in enumerate(stops[1:-1], start=1):
            p = ctx.points[stop["point_id"]]
            if p.kind != "village" or p.town_id != ctx.points[base].town_id:
                ctx.fault(where(route, i), "place", "echelon 2 serves only its own town's villages")


def _breakdown_event(ctx: Context, vehicle_id: str, left_s: int) -> bool:
    """True when an event breaks the vehicle down after its route left the depot at `left_s`."""
    for e in ctx.events:
        if e.get("type") == "breakdown" and e.get("vehicle_id") == vehicle_id:
            t = ctx.event_time(e)
            if t is not None and t >= left_s:
                return True
    return False


def _times(ctx: Context, route: Mapping[str, Any], vt: VehicleType, roads: Roads) -> None:
    """Opening hours, classes, loading, service and unloading times, travel (+ break)."""
    s = ctx.settings
    stops = route["stops"]
    brk = route["break"]
    window = (brk["start_s"], brk["end_s"]) if brk else (0, 0)
    last = len(stops) - 1
    broken = route.get("ended") == "breakdown"
    for i, stop in enumerate(stops):
        point = ctx.points[stop["point_id"]]
        at = where(route, i)
        if not ctx.enters(ctx.vehicles[route["vehicle_id"]], point.point_id):
            ctx.fault(at, "class", f"a {vt.vclass} may not enter; {point.max_vclass} at most")
        arrival, departure = stop["arrival_s"], stop["departure_s"]
        if not (broken and i == last) and not point.open_s <= arrival <= point.close_s:
            ctx.fault(
                at, "opening_hours", f"arrives {arrival}, open {point.open_s}-{point.close_s}"
            )
        if i in (0, last) and not (broken and i == last) and departure > point.close_s:
            ctx.fault(
                at, "opening_hours", f"leaves the depot at {departure}, closes {point.close_s}"
            )
        handled = len(stop["load"]) + len(stop["drop"])
        if i == 0:
            need, what = s.load_s, "loading"
        elif i == last and not broken:
            need, what = s.unload_s, "unloading"
        elif handled:
            transfer = route["echelon"] == 1 and point.kind == "station"
            per = s.transfer_parcel_s if transfer else s.service_parcel_s
            need = s.service_stop_s + per * handled
            what = f"{s.service_stop_s} s + {per} s x {handled} parcels"
        else:
            need, what = 0, "nothing"
        if departure - arrival < need:
            ctx.fault(
                at, "service_time", f"{departure - arrival} s at the stop, {what} needs {need} s"
            )
        if window[0] < departure and arrival < window[1]:
            ctx.fault(at, "lunch", "the lunch break overlaps the work at this stop")
        if i == 0:
            continue
        prev = stops[i - 1]
        travel = roads.travel_s(vt.name, prev["point_id"], stop["point_id"])
        lunch = max(0, min(arrival, window[1]) - max(prev["departure_s"], window[0]))
        if arrival - prev["departure_s"] < travel + lunch:
            opened = ctx.inputs.open_roads
            if opened is not None and arrival - prev["departure_s"] >= lunch + opened.travel_s(
                vt.name, prev["point_id"], stop["point_id"]
            ):
                around = (
                    f"around the closures it needs {travel} s"
                    if travel < UNREACHABLE
                    else "no open road leads there"
                )
                ctx.fault(
                    at,
                    "road_closed",
                    f"arrives {arrival}, leaving {prev['departure_s']}: only over a road "
                    f"closed today; {around}",
                )
                continue
            ctx.fault(
                at,
                "travel_time",
                f"arrives {arrival}, but leaving {prev['departure_s']} it needs {travel} s"
                + (f" + {lunch} s lunch" if lunch else ""),
            )
    if brk is not None:
        if brk["end_s"] - brk["start_s"] != s.lunch_duration_s:
            ctx.fault(where(route), "lunch", f"break lasts {brk['end_s'] - brk['start_s']} s")
        if brk["start_s"] < stops[0]["departure_s"] or brk["end_s"] > stops[-1]["arrival_s"]:
            ctx.fault(where(route), "lunch", "the break is not between the route's stops")


def _loads(ctx: Context, route: Mapping[str, Any], vt: VehicleType, rides: Rides) -> None:
    """Replay drops then loads at each stop: on board or not, cold chain, load vs capacity."""
    on_board: dict[str, int] = {}
    weight = volume = 0
    stops = route["stops"]
    for i, stop in enumerate(stops):
        at = where(route, i)
        for t in stop["drop"]:
            rides.touched.add(t)
            if t not in on_board:
                ctx.fault(at, "on_board", f"drops {t}, which is not on board")
                continue
            loaded = stops[on_board.pop(t)]
            weight -= ctx.parcels[t].weight_g
            volume -= ctx.parcels[t].volume_ml
            rides.legs[t].append(
                Leg(
                    route_id=route["route_id"],
                    echelon=route["echelon"],
                    vehicle_type=vt.name,
                    load_point=loaded["point_id"],
                    load_departure_s=loaded["departure_s"],
                    drop_point=stop["point_id"],
                    drop_arrival_s=stop["arrival_s"],
                    drop_departure_s=stop["departure_s"],
                )
            )
        for t in stop["load"]:
            rides.touched.add(t)
            if t in on_board:
                ctx.fault(at, "on_board", f"loads {t}, which is already on board")
                continue
            on_board[t] = i
            weight += ctx.parcels[t].weight_g
            volume += ctx.parcels[t].volume_ml
            if ctx.parcels[t].cold and not vt.cold:
                ctx.fault(at, "cold_chain", f"cold parcel {t} on non-refrigerated {vt.name}")
        for key, value, cap in (
            ("weight_g_after", weight, vt.capacity_g),
            ("volume_ml_after", volume, vt.capacity_ml),
        ):
            if stop[key] != value:
                ctx.fault(
                    at, "capacity", f"{key} {stop[key]}, but the parcels on board make {value}"
                )
            if value > cap:
                ctx.fault(at, "capacity", f"{key} {value} exceeds the {vt.name} capacity {cap}")
    if route.get("ended") == "breakdown":
        rides.stranded |= set(on_board)
    elif on_board:
        ctx.fault(
            where(route), "on_board", f"parcels still on board at the end: {sorted(on_board)}"
        )


def _distance_and_cost(
    ctx: Context, route: Mapping[str, Any], vt: VehicleType, roads: Roads
) -> None:
    """Road distance never below the straight line; sums, range, duration and cost."""
    stops = route["stops"]
    metres = 0
    for i in range(1, len(stops)):
        a, b = stops[i - 1]["point_id"], stops[i]["point_id"]
        leg = roads.travel_m(vt.name, a, b)
        metres += leg
        pa, pb = ctx.points[a], ctx.points[b]
        line = great_circle_m(pa.lon, pa.lat, pb.lon, pb.lat)
        if leg < line * (1 - STRAIGHT_TOLERANCE) - STRAIGHT_SLACK_M:
            ctx.fault(
                where(route, i),
                "straight_line",
                f"{leg} m by road from {a}, shorter than the {line:.0f} m straight line: "
                "the road network does not cover these points",
            )
    opened = ctx.inputs.open_roads
    if (
        route["distance_m"] != metres
        and opened is not None
        and route["distance_m"]
        == sum(opened.travel_m(vt.name, a["point_id"], b["point_id"]) for a, b in pairwise(stops))
    ):
        around = (
            f"around them the roads make {metres}"
            if metres < UNREACHABLE
            else "no open road joins some of its stops"
        )
        ctx.fault(
            where(route),
            "road_closed",
            f"distance_m {route['distance_m']} is the distance over roads closed today; {around}",
        )
    elif route["distance_m"] != metres:
        ctx.fault(
            where(route), "distance", f"distance_m {route['distance_m']}, roads make {metres}"
        )
    if vt.range_m is not None and metres > vt.range_m:
        ctx.fault(
            where(route), "range", f"{metres} m exceeds the {vt.name} range of {vt.range_m} m"
        )
    span = stops[-1]["departure_s"] - stops[0]["arrival_s"]
    if route["duration_s"] != span:
        ctx.fault(
            where(route), "duration", f"duration_s {route['duration_s']}, loading to end is {span}"
        )
    mine = ctx.routes_of[route["vehicle_id"]]
    first = mine[0] is route
    fixed = vt.fixed_cost_fen if first else 0
    scaled = vt.cost_per_km_fen * metres * 3600 + vt.cost_per_hour_fen * span * 1000
    cost = fixed + (2 * scaled + 3_600_000) // 7_200_000
    if route["cost_fen"] != cost:
        ctx.fault(
            where(route),
            "cost",
            f"cost_fen {route['cost_fen']}, the fleet's prices make {cost} "
            f"({'fixed ' + str(fixed) + ' + ' if fixed else ''}{metres} m, {span} s)",
        )
