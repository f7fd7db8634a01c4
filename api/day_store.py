"""The day's released plan and its facts: which plan version scans, traces and the assessment
go by, and the parcel records behind it (its manifests and what it carried in).

"The day's released plan" is the latest released plan version of that date (by when it was
made; a dispatcher releases it with POST /v1/plans/{plan_id}/release); a driver's or a station's
scan is judged against it, and a driver may scan what any released version of the day put on
its vehicle (scans follow the parcel through re-plans: they attach to the tracking number
and date, not to a plan version).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.engine import Engine

from api.db import PlanJob, reading
from api.deps import Lru
from api.manifest_store import load_parcels
from api.scan_store import events_since
from dispatch.actuals import DayActuals
from dispatch.day_facts import DayFacts, build_day_facts
from dispatch.parcel import Parcel
from dispatch.workspace import Workspace

T = TypeVar("T")


def released_plan_ids(engine: Engine, day: dt.date) -> list[str]:
    """Ids of the day's released plan versions, oldest first (the last is in force)."""
    with reading(engine) as session:
        return list(
            session.scalars(
                select(PlanJob.plan_id)
                .where(
                    PlanJob.date == day,
                    PlanJob.status == "done",
                    PlanJob.released_at.is_not(None),
                )
                .order_by(PlanJob.created_at, PlanJob.plan_id)
            )
        )


def released_per_day(engine: Engine, first: dt.date, last: dt.date) -> dict[dt.date, list[str]]:
    """For each day in [first, last]: its released plan versions, oldest first."""
    with reading(engine) as session:
        rows = session.execute(
            select(PlanJob.date, PlanJob.plan_id)
            .where(
                PlanJob.status == "done",
                PlanJob.released_at.is_not(None),
                PlanJob.date.between(first, last),
            )
            .order_by(PlanJob.date, PlanJob.created_at, PlanJob.plan_id)
        ).all()
    out: dict[dt.date, list[str]] = {}
    for day, plan_id in rows:
        out.setdefault(day, []).append(plan_id)
    return out


def carry_entries(engine: Engine, job: PlanJob) -> list[dict[str, Any]]:
    """The carry-over entries a plan job took over from an earlier day: stored with the
    request when it was made (with failed deliveries), else the earlier plan's carry_over;
    a re-plan takes its first version's."""
    with reading(engine) as session:
        root = job
        while root.version_of:
            parent = session.get(PlanJob, root.version_of)
            if parent is None:
                break
            root = parent
        if "carry_over" in root.request:
            return list(root.request["carry_over"])
        earlier_id = root.request.get("carry_over_plan_id")
        earlier = session.get(PlanJob, earlier_id) if earlier_id else None
        if earlier is None or earlier.plan_json is None:
            return []
        return list(json.loads(earlier.plan_json).get("carry_over", []))


def job_records(engine: Engine, ws: Workspace, job: PlanJob) -> tuple[list[Parcel], dict[str, int]]:
    """The parcel records of a plan job (its manifests' parcels and those carried in), and
    the failed attempts before this day of those carried in after a failure."""
    from dispatch.carry_over import carried_records

    with reading(engine) as session:
        parcels = load_parcels(session, job.request["manifest_ids"])
    entries = carry_entries(engine, job)
    parcels += carried_records(entries, f"plan {job.plan_id}")
    attempts = {str(e["tracking_no"]): int(e.get("attempts", 0)) for e in entries}
    return parcels, {t: n for t, n in attempts.items() if n}


