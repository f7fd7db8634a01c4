"""What a re-plan changed against the plan it replaces, per route and per driver.

Routes of the two versions are paired: the same route id first (a trip already under way
keeps its id), then the same vehicle and trip number, then the same vehicle in trip order.
Within a pair a stop is the n-th visit of a point: visits only in the new route are added,
only in the old one removed; a visit whose arrival moved by `RETIME_S` or more is re-timed.
A driver's sheets changed when any of the vehicle's routes changed in any way (a stop, a
time, the parcels handed over, or a route added or dropped).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from dispatch.plan import Plan as PlanView
from dispatch.plan import Route as RouteView
from dispatch.plan import Stop as StopView

#: An arrival that moved by at least this many seconds is a re-timed stop (a sheet shows
#: minutes, so a smaller move does not change what the driver reads).
RETIME_S = 60

Status = Literal["added", "removed", "changed", "unchanged"]


@dataclass(frozen=True)
class StopChange:
    """A stop added, removed or re-timed (seconds since local midnight; None when absent)."""

    point_id: str
    old_arrival_s: int | None
    new_arrival_s: int | None


@dataclass
class RouteChange:
    """How one route differs between the versions; ids are None where it does not exist."""

    vehicle_id: str
    old_route_id: str | None
    new_route_id: str | None
    status: Status
    added: list[StopChange] = field(default_factory=list)
    removed: list[StopChange] = field(default_factory=list)
    retimed: list[StopChange] = field(default_factory=list)
    #: parcels put on, taken off, or handed over at another stop than before
    parcels_changed: int = 0


@dataclass
class PlanChanges:
    """Per route what changed from `old_plan_id` to `new_plan_id`, and whose sheets changed."""

    old_plan_id: str
    new_plan_id: str
    routes: list[RouteChange]
    drivers_changed: list[str]

    def as_json(self) -> dict[str, Any]:
        """The changes as plain JSON values."""
        return asdict(self)


def _visits(route: RouteView) -> dict[tuple[str, int], StopView]:
    """The route's stops keyed by (point, n-th visit of that point)."""
    seen: dict[str, int] = {}
    out: dict[tuple[str, int], StopView] = {}
    for stop in route.stops:
        n = seen.get(stop.point_id, 0)
        seen[stop.point_id] = n + 1
        out[(stop.point_id, n)] = stop
    return out


def _handled(route: RouteView) -> set[tuple[str, str, str]]:
    """(point, parcel, load|drop) of every handover on the route."""
    return {
        (s.point_id, pid, verb)
        for s in route.stops
        for verb, ids in (("load", s.load), ("drop", s.drop))
        for pid in ids
    }


def route_change(old: RouteView | None, new: RouteView | None) -> RouteChange:
    """What changed from `old` to `new` (either may be None: a route added or dropped)."""
    either = new or old
    assert either is not None, "at least one route"
    change = RouteChange(
        vehicle_id=either.vehicle_id,
        old_route_id=old.route_id if old else None,
        new_route_id=new.route_id if new else None,
        status="changed",
    )
    before = _visits(old) if old else {}
    after = _visits(new) if new else {}
    for key, stop in after.items():
        if key not in before:
            change.added.append(StopChange(stop.point_id, None, stop.arrival_s))
        elif abs(stop.arrival_s - before[key].arrival_s) >= RETIME_S:
            change.retimed.append(StopChange(stop.point_id, before[key].arrival_s, stop.arrival_s))
    for key, stop in before.items():
        if key not in after:
            change.removed.append(StopChange(stop.point_id, stop.arrival_s, None))
    handled_before = _handled(old) if old else set()
    handled_after = _handled(new) if new else set()
    change.parcels_changed = len({p for _, p, _ in handled_after ^ handled_before})
    if old is None:
        change.status = "added"
    elif new is None:
        change.status = "removed"
    elif not (change.added or change.removed or change.retimed) and handled_before == handled_after:
        change.status = "unchanged"
    return change


def _pair(
    old: Sequence[RouteView], new: Sequence[RouteView]
) -> list[tuple[RouteView | None, RouteView | None]]:
    """Pairs of old and new routes (see the module docstring), new plan's order first."""
    left = list(old)
    pairs: dict[str, RouteView | None] = {}  # new route id -> its old route

    def take(match: Iterable[RouteView]) -> RouteView | None:
        found = next(iter(match), None)
        if found is not None:
            left.remove(found)
        return found

    for rule in (
        lambda n, o: o.route_id == n.route_id,
        lambda n, o: o.vehicle_id == n.vehicle_id and o.trip == n.trip,
        lambda n, o: o.vehicle_id == n.vehicle_id,
    ):
        for n in new:
            if n.route_id not in pairs or pairs[n.route_id] is None:
                pairs[n.route_id] = take(o for o in left if rule(n, o))
    out: list[tuple[RouteView | None, RouteView | None]] = [(pairs[n.route_id], n) for n in new]
    return out + [(o, None) for o in left]


def plan_changes(old: PlanView, new: PlanView) -> PlanChanges:
    """Per route and per driver, what `new` (a re-plan) changed against `old`."""
    routes = [route_change(o, n) for o, n in _pair(old.routes, new.routes)]
    drivers = sorted({r.vehicle_id for r in routes if r.status != "unchanged"})
    return PlanChanges(old.plan_id, new.plan_id, routes, drivers)
