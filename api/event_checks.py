"""Re-plan events checked against the plan they change, the same for the API and the CLI:
the event's local date is the plan's, a broken-down vehicle is in the plan's fleet, points
exist and a closed point is not the hub."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from typing import Any

from api.schemas import Breakdown, PointClosed
from dispatch.workspace import Workspace

LOCAL = zoneinfo.ZoneInfo("Asia/Shanghai")


def event_problems(
    ws: Workspace, events: Sequence[Any], date: dt.date, vehicles: frozenset[str]
) -> list[tuple[str, str]]:
    """(field, message) of every way the events do not fit the plan; fields are
    `events[i].name`. Late batches are checked by the caller (stored manifest or file)."""
    hubs = {p.point_id for p in ws.points if p.kind == "hub"}
    problems: list[tuple[str, str]] = []
    for i, event in enumerate(events):
        where = f"events[{i}]"
        if event.time is not None:
            local = event.time.astimezone(LOCAL) if event.time.tzinfo else event.time
            if local.date() != date:
                problems.append(
                    (
                        f"{where}.time",
                        f"is on {local.date().isoformat()} (local time); "
                        f"the plan is for {date.isoformat()}",
                    )
                )
        if isinstance(event, Breakdown):
            if event.vehicle_id not in vehicles:
                problems.append(
                    (f"{where}.vehicle_id", f"no vehicle {event.vehicle_id!r} in the plan's fleet")
                )
            if event.point_id is not None and not ws.has(event.point_id):
                problems.append((f"{where}.point_id", f"no point {event.point_id!r}"))
        elif isinstance(event, PointClosed) and (
            not ws.has(event.point_id) or event.point_id in hubs
        ):
            problems.append(
                (f"{where}.point_id", f"{event.point_id!r} is not a station or village")
            )
    return problems
