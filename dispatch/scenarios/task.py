"""One plan of a sweep as shipped to a worker (local process or Dask worker), and its run.

A task carries the scenario's contents (the resolved fleet, the county's files, the day's
settings), never paths on the client's disk; the worker builds the county and its roads once
per process and scenario county, generates the seeded day, plans it in this one process
(`auto`'s two plans one after the other: a Dask worker cannot start processes), validates it
as every plan is validated, and sends back the figures and the plan (gzipped JSON).
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import json
import os
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dispatch.demo import generate_day
from dispatch.fleet import Fleet
from dispatch.plan import RequestedMode
from dispatch.scenarios.figures import Figures, measure
from dispatch.scenarios.model import Co2Factors, Demand, HubMove, apply_county, base_county
from dispatch.service import plan_day
from dispatch.workspace import Workspace, workspace_of
from geodata.county_files import read_settings

#: Biggest county folder shipped to workers (bytes): road files larger than this should be
#: on the workers' disks (a later step).
MAX_COUNTY_BYTES = 256 * 2**20


@dataclass(frozen=True)
class CountySource:
    """A county folder's files as bytes, by path relative to the folder ("../roads.osm.pbf"
    for a file its county.toml names beside it); none: the embedded Yongchuan."""

    files: tuple[tuple[str, bytes], ...] = ()
    digest: str = "embedded"

    @classmethod
    def of(cls, folder: Path | None) -> CountySource:
        """The files of `folder` and those its county.toml names elsewhere (None: the embedded
        Yongchuan, shipped as nothing). ValueError when too big to ship."""
        if folder is None:
            return cls()
        folder = folder.resolve()
        paths = [p for p in sorted(folder.rglob("*")) if p.is_file()]
        settings, _ = read_settings(folder)
        named = (settings.outline_file, settings.network_file, settings.fleet_file)
        paths += [p.resolve() for p in named if p is not None and p.is_file()]
        files = tuple((os.path.relpath(p, folder), p.read_bytes()) for p in dict.fromkeys(paths))
        size = sum(len(b) for _, b in files)
        if size > MAX_COUNTY_BYTES:
            raise ValueError(f"{folder}: {size / 2**20:.0f} MB, more than a sweep ships")
        h = hashlib.sha256()
        for name, data in files:
            h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
        return cls(files, h.hexdigest())

    def folder(self) -> Path | None:
        """The folder on this machine (written once per process under the temp dir)."""
        if not self.files:
            return None
        return _materialised(self)


@functools.lru_cache(maxsize=8)
def _materialised(source: CountySource) -> Path:
    """The files under a folder of this process, nested deep enough that "../" paths stay
    inside it."""
    depth = max(Path(name).parts.count("..") for name, _ in source.files)
    root = Path(tempfile.gettempdir()) / f"ruraldispatch-county-{source.digest[:16]}-{os.getpid()}"
    folder = root.joinpath(*(["c"] * depth), "county")
    for name, data in source.files:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


@dataclass(frozen=True)
class PlanTask:
    """One (scenario, seed) plan; `key` hashes the scenario's content, the seed and settings.

    `solution_limit` (with `engine` "ortools") makes the plan independent of the machine's
    speed; `timeout_s` ends a plan that runs far past its limit.
    """

    key: str
    scenario: str
    seed: int
    county: CountySource
    hub: HubMove | None
    cold_rooms: frozenset[str]
    fleet: Fleet
    demand: Demand
    mode: RequestedMode
    time_limit_s: float
    engine: str
    solution_limit: int | None
    timeout_s: float
    co2: Co2Factors

    def failed(self, reason: str, status: str = "failed") -> PlanResult:
        """The result of this task when it could not be planned."""
        return PlanResult(self.key, self.scenario, self.seed, status, reason)


@dataclass
class PlanResult:
    """What a worker sends back: status ok|failed|timed out, why, the figures, the plan as
    gzipped JSON, and where and how long it ran (s, epoch s)."""

    key: str
    scenario: str
    seed: int
    status: str
    reason: str = ""
    figures: Figures | None = None
    plan_gz: bytes = field(default=b"", repr=False)
    plan_s: float = 0.0
    task_s: float = 0.0
    worker: str = ""

    def meta(self) -> dict[str, Any]:
        """Everything but the plan, as JSON-ready data."""
        out = {k: v for k, v in asdict(self).items() if k != "plan_gz"}
        return out


class PlanTimeout(Exception):
    """A plan ran past its task's timeout."""


def execute(task: PlanTask) -> PlanResult:
    """Plan one task (in a worker); never raises for a plan that fails: the result says why."""
    started = time.perf_counter()
    where = f"{socket.gethostname()}:{os.getpid()}"
    try:
        with _timeout(task.timeout_s):
            result = _plan(task)
    except PlanTimeout:
        result = task.failed(f"no plan after {task.timeout_s:.0f} s", "timed out")
    except MemoryError:
        result = task.failed("out of memory")
    except Exception as exc:  # any failure of one plan is reported, the sweep goes on
        result = task.failed(f"{type(exc).__name__}: {exc}")
    result.task_s = round(time.perf_counter() - started, 3)
    result.worker = where
    return result


def _plan(task: PlanTask) -> PlanResult:
    ws = _workspace(task.county, task.hub, task.cold_rooms)
    n, pickup_share = task.demand.sizes()
    parcels = generate_day(
        ws.county,
        n,
        seed=task.seed,
        date=task.demand.date,
        pickup_share=pickup_share,
        cold_factor=task.demand.cold_factor,
    )
    started = time.perf_counter()
    plan = plan_day(
        ws,
        parcels,
        date=task.demand.date,
        fleet=task.fleet,
        time_limit_s=task.time_limit_s,
        mode=task.mode,
        engine=task.engine,
        solution_limit=task.solution_limit,
        second_process=False,
    )
    plan_s = time.perf_counter() - started
    kinds = {p.point_id: p.kind for p in ws.points}
    figures = measure(plan, parcels, task.fleet, kinds, task.co2)
    data = plan.to_json()
    data.pop("plan_id", None)  # random: the same task plans the same plan
    data["kpis"].pop("solve_time_s", None)
    text = json.dumps(data, ensure_ascii=False, sort_keys=True).encode()
    return PlanResult(
        task.key,
        task.scenario,
        task.seed,
        "ok",
        figures=figures,
        plan_gz=gzip.compress(text, compresslevel=6, mtime=0),
        plan_s=round(plan_s, 3),
    )


@functools.lru_cache(maxsize=4)
def _workspace(source: CountySource, hub: HubMove | None, cold_rooms: frozenset[str]) -> Workspace:
    """The scenario's county (hub moved, cold rooms set) on its roads, once per process."""
    county = apply_county(base_county(source.folder(), hub), cold_rooms)
    return workspace_of(county)


@contextlib.contextmanager
def _timeout(seconds: float) -> Iterator[None]:
    """Raise PlanTimeout in this thread after `seconds` (main thread only: a Dask worker's
    task threads cannot take signals, there the plan's own time limit bounds it)."""
    if threading.current_thread() is not threading.main_thread() or seconds <= 0:
        yield
        return

    def fire(_sig: int, _frame: object) -> None:
        raise PlanTimeout

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
