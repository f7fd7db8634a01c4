"""Late insertion: jobs due today that the legs left, put on planned trips that have room.

Each leg is a time-limited search over whole trips, and the afternoon's trips can fill up
before everything is placed; what is left (produce waiting at a station, a parcel due today)
often fits a trip already planned: a hub vehicle that calls at that station anyway, a trip
with time to spare. Every left job is tried at every position of every echelon-1 trip whose
vehicle may serve it; the visits after it move later by the detour where waiting does not
absorb it. An insertion is kept only if the rules still hold: the time windows of the job
and of every visit that moves, capacity along the trip, range, the trip slot's latest end
and longest span, the vehicle's next trip (unloading and recharge first), the depot's hours,
the driver's lunch (one inside the trip stays where it is, with no work in it; one at the
depot right after the trip starts later with it, still in its window; the trip does not run
into any other), the stops with feeder drops unmoved (the village runs leave
once they are done and sorted) and
no call at a station moved to or past the time produce held there for tomorrow was ready
(it would have to be taken). The cheapest insertion (route cost added, fen) goes first,
then the next cheapest, until nothing more fits or the deadline passes.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from dispatch.driver_day import Drivers
from dispatch.eligibility import Eligibility
from dispatch.jobs import Job, Role
from dispatch.legs import Trip, Visit, service_time
from dispatch.station_timing import stop_ends


@dataclass(frozen=True)
class _Option:
    """A trip with one more job in it and the route cost that adds (fen)."""

    cost_fen: float
    trip: Trip


def insert_late(
    rules: Eligibility,
    drivers: Drivers,
    trips: Sequence[Trip],
    jobs: Sequence[Job],
    held_ready: Mapping[str, Sequence[tuple[int, bool]]],
    deadline: float,
) -> tuple[list[Trip], list[Job]]:
    """The trips with as many of `jobs` inserted as fit, cheapest first, and the jobs left.

    `held_ready`: station -> (ready s, cold) of produce held there for tomorrow; `deadline`
    is on time.monotonic(). Drivers' days are updated where a vehicle's last trip ends later.
    """
    out = list(trips)
    after = _next_loads(out)
    hub = [t for t, trip in enumerate(out) if trip.echelon == 1]
    left = dict(enumerate(jobs))
    options: dict[int, dict[int, _Option]] = {j: {} for j in left}  # job -> trip -> insertion

    def consider(j: int, t: int) -> None:
        option = _best(rules, drivers, out[t], left[j], after[t], held_ready)
        if option is not None:
            options[j][t] = option

    for j, t in itertools.product(list(left), hub):
        if time.monotonic() >= deadline:
            break
        consider(j, t)
    while left:
        choice = min(
            ((o.cost_fen, j, t) for j in left for t, o in options[j].items()), default=None
        )
        if choice is None:
            break
        _, j, t = choice
        out = place(drivers, out, t, options.pop(j)[t].trip)
        del left[j]
        for other in left:  # insertions into the old trip t are void
            options[other].pop(t, None)
        for other in left:
            if time.monotonic() >= deadline:
                break
            consider(other, t)
    return out, list(left.values())


def insertions(
    rules: Eligibility,
    drivers: Drivers,
    trips: Sequence[Trip],
    job: Job,
    held_ready: Mapping[str, Sequence[tuple[int, bool]]],
) -> list[tuple[int, Trip]]:
    """Each echelon-1 trip's cheapest feasible insertion of `job`: (trip index, the trip with
    the job), cheapest first. Nothing is booked; `place` books one."""
    after = _next_loads(trips)
    found: list[tuple[float, int, Trip]] = []
    for t, trip in enumerate(trips):
        if trip.echelon == 1:
            option = _best(rules, drivers, trip, job, after[t], held_ready)
            if option is not None:
                found.append((option.cost_fen, t, option.trip))
    return [(t, new) for _, t, new in sorted(found, key=lambda f: (f[0], f[1]))]


def place(drivers: Drivers, trips: Sequence[Trip], t: int, new: Trip) -> list[Trip]:
    """The trips with trip `t` replaced by its longer version `new`; where it is its vehicle's
    last trip, the driver's day ends later too, and a lunch right after it starts later."""
    vid = new.vehicle.vehicle_id
    if drivers.days[vid].lunch_s == trips[t].times.unload_end_s:
        drivers.move_lunch(vid, new.times.unload_end_s)
    if _next_loads(trips)[t] is None:
        drivers.retime_last(vid, new.times)
    return [new if k == t else trip for k, trip in enumerate(trips)]


