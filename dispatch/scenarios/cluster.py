"""The one module that speaks dask.distributed: jobs on an existing cluster.

The client submits every job with its content key; the scheduler places them on workers and,
when a worker dies mid-job, runs the job again on another (up to its `allowed-failures`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from distributed import Client, as_completed

from dispatch.scenarios.runner import ClusterError

#: Seconds to wait for the scheduler to answer.
CONNECT_TIMEOUT_S = 15


def run_on_cluster(
    address: str,
    jobs: Sequence[Any],
    execute: Callable[[Any], Any],
    on_result: Callable[[Any], None],
) -> None:
    """Run `jobs` on the cluster at `address`; results to `on_result` as they finish."""
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    with client:
        futures = {
            client.submit(execute, job, key=f"plan-{job.key}", pure=False): job for job in jobs
        }
        for future in as_completed(futures):
            job = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # e.g. KilledWorker after too many lost workers
                result = job.failed(f"{type(exc).__name__}: {exc}")
            on_result(result)
            future.release()


def scheduler_overhead_s(address: str, tasks: int = 200) -> float:
    """Seconds per task the cluster adds around a job that does nothing (submit, schedule,
    run, gather), measured with `tasks` no-op tasks."""
    import time

    with Client(address, timeout=CONNECT_TIMEOUT_S) as client:
        client.gather(client.map(_noop, range(10), pure=False))  # warm-up
        started = time.perf_counter()
        client.gather(client.map(_noop, range(tasks), pure=False))
        return (time.perf_counter() - started) / tasks


def _noop(x: int) -> int:
    return x


def wait_for_workers(address: str, workers: int, timeout_s: float = 120.0) -> None:
    """Return once `workers` workers have joined the scheduler at `address`."""
    with Client(address, timeout=CONNECT_TIMEOUT_S) as client:
        client.wait_for_workers(workers, timeout=timeout_s)
