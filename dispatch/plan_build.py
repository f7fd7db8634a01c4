"""The plan of a day (dispatch.plan) built from its trips: stops, costs, drivers, KPIs."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from dispatch.fleet import Fleet, VehicleType
from dispatch.legs import Trip
from dispatch.parcel import Parcel
from dispatch.plan import (
    Break,
    CarriedIn,
    CarryOver,
    Driver,
    Echelon,
    EchelonKpis,
    Held,
    Kpis,
    Mode,
    Plan,
    Route,
    Status,
    Stop,
    TownKpis,
    Unassigned,
    Vehicle,
)
from dispatch.reasons import is_deferral
from dispatch.station_timing import stop_ends
from dispatch.two_echelon import DayResult
from dispatch.two_echelon import Held as HeldParcel
from dispatch.workspace import Workspace

#: Code and sentence of a held entry (a parcel waiting at a station for the next day).
HELD_REASONS = {
    "pickup": (
        "after_last_call",
        "Reached {station} after the last hub vehicle that could carry it had called.",
    ),
    "delivery": ("no_village_run", "At {station}; no village run could take it today."),
}


def route_cost_fen(vtype: VehicleType, distance_m: int, duration_s: int, first: bool) -> int:
    """Cost (fen) of a route: fixed cost on a vehicle's first route of the day, per km, per
    hour of its duration (loading to unloading), rounded half up."""
    fixed = vtype.fixed_cost_fen if first else 0
    variable = (
        vtype.cost_per_km_fen * distance_m / 1000 + vtype.cost_per_hour_fen * duration_s / 3600
    )
    return fixed + int(variable + 0.5)


def trip_metres(ws: Workspace, fleet: Fleet, vehicle_type: str, stops: Sequence[Stop]) -> int:
    """Metres driven along the stops, by the vehicle type's roads."""
    return sum(
        ws.travel_m(vehicle_type, a.point_id, b.point_id, fleet)
        for a, b in itertools.pairwise(stops)
    )


def _stops(trip: Trip) -> list[Stop]:
    """Stops of a trip: depot, visits merged per consecutive point, depot."""
    outgoing = [p for v in trip.visits for p in v.job.deliveries]
    load_g = sum(p.weight_g for p in outgoing)
    load_ml = sum(p.volume_ml for p in outgoing)
    stops = [
        Stop(
            seq=0,
            point_id=trip.depot,
            arrival_s=trip.times.load_s,
            departure_s=trip.times.depart_s,
            load=sorted(p.tracking_no for p in outgoing),
            drop=[],
            weight_g_after=load_g,
            volume_ml_after=load_ml,
        )
    ]
    for point, leaves, members in stop_ends(trip):
        visits = [trip.visits[k] for k in members]
        for v in visits:
            load_g += v.job.pickup_g - v.job.delivery_g
            load_ml += v.job.pickup_ml - v.job.delivery_ml
        stops.append(
            Stop(
                seq=len(stops),
                point_id=point,
                arrival_s=visits[0].start_s,
                departure_s=leaves,
                load=sorted(p.tracking_no for v in visits for p in v.job.pickups),
                drop=sorted(p.tracking_no for v in visits for p in v.job.deliveries),
                weight_g_after=load_g,
                volume_ml_after=load_ml,
            )
        )
    returned = [p for v in trip.visits for p in v.job.pickups]
    stops.append(
        Stop(
            seq=len(stops),
            point_id=trip.depot,
            arrival_s=trip.times.arrive_s,
            departure_s=trip.times.unload_end_s,
            load=[],
            drop=sorted(p.tracking_no for p in returned),
            weight_g_after=0,
            volume_ml_after=0,
        )
    )
    return stops


