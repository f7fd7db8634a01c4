"""The plan JSON (contract version 2.0) built from a day's trips.

Version 2.0 (against 1.0): every trip starts with loading at its vehicle's own base (stop 0
`arrival_s` is the start of loading) and ends with unloading there (the last stop's
`departure_s`); `drivers` gives each working vehicle's driver-day with its one lunch break;
`held` lists produce waiting at a station for the next day; `carry_over` holds the full
records of what the next day must take (held produce, deferred parcels); `carried_in` lists
the parcels this plan took over from an earlier day; `vehicles[].available` says which
vehicles were off; `kpis.towns` counts what was actually done per town.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from dispatch.fleet import Fleet, VehicleType
from dispatch.legs import Trip
from dispatch.parcel import Parcel
from dispatch.reasons import Unassigned, is_deferral
from dispatch.station_timing import stop_ends
from dispatch.two_echelon import DayResult, Held
from dispatch.workspace import Workspace

PLAN_VERSION = "2.0"

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


def _stops(ws: Workspace, fleet: Fleet, trip: Trip) -> tuple[list[dict[str, Any]], int]:
    """Stops of a trip (depot, visits merged per consecutive point, depot) and its metres."""
    outgoing = [p for v in trip.visits for p in v.job.deliveries]
    load_g = sum(p.weight_g for p in outgoing)
    load_ml = sum(p.volume_ml for p in outgoing)
    stops: list[dict[str, Any]] = [
        {
            "seq": 0,
            "point_id": trip.depot,
            "arrival_s": trip.times.load_s,
            "departure_s": trip.times.depart_s,
            "load": sorted(p.tracking_no for p in outgoing),
            "drop": [],
            "weight_g_after": load_g,
            "volume_ml_after": load_ml,
        }
    ]
    for point, leaves, members in stop_ends(trip):
        visits = [trip.visits[k] for k in members]
        for v in visits:
            load_g += v.job.pickup_g - v.job.delivery_g
            load_ml += v.job.pickup_ml - v.job.delivery_ml
        stops.append(
            {
                "seq": len(stops),
                "point_id": point,
                "arrival_s": visits[0].start_s,
                "departure_s": leaves,
                "load": sorted(p.tracking_no for v in visits for p in v.job.pickups),
                "drop": sorted(p.tracking_no for v in visits for p in v.job.deliveries),
                "weight_g_after": load_g,
                "volume_ml_after": load_ml,
            }
        )
    returned = [p for v in trip.visits for p in v.job.pickups]
    stops.append(
        {
            "seq": len(stops),
            "point_id": trip.depot,
            "arrival_s": trip.times.arrive_s,
            "departure_s": trip.times.unload_end_s,
            "load": [],
            "drop": sorted(p.tracking_no for p in returned),
            "weight_g_after": 0,
            "volume_ml_after": 0,
        }
    )
    metres = sum(
        ws.travel_m(trip.vtype.name, a["point_id"], b["point_id"], fleet)
        for a, b in itertools.pairwise(stops)
    )
    return stops, metres


def build_plan(
    ws: Workspace,
    fleet: Fleet,
    day: DayResult,
    parcels: Sequence[Parcel],
    *,
    date: dt.date,
    mode: str,
    extra_kpis: Mapping[str, Any] | None = None,
    plan_id: str | None = None,
    kept: Sequence[Mapping[str, Any]] = (),
    retired_ids: Sequence[str] = (),
    carried_in: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Assemble the plan JSON; trips of each vehicle are numbered in time order.

    `kept` routes (from the plan being re-planned) stay as they are, ids included; new
    routes are numbered after them and after `retired_ids` (route ids of the old version that
    must not be reused). A vehicle's fixed cost is counted on its first route of the day.
    `carried_in` lists the parcels taken over from an earlier day ({parcel_id, at}).
    """
    lunch_s = fleet.settings.lunch_duration_s
    new_routes: list[dict[str, Any]] = []
    for t in day.trips:
        stops, metres = _stops(ws, fleet, t)
        lunch = day.lunches.get(t.vehicle.vehicle_id)
        brk = None
        if lunch is not None and t.times.load_s <= lunch < t.times.unload_end_s:
            brk = {"start_s": lunch, "end_s": lunch + lunch_s}
        new_routes.append(
            {
                "route_id": "",
                "vehicle_id": t.vehicle.vehicle_id,
                "vehicle_type": t.vtype.name,
                "echelon": t.echelon,
                "trip": 0,
                "depot": t.depot,
                "distance_m": metres,
                "duration_s": t.times.unload_end_s - t.times.load_s,
                "cost_fen": 0,
                "break": brk,
                "stops": stops,
            }
        )
    new_routes.sort(key=lambda r: (r["echelon"], r["stops"][0]["arrival_s"], r["vehicle_id"]))
    used = [r["route_id"] for r in kept] + list(retired_ids)
    first = 1 + max((int(rid[1:]) for rid in used), default=0)
    for i, r in enumerate(new_routes, first):
        r["route_id"] = f"R{i:03d}"
    routes = [dict(r) for r in kept] + new_routes
    _number_and_cost(routes, fleet, {id(r) for r in new_routes})

    by_id = {p.tracking_no: p for p in parcels}
    at_station = {c["parcel_id"] for c in carried_in if ws.point(c["at"]).kind == "station"}
    kpis = plan_kpis(routes, day.unassigned, day.held, by_id, date, ws, at_station)
    kpis.update(extra_kpis or {})
    deferred = [u for u in day.unassigned if is_deferral(u.code)]
    return {
        "version": PLAN_VERSION,
        "plan_id": plan_id or uuid.uuid4().hex[:12],
        "date": date.isoformat(),
        "status": kpis.pop("status"),
        "mode": mode,
        "vehicles": [
            {
                "vehicle_id": v.vehicle_id,
                "vehicle_type": v.vtype,
                "capacity_g": fleet.types[v.vtype].capacity_g,
                "capacity_ml": fleet.types[v.vtype].capacity_ml,
                "cold": fleet.types[v.vtype].cold,
                "depot": v.depot,
                "shift_start_s": v.shift_start_s,
                "shift_end_s": v.shift_end_s,
                "available": v.vehicle_id not in fleet.off,
            }
            for v in fleet.vehicles
        ],
        "drivers": _drivers(routes, day.lunches, lunch_s),
        "routes": routes,
        "unassigned": [u.as_json() for u in sorted(day.unassigned, key=lambda u: u.parcel_id)],
        "held": [_held_json(h, ws) for h in sorted(day.held, key=lambda h: h.parcel.tracking_no)],
        "carry_over": sorted(
            [_carry(h.parcel, h.station, "held") for h in day.held]
            + [
                _carry(by_id[u.parcel_id], _waits_at(by_id[u.parcel_id], ws), "deferred")
                for u in deferred
            ],
            key=lambda c: c["tracking_no"],
        ),
        "carried_in": [dict(c) for c in carried_in],
        "kpis": kpis,
    }


