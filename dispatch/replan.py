"""Re-planning a day after events: a van breaks down, a late batch lands, a point closes.

The plan is cut at the time of the earliest event. Routes that have left by then keep going
as planned (their stops are being served); a broken-down vehicle's route ends where it broke
down, and the parcels still on board wait there for recovery. Everything not yet on its way
is planned again from where it is now (the hub, or a station it was dropped at), with each
vehicle free once its kept trips are done.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, get_args

from pydantic import ValidationError

from dispatch.fleet import Fleet
from dispatch.parcel import Parcel
from dispatch.plan import EventType, Plan, RecordedEvent, Route, Stop, Unassigned
from dispatch.plan_build import route_cost_fen, trip_metres
from dispatch.reasons import reason
from dispatch.two_echelon import Resume, Waiting
from dispatch.workspace import Workspace

EVENT_TYPES: tuple[EventType, ...] = get_args(EventType)
LOCAL = zoneinfo.ZoneInfo("Asia/Shanghai")


class EventError(ValueError):
    """An event that cannot be applied; the message names the event and field."""


@dataclass
class Cut:
    """The old plan cut at `at_s`: routes kept, what is at stations, what was broken."""

    at_s: int
    kept: list[Route] = field(default_factory=list)
    resume: Resume = field(default_factory=lambda: Resume(start_s=0))
    stranded: list[Unassigned] = field(default_factory=list)
    closed: dict[str, str] = field(default_factory=dict)  # point id -> event detail
    done: set[str] = field(default_factory=set)  # parcels the kept routes carry on


def record_events(events: Sequence[Mapping[str, Any]]) -> list[RecordedEvent]:
    """The events as the new plan records them; EventError names a malformed one's field."""
    out = []
    for k, e in enumerate(events):
        try:
            out.append(RecordedEvent.model_validate(dict(e), strict=False))
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            where = ".".join(str(part) for part in error["loc"])
            raise EventError(f"events[{k}].{where}: {error['msg']}") from None
    return out


def event_time(event: Mapping[str, Any], k: int) -> int | None:
    """Seconds since local midnight of event k (`time_s`, or ISO-8601 `time`), if given."""
    if "time_s" in event:
        value = event["time_s"]
        if not isinstance(value, int) or not 0 <= value <= 86_400:
            raise EventError(f"events[{k}].time_s: must be seconds since midnight, not {value!r}")
        return value
    if "time" in event:
        try:
            t = dt.datetime.fromisoformat(str(event["time"]))
        except ValueError as exc:
            raise EventError(f"events[{k}].time: {exc}") from exc
        if t.tzinfo is not None:
            t = t.astimezone(LOCAL)
        return t.hour * 3600 + t.minute * 60 + t.second
    return None


def cut_plan(
    ws: Workspace,
    plan: Plan,
    events: Sequence[Mapping[str, Any]],
    fleet: Fleet,
    parcels: Sequence[Parcel],
) -> Cut:
    """Apply the events to the plan: which routes stay, where every parcel is at the cut."""
    times = [t for k, e in enumerate(events) if (t := event_time(e, k)) is not None]
    at = min(times, default=0)
    cut = Cut(at_s=at, resume=Resume(start_s=at))
    vehicles = {v.vehicle_id for v in fleet.vehicles}
    broken: dict[str, tuple[int, str | None]] = {}
    for k, e in enumerate(events):
        kind = e.get("type")
        if kind not in EVENT_TYPES:
            raise EventError(f"events[{k}].type: must be one of {', '.join(EVENT_TYPES)}")
        if kind == "breakdown":
            vid = e.get("vehicle_id")
            if vid not in vehicles:
                raise EventError(f"events[{k}].vehicle_id: unknown vehicle {vid!r}")
            when = event_time(e, k)
            if when is None:
                raise EventError(f"events[{k}]: a breakdown needs time_s or time")
            where = e.get("point_id")
            if where is not None and not ws.has(where):
                raise EventError(f"events[{k}].point_id: unknown point {where!r}")
            broken[str(vid)] = (when, where)
        elif kind == "point_closed":
            pid = e.get("point_id")
            if not isinstance(pid, str) or not ws.has(pid) or pid == ws.hub_id:
                raise EventError(f"events[{k}].point_id: not a station or village: {pid!r}")
            cut.closed[str(pid)] = str(e.get("reason") or "closed by the dispatcher")
    cut.resume.excluded = set(broken)

    for r in plan.routes:
        vid = r.vehicle_id
        left_s = r.stops[0].departure_s
        if r.stops[0].arrival_s > at or (vid in broken and left_s > broken[vid][0]):
            # not started (or broken down before it left): planned again
            hints = cut.resume.hints.setdefault(vid, [])
            hints += [s.point_id for s in r.visits]
            continue
        if vid in broken:
            when, where = broken[vid]
            if r.stops[-1].arrival_s > when:
                r = _truncate(ws, fleet, r, when, where, cut)
        cut.kept.append(r)
    cut.resume.kept = list(cut.kept)
    cut.resume.lunches = {
        d.vehicle_id: d.lunch.start_s
        for d in plan.drivers
        if d.lunch is not None and d.lunch.start_s < at
    }
    _locate(ws, cut, parcels)
    return cut


