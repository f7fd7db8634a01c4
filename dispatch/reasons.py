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

from dispatch.eligibility import Eligibility
from dispatch.fleet import FleetVehicle
from dispatch.jobs import Job
from dispatch.parcel import Parcel
from dispatch.plan import Unassigned

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


def reason(code: str, point: str, detail: str = "") -> str:
    """The sentence for `code` about the point named `point`."""
    return REASONS[code].format(point=point, detail=detail)


def is_deferral(code: str) -> bool:
    """True for codes that defer a parcel to a later day rather than fail it."""
    return code.startswith("deferred")


def unassigned(rules: Eligibility, parcels: Sequence[Parcel], code: str) -> list[Unassigned]:
    """Unassigned entries with one reason code, each naming the parcel's point."""
    return [
        Unassigned(
            parcel_id=p.tracking_no, code=code, reason=reason(code, rules.ws.point(p.point_id).name)
        )
        for p in parcels
    ]


def why_unserved(
    rules: Eligibility,
    parcel: Parcel,
    hub: Sequence[FleetVehicle],
    station: Sequence[FleetVehicle],
    not_before_s: int = 0,
) -> str:
    """The reason code for a parcel no trip could take. `hub` are the hub's working vehicles,
    `station` those of its town station (empty for a station's own parcels or a direct plan);
    none may leave before `not_before_s`. The vehicles that could serve it are narrowed (may
    enter, may carry its temperature, big enough, in range, in time) and the first step that
    leaves none is the reason; past all of them it is capacity."""
    ws, fleet = rules.ws, rules.fleet
    s = fleet.settings
    point = ws.point(parcel.point_id)

    def leaves(v: FleetVehicle) -> int:
        return max(v.shift_start_s, not_before_s) + s.load_s

    def in_range(v: FleetVehicle) -> bool:
        limit = fleet.types[v.vtype].range_m
        there_back = ws.travel_m(v.vtype, v.depot, parcel.point_id, fleet) + ws.travel_m(
            v.vtype, parcel.point_id, v.depot, fleet
        )
        return limit is None or there_back <= limit

    def arrival(v: FleetVehicle) -> int | None:
        there = ws.travel_s(v.vtype, v.depot, parcel.point_id, fleet)
        if v.depot == ws.hub_id:
            return leaves(v) + there
        if parcel.cold and not ws.point(v.depot).cold_storage:
            return None
        if parcel.kind == "pickup":
            return leaves(v) + there
        fed = _earliest_feed(rules, parcel, hub, leaves)
        return None if fed is None else max(leaves(v), fed) + there

    enter = [v for v in [*hub, *station] if rules.may_enter(fleet.types[v.vtype], parcel.point_id)]
    cool = [v for v in enter if rules.may_carry(fleet.types[v.vtype], parcel.cold)]
    fit = [v for v in cool if rules.fits(fleet.types[v.vtype], parcel)]
    ranged = [v for v in fit if in_range(v)]
    timely = [v for v in ranged if (a := arrival(v)) is not None and a <= point.close_s]
    for code, left in (
        ("no_vehicle_allowed", enter),
        ("no_cold_vehicle", cool),
        ("too_large", fit),
        ("out_of_range", ranged),
        ("closes_before_arrival", timely),
    ):
        if not left:
            return code
    return "no_cold_vehicle" if parcel.cold else "capacity_full"


def _earliest_feed(
    rules: Eligibility,
    parcel: Parcel,
    hub: Sequence[FleetVehicle],
    leaves: Callable[[FleetVehicle], int],
) -> int | None:
    """When the parcel's town station could have it sorted at the earliest (s), or None when
    no hub vehicle could bring it."""
    ws, fleet = rules.ws, rules.fleet
    s = fleet.settings
    station = ws.point(parcel.point_id).town_id
    times = [
        leaves(v) + ws.travel_s(v.vtype, v.depot, station, fleet)
        for v in hub
        if rules.may_serve(fleet.types[v.vtype], station, parcel.cold)
        and rules.fits(fleet.types[v.vtype], parcel)
    ]
    if not times:
        return None
    return min(times) + s.service_stop_s + s.transfer_parcel_s + s.sort_time_s


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
                parcel_id=p.tracking_no,
                code="deferred_capacity",
                reason=reason("deferred_capacity", name, p.due_date.isoformat()),
            )
            for p in job.parcels
        ]
    out = []
    for p in job.parcels:
        code = why_unserved(rules, p, hub, station, not_before_s)
        out.append(Unassigned(parcel_id=p.tracking_no, code=code, reason=reason(code, name)))
    return out
