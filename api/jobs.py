"""Plan jobs: solves run in worker processes, their progress and result go to the database.

One supervisor thread per server starts queued jobs (at most `max_workers` at a time), each in
a fresh `python -m api.plan_worker` process (no fork of the threaded server, no re-import of
its main script), and reaps them. A worker writes progress (throttled) and its result itself,
always guarded by `status = 'running'`, so a job cancelled or failed meanwhile is never
overwritten. A worker whose server dies (even by kill -9) exits within a second.

Rules: a worker that dies (signal, segfault, out of memory) marks its job failed with the
reason; DELETE terminates the worker and marks the job cancelled. At start-up, jobs left
queued or running by a previous server process are marked **failed** with reason
"server restarted" (they are not re-queued: the dispatcher decides whether to start again).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.db import ParcelRow, PlanJob, iso_utc, make_engine, reading, utcnow, writing

ACTIVE = ("queued", "running")
RESTART_REASON = "server restarted before the job finished; start it again"
_PROGRESS_EVERY_S = 0.5


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


def job_head(job: PlanJob) -> dict[str, Any]:
    """The status fields of a job (no plan)."""
    head: dict[str, Any] = {
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
    }
    if job.version_of:
        head["version_of"] = job.version_of
    if job.error:
        head["error"] = job.error
    return head


def fail_abandoned(engine: Engine) -> int:
    """Mark jobs left queued/running by a previous server process failed; how many."""
    with writing(engine) as session:
        result = session.execute(
            update(PlanJob)
            .where(PlanJob.status.in_(ACTIVE))
            .values(status="failed", error=RESTART_REASON, finished_at=utcnow())
        )
        return int(getattr(result, "rowcount", 0) or 0)


def _finish(engine: Engine, plan_id: str, **values: Any) -> bool:
    """Set `values` on a running job; False when it is no longer running."""
    with writing(engine) as session:
        result = session.execute(
            update(PlanJob)
            .where(PlanJob.plan_id == plan_id, PlanJob.status == "running")
            .values(**values)
        )
        return bool(getattr(result, "rowcount", 0))


def _exit_reason(exitcode: int | None) -> str:
    """A sentence for a worker's abnormal exit code."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"the solver process died ({name}); the server is fine, start the plan again"
    return f"the solver process ended without a result (exit code {exitcode})"


class JobManager:
    """Starts queued jobs in worker processes, reaps them, cancels them."""

    def __init__(
        self, engine: Engine, db_url: str, max_workers: int = 1, county: Path | None = None
    ) -> None:
        self.engine = engine
        self.db_url = db_url
        self.county = county
        self.max_workers = max(1, max_workers)
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Fail jobs a previous process left behind, then start the supervisor thread."""
        fail_abandoned(self.engine)
        self._thread = threading.Thread(target=self._loop, name="plan-jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the supervisor; running workers are terminated and their jobs failed."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self._lock:
            procs = dict(self._procs)
            self._procs.clear()
        for plan_id, proc in procs.items():
            _finish(
                self.engine,
                plan_id,
                status="failed",
                error="server stopped before the job finished; start it again",
                finished_at=utcnow(),
            )
            proc.terminate()
            proc.wait(timeout=10)

    def notify(self) -> None:
        """Wake the supervisor: a job was queued."""
        self._wake.set()

    def worker_pid(self, plan_id: str) -> int | None:
        """Process id of the worker running `plan_id`, if any."""
        with self._lock:
            proc = self._procs.get(plan_id)
        return proc.pid if proc is not None else None

    def cancel(self, plan_id: str) -> bool:
        """Cancel a queued or running job (its worker is terminated); False if not active."""
        with writing(self.engine) as session:
            result = session.execute(
                update(PlanJob)
                .where(PlanJob.plan_id == plan_id, PlanJob.status.in_(ACTIVE))
                .values(status="cancelled", finished_at=utcnow())
            )
            cancelled = bool(getattr(result, "rowcount", 0))
        if cancelled:
            with self._lock:
                proc = self._procs.get(plan_id)
            if proc is not None:
                proc.terminate()
            self._wake.set()
        return cancelled

    def _loop(self) -> None:
        """Reap finished workers and start queued jobs until stopped."""
        while not self._stop.is_set():
            try:
                self._reap()
                self._launch()
            except Exception:  # the supervisor must outlive a database hiccup
                traceback.print_exc()
            self._wake.wait(timeout=0.25)
            self._wake.clear()

    def _reap(self) -> None:
        """Join exited workers; a job still 'running' after its worker exited has failed."""
        with self._lock:
            done = [(pid, p) for pid, p in self._procs.items() if p.poll() is not None]
            for plan_id, _ in done:
                del self._procs[plan_id]
        for plan_id, proc in done:
            _finish(
                self.engine,
                plan_id,
                status="failed",
                error=_exit_reason(proc.returncode),
                finished_at=utcnow(),
            )

    def _launch(self) -> None:
        """Claim the oldest queued jobs while worker slots are free and start them."""
        while not self._stop.is_set():
            with self._lock:
                if len(self._procs) >= self.max_workers:
                    return
            with writing(self.engine) as session:
                job = session.scalars(
                    select(PlanJob)
                    .where(PlanJob.status == "queued")
                    .order_by(PlanJob.created_at, PlanJob.plan_id)
                    .limit(1)
                ).first()
                if job is None:
                    return
                job.status = "running"
                job.started_at = utcnow()
                plan_id = job.plan_id
            try:
                with self._lock:
                    proc = _spawn_worker(self.db_url, plan_id, self.county)
                    self._procs[plan_id] = proc
            except OSError as exc:
                _finish(
                    self.engine,
                    plan_id,
                    status="failed",
                    error=f"could not start a solver process: {exc}",
                    finished_at=utcnow(),
                )
                continue
            with writing(self.engine) as session:
                session.execute(
                    update(PlanJob).where(PlanJob.plan_id == plan_id).values(worker_pid=proc.pid)
                )


#: Environment variable handing the database URL to a worker (kept out of `ps` output).
WORKER_DB_ENV = "RURALDISPATCH_WORKER_DB"
#: Environment variable handing the served county folder to a worker ("": the embedded one).
WORKER_COUNTY_ENV = "RURALDISPATCH_WORKER_COUNTY"


def _spawn_worker(db_url: str, plan_id: str, county: Path | None) -> subprocess.Popen[bytes]:
    """Start `python -m api.plan_worker PLAN_ID SERVER_PID` for one job."""
    package_root = str(Path(__file__).resolve().parent.parent)
    path = os.environ.get("PYTHONPATH")
    env = {
        **os.environ,
        WORKER_DB_ENV: db_url,
        WORKER_COUNTY_ENV: str(county.resolve()) if county is not None else "",
        "PYTHONPATH": package_root + (os.pathsep + path if path else ""),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "api.plan_worker", plan_id, str(os.getpid())],
        env=env,
        stdin=subprocess.DEVNULL,
    )


def _watch_parent(parent_pid: int) -> None:
    """Exit the worker when the server that started it is gone (e.g. killed with -9)."""
    while os.getppid() == parent_pid:
        time.sleep(0.5)
    os._exit(3)


def run_job(db_url: str, plan_id: str, parent_pid: int) -> None:
    """Worker process body: load the job's parcels and fleet, solve, store plan or error."""
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    engine = make_engine(db_url, pooled=False)
    try:
        plan = _solve(engine, plan_id)
    except Exception as exc:
        _finish(
            engine,
            plan_id,
            status="failed",
            error=f"{type(exc).__name__}: {exc}",
            finished_at=utcnow(),
        )
        return
    cost = plan.get("kpis", {}).get("cost_fen")
    _finish(
        engine,
        plan_id,
        status="done",
        progress=1.0,
        best_cost_fen=int(cost) if cost is not None else None,
        plan_json=json.dumps(plan, ensure_ascii=False, separators=(",", ":")),
        finished_at=utcnow(),
    )


