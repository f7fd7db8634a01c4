"""Each reason code against the facts: the events, the due dates, the fleet and the roads.

Some codes can be checked only as a necessary condition. Vehicles that could serve a parcel
are the hub's and its own town station's that may enter its point, carry its temperature and
fit it; a station vehicle delivers only what a hub vehicle fed to the station and sorted
there, and keeps chilled goods only where the station has a cold room.
`closes_before_arrival`: each of them, leaving as early as it can, arrives after the point
closes. `out_of_range`: each is beyond its range going there and back. `capacity_full` and
`no_cold_vehicle`: each that could arrive in time has work today (for a station vehicle,
or every hub vehicle that could have fed it has). `road_closed`: no open road joins its point
and the hub, recomputed from today's roads.
"""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.fleet import FleetVehicle
from dispatch.parcel import Parcel
from dispatch.validate.context import Context

CODES = (
    "no_cold_vehicle",
    "too_large",
    "closes_before_arrival",
    "out_of_range",
    "deferred_capacity",
    "capacity_full",
    "no_vehicle_allowed",
    "point_closed",
    "vehicle_breakdown",
    "road_closed",
)


def check_reasons(ctx: Context) -> None:
    """Every unassigned entry's code is known and consistent with the facts."""
    for u in ctx.plan["unassigned"]:
        t, code = u["parcel_id"], u["code"]
        at = f"unassigned {t} ({code})"
        if code not in CODES:
            ctx.fault(at, "reason", f"unknown reason code; known: {', '.join(CODES)}")
            continue
        p = ctx.parcels[t]
        if code.startswith("deferred"):
            if p.due_date <= ctx.date:
                ctx.fault(at, "reason", f"deferred but due {p.due_date}, not after {ctx.date}")
        elif code == "point_closed":
            if not any(
                e.get("type") == "point_closed" and e.get("point_id") == p.point_id
                for e in ctx.events
            ):
                ctx.fault(at, "reason", f"no event closes {p.point_id}")
        elif code == "road_closed":
            if not ctx.cut_off(p.point_id, ctx.today):
                ctx.fault(at, "reason", f"no road closure cuts {p.point_id} off from the hub")
        elif code != "vehicle_breakdown":  # checked with the routes that ended in a breakdown
            problem = _fact(ctx, p, code)
            if problem:
                ctx.fault(at, "reason", problem)


@dataclass(frozen=True)
class _Option:
    """A way a vehicle could have served the parcel: straight from its depot (a hub vehicle,
    or a station vehicle for produce), or from the station after a hub vehicle fed it."""

    vehicle: FleetVehicle
    arrive_s: int  # earliest arrival at the parcel's point (s)
    feeders: tuple[FleetVehicle, ...] = ()  # hub vehicles that could feed the station


def _fact(ctx: Context, p: Parcel, code: str) -> str | None:
    """What contradicts `code` for parcel `p`, or None.

    The vehicles that could serve it are narrowed step by step (may enter, may carry its
    temperature, big enough, in range, in time); the first step that leaves none is the
    reason, and only when all steps leave some may it be capacity (every one busy).
    """
    types = ctx.inputs.fleet.types
    enter = [v for v in ctx.could_serve(p) if ctx.enters(v, p.point_id)]
    cool = [v for v in enter if types[v.vtype].cold or not p.cold]
    fit = [v for v in cool if _fits(ctx, v, p)]
    ranged = [v for v in fit if _in_range(ctx, v, p.point_id)]
    options = [o for v in ranged if (o := _option(ctx, v, p)) is not None]
    timely = [o for o in options if o.arrive_s <= ctx.points[p.point_id].close_s]
    steps: tuple[tuple[str, list[str], str], ...] = (
        ("no_vehicle_allowed", [v.vehicle_id for v in enter], "may enter"),
        ("no_cold_vehicle", [v.vehicle_id for v in cool], ""),  # or all of them busy: below
        ("too_large", [v.vehicle_id for v in fit], "is big enough"),
        ("out_of_range", [v.vehicle_id for v in ranged], "can go there and back in range"),
        ("closes_before_arrival", [o.vehicle.vehicle_id for o in timely], "could arrive in time"),
    )
    for step, left, could in steps:
        if not left:
            return None if code == step else f"the facts say {step}: no vehicle left at that step"
        if code == step and could:
            return f"{left[0]} {could}"
    if code not in ("capacity_full", "no_cold_vehicle"):
        return f"not a reason for a parcel a vehicle could have taken: {code}"
    for o in timely:  # every way it could have gone was busy
        idle = o.vehicle.vehicle_id not in ctx.routes_of
        idle_feeder = next((f for f in o.feeders if f.vehicle_id not in ctx.routes_of), None)
        if idle and (not o.feeders or idle_feeder is not None):
            via = f" fed by idle {idle_feeder.vehicle_id}" if idle_feeder is not None else ""
            return f"{o.vehicle.vehicle_id} could serve it{via} and has no work today"
    return None


def _fits(ctx: Context, v: FleetVehicle, p: Parcel) -> bool:
    vt = ctx.inputs.fleet.types[v.vtype]
    return p.weight_g <= vt.capacity_g and p.volume_ml <= vt.capacity_ml


def _start(ctx: Context, v: FleetVehicle) -> int:
    """When the vehicle could leave its depot at the earliest (s): loaded at the start of its
    shift, or of the re-planning."""
    return max(v.shift_start_s, int(ctx.plan.get("replanned_at_s", 0))) + ctx.settings.load_s


def _option(ctx: Context, v: FleetVehicle, p: Parcel) -> _Option | None:
    """How early the vehicle could reach the parcel's point, or None if it cannot serve it."""
    s = ctx.settings
    there = ctx.inputs.travel_s(v.vtype, v.depot, p.point_id)
    if v.depot == ctx.hub:
        return _Option(v, _start(ctx, v) + there)
    if p.cold and not ctx.points[v.depot].cold_storage:
        return None  # chilled goods wait only at a station with a cold room
    if p.kind == "pickup":
        return _Option(v, _start(ctx, v) + there)
    station = ctx.points[v.depot]
    feeders = [
        f
        for f in ctx.working()
        if f.depot == ctx.hub
        and ctx.enters(f, station.point_id)
        and (ctx.inputs.fleet.types[f.vtype].cold or not p.cold)
        and _fits(ctx, f, p)
    ]
    if not feeders:
        return None
    fed = (
        min(
            _start(ctx, f) + ctx.inputs.travel_s(f.vtype, ctx.hub, station.point_id)
            for f in feeders
        )
        + s.service_stop_s
        + s.transfer_parcel_s
        + s.sort_time_s
    )
    return _Option(v, max(_start(ctx, v), fed) + there, tuple(feeders))


def _in_range(ctx: Context, v: FleetVehicle, point_id: str) -> bool:
    limit = ctx.inputs.fleet.types[v.vtype].range_m
    there = ctx.inputs.travel_m(v.vtype, v.depot, point_id)
    back = ctx.inputs.travel_m(v.vtype, point_id, v.depot)
    return limit is None or there + back <= limit
