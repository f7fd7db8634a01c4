"""A day's trips over two echelons: hub -> town stations -> villages, produce back.

The day is solved as a sequence of legs, each an optimizer problem:
1. morning trunk leg (echelon 1): hub vehicles serve town stations (dropping the parcels of
   towns served via their station) and, for towns served directly, the villages themselves,
   collecting those villages' produce on the way;
2. village legs (echelon 2), one per station: station vehicles leave once every parcel they
   carry has arrived plus the sorting time, deliver to the villages and bring produce back;
3. afternoon leg (echelon 1): hub vehicles fetch the produce waiting at stations and serve
   directly what the village runs could not take (and what the morning left).
Per town the mode is `direct`, `via_station`, or chosen by comparing both costs (`auto`).
Every leg is solved in waves of trips, so multi-trip vehicles reload between trips.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from dispatch.fleet import CLASS_RANK, Fleet, FleetVehicle
from dispatch.jobs import Job, make_jobs
from dispatch.legs import LegResult, Trip, TripSlot, may_serve, service_time, solve_leg
from dispatch.parcel import Parcel
from dispatch.reasons import Unassigned, reason
from dispatch.workspace import Workspace

MODES = ("auto", "via_station", "direct")
HUB = "HUB"
#: Improving solutions the per-town cost estimates search (small problems, fast and stable).
ESTIMATE_SOLUTIONS = 10
#: A leg's first wave gets at least FLOOR_S + FLOOR_PER_JOB_S per job (s): below that the
#: search stops before it has placed every job it could, and later waves miss the deadlines.
FLOOR_S = 0.1
FLOOR_PER_JOB_S = 0.02
#: Legs of at most SMALL_LEG_JOBS jobs stop after SMALL_LEG_SOLUTIONS search solutions.
SMALL_LEG_JOBS = 15
SMALL_LEG_SOLUTIONS = 400

Progress = Callable[[float, int | None], None]


@dataclass
class TownChoice:
    """How a town is served and what each option was estimated to cost (fen)."""

    town_id: str
    name: str
    choice: str
    cost_direct_fen: int | None = None
    cost_via_fen: int | None = None

    def as_json(self) -> dict[str, object]:
        """KPI entry."""
        return {
            "town_id": self.town_id,
            "name": self.name,
            "choice": self.choice,
            "cost_direct_fen": self.cost_direct_fen,
            "cost_via_station_fen": self.cost_via_fen,
        }


@dataclass
class DayResult:
    """All trips of the day, the parcels not carried and the per-town choices."""

    trips: list[Trip]
    unassigned: list[Unassigned]
    towns: list[TownChoice] = field(default_factory=list)


@dataclass
class _Budget:
    """Splits the time limit between the legs (s)."""

    total: float
    share: dict[str, float]

    def of(self, leg: str, parts: int = 1) -> float:
        return max(0.2, self.total * self.share[leg] / max(1, parts))


@dataclass
class Resume:
    """Where a day stands when it is re-planned at `start_s` (s since midnight).

    `busy`: vehicle id -> (end of its last kept trip s, trips kept); `excluded`: vehicles out
    of service; `at_station`: parcels already waiting at a station -> (station id, since s);
    `hints`: vehicle id -> points its dropped trips would have visited, in order (warm start).
    """

    start_s: int
    busy: dict[str, tuple[int, int]] = field(default_factory=dict)
    excluded: set[str] = field(default_factory=set)
    at_station: dict[str, tuple[str, int]] = field(default_factory=dict)
    hints: dict[str, list[str]] = field(default_factory=dict)


def plan_trips(
    ws: Workspace,
    fleet: Fleet,
    parcels: Sequence[Parcel],
    *,
    date: dt.date,
    mode: str = "auto",
    time_limit_s: float = 30.0,
    progress: Progress | None = None,
    resume: Resume | None = None,
) -> DayResult:
    """Plan the day's trips for `parcels` (every parcel ends up carried or unassigned).

    With `resume`, vehicles start after their kept trips and no earlier than its start, and
    parcels already at a station go on from there.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    report = progress or (lambda _f, _c: None)
    budget = _Budget(time_limit_s, {"choose": 0.1, "e1": 0.5, "e2": 0.25, "collect": 0.15})
    resume = resume or Resume(start_s=0)
    day = _Day(ws, fleet, date, resume)
    waiting = [p for p in parcels if p.tracking_no in resume.at_station]
    parcels = [p for p in parcels if p.tracking_no not in resume.at_station]
    unassigned = day.screen(parcels)
    carried = [p for p in parcels if p.tracking_no not in {u.parcel_id for u in unassigned}]

    by_town: dict[str, list[Parcel]] = defaultdict(list)
    for p in carried:
        by_town[ws.point(p.point_id).town_id].append(p)
    # Estimates leave out the lunch break: it costs the same either way and slows the search.
    rough = replace(fleet, settings=replace(fleet.settings, lunch_duration_s=0))
    choices = _Day(ws, rough, date, resume).choose(by_town, mode, budget)
    report(0.15, None)

    # Which parcels go through a station, which straight from the hub.
    e1_parcels: list[Parcel] = []
    via: dict[str, list[Parcel]] = defaultdict(list)
    for p in carried:
        pt = ws.point(p.point_id)
        if pt.kind == "station":
            e1_parcels.append(p)
        elif (
            pt.town_id in choices  # a town without a station is served direct
            and choices[pt.town_id].choice == "via_station"
            and day.may_wait(p, pt.town_id)
        ):
            via[pt.town_id].append(p)
        else:
            e1_parcels.append(p)

    # Leg 1: morning trunk runs.
    e1_jobs, oversize = day.jobs(e1_parcels, day.hub_vehicles)
    unassigned += day.unassigned(oversize, "too_large")
    feeder: dict[str, list[Job]] = {}
    for town_id, ps in sorted(via.items()):
        deliveries = [p for p in ps if p.kind == "delivery"]
        jobs, big = day.jobs(deliveries, day.hub_vehicles, at=town_id)
        unassigned += day.unassigned(big, "too_large")
        for j in jobs:
            j.due_s = fleet.settings.station_deadline_s
        feeder[town_id] = jobs
    all_e1 = e1_jobs + [j for js in feeder.values() for j in js]
    leg1 = day.waves(all_e1, day.hub_vehicles, {}, echelon=1, time_limit_s=budget.of("e1"))
    trips = list(leg1.trips)
    feeders = {id(j) for js in feeder.values() for j in js}
    retry = [j for j in leg1.unserved if id(j) not in feeders]  # again in the afternoon
    report(0.65, leg1.cost_fen)

    # Leg 2: village runs from each station, after the feeder parcels arrived and were sorted.
    arrived = _arrivals(leg1, feeders)
    collect_jobs: list[Job] = []
    for p in waiting:
        station, since = resume.at_station[p.tracking_no]
        if p.kind == "delivery":
            via[station].append(p)
            arrived[station] = max(arrived.get(station, 0), since)
        else:
            collect_jobs.append(
                Job(station, pickups=[_moved(p, station)], cold=p.cold, ready_s=since)
            )
    unfed = {p.tracking_no for j in leg1.unserved if id(j) in feeders for p in j.deliveries}
    town_jobs: dict[str, list[Job]] = {}
    for town_id, ps in sorted(via.items()):
        town_parcels = [p for p in ps if p.kind == "pickup" or p.tracking_no not in unfed]
        vehicles = day.station_vehicles(town_id)
        town_jobs[town_id], big = day.jobs(town_parcels, vehicles)
        unassigned += day.unassigned(big, "too_large")
    e2_jobs = max(1, sum(len(js) for js in town_jobs.values()))
    # Parcels that missed their feeder run or that no village run could take: the hub
    # serves them directly in the afternoon.
    leftover = [p for ps in via.values() for p in ps if p.tracking_no in unfed]
    for town_id, jobs in town_jobs.items():
        leg2 = day.waves(
            jobs,
            day.station_vehicles(town_id),
            {},
            echelon=2,
            time_limit_s=budget.of("e2") * len(jobs) / e2_jobs,
            earliest=arrived.get(town_id, 0) + fleet.settings.sort_time_s,
        )
        trips += leg2.trips
        leftover += [p for j in leg2.unserved for p in j.parcels]
        collect_jobs += _produce_at_station(leg2, town_id)
    fed_back = {p.tracking_no for p in leftover if p.kind == "delivery"}
    if fed_back:
        trips = [t for t in (_without(t, fed_back) for t in trips) if t.visits]
    report(0.9, None)

    # Leg 3: in the afternoon the hub fetches the produce waiting at stations and serves
    # directly what the village runs could not take.
    direct_jobs, big = day.jobs(leftover, day.hub_vehicles)
    unassigned += day.unassigned(big, "too_large")
    direct_jobs += retry
    if collect_jobs or direct_jobs:
        leg3 = day.waves(
            collect_jobs + direct_jobs,
            day.hub_vehicles,
            _busy_until(trips, resume.busy),
            echelon=1,
            time_limit_s=budget.of("collect"),
        )
        trips += leg3.trips
        collecting = {id(j) for j in collect_jobs}
        late = [j for j in leg3.unserved if id(j) in collecting]
        unassigned += day.explain_jobs(
            [j for j in leg3.unserved if id(j) not in collecting], day.hub_vehicles
        )
        missed = [p for j in late for p in j.pickups]  # moved: their point is the station
        if missed:
            gone = {p.tracking_no for p in missed}
            trips = [t for t in (_without(t, gone) for t in trips) if t.visits]
            unassigned += day.unassigned(missed, "collection_missed")
    report(1.0, None)
    return DayResult(trips=trips, unassigned=unassigned, towns=list(choices.values()))


