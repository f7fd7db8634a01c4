"""Run independent jobs in parallel: local worker processes by default, or an existing
dask.distributed cluster. Shared by the planners' sweeps and several counties' days.

A job is a picklable object with a `key` and a `failed(reason)` method giving its result
when it could not be run; `execute(job)` (a module-level function, importable on the
workers) runs it and never raises for a failure of the job itself. Results reach
`on_result` in the order they finish, in the calling thread.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol, TypeVar


class Job(Protocol):
    """What the runner needs of a job."""

    @property
    def key(self) -> str: ...

    def failed(self, reason: str) -> Any: ...


J = TypeVar("J", bound=Job)


class ClusterError(ConnectionError):
    """The Dask scheduler cannot be reached."""


#: Times a local job is started again after its worker process died under it.
LOCAL_RETRIES = 1


def run_jobs(
    jobs: Sequence[J],
    execute: Callable[[J], Any],
    on_result: Callable[[Any], None],
    *,
    workers: int = 2,
    cluster: str | None = None,
) -> None:
    """Run every job once and hand each result to `on_result` as it finishes.

    `cluster` is a dask.distributed scheduler address (tcp://host:8786); a job whose worker
    is lost is run again on another (Dask's own rescheduling). ClusterError when the
    scheduler cannot be reached (before any job ran).
    """
    if not jobs:
        return
    if cluster is not None:
        from dispatch.scenarios.cluster import run_on_cluster  # dask: loaded when used

        run_on_cluster(cluster, jobs, execute, on_result)
        return
    _run_local(jobs, execute, on_result, workers)


def _run_local(
    jobs: Sequence[J], execute: Callable[[J], Any], on_result: Callable[[Any], None], workers: int
) -> None:
    """Local worker processes (spawned: no state forked from the client); when a worker
    process dies (killed, out of memory) the pool is rebuilt and its unfinished jobs start
    again, each at most LOCAL_RETRIES more times."""
    todo = list(jobs)
    tries = {job.key: 0 for job in jobs}
    context = multiprocessing.get_context("spawn")
    while todo:
        broken: list[J] = []
        with concurrent.futures.ProcessPoolExecutor(
            max_workers=max(1, min(workers, len(todo))), mp_context=context
        ) as pool:
            futures = {pool.submit(execute, job): job for job in todo}
            for future in concurrent.futures.as_completed(futures):
                job = futures[future]
                try:
                    result = future.result()
                except BrokenProcessPool:
                    broken.append(job)
                    continue
                except Exception as exc:  # pickling, or a bug outside the job's own guard
                    result = job.failed(f"{type(exc).__name__}: {exc}")
                on_result(result)
        todo = []
        for job in broken:
            tries[job.key] += 1
            if tries[job.key] > LOCAL_RETRIES:
                on_result(job.failed("its worker process died (killed or out of memory)"))
            else:
                todo.append(job)
