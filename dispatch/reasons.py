"""Why a parcel is not carried today: reason codes, sentences a dispatcher understands, and
the facts behind each code.

Each code states a fact the independent validator can check, at least as a necessary
condition. The vehicles that could serve a parcel are the hub's and its own town station's
that may enter its point and carry it; a station vehicle can only deliver what a hub vehicle
fed to the station and was sorted there. `too_large`: bigger than every one of them;
`out_of_range`: straight there and back is beyond each one's range; `closes_before_arrival`:
each, leaving as early as it can, arrives after the point closes; `capacity_full` and
`no_cold_vehicle`: every one that could have arrived in time is busy today;
`deferred_capacity`: due on a later day.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dispatch.eligibility import Eligibility
from dispatch.fleet import FleetVehicle
from dispatch.jobs import Job
from dispatch.parcel import Parcel

#: code -> sentence template; {point} is the point's name, {detail} an optional detail.
REASONS: dict[str, str] = {
    "no_cold_vehicle": "No refrigerated vehicle free that can reach {point}.",
    "too_large": "Heavier or bulkier than any vehicle that can reach {point}.",
    "closes_before_arrival": "Cannot arrive at {point} before it closes.",
    "out_of_range": "{point} is beyond the range of every vehicle that may go there.",
    "deferred_capacity": "Deferred: due {detail}, today's capacity is full.",
    "capacity_full": "Today's vehicles are full or out of time; not carried to {point}.",
    "no_vehicle_allowed": "No vehicle in the fleet may enter {point}.",
    "point_closed": "{point} is closed today ({detail}).",
    "vehicle_breakdown": "On board broken-down vehicle {detail}; recover the load at {point}.",
}


@dataclass(frozen=True)
class Unassigned:
    """A parcel not carried today, with a reason code and sentence."""

    parcel_id: str
    code: str
    reason: str

    def as_json(self) -> dict[str, str]:
        """Plan JSON entry."""
        return {"parcel_id": self.parcel_id, "code": self.code, "reason": self.reason}


def reason(code: str, point: str, detail: str = "") -> str:
    """The sentence for `code` about the point named `point`."""
    return REASONS[code].format(point=point, detail=detail)


def is_deferral(code: str) -> bool:
    """True for codes that defer a parcel to a later day rather than fail it."""
    return code.startswith("deferred")


def unassigned(rules: Eligibility, parcels: Sequence[Parcel], code: str) -> list[Unassigned]:
    """Unassigned entries with one reason code, each naming the parcel's point."""
    return [
        Unassigned(p.tracking_no, code, reason(code, rules.ws.point(p.point_id).name))
        for p in parcels
    ]


def why_unserved(
    rules: Eligibility,
    job: Job,
    hub: Sequence[FleetVehicle],
    station: Sequence[FleetVehicle],
    not_before_s: int = 0,
) -> str:
    """The reason code for a job no trip could take. `hub` are the hub's working vehicles,
    `station` those of the job's town station (empty for a station's own parcels); none may
    leave before `not_before_s`. The planner gets here once every vehicle that could reach the
    point in time has had the chance to take it (see the module docstring for the facts)."""
    ws, fleet = rules.ws, rules.fleet
    s = fleet.settings
    point = ws.point(job.point_id)
    biggest = max(job.parcels, key=lambda p: (p.weight_g, p.volume_ml))

    def usable(v: FleetVehicle) -> bool:
        t = fleet.types[v.vtype]
        return rules.may_serve(t, job.point_id, job.cold) and rules.fits(t, biggest)

    def leaves(v: FleetVehicle) -> int:
        return max(v.shift_start_s, not_before_s) + s.load_s

    def in_range(v: FleetVehicle) -> bool:
        limit = fleet.types[v.vtype].range_m
        there_back = ws.travel_m(v.vtype, v.depot, job.point_id, fleet) + ws.travel_m(
            v.vtype, job.point_id, v.depot, fleet
        )
        return limit is None or there_back <= limit

    candidates = [*hub, *station]
    if not any(rules.may_enter(fleet.types[v.vtype], job.point_id) for v in candidates):
        return "no_vehicle_allowed"
    serving = [v for v in candidates if usable(v)]
    if not serving:
        return "no_cold_vehicle" if job.cold else "too_large"
    ranged = [v for v in serving if in_range(v)]
    if not ranged:
        return "out_of_range"
    arrivals = [leaves(v) + ws.travel_s(v.vtype, v.depot, job.point_id, fleet) for v in ranged]
    feed = _earliest_feed(rules, job, hub, leaves)
    timely = False
    for v, arrive in zip(ranged, arrivals, strict=True):
        if v.depot != ws.hub_id and job.deliveries:
            if feed is None or (job.cold and not ws.point(v.depot).cold_storage):
                continue
            arrive = max(arrive, feed + ws.travel_s(v.vtype, v.depot, job.point_id, fleet))
        timely = timely or arrive <= point.close_s
    if not timely:
        return "closes_before_arrival"
    return "no_cold_vehicle" if job.cold else "capacity_full"


def _earliest_feed(
    rules: Eligibility, job: Job, hub: Sequence[FleetVehicle], leaves: Callable[[FleetVehicle], int]
) -> int | None:
    """When the town's station could have the job's parcels sorted at the earliest (s), or None
    when no hub vehicle could bring them."""
    ws, fleet = rules.ws, rules.fleet
    s = fleet.settings
    station = ws.point(job.point_id).town_id
    times = [
        leaves(v) + ws.travel_s(v.vtype, v.depot, station, fleet)
        for v in hub
        if rules.may_serve(fleet.types[v.vtype], station, job.cold)
    ]
    if not times:
        return None
    return min(times) + s.service_stop_s + s.service_parcel_s + s.sort_time_s


def explain(
    rules: Eligibility,
    job: Job,
    hub: Sequence[FleetVehicle],
    station: Sequence[FleetVehicle],
    not_before_s: int = 0,
) -> list[Unassigned]:
    """Unassigned entries for every parcel of a job left unserved (deferral if it may wait)."""
    name = rules.ws.point(job.point_id).name
    if job.deferrable:
        return [
            Unassigned(
                p.tracking_no,
                "deferred_capacity",
                reason("deferred_capacity", name, p.due_date.isoformat()),
            )
            for p in job.parcels
        ]
    code = why_unserved(rules, job, hub, station, not_before_s)
    return [Unassigned(p.tracking_no, code, reason(code, name)) for p in job.parcels]
