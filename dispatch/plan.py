"""The plan JSON (DESIGN.md contract, version 1.0) built from a day's trips."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from dispatch.fleet import Fleet
from dispatch.legs import Trip
from dispatch.parcel import Parcel
from dispatch.reasons import Unassigned, is_deferral
from dispatch.workspace import Workspace

PLAN_VERSION = "1.0"


def trip_cost_fen(trip: Trip, distance_m: int, first_trip: bool) -> int:
    """Cost (fen) of a trip: fixed cost on a vehicle's first trip, per km, per hour."""
    t = trip.vtype
    fixed = t.fixed_cost_fen if first_trip else 0
    return round(
        fixed
        + t.cost_per_km_fen * distance_m / 1000
        + t.cost_per_hour_fen * (trip.end_s - trip.start_s) / 3600
    )


def _stops(ws: Workspace, fleet: Fleet, trip: Trip) -> tuple[list[dict[str, Any]], int]:
    """Stops of a trip (depot, visits merged per consecutive point, end) and its metres."""
    outgoing = [p for v in trip.visits for p in v.job.deliveries]
    load_g = sum(p.weight_g for p in outgoing)
    load_ml = sum(p.volume_ml for p in outgoing)
    stops: list[dict[str, Any]] = [
        {
            "seq": 0,
            "point_id": trip.start_point,
            "arrival_s": trip.start_s,
            "departure_s": trip.start_s,
            "load": sorted(p.tracking_no for p in outgoing),
            "drop": [],
            "weight_g_after": load_g,
            "volume_ml_after": load_ml,
        }
    ]
    for v in trip.visits:
        last = stops[-1]
        if len(stops) > 1 and last["point_id"] == v.job.point_id:
            stop = last
            stop["departure_s"] = v.end_s
        else:
            stop = {
                "seq": len(stops),
                "point_id": v.job.point_id,
                "arrival_s": v.start_s,
                "departure_s": v.end_s,
                "load": [],
                "drop": [],
            }
            stops.append(stop)
        load_g += v.job.pickup_g - v.job.delivery_g
        load_ml += v.job.pickup_ml - v.job.delivery_ml
        stop["drop"] = sorted(stop["drop"] + [p.tracking_no for p in v.job.deliveries])
        stop["load"] = sorted(stop["load"] + [p.tracking_no for p in v.job.pickups])
        stop["weight_g_after"] = load_g
        stop["volume_ml_after"] = load_ml
    returned = [p for v in trip.visits for p in v.job.pickups]
    stops.append(
        {
            "seq": len(stops),
            "point_id": trip.end_point,
            "arrival_s": trip.end_s,
            "departure_s": trip.end_s,
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
    trips: Sequence[Trip],
    unassigned: Sequence[Unassigned],
    parcels: Sequence[Parcel],
    *,
    date: dt.date,
    mode: str,
    extra_kpis: Mapping[str, Any] | None = None,
    plan_id: str | None = None,
    kept: Sequence[Mapping[str, Any]] = (),
    retired_ids: Sequence[str] = (),
) -> dict[str, Any]:
    """Assemble the plan JSON; trips of each vehicle are numbered in time order.

    `kept` routes (from the plan being re-planned) stay as they are, ids included; new
    routes are numbered after them and after `retired_ids` (route ids of the old version that
    must not be reused), and a vehicle's fixed cost is counted on its first trip.
    """
    ordered = sorted(trips, key=lambda t: (t.vehicle.vehicle_id, t.start_s))
    trip_no: dict[str, int] = {}
    for r in kept:
        trip_no[r["vehicle_id"]] = max(trip_no.get(r["vehicle_id"], 0), r["trip"])
    routes: list[dict[str, Any]] = []
    for t in ordered:
        k = trip_no.get(t.vehicle.vehicle_id, 0) + 1
        trip_no[t.vehicle.vehicle_id] = k
        stops, metres = _stops(ws, fleet, t)
        brk = None
        if t.lunch_start_s is not None:
            brk = {
                "start_s": t.lunch_start_s,
                "end_s": t.lunch_start_s + fleet.settings.lunch_duration_s,
            }
        routes.append(
            {
                "route_id": "",
                "vehicle_id": t.vehicle.vehicle_id,
                "vehicle_type": t.vtype.name,
                "echelon": t.echelon,
                "trip": k,
                "depot": t.start_point,
                "distance_m": metres,
                "duration_s": t.end_s - t.start_s,
                "cost_fen": trip_cost_fen(t, metres, k == 1),
                "break": brk,
                "stops": stops,
            }
        )
    routes.sort(key=lambda r: (r["echelon"], r["stops"][0]["departure_s"], r["vehicle_id"]))
    used = [r["route_id"] for r in kept] + list(retired_ids)
    first = 1 + max((int(rid[1:]) for rid in used), default=0)
    for i, r in enumerate(routes, first):
        r["route_id"] = f"R{i:03d}"
    routes = [dict(r) for r in kept] + routes

    by_id = {p.tracking_no: p for p in parcels}
    delivered = sum(
        1
        for r in routes
        for s in r["stops"]
        for pid in s["drop"]
        if by_id[pid].kind == "delivery" and by_id[pid].point_id == s["point_id"]
    )
    picked = sum(
        1
        for r in routes
        for pid in r["stops"][-1]["drop"]
        if by_id[pid].kind == "pickup" and r["stops"][-1]["point_id"] == "HUB"
    )
    deferred = sum(1 for u in unassigned if is_deferral(u.code))
    cost = sum(r["cost_fen"] for r in routes)
    distance = sum(r["distance_m"] for r in routes)
    duration = sum(r["duration_s"] for r in routes)
    carried = delivered + picked
    due_today_missing = sum(
        1 for u in unassigned if not is_deferral(u.code) and by_id[u.parcel_id].due_date <= date
    )
    if not routes and parcels:
        status = "failed"
    elif due_today_missing:
        status = "partial"
    else:
        status = "feasible"
    kpis: dict[str, Any] = {
        "parcels": len(parcels),
        "delivered": delivered,
        "picked_up": picked,
        "unassigned": len(unassigned) - deferred,
        "deferred": deferred,
        "distance_m": distance,
        "duration_s": duration,
        "vehicle_hours": round(duration / 3600, 2),
        "cost_fen": cost,
        "vehicles_used": len({r["vehicle_id"] for r in routes}),
        "routes": len(routes),
        "cost_per_parcel_fen": round(cost / carried) if carried else 0,
        "echelon_1": _echelon_kpis(routes, 1),
        "echelon_2": _echelon_kpis(routes, 2),
    }
    kpis.update(extra_kpis or {})
    return {
        "version": PLAN_VERSION,
        "plan_id": plan_id or uuid.uuid4().hex[:12],
        "date": date.isoformat(),
        "status": status,
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
            }
            for v in fleet.vehicles
        ],
        "routes": routes,
        "unassigned": [u.as_json() for u in sorted(unassigned, key=lambda u: u.parcel_id)],
        "kpis": kpis,
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