def _number_and_cost(routes: list[dict[str, Any]], fleet: Fleet, new: set[int]) -> None:
    """Trip numbers per vehicle in time order, and the cost of each new route."""
    by_vehicle: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in routes:
        by_vehicle[r["vehicle_id"]].append(r)
    for vid, mine in by_vehicle.items():
        mine.sort(key=lambda r: r["stops"][0]["arrival_s"])
        vtype = fleet.types[next(v.vtype for v in fleet.vehicles if v.vehicle_id == vid)]
        for k, r in enumerate(mine, 1):
            if id(r) in new:
                r["trip"] = k
                r["cost_fen"] = route_cost_fen(vtype, r["distance_m"], r["duration_s"], k == 1)


def _drivers(
    routes: Sequence[Mapping[str, Any]], lunches: Mapping[str, int], lunch_s: int
) -> list[dict[str, Any]]:
    """Each working vehicle's driver-day: first loading to last unloading, lunch, routes."""
    by_vehicle: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in routes:
        by_vehicle[r["vehicle_id"]].append(r)
    out = []
    for vid, mine in sorted(by_vehicle.items()):
        mine = sorted(mine, key=lambda r: r["stops"][0]["arrival_s"])
        lunch = lunches.get(vid)
        if lunch is None:
            lunch = next((r["break"]["start_s"] for r in mine if r.get("break")), None)
        out.append(
            {
                "vehicle_id": vid,
                "start_s": mine[0]["stops"][0]["arrival_s"],
                "end_s": mine[-1]["stops"][-1]["departure_s"],
                "lunch": None if lunch is None else {"start_s": lunch, "end_s": lunch + lunch_s},
                "routes": [r["route_id"] for r in mine],
            }
        )
    return out


def _waits_at(parcel: Parcel, ws: Workspace) -> str:
    """Where a parcel not carried today waits: deliveries at the hub, pickups at their point."""
    return ws.hub_id if parcel.kind == "delivery" else parcel.point_id


def _carry(parcel: Parcel, at: str, why: str) -> dict[str, Any]:
    """The full record of a parcel the next day must take, and where it waits."""
    return {
        "tracking_no": parcel.tracking_no,
        "carrier": parcel.carrier,
        "kind": parcel.kind,
        "point_id": parcel.point_id,
        "weight_g": parcel.weight_g,
        "volume_ml": parcel.volume_ml,
        "cold": parcel.cold,
        "due_date": parcel.due_date.isoformat(),
        "at": at,
        "why": why,
    }


