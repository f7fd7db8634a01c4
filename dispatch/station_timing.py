"""When a station's parcels are ready: feeder drops plus sorting, produce back from the
villages, and the hub's last call that could still take it.

A station's village runs may leave once every feeder drop of the day has been unloaded and
sorted (parcels addressed to the station itself hold nothing up). Produce a village run
brings back is ready when that run is back; what reaches the station after the last hub
vehicle that could carry it has called waits there for the next day (held).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dispatch.jobs import Role
from dispatch.legs import Trip


def stop_ends(trip: Trip) -> list[tuple[str, int, list[int]]]:
    """The trip's stops as (point id, departure s, indices of its visits): consecutive
    visits at one point make one stop, left when the last of them is done, unless the
    driver's lunch falls between them (then the stop is two, before and after lunch)."""
    lunch = trip.times.lunch_s
    out: list[tuple[str, int, list[int]]] = []
    for k, visit in enumerate(trip.visits):
        last = out[-1] if out else None
        after_lunch = lunch is not None and last is not None and last[1] <= lunch < visit.start_s
        if last is not None and last[0] == visit.job.point_id and not after_lunch:
            out[-1] = (last[0], visit.end_s, [*last[2], k])
        else:
            out.append((visit.job.point_id, visit.end_s, [k]))
    return out


def feeder_ready(trips: Iterable[Trip], sort_s: int) -> dict[str, int]:
    """Per station: when the village runs may leave (s): the last feeder drop's stop is done
    and its parcels sorted."""
    ready: dict[str, int] = {}
    for trip in trips:
        for point, leaves, members in stop_ends(trip):
            if any(trip.visits[k].job.role is Role.FEED for k in members):
                ready[point] = max(ready.get(point, 0), leaves + sort_s)
    return ready


def produce_back(trips: Sequence[Trip]) -> list[tuple[Trip, int]]:
    """Village runs that bring produce to their station, with the time it is unloaded (s)."""
    return [(t, t.times.unload_end_s) for t in trips if any(v.job.pickups for v in t.visits)]


def last_call(trips: Iterable[Trip], station: str, cold: bool) -> int | None:
    """Departure (s) of the last echelon-1 stop at `station` by a vehicle that could carry
    produce of this temperature, or None when none calls."""
    latest: int | None = None
    for trip in trips:
        if trip.echelon != 1 or (cold and not trip.vtype.cold):
            continue
        for point, leaves, _ in stop_ends(trip):
            if point == station:
                latest = leaves if latest is None else max(latest, leaves)
    return latest
