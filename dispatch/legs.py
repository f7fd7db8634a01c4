"""One routing leg: jobs and the vehicles' next trips turned into an optimizer Problem, and back.

A leg is one echelon's work that can be solved at once (the hub's morning runs, one station's
village runs, the hub's afternoon runs). The optimizer sees integers only; this module keeps
the mapping between its indices and jobs, trip slots and points. Loading at the depot is the
start node's service time, so the route's start is the start of loading; unloading follows
the arrival and is taken off the shift end and the span the solver may use.

Lunch breaks slow OR-Tools' search about tenfold, so a driver's owed lunch is not modelled as a
break: the leg is solved with every time limit after the lunch window opens moved earlier by
the lunch's length (windows, shift end, span), and the lunch is then put before the trip (a
wait at the depot), left for after it (it ends in time), or inserted at the first stop gap
once the window is open; what follows moves later by at most the lunch's length, which the
tightened limits leave room for. Should that ever fail, the leg is solved again with exact
breaks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from dispatch.driver_day import Drivers, TripSlot, TripTimes
from dispatch.eligibility import Eligibility
from dispatch.fleet import Fleet, FleetVehicle, Settings, VehicleType
from dispatch.jobs import Job, Role
from dispatch.workspace import Workspace, profile_of
from geodata.matrix import TravelProfile
from optimizer import portfolio
from optimizer.hgs import unsupported
from optimizer.portfolio import EnginePool
from optimizer.problem import MANDATORY, Break, Problem, Vehicle
from optimizer.solver import SolveParams, solve
from optimizer.validate import validate

#: Time allowed (s) to find a first solution when the leg's own budget found none.
FIRST_SOLUTION_S = 20.0
#: A wave's solve gets at least FLOOR_S + FLOOR_PER_JOB_S per job (s), whatever the budget
#: says: below that the engines return before they have placed the jobs they could.
FLOOR_S = 0.1
FLOOR_PER_JOB_S = 0.01


@dataclass(frozen=True)
class Visit:
    """A job served on a trip: service starts at `start_s`, ends at `end_s` (s)."""

    job: Job
    start_s: int
    end_s: int


@dataclass(frozen=True)
class Trip:
    """A planned trip of one vehicle from its depot and back.

    `times` holds load start, departure, arrival and unload end (s) and the driver's lunch
    when it falls inside the trip or just before it.
    """

    slot: TripSlot
    echelon: int
    times: TripTimes
    visits: tuple[Visit, ...]

    @property
    def vehicle(self) -> FleetVehicle:
        """The vehicle making the trip."""
        return self.slot.vehicle

    @property
    def vtype(self) -> VehicleType:
        """The vehicle's type."""
        return self.slot.vtype

    @property
    def depot(self) -> str:
        """Where the trip starts and ends."""
        return self.slot.depot

    def without(self, tracking_nos: set[str]) -> Trip:
        """The trip without the given parcels; visits left empty are dropped and the times
        kept (still feasible: less service, and the road matrices obey the triangle
        inequality)."""
        visits = tuple(
            replace(v, job=v.job.without(tracking_nos))
            for v in self.visits
            if v.job.without(tracking_nos).parcels
        )
        return replace(self, visits=visits)


@dataclass
class LegResult:
    """Trips of a leg, jobs left unserved, the optimizer's cost (fen), and which engine won
    each solve ("ortools only: REASON" where PyVRP could not take part)."""

    trips: list[Trip] = field(default_factory=list)
    unserved: list[Job] = field(default_factory=list)
    cost_fen: int = 0
    engines: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Engines:
    """How legs are solved: `engine` portfolio|ortools|pyvrp on `pool` (None: this process)."""

    engine: str = "portfolio"
    pool: EnginePool | None = None


#: The portfolio in this process.
IN_PROCESS = Engines()


#: Roles of a hub vehicle's visit at a station, where parcels change hands in sorted cages.
TRANSFERS = frozenset({Role.FEED, Role.STATION, Role.COLLECT})


def service_time(job: Job, fleet: Fleet) -> int:
    """Seconds spent at a job's stop: per stop plus per parcel (in cages at a station)."""
    s = fleet.settings
    per = s.transfer_parcel_s if job.role in TRANSFERS else s.service_parcel_s
    return s.service_stop_s + per * len(job.parcels)


def job_penalty(job: Job, fleet: Fleet) -> int:
    """Cost (fen) of leaving a job unserved: deferral for parcels due later, else a drop."""
    s = fleet.settings
    per = s.defer_penalty_fen if job.deferrable else s.drop_penalty_fen
    return per * max(1, len(job.parcels))