class _Day:
    """The fleet split by base, and the rules that decide what may go where."""

    def __init__(self, ws: Workspace, fleet: Fleet, date: dt.date, resume: Resume) -> None:
        self.ws = ws
        self.fleet = fleet
        self.date = date
        self.resume = resume
        working = [v for v in fleet.vehicles if v.vehicle_id not in resume.excluded]
        self.hub_vehicles = [v for v in working if v.depot == HUB]
        self.by_station: dict[str, list[FleetVehicle]] = defaultdict(list)
        for v in working:
            if v.depot != HUB:
                self.by_station[v.depot].append(v)

    def station_vehicles(self, town_id: str) -> list[FleetVehicle]:
        """Vehicles based at the town's station."""
        return self.by_station.get(town_id, [])

    def deferrable(self, p: Parcel) -> bool:
        """True when the parcel is due after the planned day."""
        return p.due_date > self.date

    def may_wait(self, p: Parcel, town_id: str) -> bool:
        """True when the parcel may wait at the town's station (cold needs a cold store)."""
        return not p.cold or self.ws.point(town_id).cold_storage

    def capacity(self, vehicles: Sequence[FleetVehicle]) -> Callable[[str, bool], tuple[int, int]]:
        """Largest (g, ml) of a vehicle in `vehicles` that may serve a point (cold or not)."""

        def cap(point_id: str, cold: bool) -> tuple[int, int]:
            best = (0, 0)
            rank = CLASS_RANK[self.ws.point(point_id).max_vclass]
            for v in vehicles:
                t = self.fleet.types[v.vtype]
                if CLASS_RANK[t.vclass] <= rank and (t.cold or not cold):
                    best = max(best, (t.capacity_g, t.capacity_ml), key=lambda c: c[0] * c[1])
            return best

        return cap

    def jobs(
        self, parcels: Sequence[Parcel], vehicles: Sequence[FleetVehicle], at: str | None = None
    ) -> tuple[list[Job], list[Parcel]]:
        """Jobs for `parcels` at their own points (or all at point `at`)."""
        if at is not None:
            parcels = [_moved(p, at) for p in parcels]
        return make_jobs(parcels, self.capacity(vehicles), self.deferrable)

    def slots(
        self,
        vehicles: Sequence[FleetVehicle],
        busy_until: dict[str, tuple[int, int]],
        earliest: int = 0,
    ) -> list[TripSlot]:
        """The next trip of each vehicle with trips left, after what it already did.

        `busy_until`: vehicle id -> (end of its last trip s, trips made so far).
        """
        out: list[TripSlot] = []
        busy = {**self.resume.busy, **busy_until}
        for v in vehicles:
            end, used = busy.get(v.vehicle_id, (0, 0))
            start = max(
                v.shift_start_s,
                earliest,
                self.resume.start_s,
                end + (self.fleet.settings.reload_s if used else 0),
            )
            if used < v.max_trips and start < v.shift_end_s:
                out.append(TripSlot(v, used + 1, start, v.shift_end_s, v.depot, v.depot))
        return out

    def waves(
        self,
        jobs: Sequence[Job],
        vehicles: Sequence[FleetVehicle],
        busy_until: dict[str, tuple[int, int]],
        *,
        echelon: int,
        time_limit_s: float,
        earliest: int = 0,
        solution_limit: int | None = None,
    ) -> LegResult:
        """Serve jobs in waves of trips: every vehicle's next trip, then again for what is left.

        Multi-trip vehicles reload at their depot between waves. Most of the time goes to the
        first wave, which carries most of the work.
        """
        busy = {**self.resume.busy, **busy_until}
        trips: list[Trip] = []
        left = list(jobs)
        cost = 0
        limit = max(time_limit_s * 0.6, FLOOR_S + FLOOR_PER_JOB_S * len(left))
        while left:
            slots = self.slots(vehicles, busy, earliest)
            if not slots:
                break
            leg = solve_leg(
                self.ws,
                self.fleet,
                left,
                slots,
                echelon=echelon,
                time_limit_s=limit,
                solution_limit=solution_limit or _small_leg_limit(len(left)),
                hints=self.resume.hints,
            )
            if not leg.trips:
                break
            trips += leg.trips
            cost += leg.cost_fen
            busy.update(_busy_until(leg.trips, busy))
            left = leg.unserved
            limit = max(time_limit_s * 0.2, FLOOR_S + FLOOR_PER_JOB_S * len(left))
        return LegResult(trips=trips, unserved=left, cost_fen=cost)

    def screen(self, parcels: Sequence[Parcel]) -> list[Unassigned]:
        """Parcels no vehicle of the fleet can ever carry, with their reason."""
        out: list[Unassigned] = []
        for p in parcels:
            pt = self.ws.point(p.point_id)
            candidates = self.hub_vehicles + self.station_vehicles(pt.town_id)
            code = self._impossible(p, candidates)
            if code:
                out.append(Unassigned(p.tracking_no, code, reason(code, pt.name)))
        return out

    def _impossible(self, p: Parcel, vehicles: Sequence[FleetVehicle]) -> str | None:
        pt = self.ws.point(p.point_id)
        rank = CLASS_RANK[pt.max_vclass]
        types = [self.fleet.types[v.vtype] for v in vehicles]
        enter = [t for t in types if CLASS_RANK[t.vclass] <= rank]
        if not enter:
            return "no_vehicle_allowed"
        if p.cold and not any(t.cold for t in enter):
            return "no_cold_vehicle"
        fit = [t for t in enter if (t.cold or not p.cold)]
        if not any(p.weight_g <= t.capacity_g and p.volume_ml <= t.capacity_ml for t in fit):
            return "too_large"
        return None

    def unassigned(self, parcels: Sequence[Parcel], code: str) -> list[Unassigned]:
        """Unassigned entries with one reason code, each naming the parcel's point."""
        return [
            Unassigned(p.tracking_no, code, reason(code, self.ws.point(p.point_id).name))
            for p in parcels
        ]

    def explain_jobs(
        self, jobs: Sequence[Job], vehicles: Sequence[FleetVehicle]
    ) -> list[Unassigned]:
        """Why each job the optimizer left unserved was left (per parcel)."""
        out: list[Unassigned] = []
        for job in jobs:
            code, detail = self._why(job, vehicles)
            name = self.ws.point(job.point_id).name
            for p in job.parcels:
                if job.deferrable:
                    out.append(
                        Unassigned(
                            p.tracking_no,
                            "deferred_capacity",
                            reason("deferred_capacity", name, p.due_date.isoformat()),
                        )
                    )
                else:
                    out.append(Unassigned(p.tracking_no, code, reason(code, name, detail)))
        return out

    def _why(self, job: Job, vehicles: Sequence[FleetVehicle]) -> tuple[str, str]:
        types = [self.fleet.types[v.vtype] for v in vehicles]
        serve = [t for t in types if may_serve(self.ws, t, job)]
        if not serve:
            return ("no_cold_vehicle" if job.cold else "no_vehicle_allowed"), ""
        pt = self.ws.point(job.point_id)
        close = min(pt.close_s, job.due_s)
        reachable = False
        for v in vehicles:
            t = self.fleet.types[v.vtype]
            if t not in serve:
                continue
            there = v.shift_start_s + self.ws.travel_s(v.vtype, v.depot, job.point_id, self.fleet)
            back = self.ws.travel_s(v.vtype, job.point_id, v.depot, self.fleet)
            start = max(there, pt.open_s, job.ready_s)
            if start <= close and start + service_time(job, self.fleet) + back <= v.shift_end_s:
                reachable = True
        if not reachable:
            return "closes_before_arrival", ""
        if job.cold:
            return "no_cold_vehicle", ""
        return "capacity_full", ""

    def choose(
        self,
        by_town: dict[str, list[Parcel]],
        mode: str,
        budget: _Budget,
    ) -> dict[str, TownChoice]:
        """Per town: direct or via its station, by mode (auto compares estimated costs)."""
        out: dict[str, TownChoice] = {}
        stations = [t for t in self.ws.points if t.kind == "station"]
        for st in stations:
            parcels = [p for p in by_town.get(st.point_id, []) if p.point_id != st.point_id]
            if mode != "auto" or not parcels:
                fixed = "direct" if mode == "direct" else "via_station"
                if not self.station_vehicles(st.point_id):
                    fixed = "direct"
                out[st.point_id] = TownChoice(st.point_id, st.name, fixed)
                continue
            limit = max(1.0, budget.of("choose", 2 * len(stations)))
            waiting = [p for p in parcels if self.may_wait(p, st.point_id)]
            direct = self._estimate_direct(waiting, limit)
            via = self._estimate_via(st.point_id, waiting, limit)
            pick = (
                "via_station" if via is not None and (direct is None or via < direct) else "direct"
            )
            out[st.point_id] = TownChoice(st.point_id, st.name, pick, direct, via)
        return out

    def _estimate_direct(self, parcels: Sequence[Parcel], limit: float) -> int | None:
        """Cost (fen) of serving these villages straight from the hub on their own."""
        if not parcels:
            return 0
        jobs, _ = self.jobs(parcels, self.hub_vehicles)
        leg = self.waves(
            jobs,
            self.hub_vehicles,
            {},
            echelon=1,
            time_limit_s=limit,
            solution_limit=ESTIMATE_SOLUTIONS,
        )
        return None if leg.unserved else leg.cost_fen

    def _estimate_via(self, town_id: str, parcels: Sequence[Parcel], limit: float) -> int | None:
        """Cost (fen) via the station: village runs plus a load-share of one trunk run."""
        vehicles = self.station_vehicles(town_id)
        if not vehicles:
            return None
        jobs, big = self.jobs(parcels, vehicles)
        if big:
            return None
        ready = self.fleet.settings.station_deadline_s + self.fleet.settings.sort_time_s
        leg = self.waves(
            jobs,
            vehicles,
            {},
            echelon=2,
            time_limit_s=limit,
            earliest=ready,
            solution_limit=ESTIMATE_SOLUTIONS,
        )
        if leg.unserved:
            return None
        return leg.cost_fen + self._trunk_share(town_id, parcels)

    def _trunk_share(self, town_id: str, parcels: Sequence[Parcel]) -> int:
        """The town's share (fen) of a trunk round trip hub -> station -> hub, by load."""
        trunks = [self.fleet.types[v.vtype] for v in self.hub_vehicles]
        if not trunks:
            return 0
        t = max(trunks, key=lambda x: x.capacity_ml)
        name = t.name
        metres = self.ws.travel_m(name, HUB, town_id, self.fleet) * 2
        secs = self.ws.travel_s(name, HUB, town_id, self.fleet) * 2
        trip = (
            t.fixed_cost_fen + t.cost_per_km_fen * metres / 1000 + t.cost_per_hour_fen * secs / 3600
        )
        g = sum(p.weight_g for p in parcels)
        ml = sum(p.volume_ml for p in parcels)
        share = max(g / t.capacity_g, ml / t.capacity_ml)
        return round(trip * share)