def _next_loads(trips: Sequence[Trip]) -> list[int | None]:
    """Per trip: when its vehicle's next trip starts loading (s), None for its last trip."""
    starts: dict[str, list[int]] = {}
    for trip in trips:
        starts.setdefault(trip.vehicle.vehicle_id, []).append(trip.times.load_s)
    return [
        min((s for s in starts[t.vehicle.vehicle_id] if s > t.times.load_s), default=None)
        for t in trips
    ]


def _best(
    rules: Eligibility,
    drivers: Drivers,
    trip: Trip,
    job: Job,
    next_load_s: int | None,
    held_ready: Mapping[str, Sequence[tuple[int, bool]]],
) -> _Option | None:
    """The cheapest feasible insertion of `job` into `trip`, or None."""
    vt = trip.vtype
    if not rules.may_serve(vt, job.point_id, job.cold) or _window(rules, job)[1] < (
        trip.times.depart_s
    ):
        return None
    room = _room(trip, job)
    lunch = drivers.days[trip.vehicle.vehicle_id].lunch_s
    inside = lunch is not None and trip.times.load_s <= lunch < trip.times.unload_end_s
    gap = sum(v.end_s <= lunch for v in trip.visits) if inside and lunch is not None else None
    drops = _feed_stops(trip)  # the village runs leave after these: they may not move
    points = [trip.depot, *(v.job.point_id for v in trip.visits), trip.depot]
    metres = [rules.ws.travel_m(vt.name, a, b, rules.fleet) for a, b in itertools.pairwise(points)]
    best: _Option | None = None
    for k in range(len(trip.visits) + 1):
        if not room[k]:
            continue
        via = rules.ws.travel_m(vt.name, points[k], job.point_id, rules.fleet)
        via += rules.ws.travel_m(vt.name, job.point_id, points[k + 1], rules.fleet)
        extra_m = via - metres[k]
        if vt.range_m is not None and sum(metres) + extra_m > vt.range_m:
            continue
        gaps = [None] if gap is None else [gap + 1] if k < gap else [gap] if k > gap else [k, k + 1]
        for lunch_gap in gaps:
            new = _inserted(rules, trip, job, k, lunch if inside else None, lunch_gap)
            if new is None or not _keeps_day(rules, new, trip, lunch, inside, next_load_s):
                continue
            if not drops <= _feed_stops(new) or not _before_held(rules, new, held_ready):
                continue
            extra_s = new.times.unload_end_s - trip.times.unload_end_s
            cost = vt.cost_per_km_fen * extra_m / 1000 + vt.cost_per_hour_fen * extra_s / 3600
            if best is None or cost < best.cost_fen:
                best = _Option(cost, new)
    return best


def _room(trip: Trip, job: Job) -> list[bool]:
    """Per position k (before visit k; the last: before the return): True when the job's
    deliveries fit the trip until it is served there and its pickups from there on."""
    vt = trip.vtype
    g = sum(v.job.delivery_g for v in trip.visits)
    ml = sum(v.job.delivery_ml for v in trip.visits)
    loads = [(g, ml)]  # leaving the depot, then after each visit
    for v in trip.visits:
        g += v.job.pickup_g - v.job.delivery_g
        ml += v.job.pickup_ml - v.job.delivery_ml
        loads.append((g, ml))
    ahead = list(itertools.accumulate(loads, lambda a, b: (max(a[0], b[0]), max(a[1], b[1]))))
    behind = list(
        itertools.accumulate(reversed(loads), lambda a, b: (max(a[0], b[0]), max(a[1], b[1])))
    )[::-1]
    return [
        ahead[k][0] + job.delivery_g <= vt.capacity_g
        and ahead[k][1] + job.delivery_ml <= vt.capacity_ml
        and behind[k][0] + job.pickup_g <= vt.capacity_g
        and behind[k][1] + job.pickup_ml <= vt.capacity_ml
        for k in range(len(loads))
    ]


