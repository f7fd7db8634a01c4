"""Textbook instance formats: VRPLIB (CVRP) and Solomon (VRPTW) files in, solution JSON out.

Distance conventions (see benchmarks/README.md):

* VRPLIB ``EUC_2D``: CVRPLIB's rounded Euclidean, ``nint(sqrt(dx² + dy²))`` per arc; the
  matrix the solver sees is the exact integer cost (scale 1). ``CEIL_2D``/``FLOOR_2D`` round
  up/down, ``EXPLICIT`` matrices are taken as given.
* Solomon: Euclidean in double precision, not rounded. The solver gets distances ×1000
  rounded to the nearest integer and travel times ×1000 rounded *up*, so a schedule that fits
  the integer time windows also fits them in double precision. The reported cost is recomputed
  in double precision from the routes.

Node indices are those of the ``vrplib`` package: 0..n-1 in file order, depot first.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt
import vrplib

from optimizer import portfolio
from optimizer.portfolio import EnginePool
from optimizer.problem import Problem, Solution, Vehicle
from optimizer.solver import SolveParams
from optimizer.stopping import small_problem_limit
from optimizer.validate import validate

Format = Literal["vrplib", "solomon"]
FloatArray = npt.NDArray[np.float64]

#: Matrix units per Solomon distance unit.
SOLOMON_SCALE = 1000


@dataclass
class TextbookInstance:
    """A textbook instance read from a file, ready for the solver.

    `exact[i, j]` is the arc length under the format's own convention (float); the solver's
    integer matrices are `exact * scale`, rounded as the module docstring says.
    """

    name: str
    fmt: Format
    problem: Problem
    coords: FloatArray
    exact: FloatArray
    scale: int

    def route_cost(self, nodes: list[int]) -> float:
        """Length of depot → nodes → depot under the format's convention (instance units)."""
        depot = self.problem.vehicles[0].start
        path = [depot, *nodes, depot]
        return float(sum(self.exact[a, b] for a, b in itertools.pairwise(path)))

    def cost(self, routes: list[list[int]]) -> float:
        """Total length of `routes` (instance units, double precision)."""
        return sum(self.route_cost(r) for r in routes if r)


def _euclidean(coords: FloatArray) -> FloatArray:
    """Pairwise Euclidean distances computed from coordinate differences (accurate)."""
    diff = coords[:, None, :] - coords[None, :, :]
    return np.asarray(np.hypot(diff[..., 0], diff[..., 1]), dtype=np.float64)


def _read_raw(path: Path, fmt: Format) -> dict[str, Any]:
    if fmt not in ("vrplib", "solomon"):
        raise ValueError(f"{path}: unknown format {fmt!r} (expected 'vrplib' or 'solomon')")
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    try:
        # Euclidean matrices are computed here (accurately, with our rounding); explicit
        # EDGE_WEIGHT_SECTIONs are parsed by vrplib either way.
        return dict(vrplib.read_instance(path, instance_format=fmt, compute_edge_weights=False))
    except (ValueError, IndexError, KeyError, TypeError, AssertionError, RuntimeError) as exc:
        raise ValueError(f"{path}: not a valid {fmt} instance ({exc})") from exc


def _vrplib_matrix(path: Path, raw: dict[str, Any], coords: FloatArray | None) -> FloatArray:
    kind = str(raw.get("edge_weight_type", "")).upper()
    if kind in ("EUC_2D", "CEIL_2D", "FLOOR_2D"):
        if coords is None:
            raise ValueError(f"{path}: EDGE_WEIGHT_TYPE {kind} needs NODE_COORD_SECTION")
        dist = _euclidean(coords)
        rounding = {"EUC_2D": np.rint, "CEIL_2D": np.ceil, "FLOOR_2D": np.floor}[kind]
        # nint(x) = floor(x + 0.5); sqrt of an integer is never exactly k + 0.5, so rint agrees.
        return np.asarray(rounding(dist), dtype=np.float64)
    if kind == "EXPLICIT" and "edge_weight" in raw:
        matrix = np.asarray(raw["edge_weight"], dtype=np.float64)
        if not np.all(np.isfinite(matrix)) or np.any(matrix < 0):
            raise ValueError(f"{path}: EDGE_WEIGHT_SECTION has negative or non-finite values")
        if not np.allclose(matrix, np.rint(matrix)):
            raise ValueError(f"{path}: EXPLICIT edge weights must be integers")
        return np.rint(matrix)
    raise ValueError(f"{path}: EDGE_WEIGHT_TYPE {kind or '(missing)'} is not supported")