@dataclass
class _NewRoute:
    """A trip of today's solve on its way to becoming a Route (id, trip number, cost)."""

    trip: Trip
    stops: list[Stop]
    metres: int
    brk: Break | None
    route_id: str = ""
    number: int = 0
    cost_fen: int = 0

    @property
    def start_s(self) -> int:
        return self.stops[0].arrival_s

    def route(self) -> Route:
        t = self.trip
        return Route(
            route_id=self.route_id,
            vehicle_id=t.vehicle.vehicle_id,
            vehicle_type=t.vtype.name,
            echelon=cast(Echelon, t.echelon),
            trip=self.number,
            depot=t.depot,
            distance_m=self.metres,
            duration_s=t.times.unload_end_s - t.times.load_s,
            cost_fen=self.cost_fen,
            break_=self.brk,
            stops=self.stops,
        )


def build_plan(
    ws: Workspace,
    fleet: Fleet,
    day: DayResult,
    parcels: Sequence[Parcel],
    *,
    date: dt.date,
    mode: Mode,
    extra_kpis: Mapping[str, Any] | None = None,
    plan_id: str | None = None,
    kept: Sequence[Route] = (),
    retired_ids: Sequence[str] = (),
    carried_in: Sequence[CarriedIn] = (),
) -> Plan:
    """Assemble the plan; trips of each vehicle are numbered in time order.

    `kept` routes (from the plan being re-planned) stay as they are, ids included; new
    routes are numbered after them and after `retired_ids` (route ids of the old version that
    must not be reused). A vehicle's fixed cost is counted on its first route of the day.
    `carried_in` lists the parcels taken over from an earlier day. `extra_kpis` are the
    solve's own figures (Kpis fields after `towns`).
    """
    lunch_s = fleet.settings.lunch_duration_s
    new: list[_NewRoute] = []
    for t in day.trips:
        stops = _stops(t)
        lunch = day.lunches.get(t.vehicle.vehicle_id)
        brk = None
        if lunch is not None and t.times.load_s <= lunch < t.times.unload_end_s:
            brk = Break(start_s=lunch, end_s=lunch + lunch_s)
        new.append(_NewRoute(t, stops, trip_metres(ws, fleet, t.vtype.name, stops), brk))
    new.sort(key=lambda r: (r.trip.echelon, r.start_s, r.trip.vehicle.vehicle_id))
    used = [r.route_id for r in kept] + list(retired_ids)
    first = 1 + max((int(rid[1:]) for rid in used), default=0)
    for i, r in enumerate(new, first):
        r.route_id = f"R{i:03d}"
    _number_and_cost(kept, new, fleet)
    routes = [*kept, *(r.route() for r in new)]

    by_id = {p.tracking_no: p for p in parcels}
    at_station = {c.parcel_id for c in carried_in if ws.point(c.at).kind == "station"}
    status, kpis = plan_kpis(
        routes, day.unassigned, day.held, by_id, date, ws, at_station, extra_kpis or {}
    )
    deferred = [u for u in day.unassigned if is_deferral(u.code)]
    carry = [_carry(h.parcel, h.station, "held") for h in day.held] + [
        _carry(by_id[u.parcel_id], _waits_at(by_id[u.parcel_id], ws), "deferred") for u in deferred
    ]
    return Plan(
        plan_id=plan_id or uuid.uuid4().hex[:12],
        date=date,
        status=status,
        mode=mode,
        vehicles=[
            Vehicle(
                vehicle_id=v.vehicle_id,
                vehicle_type=v.vtype,
                capacity_g=fleet.types[v.vtype].capacity_g,
                capacity_ml=fleet.types[v.vtype].capacity_ml,
                cold=fleet.types[v.vtype].cold,
                depot=v.depot,
                shift_start_s=v.shift_start_s,
                shift_end_s=v.shift_end_s,
                available=v.vehicle_id not in fleet.off,
            )
            for v in fleet.vehicles
        ],
        drivers=_drivers(routes, day.lunches, lunch_s),
        routes=routes,
        unassigned=sorted(day.unassigned, key=lambda u: u.parcel_id),
        held=[_held(h, ws) for h in sorted(day.held, key=lambda h: h.parcel.tracking_no)],
        carry_over=sorted(carry, key=lambda c: c.tracking_no),
        carried_in=list(carried_in),
        kpis=kpis,
    )


