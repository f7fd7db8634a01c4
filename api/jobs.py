"""Plan jobs: solves run in worker process trees, their progress and result go to the database.

One supervisor thread per server starts queued jobs (at most `Limits.solvers` at a time),
each in a fresh `python -m api.worker plan` process that leads its own process group (no
fork of the threaded server, no re-import of its main script), and reaps them. A worker
writes progress (throttled) and its result itself, always guarded by `status = 'running'`,
so a job cancelled or failed meanwhile is never overwritten.

Each job's whole process tree is watched: its resident memory (summed over the tree) may not
pass `Limits.job_memory_mb`, and it may not run longer than its hard stop
(`Limits.job_hard_stop_s(time_limit_s)`). Passing either kills the process group and fails
the job with that reason; the server keeps serving. When the server dies (even by kill -9)
every worker group dies within a second: each worker's leader waits on a pipe the server
holds open (api.worker).

Rules: a worker that dies (signal, segfault) marks its job failed with the reason; DELETE
kills the worker's group and marks the job cancelled. At start-up, jobs left queued or
running by a previous server process are marked **failed** with reason "server restarted"
(they are not re-queued: the dispatcher decides whether to start again).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
from sqlalchemy import select
from sqlalchemy.engine import Engine

from api import plan_store
from api.db import ParcelRow, PlanJob, make_engine, reading, utcnow
from api.errors import DB_OUTAGE, ONCE, database_unavailable
from api.limits import Limits

if TYPE_CHECKING:
    from dispatch.plan import Plan

log = logging.getLogger("ruraldispatch.jobs")

RESTART_REASON = "server restarted before the job finished; start it again"
STOP_REASON = "server stopped before the job finished; start it again"
_PROGRESS_EVERY_S = 0.5
_LOOP_S = 0.25

#: Environment variable handing the database URL to a worker (kept out of `ps` output).
WORKER_DB_ENV = "RURALDISPATCH_WORKER_DB"
#: Environment variable handing the served county folder to a worker ("": the embedded one).
WORKER_COUNTY_ENV = "RURALDISPATCH_WORKER_COUNTY"


@dataclass
class _Running:
    """A running job's worker process (leader of its group) and its limits."""

    proc: subprocess.Popen[bytes]
    deadline: float  # time.monotonic()
    hard_stop_s: float


def _exit_reason(exitcode: int | None) -> str:
    """A sentence for a worker's abnormal exit code."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"the solver process died ({name}); the server is fine, start the plan again"
    return f"the solver process ended without a result (exit code {exitcode})"


def tree_rss_bytes(pid: int) -> int:
    """Resident memory (bytes) of process `pid` and all its descendants; 0 if gone."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total


