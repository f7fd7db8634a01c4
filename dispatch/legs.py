"""One routing leg: jobs and vehicle trips turned into an optimizer Problem, and back.

A leg is one echelon's work that can be solved at once (the hub's trunk runs, one town
station's village runs, the afternoon produce collection). The optimizer sees integers only;
this module keeps the mapping between its indices and jobs, vehicles and points.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from dispatch.fleet import CLASS_RANK, Fleet, FleetVehicle, VehicleType
from dispatch.jobs import Job
from dispatch.workspace import Workspace, profile_of
from geodata.matrix import TravelProfile
from optimizer.problem import MANDATORY, Break, Problem, Vehicle
from optimizer.solver import SolveParams, solve
from optimizer.validate import validate

#: Time allowed (s) to find a first solution when the leg's own budget found none.
FIRST_SOLUTION_S = 60.0


@dataclass(frozen=True)
class TripSlot:
    """The next trip of a physical vehicle in this leg (times in s); one slot per vehicle."""

    vehicle: FleetVehicle
    trip: int
    earliest_s: int
    latest_s: int
    start_point: str
    end_point: str


@dataclass
class Visit:
    """A job served on a trip: service starts at `start_s`, ends at `end_s` (s)."""

    job: Job
    start_s: int
    end_s: int


@dataclass
class Trip:
    """A solved trip: depart `start_s` from `start_point`, visits, arrive `end_s` at end."""

    vehicle: FleetVehicle
    vtype: VehicleType
    echelon: int
    start_point: str
    end_point: str
    start_s: int
    end_s: int
    visits: list[Visit] = field(default_factory=list)
    lunch_start_s: int | None = None
    trip: int = 1


@dataclass
class LegResult:
    """Trips of a leg, jobs left unserved and the optimizer's cost (fen)."""

    trips: list[Trip]
    unserved: list[Job]
    cost_fen: int


def service_time(job: Job, fleet: Fleet) -> int:
    """Seconds spent at a job's stop: per stop plus per parcel."""
    s = fleet.settings
    return s.service_stop_s + s.service_parcel_s * len(job.parcels)


def may_serve(ws: Workspace, vtype: VehicleType, job: Job) -> bool:
    """True when the vehicle type may enter the job's point and carry its parcels."""
    point = ws.point(job.point_id)
    if CLASS_RANK[vtype.vclass] > CLASS_RANK[point.max_vclass]:
        return False
    return not (job.cold and not vtype.cold)


def job_penalty(job: Job, fleet: Fleet) -> int:
    """Cost (fen) of leaving a job unserved: deferral for parcels due later, else a drop."""
    s = fleet.settings
    per = s.defer_penalty_fen if job.deferrable else s.drop_penalty_fen
    return per * max(1, len(job.parcels))


