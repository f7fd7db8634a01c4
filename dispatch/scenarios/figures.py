"""What one scenario plan is worth to a planner: the figures the comparison table and charts
are made of, computed from the validated plan, its parcels and its fleet."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dispatch.fleet import Fleet
from dispatch.parcel import Parcel
from dispatch.plan import Plan
from dispatch.scenarios.model import Co2Factors


@dataclass(frozen=True)
class Figures:
    """One plan's figures. Money in yuan, distances in km, time in hours, CO2 in kg.

    `cost_yuan` is the routes' cost; `score_yuan` adds the fleet's penalties for parcels left
    behind, deferred or held (what `auto` minimises). `via_share`: of the village parcels
    delivered, the share an echelon-2 (station) route dropped. `on_time_share`: of the parcels
    due on the day, the share delivered at their point or, produce, brought to the hub that
    day. `vehicle_use`: vehicles used / vehicles working; `time_use`: route hours / shift
    hours of the vehicles used.
    """

    parcels: int
    mode: str
    cost_yuan: float
    score_yuan: float
    cost_per_parcel_yuan: float
    km: float
    km_hub: float
    km_station: float
    vehicle_hours: float
    vehicles_used: int
    vehicles_working: int
    vehicle_use: float
    time_use: float
    via_share: float
    left_behind: int
    deferred: int
    held: int
    produce_collected: int
    on_time_share: float
    co2_kg: float


def measure(
    plan: Plan,
    parcels: Sequence[Parcel],
    fleet: Fleet,
    kinds: Mapping[str, str],
    co2: Co2Factors,
) -> Figures:
    """The figures of a validated plan; `kinds` maps point id -> hub|station|village."""
    k = plan.kpis
    by_id = {p.tracking_no: p for p in parcels}
    hub = next(p for p, kind in kinds.items() if kind == "hub")
    s = fleet.settings
    score = k.cost_fen + s.drop_penalty_fen * k.left_today
    score += s.defer_penalty_fen * (k.deferred + k.held)
    village = via = on_time = 0
    co2_kg = 0.0
    for r in plan.routes:
        vt = fleet.types[r.vehicle_type]
        co2_kg += r.distance_m / 1000 * co2.of(vt.name, vt.vclass)
        for stop in r.stops:
            for pid in stop.drop:
                p = by_id[pid]
                delivered = p.kind == "delivery" and p.point_id == stop.point_id
                collected = p.kind == "pickup" and stop.point_id == hub
                if (delivered or collected) and p.due_date <= plan.date:
                    on_time += 1
                if delivered and kinds[p.point_id] == "village":
                    village += 1
                    via += r.echelon == 2
    shifts = {v.vehicle_id: v.shift_end_s - v.shift_start_s for v in plan.vehicles}
    used = {r.vehicle_id for r in plan.routes}
    working = sum(1 for v in plan.vehicles if v.available)
    used_shift_s = sum(shifts[v] for v in used)
    due = sum(1 for p in parcels if p.due_date <= plan.date)
    return Figures(
        parcels=len(parcels),
        mode=str(plan.mode),
        cost_yuan=k.cost_fen / 100,
        score_yuan=score / 100,
        cost_per_parcel_yuan=k.cost_per_parcel_fen / 100,
        km=k.distance_m / 1000,
        km_hub=k.echelon_1.distance_m / 1000,
        km_station=k.echelon_2.distance_m / 1000,
        vehicle_hours=k.duration_s / 3600,
        vehicles_used=len(used),
        vehicles_working=working,
        vehicle_use=len(used) / working if working else 0.0,
        time_use=k.duration_s / used_shift_s if used_shift_s else 0.0,
        via_share=via / village if village else 0.0,
        left_behind=k.left_today,
        deferred=k.deferred,
        held=k.held,
        produce_collected=k.picked_up,
        on_time_share=on_time / due if due else 1.0,
        co2_kg=co2_kg,
    )