def _small_leg_limit(jobs: int) -> int | None:
    """A solution limit for small legs: a few hundred local-search steps settle a dozen stops
    long before any time limit, so the search stops there instead of idling."""
    return SMALL_LEG_SOLUTIONS if jobs <= SMALL_LEG_JOBS else None


def _moved(p: Parcel, point_id: str) -> Parcel:
    """The parcel as seen by a trunk run: its stop is the town station."""
    return replace(p, point_id=point_id)


def _arrivals(leg: LegResult, feeders: set[int]) -> dict[str, int]:
    """Latest arrival (service start, s) of a feeder drop (parcels going on to villages) at
    each station; parcels addressed to the station itself hold nothing up."""
    out: dict[str, int] = {}
    for t in leg.trips:
        for v in t.visits:
            if id(v.job) in feeders:
                out[v.job.point_id] = max(out.get(v.job.point_id, 0), v.start_s)
    return out


def _produce_at_station(leg: LegResult, town_id: str) -> list[Job]:
    """Jobs for the hub to collect the produce each village run brought to the station."""
    jobs: list[Job] = []
    for t in leg.trips:
        picked = [p for v in t.visits for p in v.job.pickups]
        if picked:
            for cold in (False, True):
                ps = [p for p in picked if p.cold == cold]
                if ps:
                    jobs.append(
                        Job(
                            point_id=town_id,
                            pickups=[_moved(p, town_id) for p in ps],
                            cold=cold,
                            ready_s=t.end_s,
                        )
                    )
    return jobs


def _busy_until(
    trips: Sequence[Trip], before: dict[str, tuple[int, int]] | None = None
) -> dict[str, tuple[int, int]]:
    """Per vehicle: when its last trip ends (s) and how many trips it made (after `before`)."""
    out: dict[str, tuple[int, int]] = dict(before or {})
    for t in trips:
        end, used = out.get(t.vehicle.vehicle_id, (0, 0))
        out[t.vehicle.vehicle_id] = (max(end, t.end_s), used + 1)
    return out


def _without(trip: Trip, parcels: set[str]) -> Trip:
    """The trip without the given parcels (they stay where they are); times are kept, which
    stays feasible because the road matrices obey the triangle inequality."""
    for v in trip.visits:
        v.job.deliveries = [p for p in v.job.deliveries if p.tracking_no not in parcels]
        v.job.pickups = [p for p in v.job.pickups if p.tracking_no not in parcels]
    trip.visits = [v for v in trip.visits if v.job.parcels]
    return trip
