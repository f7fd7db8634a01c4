"""Road closures in the day's plan: what they cut off, and the closures a plan records.

The roads themselves are closed in geodata (geodata.closures); here a point cut off from the hub
makes its parcels unassigned (`road_closed`, naming the closure) and the vehicles based at it
idle, and closures travel with the plan JSON (`closures`, and `road_closed` re-planning events)
so that the plan can be checked and re-planned around the same roads.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from dispatch.fleet import Fleet
from dispatch.parcel import Parcel
from dispatch.plan import ClosureRecord, Plan, Unassigned
from dispatch.reasons import reason
from dispatch.workspace import Workspace
from geodata.closures import (
    FIELDS,
    MAX_CLOSURES,
    MAX_RADIUS_M,
    Closure,
    ClosureError,
    parse_closures,
)
from geodata.problems import Problem

__all__ = [
    "MAX_CLOSURES",
    "MAX_RADIUS_M",
    "Closure",
    "ClosureError",
    "closed_at",
    "closure_records",
    "cut_off_parcels",
    "cut_off_vehicles",
    "event_closures",
    "has_closures",
    "plan_closures",
    "request_field",
]


def cut_off_parcels(
    ws: Workspace, parcels: Sequence[Parcel], done: set[str] | frozenset[str] = frozenset()
) -> tuple[list[Parcel], list[Unassigned]]:
    """The parcels still reachable, and those whose point is cut off (`road_closed`); parcels
    in `done` (already carried on by a kept route) are neither."""
    cut = ws.cut_off()
    keep: list[Parcel] = []
    refused: list[Unassigned] = []
    for p in parcels:
        if p.tracking_no in done:
            continue
        if p.point_id in cut:
            name = ws.point(p.point_id).name
            refused.append(
                Unassigned(
                    parcel_id=p.tracking_no,
                    code="road_closed",
                    reason=reason("road_closed", name, cut[p.point_id]),
                )
            )
        else:
            keep.append(p)
    return keep, refused


def cut_off_vehicles(ws: Workspace, fleet: Fleet) -> set[str]:
    """Vehicles based at a point cut off from the hub: they cannot take part today."""
    cut = ws.cut_off()
    return {v.vehicle_id for v in fleet.vehicles if v.depot in cut}


def closure_records(closures: Sequence[Closure]) -> list[ClosureRecord]:
    """The closures as the plan records them."""
    return [ClosureRecord.model_validate(c.as_json(), strict=False) for c in closures]


def _closure_fields(plan: Plan) -> dict[str, Any]:
    """The parts of a typed plan that say which roads were closed, as JSON."""
    return {
        "closures": [c.model_dump(mode="json", by_alias=True) for c in plan.closures or []],
        "events": [e.model_dump(mode="json", by_alias=True) for e in plan.events or []],
        "replanned_at_s": plan.replanned_at_s,
    }


def has_closures(plan: Plan | Mapping[str, Any]) -> bool:
    """True when the plan records road closures (its own or its events')."""
    data = _closure_fields(plan) if isinstance(plan, Plan) else plan
    events = data.get("events")
    closing = isinstance(events, list) and any(
        isinstance(e, Mapping) and e.get("type") == "road_closed" for e in events
    )
    return bool(data.get("closures")) or closing


def plan_closures(plan: Plan | Mapping[str, Any]) -> list[Closure]:
    """Every closure a plan was made around: its `closures` (the day's, and those of earlier
    versions' events, with `since_s`) and its own `road_closed` events (since the plan was cut,
    `replanned_at_s`). ClosureError naming `closures[i].field` or `events[i].field`."""
    if isinstance(plan, Plan):
        plan = _closure_fields(plan)
    records = plan.get("closures") or []
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ClosureError([Problem("closures", 0, "closures", "must be a list of objects")])
    problems: list[Problem] = []
    out: list[Closure] = []
    for k, rec in enumerate(records):
        since = rec.get("since_s")
        if since is not None and (
            not isinstance(since, int) or isinstance(since, bool) or not 0 <= since <= 86_400
        ):
            problems.append(Problem("closures", k, "since_s", "must be seconds since midnight"))
            continue
        try:
            (closure,) = parse_closures(
                [{key: v for key, v in rec.items() if key != "since_s"}], "closures", k
            )
        except ClosureError as exc:
            problems += exc.problems
            continue
        out.append(dataclasses.replace(closure, since_s=since))
    events = plan.get("events") or []
    try:
        cut = plan.get("replanned_at_s")
        out += event_closures(
            events if isinstance(events, list) else [], cut if isinstance(cut, int) else 0
        )
    except ClosureError as exc:
        problems += exc.problems
    if problems:
        raise ClosureError(problems)
    return out


def event_closures(events: Sequence[Mapping[str, Any]], since_s: int) -> list[Closure]:
    """The closures of `road_closed` events (closed since `since_s`, the time the plan is
    cut), each numbered by its index in `events`.

    ClosureError naming `events[k].field` of a malformed one.
    """
    out: list[Closure] = []
    problems: list[Problem] = []
    for k, e in enumerate(events):
        if not isinstance(e, Mapping) or e.get("type") != "road_closed":
            continue
        record = {key: value for key, value in e.items() if key in FIELDS}
        try:
            out += [
                dataclasses.replace(c, since_s=since_s)
                for c in parse_closures([record], "events", first_row=k)
            ]
        except ClosureError as exc:
            problems += exc.problems
    if problems:
        raise ClosureError(problems)
    return out


def closed_at(closures: Sequence[Closure], departure_s: int) -> list[Closure]:
    """The closures a route that left its depot at `departure_s` was planned around: those of
    the whole day and those closed before it left."""
    return [c for c in closures if c.since_s is None or departure_s > c.since_s]


def request_field(problem: Problem) -> str:
    """Where a closure problem is, as a request field (`events[2].near`) for closures given in
    a request or plan, or as `file: row n: field` for a file."""
    if problem.file in ("closures", "events"):
        return f"{problem.file}[{problem.row}].{problem.field}"
    return f"{problem.file}: row {problem.row}: {problem.field}"
