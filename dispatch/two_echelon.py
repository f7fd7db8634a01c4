"""A day's trips over the three-tier network: hub -> town stations -> villages, produce back.

The day is solved as a sequence of legs, each an optimizer problem solved in waves of trips:
1. morning (echelon 1): the hub's vehicles feed every station the parcels its village runs
   will take (due by the station deadline), serve parcels addressed to stations, and serve
   directly the villages whose parcels cannot go through their station (see dispatch.modes);
2. village runs (echelon 2), one leg per station: its own vehicles leave once the feeder
   parcels are unloaded and sorted, deliver, and bring the villages' produce back;
3. afternoon (echelon 1): the hub's vehicles fetch the produce waiting at stations and, with
   the time they have left, serve directly what the village runs could not take.
4. late insertion: what is still due today goes on planned hub trips that have room for it
   (see dispatch.late_insertion), e.g. produce onto a hub vehicle that calls at its station
   after it is there anyway; a village's deliveries may still go through its station (a hub
   call with room drops them, a station vehicle's next trip takes them on).
Produce that reaches a station after the last hub vehicle that could carry it has called
waits there (held) for the next day. Every vehicle works from its own base, and its driver's
day (lunch, maximum shift, turnaround, recharge) is kept across all of its trips.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from dispatch.driver_day import Drivers
from dispatch.eligibility import Eligibility
from dispatch.fleet import Fleet, FleetVehicle
from dispatch.jobs import Job, Role, make_jobs
from dispatch.late_insertion import insert_late, insertions, place
from dispatch.legs import IN_PROCESS, Engines, LegResult, Trip, serve_in_waves, solve_leg
from dispatch.modes import route_parcels
from dispatch.parcel import Parcel
from dispatch.plan import Route, Unassigned
from dispatch.reasons import explain, unassigned, why_unserved
from dispatch.station_timing import feeder_ready, last_call, produce_back, stop_ends
from dispatch.workspace import Workspace
from optimizer.stopping import SMALL_SOLUTIONS, small_problem_limit

#: Share of the time limit for the morning runs, the village runs, the afternoon runs and the
#: late insertion (at most: it stops once nothing more fits).
SHARES = {"morning": 0.4, "village": 0.3, "afternoon": 0.2, "late": 0.05}

#: A village parcel left at the end goes through its station on one of the THROUGH_TRIES
#: cheapest hub trips that can drop it there, if a station vehicle's next trip, solved within
#: THROUGH_SOLVE_S (s), can take it on.
THROUGH_TRIES = 3
THROUGH_SOLVE_S = 0.2

Progress = Callable[[float, int | None], None]


@dataclass(frozen=True)
class Held:
    """A parcel waiting at a station for the next day: it arrived at `arrived_s` (s). Produce
    is held when it came after the last hub vehicle that could carry it had called; a
    delivery (dropped there before a re-plan) when no village run could take it."""

    parcel: Parcel
    station: str
    arrived_s: int


@dataclass
class DayResult:
    """All trips of the day, the parcels not carried, the produce held at stations, each
    driver's lunch start (s), why village parcels went direct and which engines won."""

    trips: list[Trip]
    unassigned: list[Unassigned]
    held: list[Held] = field(default_factory=list)
    lunches: dict[str, int] = field(default_factory=dict)
    why_direct: dict[str, str] = field(default_factory=dict)
    engines: dict[str, int] = field(default_factory=dict)  # solves won per engine


@dataclass(frozen=True)
class Waiting:
    """A parcel already at a station: it got there at `arrived_s` and may be handled from
    `ready_s` (unloaded there; deliveries still to be sorted), both s since midnight."""

    station: str
    arrived_s: int
    ready_s: int


