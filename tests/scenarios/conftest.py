"""Tiny scenario files and a real dask.distributed cluster (scheduler and workers as separate
processes on 127.0.0.1) for the sweep tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dispatch.scenarios.sweep import Settings

BIN = Path(sys.executable).parent
#: Deterministic and small: OR-Tools stops every leg after 10 solutions.
FAST = Settings(replicas=2, deterministic=True, solution_limit=10, workers=2)

TINY = """
[scenario]
name = "{name}"
title = "{title}"
[demand]
parcels = {parcels}
date = "2026-11-30"
{demand}
[planning]
mode = "{mode}"
{extra}
"""


def write_scenario(
    folder: Path,
    name: str,
    *,
    title: str = "测试",
    parcels: int = 80,
    mode: str = "via_station",
    extra: str = "",
    demand: str = "",
) -> Path:
    """A scenario file for a tiny day; `extra` goes after the [planning] table's keys,
    `demand` into the [demand] table."""
    path = folder / f"{name}.toml"
    text = TINY.format(
        name=name, title=title, parcels=parcels, mode=mode, extra=extra, demand=demand
    )
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def tiny(tmp_path: Path) -> list[Path]:
    """Two tiny scenarios: the baseline and the hub moved (three-tier mode)."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    return [
        write_scenario(folder, "baseline", title="基线"),
        write_scenario(
            folder,
            "hub_moved",
            title="分拨中心迁移",
            extra="[hub]\nlon = 105.87\nlat = 29.04\nassumed = true",
        ),
    ]


@dataclass
class Cluster:
    """A running scheduler's address and its worker processes."""

    address: str
    workers: list[subprocess.Popen[bytes]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_workers(address: str, n: int, timeout_s: float = 60.0) -> None:
    from distributed import Client

    with Client(address, timeout=30) as client:
        client.wait_for_workers(n, timeout=timeout_s)


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[Cluster]:
    """`dask scheduler` and two single-threaded `dask worker` processes without nannies
    (a killed worker stays dead), all on 127.0.0.1."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path / "dask-logs"
    logs.mkdir()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    procs: list[subprocess.Popen[bytes]] = []

    def start(args: list[str], log: str) -> subprocess.Popen[bytes]:
        with (logs / log).open("wb") as fh:
            proc = subprocess.Popen(
                [str(BIN / "dask"), *args], stdout=fh, stderr=subprocess.STDOUT, env=env,
                cwd=tmp_path, start_new_session=True,
            )  # fmt: skip
        procs.append(proc)
        return proc

    try:
        start(["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
              "scheduler.log")  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        worker_args = ["--nworkers", "1", "--nthreads", "1", "--no-nanny", "--no-dashboard"]
        workers = [
            start(
                ["worker", address, *worker_args, "--host", "127.0.0.1", "--name", f"w{i}"],
                f"worker{i}.log",
            )
            for i in range(2)
        ]
        _wait_workers(address, 2)
        yield Cluster(address, workers)
    finally:
        for proc in procs[1:]:  # workers first: a worker left alone keeps reconnecting
            proc.kill()
        if procs:
            procs[0].send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