def solve_leg(
    ws: Workspace,
    rules: Eligibility,
    jobs: Sequence[Job],
    slots: Sequence[TripSlot],
    *,
    echelon: int,
    time_limit_s: float,
    solution_limit: int | None = None,
    hints: Mapping[str, Sequence[str]] | None = None,
    exact: bool = False,
    engines: Engines = IN_PROCESS,
) -> LegResult:
    """Solve one leg and return its trips; the solution is validated before it is used.

    `hints` (vehicle id -> point ids in the order an earlier plan visited them) warm-start the
    search; the solver starts afresh when they do not make a feasible start. `exact` models
    owed lunches as the solver's breaks (slow; the fallback when placing them fails, which
    PyVRP cannot model: OR-Tools alone then).
    """
    if not jobs or not slots:
        return LegResult(unserved=list(jobs))
    fleet = rules.fleet
    s = fleet.settings
    depots = sorted({slot.depot for slot in slots})
    loc_points = depots + [j.point_id for j in jobs]
    depot_loc = {p: i for i, p in enumerate(depots)}
    first_job = len(depots)

    profile_index: dict[TravelProfile, int] = {}
    distances: list[np.ndarray] = []
    durations: list[np.ndarray] = []
    for vt in sorted({slot.vtype for slot in slots}, key=lambda t: t.name):
        profile = profile_of(vt)
        if profile not in profile_index:
            profile_index[profile] = len(profile_index)
            dist, dur = ws.submatrices(vt, loc_points)
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
        service[depot_loc[d]] = s.load_s
    allowed: list[frozenset[int] | None] = [None] * n
    for k, job in enumerate(jobs):
        i = first_job + k
        pt = ws.point(job.point_id)
        delivery[i] = (job.delivery_g, job.delivery_ml)
        pickup[i] = (job.pickup_g, job.pickup_ml)
        opens, closes = max(pt.open_s, job.ready_s), min(pt.close_s, job.due_s)
        windows[i] = (min(opens, closes), closes)
        service[i] = service_time(job, fleet)
        penalty[i] = job_penalty(job, fleet)
        allowed[i] = frozenset(
            v
            for v, slot in enumerate(slots)
            if opens <= closes and rules.may_serve(slot.vtype, job.point_id, job.cold)
        )
    true_windows = windows.copy()
    owed = any(slot.lunch is not None for slot in slots)
    if owed:
        windows[:, 1] = _tightened(windows[:, 1], s.lunch_earliest_s, s.lunch_duration_s)
        windows[:, 0] = np.minimum(windows[:, 0], windows[:, 1])
    vehicles = [_vehicle(slot, depot_loc, profile_index, fleet, exact) for slot in slots]

    problem = Problem.build(
        distances,
        vehicles,
        durations=durations,
        delivery=delivery,
        pickup=pickup,
        time_windows=windows,
        service=service,
        penalty=penalty,
        allowed=allowed,
    )
    initial = _warm_routes(problem, jobs, slots, hints, first_job) if hints else None
    params = SolveParams(
        time_limit_s=time_limit_s, solution_limit=solution_limit, initial_routes=initial
    )
    engine = engines.engine
    missing = unsupported(problem) if engine != "ortools" else []
    if missing:
        engine = "ortools"
    solution = portfolio.solve(problem, params, engine=engine, pool=engines.pool)
    won = solution.engine or engine
    if missing:
        won = f"ortools only: {'; '.join(missing)}"
    if solution.status == "failed" or not solution.routes:
        # The budget ran out before a first solution (or before any route: every job is
        # optional): take OR-Tools' first one, however long; an empty leg stays empty.
        solution = solve(problem, replace(params, time_limit_s=FIRST_SOLUTION_S, solution_limit=1))
        won = "ortools (first solution after the time limit)"
    faults = validate(problem, solution)
    if faults:
        raise RuntimeError("optimizer returned an invalid solution: " + "; ".join(faults[:5]))

    trips: list[Trip] = []
    for route in solution.routes:
        slot = slots[route.vehicle]
        placed = (
            (route.times, route.lunch_start)
            if exact
            else _place_lunch(
                problem, route.vehicle, route.nodes, route.times, slot, true_windows, loc_points, s
            )
        )
        if placed is None:
            return solve_leg(
                ws,
                rules,
                jobs,
                slots,
                echelon=echelon,
                time_limit_s=time_limit_s,
                solution_limit=solution_limit,
                hints=hints,
                exact=True,
                engines=engines,
            )
        times, lunch = placed
        visits = tuple(
            Visit(
                job=jobs[node - first_job],
                start_s=times[k + 1],
                end_s=times[k + 1] + int(service[node]),
            )
            for k, node in enumerate(route.nodes)
        )
        trip_times = TripTimes(
            load_s=times[0],
            depart_s=times[0] + s.load_s,
            arrive_s=times[-1],
            unload_end_s=times[-1] + s.unload_s,
            lunch_s=lunch,
        )
        trips.append(Trip(slot=slot, echelon=echelon, times=trip_times, visits=visits))
    unserved = [jobs[i - first_job] for i in solution.unserved]
    return LegResult(trips=trips, unserved=unserved, cost_fen=solution.cost, engines=[won])


