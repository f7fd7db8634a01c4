"""Stored plan jobs: create, claim, finish, cancel, list; a done plan's JSON is kept as text.

Every write to a job that a worker may be running is guarded by its status, so a job
cancelled or failed meanwhile is never overwritten.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import defer

from api.db import PlanJob, iso_utc, reading, utcnow, writing

ACTIVE = ("queued", "running")


def new_plan_id() -> str:
    """A fresh plan id."""
    return "p_" + uuid.uuid4().hex[:16]


def create_job(
    engine: Engine,
    *,
    date: dt.date,
    request: Mapping[str, Any],
    fleet_toml: str | None,
    version_of: str | None = None,
) -> str:
    """Insert a queued job and return its plan id."""
    plan_id = new_plan_id()
    with writing(engine) as session:
        session.add(
            PlanJob(
                plan_id=plan_id,
                date=date,
                status="queued",
                progress=0.0,
                request=dict(request),
                fleet_toml=fleet_toml,
                version_of=version_of,
            )
        )
    return plan_id


def get_job(engine: Engine, plan_id: str) -> PlanJob | None:
    """The job `plan_id` (with its plan text), or None."""
    with reading(engine) as session:
        return session.get(PlanJob, plan_id)


def job_head(job: PlanJob) -> dict[str, Any]:
    """The status fields of a job (a schemas.PlanJob without its plan)."""
    return {
        "plan_id": job.plan_id,
        "date": job.date.isoformat(),
        "status": job.status,
        "progress": round(job.progress, 4),
        "best_cost_fen": job.best_cost_fen,
        "created_at": iso_utc(job.created_at),
        "started_at": iso_utc(job.started_at) if job.started_at else None,
        "finished_at": iso_utc(job.finished_at) if job.finished_at else None,
        "manifest_ids": job.request.get("manifest_ids", []),
        "time_limit_s": job.request.get("time_limit_s"),
        "mode": job.request.get("mode"),
        "version_of": job.version_of,
        "error": job.error,
        "released_at": iso_utc(job.released_at) if job.released_at else None,
    }


def list_jobs(
    engine: Engine, date: dt.date | None, released_only: bool = False
) -> list[dict[str, Any]]:
    """Job heads (of `date` if given; only released plans if `released_only`), newest first."""
    query = select(PlanJob).options(defer(PlanJob.plan_json)).order_by(PlanJob.created_at.desc())
    if date is not None:
        query = query.where(PlanJob.date == date)
    if released_only:
        query = query.where(PlanJob.released_at.is_not(None))
    with reading(engine) as session:
        return [job_head(j) for j in session.scalars(query)]


def latest_done_per_day(engine: Engine, first: dt.date, last: dt.date) -> dict[dt.date, str]:
    """For each day in [first, last] with a done plan: the id of the latest one."""
    with reading(engine) as session:
        jobs = session.execute(
            select(PlanJob.plan_id, PlanJob.date)
            .where(PlanJob.status == "done", PlanJob.date.between(first, last))
            .order_by(PlanJob.date, PlanJob.created_at)
        ).all()
    latest: dict[dt.date, str] = {}
    for plan_id, day in jobs:
        latest[day] = plan_id  # later created wins
    return latest


def fail_abandoned(engine: Engine, reason: str) -> int:
    """Mark jobs left queued/running by a previous server process failed; how many."""
    with writing(engine) as session:
        result = session.execute(
            update(PlanJob)
            .where(PlanJob.status.in_(ACTIVE))
            .values(status="failed", error=reason, finished_at=utcnow())
        )
        return int(getattr(result, "rowcount", 0) or 0)


def finish(engine: Engine, plan_id: str, **values: Any) -> bool:
    """Set `values` on a running job; False when it is no longer running."""
    with writing(engine) as session:
        result = session.execute(
            update(PlanJob)
            .where(PlanJob.plan_id == plan_id, PlanJob.status == "running")
            .values(**values)
        )
        return bool(getattr(result, "rowcount", 0))


def fail(engine: Engine, plan_id: str, reason: str) -> bool:
    """Fail a running job with `reason`; False when it is no longer running."""
    return finish(engine, plan_id, status="failed", error=reason, finished_at=utcnow())


def cancel(engine: Engine, plan_id: str) -> bool:
    """Mark a queued or running job cancelled; False when it is not active."""
    with writing(engine) as session:
        result = session.execute(
            update(PlanJob)
            .where(PlanJob.plan_id == plan_id, PlanJob.status.in_(ACTIVE))
            .values(status="cancelled", finished_at=utcnow())
        )
        return bool(getattr(result, "rowcount", 0))


def claim_next(engine: Engine) -> tuple[str, float] | None:
    """Mark the oldest queued job running; its (plan id, time limit s), or None."""
    with writing(engine) as session:
        job = session.scalars(
            select(PlanJob)
            .where(PlanJob.status == "queued")
            .order_by(PlanJob.created_at, PlanJob.plan_id)
            .limit(1)
        ).first()
        if job is None:
            return None
        job.status = "running"
        job.started_at = utcnow()
        return job.plan_id, float(job.request.get("time_limit_s") or 30.0)


def set_worker(engine: Engine, plan_id: str, pid: int) -> None:
    """Record the process id of the worker running `plan_id`."""
    with writing(engine) as session:
        session.execute(update(PlanJob).where(PlanJob.plan_id == plan_id).values(worker_pid=pid))


def report_progress(engine: Engine, plan_id: str, values: Mapping[str, Any]) -> None:
    """Progress fraction and best cost so far of a running job."""
    with writing(engine) as session:
        session.execute(
            update(PlanJob)
            .where(PlanJob.plan_id == plan_id, PlanJob.status == "running")
            .values(**values)
        )


def release(engine: Engine, plan_id: str, key_id: str) -> PlanJob | None:
    """Release the done plan `plan_id` to drivers and stations (once: a second release keeps
    the first time and key); the job afterwards, or None when there is no such job."""
    with writing(engine) as session:
        session.execute(
            update(PlanJob)
            .where(
                PlanJob.plan_id == plan_id,
                PlanJob.status == "done",
                PlanJob.released_at.is_(None),
            )
            .values(released_at=utcnow(), released_by=key_id)
        )
    return get_job(engine, plan_id)