def _number_and_cost(kept: Sequence[Route], new: Sequence[_NewRoute], fleet: Fleet) -> None:
    """Trip numbers per vehicle in time order, and the cost of each new route."""
    by_vehicle: dict[str, list[tuple[int, _NewRoute | None]]] = defaultdict(list)
    for r in kept:
        by_vehicle[r.vehicle_id].append((r.stops[0].arrival_s, None))
    for made in new:
        by_vehicle[made.trip.vehicle.vehicle_id].append((made.start_s, made))
    for vid, mine in by_vehicle.items():
        mine.sort(key=lambda entry: entry[0])
        vtype = fleet.types[next(v.vtype for v in fleet.vehicles if v.vehicle_id == vid)]
        for k, (_, n) in enumerate(mine, 1):
            if n is not None:  # a new route
                n.number = k
                duration = n.trip.times.unload_end_s - n.trip.times.load_s
                n.cost_fen = route_cost_fen(vtype, n.metres, duration, k == 1)


def _drivers(routes: Sequence[Route], lunches: Mapping[str, int], lunch_s: int) -> list[Driver]:
    """Each working vehicle's driver-day: first loading to last unloading, lunch, routes."""
    by_vehicle: dict[str, list[Route]] = defaultdict(list)
    for r in routes:
        by_vehicle[r.vehicle_id].append(r)
    out = []
    for vid, mine in sorted(by_vehicle.items()):
        mine = sorted(mine, key=lambda r: r.stops[0].arrival_s)
        lunch = lunches.get(vid)
        if lunch is None:
            lunch = next((r.break_.start_s for r in mine if r.break_), None)
        out.append(
            Driver(
                vehicle_id=vid,
                start_s=mine[0].stops[0].arrival_s,
                end_s=mine[-1].stops[-1].departure_s,
                lunch=None if lunch is None else Break(start_s=lunch, end_s=lunch + lunch_s),
                routes=[r.route_id for r in mine],
            )
        )
    return out


def _waits_at(parcel: Parcel, ws: Workspace) -> str:
    """Where a parcel not carried today waits: deliveries at the hub, pickups at their point."""
    return ws.hub_id if parcel.kind == "delivery" else parcel.point_id


def _carry(parcel: Parcel, at: str, why: str) -> CarryOver:
    """The full record of a parcel the next day must take, and where it waits."""
    return CarryOver(
        tracking_no=parcel.tracking_no,
        carrier=parcel.carrier,
        kind=parcel.kind,
        point_id=parcel.point_id,
        weight_g=parcel.weight_g,
        volume_ml=parcel.volume_ml,
        cold=parcel.cold,
        due_date=parcel.due_date,
        at=at,
        why=why,  # type: ignore[arg-type]  # "held" | "deferred", checked by the model
    )


def _held(h: HeldParcel, ws: Workspace) -> Held:
    code, sentence = HELD_REASONS[h.parcel.kind]
    return Held(
        parcel_id=h.parcel.tracking_no,
        station=h.station,
        arrived_s=h.arrived_s,
        code=code,  # type: ignore[arg-type]  # one of HELD_REASONS' codes
        reason=sentence.format(station=ws.point(h.station).name),
    )