def _window(rules: Eligibility, job: Job) -> tuple[int, int]:
    """When service of the job may start (s): the point's hours narrowed by the job's."""
    pt = rules.ws.point(job.point_id)
    return max(pt.open_s, job.ready_s), min(pt.close_s, job.due_s)


def _inserted(
    rules: Eligibility,
    trip: Trip,
    job: Job,
    k: int,
    lunch_s: int | None,
    lunch_gap: int | None,
) -> Trip | None:
    """The trip with `job` served as its `k`-th visit and the later visits moved on, or None
    when a window is missed. An inside lunch stays at `lunch_s`
    and comes before visit `lunch_gap` (the return to the depot for the last gap)."""
    ws, fleet = rules.ws, rules.fleet
    s = fleet.settings
    vt = trip.vtype.name
    old = trip.visits
    seq = [*old[:k], Visit(job, -1, -1), *old[k:]]
    visits = list(old[:k])
    t = old[k - 1].end_s if k else trip.times.depart_s
    prev = old[k - 1].job.point_id if k else trip.depot
    for i in range(k, len(seq)):
        planned = seq[i]
        arrive = t + ws.travel_s(vt, prev, planned.job.point_id, fleet)
        if i == lunch_gap and lunch_s is not None:
            if t > lunch_s:
                return None
            arrive = max(arrive + s.lunch_duration_s, lunch_s + s.lunch_duration_s)
        opens, closes = _window(rules, planned.job)
        start = max(arrive, opens, planned.start_s)
        if start > closes:
            return None
        if i > k and start == planned.start_s:
            visits += seq[i:]  # the detour is absorbed: the rest goes as planned
            return replace(trip, visits=tuple(visits))
        end = start + service_time(planned.job, fleet)
        visits.append(Visit(planned.job, start, end))
        t, prev = end, planned.job.point_id
    arrive = t + ws.travel_s(vt, prev, trip.depot, fleet)
    if lunch_gap == len(seq) and lunch_s is not None:
        if t > lunch_s:
            return None
        arrive = max(arrive + s.lunch_duration_s, lunch_s + s.lunch_duration_s)
    arrive = max(arrive, trip.times.arrive_s)
    times = replace(trip.times, arrive_s=arrive, unload_end_s=arrive + s.unload_s)
    return replace(trip, visits=tuple(visits), times=times)


def _keeps_day(
    rules: Eligibility,
    new: Trip,
    old: Trip,
    lunch_s: int | None,
    inside: bool,
    next_load_s: int | None,
) -> bool:
    """True when the longer trip keeps its slot, the depot's hours, the vehicle's next trip
    and the driver's lunch."""
    s = rules.fleet.settings
    slot, times = new.slot, new.times
    end = times.unload_end_s
    if end > slot.latest_s or end - times.load_s > slot.max_span_s:
        return False
    if end > rules.ws.point(new.depot).close_s:
        return False
    if next_load_s is not None:
        ready = times.arrive_s + new.vtype.recharge_s - s.load_s
        if end > next_load_s or ready > next_load_s:
            return False
    if lunch_s is None:  # owed: taken after the last trip, or it must stay clear of the window
        return end <= (s.lunch_latest_s if next_load_s is None else s.lunch_earliest_s)
    if inside or end == old.times.unload_end_s:
        return True
    if lunch_s == old.times.unload_end_s:  # lunch at the depot right after: it moves along
        return end <= s.lunch_latest_s and (
            next_load_s is None or end + s.lunch_duration_s <= next_load_s
        )
    return not (lunch_s < end and times.load_s < lunch_s + s.lunch_duration_s)


def _before_held(
    rules: Eligibility, trip: Trip, held_ready: Mapping[str, Sequence[tuple[int, bool]]]
) -> bool:
    """True when every call of the trip at a station leaves before produce held there that
    its vehicle could carry was ready."""
    for v in trip.visits:
        for ready, cold in held_ready.get(v.job.point_id, ()):
            if rules.may_carry(trip.vtype, cold) and v.end_s >= ready:
                return False
    return True


def _feed_stops(trip: Trip) -> set[tuple[str, int]]:
    """(station, departure s) of the trip's stops with a feeder drop."""
    return {
        (point, leaves)
        for point, leaves, members in stop_ends(trip)
        if any(trip.visits[k].job.role is Role.FEED for k in members)
    }