class DayFactsCache:
    """DayFacts per plan version (a done plan never changes), built at first use."""

    def __init__(self, size: int = 48) -> None:
        self._facts = Lru(size)
        self._actuals = Lru(size)
        self._lock = threading.Lock()

    def facts(self, engine: Engine, ws: Workspace, plan_id: str) -> DayFacts:
        """The facts of the done plan `plan_id` (blocking: database and parsing)."""
        hit = self._facts.get(plan_id)
        if hit is not None:
            return hit
        with self._lock:  # one build per plan at a time; the rest wait and hit the cache
            hit = self._facts.get(plan_id)
            if hit is not None:
                return hit
            with reading(engine) as session:
                job = session.get(PlanJob, plan_id)
            if job is None or job.plan_json is None:
                raise LookupError(f"plan {plan_id} has no stored result")
            records, attempts = job_records(engine, ws, job)
            facts = build_day_facts(
                json.loads(job.plan_json),
                records,
                {p.point_id: p.town_id for p in ws.points},
                ws.hub_id,
                attempts,
            )
            self._facts.put(plan_id, facts)
            return facts

    def versions(self, engine: Engine, ws: Workspace, plan_ids: Sequence[str]) -> list[DayFacts]:
        """The facts of each plan version."""
        return [self.facts(engine, ws, p) for p in plan_ids]

    def with_actuals(
        self,
        engine: Engine,
        ws: Workspace,
        plan_id: str,
        revision: int | None,
        use: Callable[[DayActuals], T],
    ) -> T:
        """`use(actuals)` on the plan's day folded with every scan stored so far.

        Each plan version keeps its folded state; only events numbered after what it has
        seen are read (none when the day's `revision`, its last seq, says nothing is new;
        None: look). The state is used under its own lock."""
        facts = self.facts(engine, ws, plan_id)
        entry = self._actuals.get(plan_id)
        if entry is None:
            with self._lock:
                entry = self._actuals.get(plan_id)
                if entry is None:
                    entry = (DayActuals(facts), threading.Lock())
                    self._actuals.put(plan_id, entry)
        actuals, lock = entry
        with lock:
            if revision is None or revision > actuals.seq:
                events, last = events_since(engine, facts.date, actuals.seq)
                actuals.apply(events, last)
            return use(actuals)

    def catch_up(self, engine: Engine, ws: Workspace, plan_id: str) -> None:
        """Fold the scans stored since the plan's day was last folded (an upload does it
        after its commit, so the reads that follow find the day's sums current)."""
        self.with_actuals(engine, ws, plan_id, None, lambda _: None)


async def day_facts_of(request: Request) -> DayFactsCache:
    """The app's cache of plan facts."""
    cache: DayFactsCache = request.app.state.day_facts
    return cache


DayFactsDep = Annotated[DayFactsCache, Depends(day_facts_of)]


def next_day_carry_over(
    engine: Engine, ws: Workspace, book: DayFactsCache, plan_id: str
) -> dict[str, Any]:
    """The done plan `plan_id` as the next day takes it over: its carry_over extended by the
    failed parcels its day's scans re-attempt, and the `returns` to carriers
    (dispatch.carry_over)."""
    from dispatch.carry_over import with_failures

    with reading(engine) as session:
        job = session.get(PlanJob, plan_id)
    if job is None or job.plan_json is None:
        raise LookupError(f"plan {plan_id} has no stored result")
    previous = json.loads(job.plan_json)
    return book.with_actuals(engine, ws, plan_id, None, lambda a: with_failures(previous, a))


#: Days of history folded at start-up, so the first assessment does not wait for them.
WARM_DAYS = 31


def warm_up(engine: Engine, ws_of: Callable[[], Workspace], book: DayFactsCache) -> None:
    """Fold the released plans of the last WARM_DAYS days that have any (a server thread at
    start-up); a failure only means the first reads do it themselves."""
    try:
        ws = ws_of()
        with reading(engine) as session:
            latest = session.scalar(
                select(PlanJob.date)
                .where(PlanJob.released_at.is_not(None))
                .order_by(PlanJob.date.desc())
                .limit(1)
            )
        if latest is None:
            return
        first = latest - dt.timedelta(days=WARM_DAYS - 1)
        for ids in released_per_day(engine, first, latest).values():
            book.with_actuals(engine, ws, ids[-1], None, lambda a: a.report())
    except Exception:  # best effort: the reads fold what is missing
        logging.getLogger("ruraldispatch.api").warning(
            "warm-up of the scans stopped", exc_info=True
        )
