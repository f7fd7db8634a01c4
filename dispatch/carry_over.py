"""The next day's carry-over after the scans: the plan's own carry-over (held produce,
deferred parcels) plus the failed deliveries and pickups that are tried again.

The result has the shape of the plan the next day takes over from (`plan --carry-over`,
the API's `carry_over_plan_id`): a re-attempted parcel is one more `carry_over` entry, why
`failed`, with its `reason` and `attempts` (failed days so far), waiting where the failing
vehicle is based. Refused and damaged deliveries are not carried: they are listed under
`returns` for the return run to their carriers. A tracking number keeps its identity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dispatch.actuals import DayActuals
from dispatch.parcel import Parcel
from dispatch.plan import CarryOver


def with_failures(previous: Mapping[str, Any], actuals: DayActuals) -> dict[str, Any]:
    """`previous` (plan JSON) with its carry_over extended by the day's re-attempts (the
    plan's own entries are kept and never duplicated); its returns are `actuals.returns()`."""
    entries = [dict(e) for e in previous.get("carry_over", [])]
    have = {e["tracking_no"] for e in entries}
    entries += [
        e for e in actuals.reattempts(actuals.facts.attempts) if e["tracking_no"] not in have
    ]
    out = dict(previous)
    out["carry_over"] = sorted(entries, key=lambda e: str(e["tracking_no"]))
    return out


def carried_records(entries: Iterable[Mapping[str, Any]], source: str) -> list[Parcel]:
    """The parcel records of carry-over entries (plan contract `carry_over`)."""
    return [
        CarryOver.model_validate(entry, strict=False).parcel(source, row)
        for row, entry in enumerate(entries, 1)
    ]
