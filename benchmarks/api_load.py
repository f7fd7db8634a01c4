"""Load benchmark of the HTTP API: 50 concurrent readers while a 10,000-parcel solve runs.

Starts `python -m api.cli_service serve` on a free loopback port over a fresh SQLite file,
uploads a generated 10,000-parcel manifest (timed: the upload target is <= 2 s), finishes a
small plan for another day (so sheets and KPIs have something to read), starts the 10k solve
and, while it runs, lets `--clients` readers each send up to `--requests` GETs round-robin over
the read endpoints. Prints p50/p95/max latency per endpoint (ms). Bounded in count and time;
loopback only.

    .venv/bin/python -m benchmarks.api_load [--clients 50] [--requests 120] [--think-ms 250] \\
        [--time-limit 60] [--parcels 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from api.auth import create_key
from api.db import make_engine
from api.migrate import migrate
from dispatch.demo import generate_day
from dispatch.manifest import write_manifest_csv
from geodata.county import load_county

ROOT = Path(__file__).resolve().parents[1]
DAY = dt.date(2026, 3, 5)
SMALL_DAY = dt.date(2026, 3, 4)


def _free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_on_loopback(db_url: str) -> Iterator[tuple[str, int]]:
    """The API server in a subprocess; yields its base URL and port."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli_service", "serve", "--port", str(port), "--db", db_url],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/docs", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.2)
        yield base, port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _manifest(folder: Path, n: int, seed: int, day: dt.date) -> bytes:
    """A generated manifest CSV of `n` parcels."""
    path = folder / f"manifest-{n}-{seed}.csv"
    county = load_county()
    write_manifest_csv(generate_day(county, n, seed=seed, date=day), path, county)
    return path.read_bytes()


def _wait(c: httpx.Client, plan_id: str, statuses: tuple[str, ...], limit_s: float) -> Any:
    """Poll a plan until it reaches one of `statuses` (or fail after `limit_s`)."""
    deadline = time.monotonic() + limit_s
    while True:
        job = c.get(f"/v1/plans/{plan_id}").json()
        if job["status"] in statuses:
            return job
        if job["status"] in ("failed", "cancelled") or time.monotonic() > deadline:
            raise SystemExit(f"plan {plan_id}: {job['status']} {job.get('error', '')}")
        time.sleep(0.5)