def _fleet_size(demand: npt.NDArray[np.int64], capacity: int, customers: int) -> int:
    """Vehicles to offer when the file sets no fleet: the capacity bound plus 25 % slack."""
    lower = math.ceil(int(demand.sum()) / capacity) if capacity > 0 else 1
    return max(1, min(customers, lower + max(3, lower // 4)))


def read_problem(path: Path, fmt: Format) -> TextbookInstance:
    """Read a VRPLIB (CVRP) or Solomon (VRPTW) file into a solver Problem.

    Raises ValueError naming the file and field on anything the solver cannot take.
    """
    path = Path(path)
    raw = _read_raw(path, fmt)
    name = str(raw.get("name") or path.stem).strip()
    coords_raw = raw.get("node_coord")
    coords = None if coords_raw is None else np.asarray(coords_raw, dtype=np.float64)
    if coords is not None and (coords.ndim != 2 or coords.shape[1] != 2):
        raise ValueError(f"{path}: node coordinates must be x y pairs")

    if fmt == "solomon":
        if coords is None:
            raise ValueError(f"{path}: no customer rows")
        exact = _euclidean(coords)
        scale = SOLOMON_SCALE
        distances = np.rint(exact * scale).astype(np.int64)
        durations = np.ceil(exact * scale - 1e-9).astype(np.int64)
        depots = [0]
    else:
        exact = _vrplib_matrix(path, raw, coords)
        scale = 1
        distances = exact.astype(np.int64)
        durations = distances.copy()
        depots = [int(d) for d in np.atleast_1d(raw.get("depot", [0]))]
        if len(depots) != 1:
            raise ValueError(f"{path}: DEPOT_SECTION must name exactly one depot")

    n = int(exact.shape[0])
    if n < 2:
        raise ValueError(f"{path}: needs a depot and at least one customer")
    depot = depots[0]
    if not 0 <= depot < n:
        raise ValueError(f"{path}: depot {depot + 1} is not a node")
    if "capacity" not in raw:
        raise ValueError(f"{path}: CAPACITY is missing")
    capacity = int(raw["capacity"])
    demand = np.asarray(raw.get("demand", np.zeros(n)), dtype=np.int64).reshape(-1)
    if demand.shape[0] != n:
        raise ValueError(f"{path}: DEMAND_SECTION has {demand.shape[0]} rows for {n} nodes")
    if capacity <= 0:
        raise ValueError(f"{path}: CAPACITY must be positive, got {capacity}")
    if np.any(demand < 0):
        raise ValueError(f"{path}: node {int(np.argmax(demand < 0))} has a negative demand")
    if np.any(demand > capacity):
        bad = int(np.argmax(demand > capacity))
        raise ValueError(f"{path}: node {bad} demand {int(demand[bad])} exceeds capacity")
    demand[depot] = 0

    horizon = int(durations.max()) * (n + 1) + 1
    windows = np.tile(np.array([0, horizon], dtype=np.int64), (n, 1))
    service = np.zeros(n, dtype=np.int64)
    if "time_window" in raw:
        windows = np.rint(np.asarray(raw["time_window"], dtype=np.float64) * scale).astype(np.int64)
        service_raw = raw.get("service_time", 0)
        service = np.rint(
            np.broadcast_to(np.asarray(service_raw, dtype=np.float64), (n,)) * scale
        ).astype(np.int64)
        if windows.shape != (n, 2) or np.any(windows[:, 0] > windows[:, 1]):
            bad = int(np.argmax(windows[:, 0] > windows[:, 1])) if windows.shape == (n, 2) else 0
            raise ValueError(f"{path}: node {bad} has a time window that closes before it opens")
        if np.any(service < 0):
            raise ValueError(f"{path}: negative service time")
        service[depot] = 0

    customers = n - 1
    if fmt == "solomon" or "vehicles" in raw:
        fleet = int(raw["vehicles"])
        if fleet <= 0:
            raise ValueError(f"{path}: vehicle NUMBER must be positive, got {fleet}")
    else:
        fleet = _fleet_size(demand, capacity, customers)
    vehicle = Vehicle(
        start=depot,
        end=depot,
        capacity_g=capacity,
        capacity_ml=0,
        cost_per_km=1000,
        shift_start=int(windows[depot, 0]),
        shift_end=int(windows[depot, 1]),
    )
    problem = Problem.build(
        [distances],
        [vehicle] * fleet,
        durations=[durations],
        delivery=demand,
        time_windows=windows,
        service=service,
    )
    if coords is None:
        coords = np.zeros((n, 2), dtype=np.float64)
    return TextbookInstance(
        name=name, fmt=fmt, problem=problem, coords=coords, exact=exact, scale=scale
    )


def solution_json(inst: TextbookInstance, solution: Solution) -> dict[str, Any]:
    """The solution as JSON: cost in instance units, routes as vrplib node indices, the
    winning engine and each engine's cost (instance units on the solver's integer matrix,
    which Solomon rounds per arc to 1/SOLOMON_SCALE)."""
    routes = [list(map(int, r.nodes)) for r in solution.routes if r.nodes]
    cost = inst.cost(routes)
    return {
        "instance": inst.name,
        "format": inst.fmt,
        "cost": round(cost) if inst.scale == 1 else round(cost, 4),
        "routes": routes,
        "vehicles": len(routes),
        "time_s": round(solution.solve_time_s, 3),
        "valid": True,
        "engine": solution.engine,
        "engines": [
            {
                "engine": run.engine,
                "cost": None if run.cost is None else run.cost / inst.scale,
                "unserved": run.unserved,
                "time_s": round(run.time_s, 3),
                **({"note": run.note} if run.note else {}),
            }
            for run in solution.runs
        ],
    }


def _write_atomic(out: Path, payload: dict[str, Any]) -> None:
    """Write JSON so that a reader sees either the old file or the whole new one."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, indent=1)
            handle.write("\n")
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def solve_instance(
    inst: TextbookInstance,
    time_limit_s: float,
    workers: int = 1,
    engine: str = "portfolio",
    pool: EnginePool | None = None,
) -> Solution:
    """Solve a textbook instance with `engine` on `workers` processes (or `pool`'s).

    A result that drops a customer is no answer to the textbook problem (the caller checks
    `unserved`); see `optimizer.portfolio` for how each engine treats mandatory customers.
    Small instances stop once their search settles (`optimizer.stopping`).
    """
    started = time.monotonic()
    limit = small_problem_limit(len(inst.problem.customers()))
    solution = portfolio.solve(
        inst.problem,
        SolveParams(time_limit_s=time_limit_s, solution_limit=limit),
        engine=engine,
        pool=pool,
        workers=workers,
    )
    solution.solve_time_s = time.monotonic() - started
    return solution


def solve_file(
    path: Path,
    fmt: str,
    time_limit_s: float,
    workers: int = 1,
    out: Path | None = None,
    engine: str = "portfolio",
) -> dict[str, Any]:
    """Read, solve, validate and (optionally) write one textbook instance.

    Raises ValueError on an unreadable or infeasible file or an unknown engine,
    RuntimeError when no valid solution serving every customer was found within
    `time_limit_s` seconds.
    """
    if fmt not in ("vrplib", "solomon"):
        raise ValueError(f"{path}: unknown format {fmt!r} (expected 'vrplib' or 'solomon')")
    if engine not in portfolio.ENGINES:
        raise ValueError(f"unknown engine {engine!r} (expected {' | '.join(portfolio.ENGINES)})")
    inst = read_problem(Path(path), cast(Format, fmt))
    solution = solve_instance(inst, time_limit_s, workers, engine)
    if solution.unserved:
        raise RuntimeError(
            f"{path}: no solution serving all customers in {time_limit_s:g} s "
            f"({len(solution.unserved)} left; {_runs_text(inst, solution)})"
        )
    errors = validate(inst.problem, solution)
    if errors:
        raise RuntimeError(f"{path}: solver returned an invalid solution: {errors[:3]}")
    payload = solution_json(inst, solution)
    if out is not None:
        _write_atomic(Path(out), payload)
    return payload


def _runs_text(inst: TextbookInstance, solution: Solution) -> str:
    """Each engine's outcome in a line: cost in instance units or why it has none."""
    parts = []
    for run in solution.runs:
        if run.cost is None:
            parts.append(f"{run.engine}: {run.note}")
        else:
            parts.append(f"{run.engine}: {run.cost / inst.scale:g}, {run.unserved} unserved")
    return "; ".join(parts) or "no engine ran"