def solve_leg(
    ws: Workspace,
    fleet: Fleet,
    jobs: Sequence[Job],
    slots: Sequence[TripSlot],
    *,
    echelon: int,
    time_limit_s: float,
    solution_limit: int | None = None,
    hints: Mapping[str, Sequence[str]] | None = None,
) -> LegResult:
    """Solve one leg and return its trips; the solution is validated before it is used.

    `hints` (vehicle id -> point ids in the order an earlier plan visited them) warm-start the
    search; the solver starts afresh when they do not make a feasible start.
    """
    if not jobs or not slots:
        return LegResult(trips=[], unserved=list(jobs), cost_fen=0)
    depots = sorted({s.start_point for s in slots} | {s.end_point for s in slots})
    loc_points = depots + [j.point_id for j in jobs]
    depot_loc = {p: i for i, p in enumerate(depots)}
    first_job = len(depots)

    profile_index: dict[TravelProfile, int] = {}
    distances: list[np.ndarray] = []
    durations: list[np.ndarray] = []
    for t in sorted({s.vehicle.vtype for s in slots}):
        profile = profile_of(fleet.types[t])
        if profile not in profile_index:
            profile_index[profile] = len(profile_index)
            dist, dur = ws.submatrices(fleet.types[t], loc_points)
            distances.append(dist.astype(np.int64))
            durations.append(dur.astype(np.int64))

    n = len(loc_points)
    delivery = np.zeros((n, 2), dtype=np.int64)
    pickup = np.zeros((n, 2), dtype=np.int64)
    windows = np.zeros((n, 2), dtype=np.int64)
    service = np.zeros(n, dtype=np.int64)
    penalty = np.full(n, MANDATORY, dtype=np.int64)
    for d in depots:
        pt = ws.point(d)
        windows[depot_loc[d]] = (pt.open_s, pt.close_s)
    for k, job in enumerate(jobs):
        i = first_job + k
        pt = ws.point(job.point_id)
        delivery[i] = (job.delivery_g, job.delivery_ml)
        pickup[i] = (job.pickup_g, job.pickup_ml)
        windows[i] = (max(pt.open_s, job.ready_s), min(pt.close_s, job.due_s))
        service[i] = service_time(job, fleet)
        penalty[i] = job_penalty(job, fleet)

    s = fleet.settings
    vehicles: list[Vehicle] = []
    for slot in slots:
        vt = fleet.types[slot.vehicle.vtype]
        vehicles.append(
            Vehicle(
                start=depot_loc[slot.start_point],
                end=depot_loc[slot.end_point],
                capacity_g=vt.capacity_g,
                capacity_ml=vt.capacity_ml,
                profile=profile_index[profile_of(vt)],
                fixed_cost=vt.fixed_cost_fen if slot.trip == 1 else 0,
                cost_per_km=vt.cost_per_km_fen,
                cost_per_hour=vt.cost_per_hour_fen,
                shift_start=slot.earliest_s,
                shift_end=slot.latest_s,
                max_duration=s.max_shift_s,
                lunch=Break(s.lunch_earliest_s, s.lunch_latest_s, s.lunch_duration_s)
                if s.lunch_duration_s > 0
                else None,
            )
        )
    allowed: list[frozenset[int] | None] = [None] * n
    for k, job in enumerate(jobs):
        ok = frozenset(
            v for v, slot in enumerate(slots) if may_serve(ws, fleet.types[slot.vehicle.vtype], job)
        )
        allowed[first_job + k] = ok

    problem = Problem(
        distances=distances,
        durations=durations,
        delivery=delivery,
        pickup=pickup,
        time_windows=windows,
        service=service,
        vehicles=vehicles,
        penalty=penalty,
        allowed=allowed,
    )
    initial = _warm_routes(problem, jobs, slots, hints, first_job) if hints else None
    params = SolveParams(
        time_limit_s=time_limit_s, solution_limit=solution_limit, initial_routes=initial
    )
    solution = solve(problem, params)
    if solution.status == "failed":
        # The budget ran out before a first solution: take the first one, however long.
        solution = solve(problem, replace(params, time_limit_s=FIRST_SOLUTION_S, solution_limit=1))
    faults = validate(problem, solution)
    if faults:
        raise RuntimeError("optimizer returned an invalid solution: " + "; ".join(faults[:5]))

    trips: list[Trip] = []
    for route in solution.routes:
        slot = slots[route.vehicle]
        visits = [
            Visit(
                job=jobs[node - first_job],
                start_s=route.times[k + 1],
                end_s=route.times[k + 1] + int(service[node]),
            )
            for k, node in enumerate(route.nodes)
        ]
        trips.append(
            Trip(
                vehicle=slot.vehicle,
                vtype=fleet.types[slot.vehicle.vtype],
                echelon=echelon,
                start_point=slot.start_point,
                end_point=slot.end_point,
                start_s=route.times[0],
                end_s=route.times[-1],
                visits=visits,
                lunch_start_s=route.lunch_start,
                trip=slot.trip,
            )
        )
    unserved = [jobs[i - first_job] for i in solution.unserved]
    return LegResult(trips=trips, unserved=unserved, cost_fen=solution.cost)


def _warm_routes(
    problem: Problem,
    jobs: Sequence[Job],
    slots: Sequence[TripSlot],
    hints: Mapping[str, Sequence[str]],
    first_job: int,
) -> list[list[int]]:
    """Initial routes: each vehicle's jobs in its hinted point order, within its capacity
    (deliveries and pickups counted together, which is always feasible)."""
    taken: set[int] = set()
    routes: list[list[int]] = []
    for v, slot in enumerate(slots):
        route: list[int] = []
        weight = volume = 0
        vehicle = problem.vehicles[v]
        for point in hints.get(slot.vehicle.vehicle_id, ()):
            for k, job in enumerate(jobs):
                node = first_job + k
                if k in taken or job.point_id != point or not problem.may_serve(v, node):
                    continue
                g = job.delivery_g + job.pickup_g
                ml = job.delivery_ml + job.pickup_ml
                if weight + g > vehicle.capacity_g or volume + ml > vehicle.capacity_ml:
                    continue
                weight, volume = weight + g, volume + ml
                taken.add(k)
                route.append(node)
        routes.append(route)
    return routes
