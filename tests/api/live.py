"""A real server for tests: `ruraldispatch serve` (uvicorn) on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`python -m api.cli_service ARGS` (serve, keys ...) to completion."""
    return subprocess.run(
        [sys.executable, "-m", "api.cli_service", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def new_key(db_url: str, role: str, vehicle: str | None = None) -> str:
    """A fresh API key made by `keys create`."""
    args = ["keys", "create", "--role", role, "--db", db_url]
    done = cli(*args, *(["--vehicle", vehicle] if vehicle else []))
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@contextmanager
def server(
    db_url: str, limits: Sequence[str] = (), log: Path | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`serve` in a subprocess with `--limit` settings; yields (base URL, process)."""
    port = free_port()
    args = ["serve", "--port", str(port), "--db", db_url]
    for setting in limits:
        args += ["--limit", setting]
    out = log.open("wb") if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli_service", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=out,
        stderr=subprocess.STDOUT if log is not None else subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, "server exited during start-up"
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)
        if log is not None and hasattr(out, "close"):
            out.close()


def wait_for(
    c: httpx.Client, plan_id: str, statuses: tuple[str, ...], timeout: float = 120
) -> dict[str, Any]:
    """Poll a plan job until its status is one of `statuses`."""
    deadline = time.monotonic() + timeout
    while True:
        job = c.get(f"/v1/plans/{plan_id}").json()
        if job["status"] in statuses:
            return dict(job)
        assert time.monotonic() < deadline, job
        time.sleep(0.3)
