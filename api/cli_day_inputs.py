"""Whether the files a day's command was given fit together, checked before any planning: the
manifests hold something to plan, a stored plan is of the county loaded, and a stored plan and
the manifests are of the same day.

A user who passes header-only files, or yesterday's plan with today's manifests, gets one line
naming the files, not an empty plan or hundreds of violations, one per parcel.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from pathlib import Path

from dispatch.parcel import InputError, Parcel


def nothing_to_plan(
    manifests: Sequence[Path], parcels: Sequence[Parcel], invalid: Sequence[InputError]
) -> list[InputError]:
    """One error per manifest (row 0, as the API's upload names it) when none of them holds a
    parcel to plan; empty when there is something to plan."""
    if parcels:
        return []
    bad = {e.file for e in invalid}
    return [
        InputError(
            m.name,
            0,
            "tracking_no",
            "the manifest has no valid parcels" if m.name in bad else "the manifest has no parcels",
        )
        for m in manifests
    ]


def another_days_plan(
    plan_file: Path,
    date: dt.date,
    plan_parcels: Collection[str],
    parcels: Sequence[Parcel],
    manifests: Sequence[Path],
    every: bool = False,
) -> str | None:
    """Why `plan_file` (for `date`) does not fit `manifests`, or None.

    When none of the plan's parcels is in the manifests, the plan or the manifests are of
    another day and the message says so. With `every` (a re-plan needs each of the plan's
    parcels) a plan missing only some of them is refused too, naming a few.
    """
    given = {p.tracking_no for p in parcels}
    missing = sorted(set(plan_parcels) - given)
    if not missing:
        return None
    names = ", ".join(m.name for m in manifests)
    if len(missing) == len(set(plan_parcels)):
        days = sorted({p.due_date.isoformat() for p in parcels})
        due = f"; due {days[0]}{f' to {days[-1]}' if len(days) > 1 else ''}" if days else ""
        return (
            f"{plan_file}: none of the plan's {len(missing)} parcels is in the manifests "
            f"given ({names}{due}); the plan is for {date.isoformat()}: give that day's manifests"
        )
    if not every:
        return None
    return (
        f"{plan_file}: {len(missing)} of the plan's parcels are in none of the manifests "
        f"given ({names}), e.g. {', '.join(missing[:3])}"
    )


def another_county(plan_file: Path, plan_county: str | None, county: str) -> str | None:
    """Why `plan_file`, made for `plan_county` (its `kpis.county`), does not fit the `county`
    loaded, or None (also for a plan that does not say)."""
    if plan_county is None or plan_county == county:
        return None
    return f"{plan_file}: a plan for {plan_county}, not {county}: give its county folder (--county)"