def kill_group(pid: int) -> None:
    """SIGKILL the process group led by `pid` (a worker and everything it started)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


class JobManager:
    """Starts queued jobs in worker process groups, watches, reaps and cancels them."""

    def __init__(
        self,
        engine: Engine,
        db_url: str,
        limits: Limits | None = None,
        county: Path | None = None,
    ) -> None:
        self.county = county
        self.engine = engine
        self.db_url = db_url
        self.limits = limits or Limits()
        self._running: dict[str, _Running] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lifeline: tuple[int, int] | None = None

    @property
    def lifeline_fd(self) -> int:
        """Read end of the pipe workers watch: it reads end-of-file when this server is gone."""
        assert self._lifeline is not None, "the job manager is not started"
        return self._lifeline[0]

    def start(self) -> None:
        """Fail jobs a previous process left behind, then start the supervisor thread."""
        plan_store.fail_abandoned(self.engine, RESTART_REASON)
        self._lifeline = os.pipe()  # only this process holds the write end
        self._thread = threading.Thread(target=self._loop, name="plan-jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the supervisor; running workers are killed and their jobs failed."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self._lock:
            running = dict(self._running)
            self._running.clear()
        for plan_id, job in running.items():
            try:
                plan_store.fail(self.engine, plan_id, STOP_REASON)
            except Exception as exc:
                if not database_unavailable(exc):
                    raise
            kill_group(job.proc.pid)
            job.proc.wait(timeout=10)
        if self._lifeline is not None:
            for fd in self._lifeline:
                os.close(fd)
            self._lifeline = None

    def notify(self) -> None:
        """Wake the supervisor: a job was queued."""
        self._wake.set()

    def worker_pid(self, plan_id: str) -> int | None:
        """Process id of the worker (its group leader) running `plan_id`, if any."""
        with self._lock:
            job = self._running.get(plan_id)
        return job.proc.pid if job is not None else None

    def cancel(self, plan_id: str) -> bool:
        """Cancel a queued or running job (its process group is killed); False if not active."""
        cancelled = plan_store.cancel(self.engine, plan_id)
        if cancelled:
            with self._lock:
                job = self._running.get(plan_id)
            if job is not None:
                kill_group(job.proc.pid)
            self._wake.set()
        return cancelled

    def _loop(self) -> None:
        """Watch, reap and start jobs until stopped; a database outage is logged, not fatal."""
        while not self._stop.is_set():
            try:
                self._watch()
                self._reap()
                self._launch()
            except Exception as exc:  # the supervisor must outlive a database outage
                if database_unavailable(exc):
                    DB_OUTAGE.note(exc)
                else:
                    ONCE.error_id(exc)
                self._stop.wait(1.0)
            self._wake.wait(timeout=_LOOP_S)
            self._wake.clear()

    def _watch(self) -> None:
        """Stop jobs past their hard stop or memory cap: kill the group, fail the job."""
        cap = self.limits.job_memory_mb * 1024 * 1024
        now = time.monotonic()
        with self._lock:
            running = list(self._running.items())
        for plan_id, job in running:
            if job.proc.poll() is not None:
                continue
            reason = None
            if now > job.deadline:
                reason = (
                    f"the job ran past its hard stop of {job.hard_stop_s:.0f} s "
                    f"({self.limits.job_overhead_s:g} s + {self.limits.job_time_factor:g} x "
                    "its time limit) and was stopped"
                )
            else:
                rss = tree_rss_bytes(job.proc.pid)
                if rss > cap:
                    reason = (
                        f"the job used {rss / 2**20:.0f} MB of memory, more than its cap of "
                        f"{self.limits.job_memory_mb} MB, and was stopped"
                    )
            if reason is not None:
                plan_store.fail(self.engine, plan_id, reason + "; the server is fine")
                kill_group(job.proc.pid)

    def _reap(self) -> None:
        """Join exited workers; a job still 'running' after its worker exited has failed."""
        with self._lock:
            done = [(pid, j.proc) for pid, j in self._running.items() if j.proc.poll() is not None]
            for plan_id, _ in done:
                del self._running[plan_id]
        for plan_id, proc in done:
            kill_group(proc.pid)  # anything the worker left behind
            plan_store.fail(self.engine, plan_id, _exit_reason(proc.returncode))

    def _launch(self) -> None:
        """Claim the oldest queued jobs while worker slots are free and start them."""
        while not self._stop.is_set():
            with self._lock:
                if len(self._running) >= max(1, self.limits.solvers):
                    return
            claimed = plan_store.claim_next(self.engine)
            if claimed is None:
                return
            plan_id, time_limit_s = claimed
            assert self._lifeline is not None
            try:
                with self._lock:
                    proc = _spawn_worker(self.db_url, plan_id, self._lifeline[0], self.county)
                    hard_stop = self.limits.job_hard_stop_s(time_limit_s)
                    self._running[plan_id] = _Running(proc, time.monotonic() + hard_stop, hard_stop)
            except OSError as exc:
                plan_store.fail(self.engine, plan_id, f"could not start a solver process: {exc}")
                continue
            plan_store.set_worker(self.engine, plan_id, proc.pid)


def _spawn_worker(
    db_url: str, plan_id: str, lifeline_fd: int, county: Path | None
) -> subprocess.Popen[bytes]:
    """Start `python -m api.worker plan PLAN_ID LIFELINE_FD` as a new process group, for the
    county folder `county` (None: the embedded one)."""
    folder = str(county.resolve()) if county is not None else ""
    return subprocess.Popen(
        worker_command("plan", plan_id, lifeline_fd),
        env=worker_env({WORKER_DB_ENV: db_url, WORKER_COUNTY_ENV: folder}),
        stdin=subprocess.DEVNULL,
        pass_fds=(lifeline_fd,),
        start_new_session=True,
    )


def worker_command(kind: str, arg: str, lifeline_fd: int) -> list[str]:
    """The command line of a solver worker (api.worker)."""
    return [sys.executable, "-m", "api.worker", kind, arg, str(lifeline_fd)]


def worker_env(extra: Mapping[str, str]) -> dict[str, str]:
    """A worker's environment: ours, this package importable, plus `extra`."""
    package_root = str(Path(__file__).resolve().parent.parent)
    path = os.environ.get("PYTHONPATH")
    return {
        **os.environ,
        **extra,
        "PYTHONPATH": package_root + (os.pathsep + path if path else ""),
    }


