"""Road closures in the day's plan: what they cut off, and the closures a plan records.

The roads themselves are closed in geodata (geodata.closures); here a point cut off from the hub
makes its parcels unassigned (`road_closed`, naming the closure) and the vehicles based at it
idle, and closures travel with the plan JSON (`closures`, and `road_closed` re-planning events)
so that the plan can be checked and re-planned around the same roads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dispatch.fleet import Fleet
from dispatch.parcel import Parcel
from dispatch.reasons import Unassigned, reason
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
    "closures_json",
    "cut_off_parcels",
    "cut_off_vehicles",
    "event_closures",
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
                    p.tracking_no, "road_closed", reason("road_closed", name, cut[p.point_id])
                )
            )
        else:
            keep.append(p)
    return keep, refused


def cut_off_vehicles(ws: Workspace, fleet: Fleet) -> set[str]:
    """Vehicles based at a point cut off from the hub: they cannot take part today."""
    cut = ws.cut_off()
    return {v.vehicle_id for v in fleet.vehicles if v.depot in cut}


def closures_json(closures: Sequence[Closure]) -> list[dict[str, Any]]:
    """The closures as the plan JSON records them."""
    return [c.as_json() for c in closures]


def plan_closures(plan: Mapping[str, Any]) -> list[Closure]:
    """The day's closures a plan was made around (its `closures`); ClosureError naming
    `closures[i].field` of a malformed one."""
    records = plan.get("closures") or []
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ClosureError([Problem("closures", 0, "closures", "must be a list of objects")])
    return parse_closures(records, "closures")


def event_closures(events: Sequence[Mapping[str, Any]]) -> list[Closure]:
    """The closures of `road_closed` events, each numbered by its index in `events`.

    ClosureError naming `events[k].field` of a malformed one.
    """
    out: list[Closure] = []
    problems: list[Problem] = []
    for k, e in enumerate(events):
        if e.get("type") != "road_closed":
            continue
        record = {key: value for key, value in e.items() if key in FIELDS}
        try:
            out += parse_closures([record], "events", first_row=k)
        except ClosureError as exc:
            problems += exc.problems
    if problems:
        raise ClosureError(problems)
    return out


def request_field(problem: Problem) -> str:
    """Where a closure problem is, as a request field (`events[2].near`) for closures given in
    a request or plan, or as `file: row n: field` for a file."""
    if problem.file in ("closures", "events"):
        return f"{problem.file}[{problem.row}].{problem.field}"
    return f"{problem.file}: row {problem.row}: {problem.field}"