def _held_json(h: Held, ws: Workspace) -> dict[str, Any]:
    code, sentence = HELD_REASONS[h.parcel.kind]
    return {
        "parcel_id": h.parcel.tracking_no,
        "station": h.station,
        "arrived_s": h.arrived_s,
        "code": code,
        "reason": sentence.format(station=ws.point(h.station).name),
    }


def plan_kpis(
    routes: Sequence[Mapping[str, Any]],
    unassigned: Sequence[Unassigned],
    held: Sequence[Held],
    by_id: Mapping[str, Parcel],
    date: dt.date,
    ws: Workspace,
    from_station: set[str],
) -> dict[str, Any]:
    """KPIs that follow from the routes and the parcels, and the plan's status;
    `from_station` are parcels carried in that waited at a station."""
    hub = ws.hub_id
    delivered = picked = 0
    for r in routes:
        for s in r["stops"]:
            for pid in s["drop"]:
                p = by_id[pid]
                if p.kind == "delivery" and p.point_id == s["point_id"]:
                    delivered += 1
                elif p.kind == "pickup" and s["point_id"] == hub:
                    picked += 1
    deferred = sum(1 for u in unassigned if is_deferral(u.code))
    cost = sum(r["cost_fen"] for r in routes)
    duration = sum(r["duration_s"] for r in routes)
    carried = delivered + picked
    left_today = sum(
        1 for u in unassigned if not is_deferral(u.code) and by_id[u.parcel_id].due_date <= date
    )
    status = "failed" if not routes and by_id else "partial" if left_today else "feasible"
    return {
        "status": status,
        "parcels": len(by_id),
        "delivered": delivered,
        "picked_up": picked,
        "unassigned": len(unassigned) - deferred,
        "left_today": left_today,
        "deferred": deferred,
        "held": len(held),
        "distance_m": sum(r["distance_m"] for r in routes),
        "duration_s": duration,
        "vehicle_hours": round(duration / 3600, 2),
        "cost_fen": cost,
        "vehicles_used": len({r["vehicle_id"] for r in routes}),
        "routes": len(routes),
        "cost_per_parcel_fen": round(cost / carried) if carried else 0,
        "echelon_1": _echelon_kpis(routes, 1),
        "echelon_2": _echelon_kpis(routes, 2),
        "towns": town_counts(routes, unassigned, held, by_id, ws, from_station),
    }


def _echelon_kpis(routes: Sequence[Mapping[str, Any]], echelon: int) -> dict[str, int]:
    """Routes, metres, seconds and fen of one echelon."""
    mine = [r for r in routes if r["echelon"] == echelon]
    return {
        "routes": len(mine),
        "distance_m": sum(r["distance_m"] for r in mine),
        "duration_s": sum(r["duration_s"] for r in mine),
        "cost_fen": sum(r["cost_fen"] for r in mine),
    }


def town_counts(
    routes: Sequence[Mapping[str, Any]],
    unassigned: Sequence[Unassigned],
    held: Sequence[Held],
    by_id: Mapping[str, Parcel],
    ws: Workspace,
    from_station: set[str],
) -> list[dict[str, Any]]:
    """Per town, what was done: village parcels through the station (an echelon-2 leg, or
    waiting at the station since an earlier day) or straight from the hub, parcels of the
    station itself, held, deferred, left behind."""
    on_e2: set[str] = set(from_station)
    carried: set[str] = set()
    for r in routes:
        for s in r["stops"]:
            carried.update(s["drop"])
            if r["echelon"] == 2:
                on_e2.update(s["drop"])
                on_e2.update(s["load"])
    held_ids = {h.parcel.tracking_no for h in held}
    deferred = {u.parcel_id for u in unassigned if is_deferral(u.code)}
    left = {u.parcel_id for u in unassigned} - deferred
    rows: dict[str, dict[str, Any]] = {}
    for pid, p in by_id.items():
        point = ws.point(p.point_id)
        row = rows.setdefault(
            point.town_id,
            {
                "town_id": point.town_id,
                "name": ws.point(point.town_id).name if ws.has(point.town_id) else point.town_id,
                "parcels": 0,
                "via_station": 0,
                "direct": 0,
                "station": 0,
                "held": 0,
                "deferred": 0,
                "unassigned": 0,
            },
        )
        row["parcels"] += 1
        if pid in held_ids:
            row["held"] += 1
        elif pid in deferred:
            row["deferred"] += 1
        elif pid in left:
            row["unassigned"] += 1
        elif point.kind == "station":
            row["station"] += 1
        elif pid in on_e2:
            row["via_station"] += 1
        elif pid in carried:
            row["direct"] += 1
    return [rows[t] for t in sorted(rows)]