def _truncate(
    ws: Workspace,
    fleet: Fleet,
    route: Route,
    when: int,
    where: str | None,
    cut: Cut,
) -> Route:
    """The route up to its breakdown at `when`: stops served by then, then the breakdown spot."""
    stops = [s for s in route.stops if s.departure_s <= when]
    last = stops[-1]
    spot = where or last.point_id
    arrival = max(
        when,
        last.departure_s + ws.travel_s(route.vehicle_type, last.point_id, spot, fleet),
    )
    on_board = _on_board(stops)
    # where it stands: the place given, else the last place it was known to be
    stops.append(
        Stop(
            seq=len(stops),
            point_id=spot,
            arrival_s=arrival,
            departure_s=arrival,
            load=[],
            drop=[],
            weight_g_after=last.weight_g_after,
            volume_ml_after=last.volume_ml_after,
        )
    )
    name = ws.point(spot).name
    for pid in sorted(on_board):
        cut.stranded.append(
            Unassigned(
                parcel_id=pid,
                code="vehicle_breakdown",
                reason=reason("vehicle_breakdown", name, route.vehicle_id),
            )
        )
    metres = trip_metres(ws, fleet, route.vehicle_type, stops)
    duration = stops[-1].departure_s - stops[0].arrival_s
    brk = route.break_
    return route.model_copy(
        update={
            "stops": stops,
            "ended": "breakdown",
            "distance_m": metres,
            "duration_s": duration,
            "cost_fen": route_cost_fen(
                fleet.types[route.vehicle_type], metres, duration, route.trip == 1
            ),
            "break_": None if brk is not None and brk.start_s >= arrival else brk,
        }
    )


def _on_board(stops: Sequence[Stop]) -> set[str]:
    """Parcels loaded and not yet dropped after the given stops."""
    on: set[str] = set()
    for s in stops:
        on |= set(s.load)
        on -= set(s.drop)
    return on


def _locate(ws: Workspace, cut: Cut, parcels: Sequence[Parcel]) -> None:
    """From the kept routes: parcels carried on, and parcels left waiting at stations."""
    by_id = {p.tracking_no: p for p in parcels}
    stranded = {u.parcel_id for u in cut.stranded}
    loaded_after: dict[str, int] = {}
    for r in cut.kept:
        for s in r.stops:
            for pid in s.load:
                cut.done.add(pid)
                loaded_after[pid] = max(loaded_after.get(pid, 0), s.departure_s)
    for r in cut.kept:
        for s in r.stops[1:]:
            if ws.point(s.point_id).kind != "station":
                continue
            for pid in s.drop:
                p = by_id[pid]
                arrived = p.kind == "delivery" and p.point_id == s.point_id
                if not arrived and loaded_after.get(pid, -1) < s.arrival_s:
                    cut.resume.at_station[pid] = Waiting(s.point_id, s.arrival_s, s.departure_s)
    cut.done -= set(cut.resume.at_station)
    cut.done |= stranded


def closed_parcels(cut: Cut, ws: Workspace, parcels: Sequence[Parcel]) -> list[Unassigned]:
    """Parcels still to plan whose point is closed."""
    out = []
    for p in parcels:
        if p.point_id in cut.closed and p.tracking_no not in cut.done:
            # parcels already at a station stay held there; the rest stay at the hub
            detail = cut.closed[p.point_id]
            out.append(
                Unassigned(
                    parcel_id=p.tracking_no,
                    code="point_closed",
                    reason=reason("point_closed", ws.point(p.point_id).name, detail),
                )
            )
    return out


def replan_inputs(
    ws: Workspace,
    plan: Plan,
    parcels: Sequence[Parcel],
    events: Sequence[Mapping[str, Any]],
    fleet: Fleet,
) -> tuple[Cut, list[Parcel], list[Unassigned]]:
    """The cut, the parcels still to plan, and those refused by the events."""
    known = {p.tracking_no for p in parcels}
    missing = [pid for r in plan.routes for s in r.stops for pid in s.load if pid not in known]
    if missing:
        raise EventError(f"the plan carries parcels not given: {sorted(set(missing))[:5]}")
    cut = cut_plan(ws, plan, events, fleet, parcels)
    refused = closed_parcels(cut, ws, parcels)
    gone = cut.done | {u.parcel_id for u in refused}
    return cut, [p for p in parcels if p.tracking_no not in gone], refused