@dataclass
class Resume:
    """Where a day stands when it is re-planned at `start_s` (s since midnight).

    `kept`: routes of the earlier version that stay; `lunches`: vehicle id -> start (s) of a
    lunch its driver has already begun; `excluded`: vehicles out of service;
    `at_station`: parcels already waiting at a station; `hints`:
    vehicle id -> points its dropped trips would have visited, in order (warm start).
    """

    start_s: int
    kept: list[Route] = field(default_factory=list)
    lunches: dict[str, int] = field(default_factory=dict)
    excluded: set[str] = field(default_factory=set)
    at_station: dict[str, Waiting] = field(default_factory=dict)
    hints: dict[str, list[str]] = field(default_factory=dict)


class _Budget:
    """Splits the time limit (s) between the legs, against a wall-clock deadline."""

    def __init__(self, total_s: float) -> None:
        self.total = total_s
        self.deadline = time.monotonic() + total_s

    def of(self, leg: str, share: float = 1.0) -> float:
        left = max(0.0, self.deadline - time.monotonic())
        return max(0.2, min(left, self.total * SHARES[leg] * share))


def _leg_limit(jobs: int, limit: int | None) -> int | None:
    """Solutions a leg of `jobs` jobs may search: the smaller of the small-problem cap
    (`optimizer.stopping`) and `limit` (None: no cap)."""
    caps = [c for c in (small_problem_limit(jobs), limit) if c]
    return min(caps) if caps else None


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
    engines: Engines = IN_PROCESS,
) -> DayResult:
    """Plan the day's trips for `parcels` (every parcel ends up carried, held or unassigned).

    With `resume`, kept routes stay, vehicles start after them and no earlier than its start,
    and parcels already at a station go on from there. `engines` says how legs are solved.
    """
    day = _Day(ws, fleet, date, mode, resume or Resume(start_s=0), _Budget(time_limit_s), engines)
    return day.plan(parcels, progress or (lambda _f, _c: None))


