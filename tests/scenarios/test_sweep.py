"""Sweeps: local processes and a real Dask cluster give the same table for the same seeds
(deterministic mode); a killed Dask worker loses no result; a sweep resumes; a failed plan is
reported and the sweep goes on."""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path

from dispatch.scenarios.store import Store
from dispatch.scenarios.sweep import run_sweep
from tests.scenarios.conftest import FAST, Cluster


def _plans(out: Path) -> dict[str, str]:
    return {
        str(p.relative_to(out)): p.read_text(encoding="utf-8")
        for p in sorted((out / "plans").rglob("*.json"))
    }


def test_local_and_dask_sweeps_give_the_same_table(
    tiny: list[Path], tmp_path: Path, dask_cluster: Cluster
) -> None:
    local = run_sweep(tiny, tmp_path / "local", FAST)
    remote = run_sweep(tiny, tmp_path / "dask", replace(FAST, cluster=dask_cluster.address))
    assert local.planned == remote.planned == 4 and not local.failed and not remote.failed
    table = (tmp_path / "local" / "table.csv").read_text(encoding="utf-8")
    assert table == (tmp_path / "dask" / "table.csv").read_text(encoding="utf-8")
    assert _plans(tmp_path / "local") == _plans(tmp_path / "dask")
    assert len(_plans(tmp_path / "local")) == 4
    lines = table.splitlines()
    assert lines[1].startswith("baseline,基线,2,0,") and lines[2].startswith("hub_moved,")
    # the plans ran on both Dask workers, not in this process
    runs = (tmp_path / "dask" / "runs.csv").read_text(encoding="utf-8").splitlines()[1:]
    workers = {line.split(",")[6] for line in runs}
    assert len(workers) == 2 and not any(w.endswith(f":{os.getpid()}") for w in workers)


def test_a_killed_dask_worker_loses_no_result(
    tiny: list[Path], tmp_path: Path, dask_cluster: Cluster
) -> None:
    from distributed import Client

    settings = replace(FAST, cluster=dask_cluster.address)
    outcome: list[object] = []
    sweep = threading.Thread(
        target=lambda: outcome.append(run_sweep(tiny, tmp_path / "dask", settings))
    )
    sweep.start()
    killed = None
    with Client(dask_cluster.address, timeout=30, set_as_default=False) as client:
        deadline = time.monotonic() + 120
        while killed is None and time.monotonic() < deadline:
            busy = [w for w, keys in client.processing().items() if keys]
            if busy:
                name = client.scheduler_info()["workers"][busy[0]]["name"]
                worker = dask_cluster.workers[int(str(name).removeprefix("w"))]
                time.sleep(0.3)  # well inside its plan (each takes about a second or more)
                worker.send_signal(signal.SIGKILL)
                killed = worker.pid
            time.sleep(0.05)
    sweep.join(timeout=300)
    assert killed is not None and not sweep.is_alive()
    assert sum(w.poll() is not None for w in dask_cluster.workers) == 1
    result = outcome[0]
    assert result.planned == 4 and not result.failed  # type: ignore[attr-defined]
    store = Store(tmp_path / "dask")
    assert all(store.done(e.key) for e in store.manifest().runs)
    assert len(_plans(tmp_path / "dask")) == 4
    table = (tmp_path / "dask" / "table.csv").read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[2:4] for line in table[1:]] == [["2", "0"], ["2", "0"]]


def test_a_sweep_resumes_and_a_failed_plan_does_not_stop_it(
    tiny: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "sweep"
    first = run_sweep(tiny, out, replace(FAST, replicas=1, timeout_s=0.01))
    assert first.planned == 2 and {r.status for r in first.failed} == {"timed out"}
    table = (out / "table.csv").read_text(encoding="utf-8").splitlines()
    assert table[1].startswith("baseline,基线,0,1,")
    second = run_sweep(tiny, out, FAST)  # the failed seed 0 is planned again, seed 1 anew
    assert (second.planned, second.skipped, second.failed) == (4, 0, [])
    tiny[1].write_text(tiny[1].read_text(encoding="utf-8").replace("29.04", "29.05"))
    third = run_sweep(tiny, out, FAST)  # a changed scenario is a new one; the other is kept
    assert (third.planned, third.skipped) == (2, 2)
