"""How each parcel travels: through its town's station (the backbone) or straight from the hub.

`via_station` sends every parcel that its station can handle through the station: the station
has working vehicles that may enter the village, carry the goods (cold needs a refrigerated
vehicle) and fit the parcel, chilled goods wait only at a station with a cold room, and a
station vehicle leaving after the feeder run can reach the village before it closes. Every
other parcel goes direct on the hub's vehicles, in the same plan. `direct` sends every
village parcel on the hub's vehicles (station vehicles stay at their stations). `auto` plans
like `via_station` and then compares the result with the `direct` plan of the same day
(see dispatch.service).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import get_args

from dispatch.eligibility import Eligibility
from dispatch.fleet import FleetVehicle
from dispatch.parcel import Parcel
from dispatch.plan import RequestedMode

#: The modes a day can be planned in (dispatch.plan.RequestedMode).
MODES: tuple[RequestedMode, ...] = get_args(RequestedMode)


def requested_mode(text: str) -> RequestedMode:
    """`text` as a mode a day is planned in; ValueError naming the choices otherwise."""
    for mode in MODES:
        if text == mode:
            return mode
    raise ValueError(f"must be one of {', '.join(MODES)}, not {text!r}")


#: Why a village parcel goes direct although its town has a station (KPI keys).
DIRECT_WHY = (
    "mode_direct",
    "no_station_vehicle",
    "cold_without_cold_room",
    "station_vehicle_cannot_serve",
    "station_too_far",
)


@dataclass
class Routing:
    """The day's parcels by path: `via` per station, `direct` village parcels (with why),
    and `station` parcels addressed to a station itself (always the hub's runs)."""

    via: dict[str, list[Parcel]] = field(default_factory=lambda: defaultdict(list))
    direct: list[Parcel] = field(default_factory=list)
    station: list[Parcel] = field(default_factory=list)
    why_direct: dict[str, str] = field(default_factory=dict)


def route_parcels(
    rules: Eligibility,
    parcels: Sequence[Parcel],
    by_station: dict[str, list[FleetVehicle]],
    mode: str,
) -> Routing:
    """Split the day's parcels by path (see the module docstring)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    ws = rules.ws
    out = Routing()
    for p in parcels:
        point = ws.point(p.point_id)
        if point.kind == "station":
            out.station.append(p)
            continue
        why = (
            "mode_direct"
            if mode == "direct"
            else _why_not_via(rules, p, point.town_id, by_station.get(point.town_id, []))
        )
        if why is None:
            out.via[point.town_id].append(p)
        else:
            out.direct.append(p)
            out.why_direct[p.tracking_no] = why
    return out


def _why_not_via(
    rules: Eligibility, p: Parcel, station: str, vehicles: Sequence[FleetVehicle]
) -> str | None:
    """Why the station cannot handle the parcel, or None when it can."""
    ws, fleet = rules.ws, rules.fleet
    if not vehicles:
        return "no_station_vehicle"
    if p.cold and not ws.point(station).cold_storage:
        return "cold_without_cold_room"
    serving = [
        v
        for v in vehicles
        if rules.may_serve(fleet.types[v.vtype], p.point_id, p.cold)
        and rules.fits(fleet.types[v.vtype], p)
    ]
    if not serving:
        return "station_vehicle_cannot_serve"
    s = fleet.settings
    leaves = s.station_deadline_s + s.sort_time_s
    village = ws.point(p.point_id)
    for v in serving:
        vt = fleet.types[v.vtype]
        there = ws.travel_s(v.vtype, station, p.point_id, fleet)
        back = ws.travel_s(v.vtype, p.point_id, station, fleet)
        metres = ws.travel_m(v.vtype, station, p.point_id, fleet) + ws.travel_m(
            v.vtype, p.point_id, station, fleet
        )
        arrives = max(leaves, v.shift_start_s + s.load_s) + there
        in_range = vt.range_m is None or metres <= vt.range_m
        if in_range and arrives <= village.close_s and arrives + back <= v.shift_end_s:
            return None
    return "station_too_far"