def plan_kpis(
    routes: Sequence[Route],
    unassigned: Sequence[Unassigned],
    held: Sequence[HeldParcel],
    by_id: Mapping[str, Parcel],
    date: dt.date,
    ws: Workspace,
    from_station: set[str],
    extra: Mapping[str, Any],
) -> tuple[Status, Kpis]:
    """The plan's status, and KPIs that follow from the routes and the parcels plus `extra`
    (the solve's own figures); `from_station` are parcels carried in that waited at a station."""
    hub = ws.hub_id
    delivered = picked = 0
    for r in routes:
        for s in r.stops:
            for pid in s.drop:
                p = by_id[pid]
                if p.kind == "delivery" and p.point_id == s.point_id:
                    delivered += 1
                elif p.kind == "pickup" and s.point_id == hub:
                    picked += 1
    deferred = sum(1 for u in unassigned if is_deferral(u.code))
    cost = sum(r.cost_fen for r in routes)
    duration = sum(r.duration_s for r in routes)
    carried = delivered + picked
    left_today = sum(
        1 for u in unassigned if not is_deferral(u.code) and by_id[u.parcel_id].due_date <= date
    )
    status: Status = "failed" if not routes and by_id else "partial" if left_today else "feasible"
    kpis = Kpis.model_validate(
        {
            "parcels": len(by_id),
            "delivered": delivered,
            "picked_up": picked,
            "unassigned": len(unassigned) - deferred,
            "left_today": left_today,
            "deferred": deferred,
            "held": len(held),
            "distance_m": sum(r.distance_m for r in routes),
            "duration_s": duration,
            "vehicle_hours": round(duration / 3600, 2),
            "cost_fen": cost,
            "vehicles_used": len({r.vehicle_id for r in routes}),
            "routes": len(routes),
            "cost_per_parcel_fen": round(cost / carried) if carried else 0,
            "echelon_1": _echelon_kpis(routes, 1),
            "echelon_2": _echelon_kpis(routes, 2),
            "towns": town_counts(routes, unassigned, held, by_id, ws, from_station),
            **extra,
        }
    )
    return status, kpis


def _echelon_kpis(routes: Sequence[Route], echelon: int) -> EchelonKpis:
    """Routes, metres, seconds and fen of one echelon."""
    mine = [r for r in routes if r.echelon == echelon]
    return EchelonKpis(
        routes=len(mine),
        distance_m=sum(r.distance_m for r in mine),
        duration_s=sum(r.duration_s for r in mine),
        cost_fen=sum(r.cost_fen for r in mine),
    )


def town_counts(
    routes: Sequence[Route],
    unassigned: Sequence[Unassigned],
    held: Sequence[HeldParcel],
    by_id: Mapping[str, Parcel],
    ws: Workspace,
    from_station: set[str],
) -> list[TownKpis]:
    """Per town, what was done: village parcels through the station (an echelon-2 leg, or
    waiting at the station since an earlier day) or straight from the hub, parcels of the
    station itself, held, deferred, left behind."""
    on_e2: set[str] = set(from_station)
    carried: set[str] = set()
    for r in routes:
        for s in r.stops:
            carried.update(s.drop)
            if r.echelon == 2:
                on_e2.update(s.drop)
                on_e2.update(s.load)
    held_ids = {h.parcel.tracking_no for h in held}
    deferred = {u.parcel_id for u in unassigned if is_deferral(u.code)}
    left = {u.parcel_id for u in unassigned} - deferred
    rows: dict[str, TownKpis] = {}
    for pid, p in by_id.items():
        point = ws.point(p.point_id)
        row = rows.get(point.town_id)
        if row is None:
            name = ws.point(point.town_id).name if ws.has(point.town_id) else point.town_id
            row = rows[point.town_id] = TownKpis(
                town_id=point.town_id,
                name=name,
                parcels=0,
                via_station=0,
                direct=0,
                station=0,
                held=0,
                deferred=0,
                unassigned=0,
            )
        row.parcels += 1
        if pid in held_ids:
            row.held += 1
        elif pid in deferred:
            row.deferred += 1
        elif pid in left:
            row.unassigned += 1
        elif point.kind == "station":
            row.station += 1
        elif pid in on_e2:
            row.via_station += 1
        elif pid in carried:
            row.direct += 1
    return [rows[t] for t in sorted(rows)]