class _Day:
    """One day's planning state: the fleet split by base, the drivers' days, the legs."""

    def __init__(
        self,
        ws: Workspace,
        fleet: Fleet,
        date: dt.date,
        mode: str,
        resume: Resume,
        budget: _Budget,
        engines: Engines,
    ) -> None:
        self.mode = mode
        self.direct = mode == "direct"
        self.engines = engines
        self.wins: Counter[str] = Counter()
        self.ws = ws
        self.fleet = fleet
        self.date = date
        self.resume = resume
        self.budget = budget
        self.rules = Eligibility(ws, fleet)
        self.arrived: dict[str, int] = {}  # produce at a station: when it got there (s)
        self.drivers = Drivers(fleet, start_s=resume.start_s)
        self.drivers.book_kept(resume.kept, resume.lunches)
        working = [v for v in fleet.working() if v.vehicle_id not in resume.excluded]
        hub = ws.hub_id
        self.hub_vehicles = [v for v in working if v.depot == hub]
        self.by_station: dict[str, list[FleetVehicle]] = defaultdict(list)
        for v in working:
            if v.depot != hub:
                self.by_station[v.depot].append(v)

    def plan(self, parcels: Sequence[Parcel], report: Progress) -> DayResult:
        """The three legs (see the module docstring)."""
        s = self.fleet.settings
        waiting = [p for p in parcels if p.tracking_no in self.resume.at_station]
        fresh = [p for p in parcels if p.tracking_no not in self.resume.at_station]
        left_out = self._screen(fresh)
        gone = {u.parcel_id for u in left_out}
        routing = route_parcels(
            self.rules, [p for p in fresh if p.tracking_no not in gone], self.by_station, self.mode
        )

        # 1. Morning: feed the stations, serve station parcels and direct villages.
        feeds: list[Job] = []
        for station, ps in sorted(routing.via.items()):
            jobs, big = self._jobs(
                [p for p in ps if p.kind == "delivery"], Role.FEED, self.hub_vehicles, at=station
            )
            left_out += self._no_vehicle(big)
            feeds += [_due(j, s.station_deadline_s) for j in jobs]
        others, big = self._jobs(routing.station, Role.STATION, self.hub_vehicles)
        direct, big2 = self._jobs(routing.direct, Role.DIRECT, self.hub_vehicles)
        left_out += self._no_vehicle(big + big2)
        morning = self._waves(feeds + others + direct, self.hub_vehicles, 1, "morning")
        trips = list(morning.trips)
        unfed = {p.tracking_no for j in morning.unserved if j.role is Role.FEED for p in j.parcels}
        retry = [j for j in morning.unserved if j.role is not Role.FEED]
        report(0.45, morning.cost_fen)

        # 2. Village runs from each station once its feeder parcels are there and sorted.
        ready = feeder_ready(morning.trips, s.sort_time_s)
        collect: list[Job] = []
        for p in waiting:  # already at a station: deliveries go on, produce waits for the hub
            w = self.resume.at_station[p.tracking_no]
            if p.kind == "delivery":
                ready[w.station] = max(ready.get(w.station, 0), w.ready_s + s.sort_time_s)
                routing.via[w.station].append(p)
            else:
                collect += self._collect([p], w.station, w.arrived_s, w.ready_s)
        back_home: list[Parcel] = []  # village parcels the hub must serve directly after all
        held: list[Held] = []
        stations = sorted(routing.via)
        total_jobs = max(1, sum(len(routing.via[t]) for t in stations))
        for k, station in enumerate(stations):
            ps = [
                p for p in routing.via[station] if p.kind == "pickup" or p.tracking_no not in unfed
            ]
            back_home += [p for p in routing.via[station] if p.tracking_no in unfed]
            vehicles = self.by_station[station]
            jobs, big = self._jobs(ps, Role.VILLAGE, vehicles)
            share = len(routing.via[station]) / total_jobs
            earliest = ready[station] - s.load_s if station in ready else 0
            leg = self._waves(jobs, vehicles, 2, "village", share, earliest)
            trips += leg.trips
            for p in [*big, *(p for j in leg.unserved for p in j.parcels)]:
                here = self.resume.at_station.get(p.tracking_no)
                if here is None:
                    back_home.append(p)
                else:  # already at the station: it waits for tomorrow's village run
                    held.append(Held(p, here.station, here.arrived_s))
            collect += self._collect_jobs(leg, station)
            report(0.45 + 0.3 * (k + 1) / len(stations), None)
        returned = {p.tracking_no for p in back_home if p.kind == "delivery"}
        if returned:
            trips = _without(trips, returned)

        # 3. Afternoon: fetch produce from stations, serve what is left directly.
        repair, big = self._jobs(back_home, Role.DIRECT, self.hub_vehicles)
        # no hub vehicle can take these to their village; their station's still might (step 4)
        through = [
            p
            for p in big
            if p.kind == "delivery"
            and p.due_date <= self.date
            and self._station_options(p.point_id)
        ]
        left_out += self._no_vehicle([p for p in big if p not in through])
        afternoon = self._waves(collect + repair + retry, self.hub_vehicles, 1, "afternoon")
        trips += afternoon.trips
        not_collected = [j for j in afternoon.unserved if j.role is Role.COLLECT]
        produce_held, stay_jobs = self._hold(not_collected, trips)
        held += [
            Held(p, j.point_id, self.arrived[p.tracking_no])
            for j in produce_held
            for p in j.pickups
        ]

        # 4. Late insertion: what is still due today, on the planned trips that have room.
        due = [j for j in afternoon.unserved if j.role is not Role.COLLECT and not j.deferrable]
        due += [Job(p.point_id, Role.DIRECT, deliveries=(p,), cold=p.cold) for p in through]
        trips, late = self._late(trips, stay_jobs + due, produce_held)
        stay = [p for j in late if j.role is Role.COLLECT for p in j.pickups]
        left_out += unassigned(self.rules, stay, "capacity_full")
        for job in [*late, *(j for j in afternoon.unserved if j.deferrable)]:
            if job.role is not Role.COLLECT:
                left_out += explain(
                    self.rules,
                    job,
                    self.hub_vehicles,
                    self._station_options(job.point_id),
                    self.resume.start_s,
                )
        report(1.0, None)
        return DayResult(
            trips=trips,
            unassigned=left_out,
            held=held,
            lunches=self.drivers.settle(),
            why_direct=routing.why_direct,
            engines=dict(sorted(self.wins.items())),
        )

    def _late(
        self, trips: list[Trip], jobs: Sequence[Job], held: Sequence[Job]
    ) -> tuple[list[Trip], list[Job]]:
        """The trips with `jobs` inserted where they fit (dispatch.late_insertion), and the jobs
        left. Produce a village run brought to a station that no hub vehicle takes from there
        stays in its village instead, where a hub trip with room may fetch it; a village's
        deliveries may still go through its station. `held`: the produce held at stations,
        whose calls may not move past its ready time."""
        held_ready: dict[str, list[tuple[int, bool]]] = defaultdict(list)
        for j in held:
            held_ready[j.point_id].append((j.ready_s, j.cold))
        deadline = time.monotonic() + self.budget.of("late")
        trips, left = insert_late(self.rules, self.drivers, trips, jobs, held_ready, deadline)
        produce = [
            p
            for j in left
            if j.role is Role.COLLECT
            for p in j.pickups
            if p.tracking_no not in self.resume.at_station
        ]
        if produce:
            trips = _without(trips, {p.tracking_no for p in produce})
            fetch, _ = self._jobs(produce, Role.DIRECT, self.hub_vehicles)
            trips, unfetched = insert_late(
                self.rules, self.drivers, trips, fetch, held_ready, deadline
            )
            gone = {p.tracking_no for p in produce}
            left = [j for j in left if not gone & {p.tracking_no for p in j.parcels}] + unfetched
        out: list[Job] = []
        for job in left:
            placed = None
            if time.monotonic() < deadline:
                placed = self._through_station(trips, job, held_ready)
            if placed is None:
                out.append(job)
            else:
                trips = placed
        return trips, out

    def _through_station(
        self, trips: list[Trip], job: Job, held_ready: Mapping[str, Sequence[tuple[int, bool]]]
    ) -> list[Trip] | None:
        """The trips with a village's deliveries, which no hub trip has room to take there,
        dropped at its town's station by a hub trip with room (cheapest of the first few) and
        taken on by a station vehicle's next trip once sorted; None when that does not work."""
        s = self.fleet.settings
        station = self.ws.point(job.point_id).town_id
        vehicles = self._station_options(job.point_id)
        if (
            job.role is not Role.DIRECT
            or job.pickups
            or not vehicles
            or (job.cold and not self.ws.point(station).cold_storage)
            or any(p.tracking_no in self.resume.at_station for p in job.parcels)
        ):
            return None
        feed = Job(station, Role.FEED, deliveries=job.deliveries, cold=job.cold)
        for t, fed in insertions(self.rules, self.drivers, trips, feed, held_ready)[:THROUGH_TRIES]:
            drop = next(
                leaves
                for _, leaves, members in stop_ends(fed)
                if any(fed.visits[k].job is feed for k in members)
            )
            slots = self.drivers.slots(vehicles, drop + s.sort_time_s - s.load_s)
            run = solve_leg(
                self.ws,
                self.rules,
                [replace(job, role=Role.VILLAGE)],
                slots,
                echelon=2,
                time_limit_s=THROUGH_SOLVE_S,
                solution_limit=SMALL_SOLUTIONS,
                engines=self.engines,
            )
            if run.trips and not run.unserved:
                self.drivers.record(run.trips[0].slot, run.trips[0].times)
                return [*place(self.drivers, trips, t, fed), *run.trips]
        return None

    def _station_options(self, point_id: str) -> list[FleetVehicle]:
        """Station vehicles that could serve a point: its town station's, for a village, unless
        the plan is direct."""
        point = self.ws.point(point_id)
        if self.direct or point.kind == "station":
            return []
        return self.by_station.get(point.town_id, [])

    def _no_vehicle(self, parcels: Sequence[Parcel]) -> list[Unassigned]:
        """Parcels no vehicle of their leg can take, with the reason (see dispatch.reasons)."""
        out: list[Unassigned] = []
        for p in parcels:
            code = why_unserved(
                self.rules,
                p,
                self.hub_vehicles,
                self._station_options(p.point_id),
                self.resume.start_s,
            )
            out += unassigned(self.rules, [p], code)
        return out

    def _screen(self, parcels: Sequence[Parcel]) -> list[Unassigned]:
        """Parcels no vehicle of the fleet can ever carry, with their reason."""
        out: list[Unassigned] = []
        for p in parcels:
            vehicles = self.hub_vehicles + self._station_options(p.point_id)
            code = self.rules.impossible(p, vehicles)
            if code:
                out += unassigned(self.rules, [p], code)
        return out

    def _jobs(
        self,
        parcels: Sequence[Parcel],
        role: Role,
        vehicles: Sequence[FleetVehicle],
        at: str | None = None,
    ) -> tuple[list[Job], list[Parcel]]:
        """Jobs for `parcels` at their own points (or all at `at`), sized for `vehicles`."""
        return make_jobs(
            parcels,
            role,
            lambda point, cold: self.rules.capacity(vehicles, point, cold),
            lambda p: p.due_date > self.date,
            at=at,
        )

    def _waves(
        self,
        jobs: Sequence[Job],
        vehicles: Sequence[FleetVehicle],
        echelon: int,
        leg: str,
        share: float = 1.0,
        earliest_s: int = 0,
    ) -> LegResult:
        result = serve_in_waves(
            self.ws,
            self.rules,
            self.drivers,
            jobs,
            vehicles,
            echelon=echelon,
            time_limit_s=self.budget.of(leg, share),
            earliest_s=earliest_s,
            solution_limit=_leg_limit(len(jobs), self.engines.solution_limit),
            hints=self.resume.hints,
            engines=self.engines,
        )
        self.wins.update(result.engines)
        return result

    def _collect_jobs(self, leg: LegResult, station: str) -> list[Job]:
        """Jobs for the hub to fetch the produce each village run brought to the station."""
        jobs: list[Job] = []
        for trip, ready in produce_back(leg.trips):
            picked = [p for v in trip.visits for p in v.job.pickups]
            jobs += self._collect(picked, station, trip.times.arrive_s, ready)
        return jobs

    def _collect(
        self, produce: Sequence[Parcel], station: str, arrived_s: int, ready_s: int
    ) -> list[Job]:
        """Jobs for the hub to fetch produce that reached a station at `arrived_s` and may be
        taken from `ready_s` (unloaded)."""
        self.arrived.update({p.tracking_no: arrived_s for p in produce})
        jobs, _ = make_jobs(
            produce,
            Role.COLLECT,
            lambda point, cold: self.rules.capacity(self.hub_vehicles, point, cold),
            lambda p: False,
            at=station,
            ready_s=ready_s,
        )
        return jobs

    def _hold(self, jobs: Sequence[Job], trips: Sequence[Trip]) -> tuple[list[Job], list[Job]]:
        """Produce left at stations: held when it arrived after the last hub vehicle that could
        carry it called (returned first); otherwise it stays in its village (second)."""
        held: list[Job] = []
        stay: list[Job] = []
        for job in jobs:
            last = last_call(trips, job.point_id, job.cold)
            (held if last is None or last < job.ready_s else stay).append(job)
        return held, stay


def _due(job: Job, due_s: int) -> Job:
    """The job due at its point by `due_s` (s)."""
    return replace(job, due_s=min(job.due_s, due_s))


def _without(trips: Sequence[Trip], tracking_nos: set[str]) -> list[Trip]:
    """The trips without the given parcels; trips left empty are dropped."""
    out = [t.without(tracking_nos) for t in trips]
    return [t for t in out if t.visits]