class _Connection:
    """A minimal keep-alive HTTP/1.1 GET client, so the readers spend little CPU themselves."""

    def __init__(self, host: str, port: int, key: str) -> None:
        self.host, self.port, self.key = host, port, key
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        """(status, lower-cased headers, body) of GET `path`."""
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._streams
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Authorization: Bearer {self.key}\r\n\r\n".encode()
        )
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name:
                headers[name.lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        return int(head[0].split()[1]), headers, body

    def close(self) -> None:
        """Close the connection."""
        if self._streams is not None:
            self._streams[1].close()


async def _readers(
    port: int,
    key: str,
    paths: list[tuple[str, str]],
    clients: int,
    requests: int,
    until: float,
    think_s: float,
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """`clients` concurrent readers, each up to `requests` GETs or until `until`.

    Each reader waits a random 0..2*`think_s` (mean `think_s`) between its requests, as a
    polling dashboard does; 0 makes a closed loop that measures saturation instead.
    Returns latencies seen by the clients and the server's own time (Server-Timing), in ms.
    """
    rng = random.Random(0)
    latencies: dict[str, list[float]] = {name: [] for name, _ in paths}
    inside: dict[str, list[float]] = {name: [] for name, _ in paths}

    async def reader(k: int) -> None:
        conn = _Connection("127.0.0.1", port, key)
        try:
            for i in range(requests):
                if time.monotonic() > until:
                    return
                name, path = paths[(k + i) % len(paths)]
                t0 = time.perf_counter()
                status, headers, body = await conn.get(path)
                latencies[name].append((time.perf_counter() - t0) * 1000)
                inside[name].append(float(headers["server-timing"].split("dur=")[1]))
                if status != 200:
                    raise RuntimeError(f"{path}: {status} {body[:200]!r}")
                if think_s > 0:
                    await asyncio.sleep(rng.uniform(0, 2 * think_s))
        finally:
            conn.close()

    await asyncio.gather(*(reader(k) for k in range(clients)))
    return latencies, inside


def run(
    clients: int, requests: int, time_limit_s: float, parcels: int, think_s: float, jobs: int = 1
) -> None:
    """Run the benchmark and print its numbers; `jobs` plan jobs of the big day are started
    before the readers (the server solves them as its `solvers` limit allows)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db_url = f"sqlite:///{folder / 'bench.sqlite3'}"
        engine = make_engine(db_url)
        migrate(engine)
        key = create_key(engine, "dispatcher")
        engine.dispose()
        big = _manifest(folder, parcels, 1, DAY)
        small = _manifest(folder, 300, 2, SMALL_DAY)
        with (
            serve_on_loopback(db_url) as (base, port),
            httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60
            ) as c,
        ):
            small_id = c.post(
                "/v1/manifests", content=small, headers={"Content-Type": "text/csv"}
            ).json()["manifest_id"]  # also warms the server up (county loaded)
            t0 = time.perf_counter()
            r = c.post("/v1/manifests", content=big, headers={"Content-Type": "text/csv"})
            upload_s = time.perf_counter() - t0
            if r.status_code != 201:
                raise SystemExit(f"upload failed: {r.status_code} {r.text[:500]}")
            big_id = r.json()["manifest_id"]
            print(f"upload of {parcels} parcels ({len(big) / 1e6:.1f} MB): {upload_s:.2f} s")

            small_plan = c.post(
                "/v1/plans",
                json={
                    "date": str(SMALL_DAY),
                    "manifest_ids": [small_id],
                    "time_limit_s": 3,
                },
            ).json()["plan_id"]
            done = _wait(c, small_plan, ("done",), 120)
            route_id = done["plan"]["routes"][0]["route_id"]

            plan_ids = [
                c.post(
                    "/v1/plans",
                    json={
                        "date": str(DAY),
                        "manifest_ids": [big_id],
                        "time_limit_s": time_limit_s,
                    },
                ).json()["plan_id"]
                for _ in range(jobs)
            ]
            plan_id = plan_ids[0]
            _wait(c, plan_id, ("running",), 60)
            paths = [
                ("GET /v1/plans/{id} (running)", f"/v1/plans/{plan_id}"),
                ("GET /v1/plans?date=", f"/v1/plans?date={DAY}"),
                ("GET /v1/manifests?date=", f"/v1/manifests?date={DAY}"),
                ("GET /v1/network/points", "/v1/network/points"),
                ("GET /v1/fleet", "/v1/fleet"),
                ("GET .../sheet.csv", f"/v1/plans/{small_plan}/routes/{route_id}/sheet.csv"),
                ("GET /v1/kpis", f"/v1/kpis?from={SMALL_DAY}&to={SMALL_DAY}"),
            ]
            started = time.monotonic()
            latencies, inside = asyncio.run(
                _readers(port, key, paths, clients, requests, started + time_limit_s, think_s)
            )
            elapsed = time.monotonic() - started
            still = c.get(f"/v1/plans/{plan_id}").json()
            states = [c.get(f"/v1/plans/{p}").json()["status"] for p in plan_ids]
            for p in plan_ids:
                c.delete(f"/v1/plans/{p}")
        total = sum(len(v) for v in latencies.values())
        print(
            f"{clients} readers (mean think {think_s * 1000:.0f} ms), {total} requests in "
            f"{elapsed:.1f} s while the "
            f"{parcels}-parcel solve ran (status at the end: {still['status']}, "
            f"progress {still['progress']:.2f}); {jobs} plan job(s) started, at the end: "
            + ", ".join(f"{n} {state}" for state, n in sorted(Counter(states).items()))
        )
        print(f"{'':36} {'':>5} {'client-observed (ms)':>26}   {'in the server (ms)':>17}")
        print(f"{'endpoint':36} {'n':>5} {'p50':>8} {'p95':>8} {'max':>8}   {'p50':>8} {'p95':>8}")
        for name in [*latencies, "all reads"]:
            seen = latencies.get(name) or [v for vs in latencies.values() for v in vs]
            own = inside.get(name) or [v for vs in inside.values() for v in vs]
            print(
                f"{name:36} {len(seen):5d} {_pct(seen, 50):8.1f} {_pct(seen, 95):8.1f} "
                f"{max(seen):8.1f}   {_pct(own, 50):8.1f} {_pct(own, 95):8.1f}"
            )


def _pct(values: list[float], q: int) -> float:
    """The q-th percentile of `values`."""
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=120, help="GETs per client at most")
    parser.add_argument("--time-limit", type=float, default=60.0, help="solve time limit (s)")
    parser.add_argument("--parcels", type=int, default=10_000)
    parser.add_argument(
        "--think-ms", type=float, default=250.0, help="mean pause between a reader's GETs"
    )
    parser.add_argument("--jobs", type=int, default=1, help="plan jobs started before reading")
    args = parser.parse_args()
    run(args.clients, args.requests, args.time_limit, args.parcels, args.think_ms / 1000, args.jobs)


if __name__ == "__main__":
    main()