def _solve(engine: Engine, plan_id: str) -> dict[str, Any]:
    """Run plan_day or replan for job `plan_id` and return the plan JSON with its ids set."""
    from api.manifest_store import load_parcels
    from dispatch import service

    with reading(engine) as session:
        job = session.get(PlanJob, plan_id)
        if job is None:
            raise LookupError(f"plan job {plan_id} vanished")
        request = dict(job.request)
        parcels = load_parcels(session, request["manifest_ids"])
        base_json = None
        if job.version_of:
            base = session.get(PlanJob, job.version_of)
            base_json = base.plan_json if base is not None else None
        events = _events(session, request.get("events", []))
        fleet_toml, date, version_of = job.fleet_toml, job.date, job.version_of
    county = os.environ.get(WORKER_COUNTY_ENV, "")
    ws = service.Workspace.load(Path(county) if county else None)
    fleet = service.fleet_from_toml(fleet_toml, ws) if fleet_toml else None
    progress = _Progress(engine, plan_id)
    if version_of:
        if base_json is None:
            raise LookupError(f"plan {version_of} has no stored result to re-plan from")
        plan = service.replan(
            ws,
            json.loads(base_json),
            parcels,
            events,
            fleet=fleet,
            time_limit_s=float(request["time_limit_s"]),
            progress=progress,
        )
        plan["version_of"] = version_of
    else:
        plan = service.plan_day(
            ws,
            parcels,
            date=date,
            fleet=fleet,
            time_limit_s=float(request["time_limit_s"]),
            mode=str(request.get("mode", "auto")),
            progress=progress,
        )
    plan["plan_id"] = plan_id
    return plan


def _events(session: Session, events: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Re-plan events as the facade takes them: late_parcels get their tracking numbers."""
    out = []
    for event in events:
        event = dict(event)
        if event.get("type") == "late_parcels":
            event["parcels"] = list(
                session.scalars(
                    select(ParcelRow.tracking_no)
                    .where(ParcelRow.manifest_id == event["manifest_id"])
                    .order_by(ParcelRow.id)
                )
            )
        out.append(event)
    return out


class _Progress:
    """Progress callback writing (fraction, best cost) to the job row at most every 0.5 s."""

    def __init__(self, engine: Engine, plan_id: str) -> None:
        self.engine = engine
        self.plan_id = plan_id
        self._last = 0.0

    def __call__(self, fraction: float, best_cost_fen: int | None) -> None:
        now = time.monotonic()
        if now - self._last < _PROGRESS_EVERY_S and fraction < 1.0:
            return
        self._last = now
        values: dict[str, Any] = {"progress": max(0.0, min(1.0, float(fraction)))}
        if best_cost_fen is not None:
            values["best_cost_fen"] = int(best_cost_fen)
        with writing(self.engine) as session:
            session.execute(
                update(PlanJob)
                .where(PlanJob.plan_id == self.plan_id, PlanJob.status == "running")
                .values(**values)
            )