def run_job(db_url: str, plan_id: str) -> None:
    """Worker body: load the job's parcels and fleet, solve, store plan or error."""
    from dispatch.validate import PlanInvalid

    engine = make_engine(db_url, pooled=False)
    try:
        plan = _solve(engine, plan_id)
    except (ValueError, LookupError, PlanInvalid) as exc:  # the inputs' or the plan's fault
        plan_store.fail(engine, plan_id, f"{type(exc).__name__}: {exc}")
        return
    except Exception as exc:  # a fault of ours or of the database: no internals in the answer
        plan_store.fail(engine, plan_id, f"internal error {ONCE.error_id(exc)}; see the server log")
        return
    plan_store.finish(
        engine,
        plan_id,
        status="done",
        progress=1.0,
        best_cost_fen=plan.kpis.cost_fen,
        plan_json=plan.json_text(),
        finished_at=utcnow(),
    )


def _solve(engine: Engine, plan_id: str) -> Plan:
    """Run plan_day or replan for job `plan_id` and return the plan with its ids set."""
    from api.manifest_store import load_parcels
    from dispatch import service
    from dispatch.modes import requested_mode

    with reading(engine) as session:
        job = session.get(PlanJob, plan_id)
        if job is None:
            raise LookupError(f"plan job {plan_id} vanished")
        request = dict(job.request)
        parcels = load_parcels(session, request["manifest_ids"])
        carry_over = None
        if request.get("carry_over_plan_id"):
            earlier = session.get(PlanJob, request["carry_over_plan_id"])
            carry_over = earlier.plan_json if earlier is not None else None
            if carry_over is not None and "carry_over" in request:
                # held, deferred and failed, as the request was made (api.day_store)
                handed = {**json.loads(carry_over), "carry_over": request["carry_over"]}
                carry_over = json.dumps(handed, ensure_ascii=False)
        base_json = None
        if job.version_of:
            base = session.get(PlanJob, job.version_of)
            base_json = base.plan_json if base is not None else None
        events = _events(session, request.get("events", []))
        fleet_toml, date, version_of = job.fleet_toml, job.date, job.version_of
    county = os.environ.get(WORKER_COUNTY_ENV, "")
    ws = service.Workspace.load(Path(county) if county else None)
    fleet = service.fleet_from_toml(fleet_toml, ws) if fleet_toml else ws.fleet
    fleet = fleet.with_off(request.get("vehicles_off", []))
    progress = _Progress(engine, plan_id)
    if version_of:
        if base_json is None:
            raise LookupError(f"plan {version_of} has no stored result to re-plan from")
        plan = service.replan(
            ws,
            service.read_plan(json.loads(base_json)),
            parcels,
            events,
            fleet=fleet,
            time_limit_s=float(request["time_limit_s"]),
            progress=progress,
        )
        plan.version_of = version_of
    else:
        plan = service.plan_day(
            ws,
            parcels,
            date=date,
            fleet=fleet,
            time_limit_s=float(request["time_limit_s"]),
            mode=requested_mode(str(request.get("mode", "auto"))),
            progress=progress,
            carry_over=service.read_plan(json.loads(carry_over)) if carry_over else None,
            engine=str(request.get("engine", "portfolio")),
            closures=service.check_closures(ws, request.get("closures", []), "closures"),
        )
    plan.plan_id = plan_id
    return plan


def _events(session: Any, events: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
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
        plan_store.report_progress(self.engine, self.plan_id, values)