def _vehicle(
    slot: TripSlot,
    depot_loc: Mapping[str, int],
    profile_index: Mapping[TravelProfile, int],
    fleet: Fleet,
    exact: bool,
) -> Vehicle:
    """The optimizer's vehicle for one trip slot: its route runs from the start of loading to
    the arrival back, so unloading is taken off the latest end and the span; an owed lunch is
    left room for (or, `exact`, modelled as a break)."""
    s = fleet.settings
    vt = slot.vtype
    room = s.lunch_duration_s if slot.lunch is not None and not exact else 0
    lunch = None
    if slot.lunch is not None and exact:
        # after the trip only if unloading still ends in time for it
        lunch = Break(slot.lunch.earliest_s, slot.lunch.latest_s - s.unload_s, s.lunch_duration_s)
    return Vehicle(
        start=depot_loc[slot.depot],
        end=depot_loc[slot.depot],
        capacity_g=vt.capacity_g,
        capacity_ml=vt.capacity_ml,
        profile=profile_index[profile_of(vt)],
        fixed_cost=vt.fixed_cost_fen if slot.first else 0,
        cost_per_km=vt.cost_per_km_fen,
        cost_per_hour=vt.cost_per_hour_fen,
        shift_start=slot.earliest_s,
        shift_end=slot.latest_s - s.unload_s - room,
        max_duration=slot.max_span_s - s.unload_s - room,
        max_distance=vt.range_m,
        lunch=lunch,
    )


def _tightened(closes: np.ndarray, opens_s: int, room_s: int) -> np.ndarray:
    """Closing times moved `room_s` earlier where a lunch starting at `opens_s` or later could
    come before them (never before `opens_s`)."""
    return np.where(closes > opens_s, np.maximum(opens_s, closes - room_s), closes)


def _place_lunch(
    problem: Problem,
    vehicle: int,
    nodes: Sequence[int],
    times: Sequence[int],
    slot: TripSlot,
    windows: np.ndarray,
    points: Sequence[str],
    s: Settings,
) -> tuple[list[int], int | None] | None:
    """The trip's times with the driver's owed lunch placed, and the lunch start (None: after
    the trip or not owed); None when it does not fit (see the module docstring)."""
    times = list(times)
    window = slot.lunch
    if window is None:
        return times, None
    d = s.lunch_duration_s
    if window.earliest_s + d <= times[0]:
        return times, window.earliest_s  # a wait at the depot before loading holds it
    if times[-1] + s.unload_s <= window.latest_s:
        return times, None  # after the trip, in time
    veh = problem.vehicles[vehicle]
    stops = [veh.start, *nodes, veh.end]
    durations = problem.durations[veh.profile]
    for k in range(len(stops) - 1):
        if times[k + 1] < window.earliest_s or points[stops[k]] == points[stops[k + 1]]:
            continue  # not yet lunch time, or one stop (two jobs at one point)
        ready = times[k] + int(problem.service[stops[k]])
        lunch = max(window.earliest_s, ready)
        if lunch > window.latest_s:
            return None
        out = times[: k + 1]
        arrive = max(ready + int(durations[stops[k], stops[k + 1]]), lunch) + d
        for j in range(k + 1, len(stops)):
            if j > k + 1:
                prev = stops[j - 1]
                arrive = out[-1] + int(problem.service[prev]) + int(durations[prev, stops[j]])
            if j < len(stops) - 1:
                arrive = max(arrive, int(windows[stops[j], 0]))
                if arrive > int(windows[stops[j], 1]):
                    return None
            out.append(arrive)
        if out[-1] + s.unload_s > slot.latest_s or out[-1] + s.unload_s - out[0] > slot.max_span_s:
            return None
        return out, lunch
    return None


def serve_in_waves(
    ws: Workspace,
    rules: Eligibility,
    drivers: Drivers,
    jobs: Sequence[Job],
    vehicles: Sequence[FleetVehicle],
    *,
    echelon: int,
    time_limit_s: float,
    earliest_s: int = 0,
    solution_limit: int | None = None,
    hints: Mapping[str, Sequence[str]] | None = None,
    engines: Engines = IN_PROCESS,
) -> LegResult:
    """Serve jobs in waves of trips: every vehicle's next trip, then again for what is left.

    Each trip is booked in `drivers` as it is planned, so the next wave starts after the
    vehicle's turnaround and keeps its driver's day within the rules. Most of the time goes
    to the first wave, which carries most of the work.
    """
    result = LegResult(unserved=list(jobs))
    limit = time_limit_s * 0.6
    while result.unserved:
        limit = max(limit, FLOOR_S + FLOOR_PER_JOB_S * len(result.unserved))
        slots = drivers.slots(vehicles, earliest_s)
        if not slots:
            break
        leg = solve_leg(
            ws,
            rules,
            result.unserved,
            slots,
            echelon=echelon,
            time_limit_s=limit,
            solution_limit=solution_limit,
            hints=hints,
            engines=engines,
        )
        if not leg.trips:
            break
        for trip in leg.trips:
            drivers.record(trip.slot, trip.times)
        result = LegResult(
            trips=result.trips + leg.trips,
            unserved=leg.unserved,
            cost_fen=result.cost_fen + leg.cost_fen,
            engines=result.engines + leg.engines,
        )
        limit = time_limit_s * 0.2
    return result


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
