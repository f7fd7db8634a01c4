"""VROOM compatibility: VROOM's problem JSON in, VROOM's solution JSON out.

A VROOM client can post the same body here and read the same fields back. The mapping:

* Each task (job, shipment pickup, shipment delivery) is its own solver node; each distinct
  vehicle start or end location is a depot node. A vehicle without `start` (or `end`) starts
  (or ends) at a free node that is zero time and cost from everywhere, as in VROOM.
* Travel: `matrices[profile].durations` (and `distances`, `costs`), or the legacy `matrix`
  (durations for every profile). With no matrix at all, locations are `[lon, lat]` and the
  fallback is straight-line: haversine distance (m, R = 6371 km) at a fixed
  FALLBACK_SPEED_KMH = 50 km/h. A vehicle profile with no matrix while other profiles have
  one is a routing error (code 3): there is no routing engine to ask.
* Cost: like VROOM, `fixed + per_hour * travel_h + per_km * distance_km + per_task_hour *
  task_h` (defaults 0, 3600, 0, 0), or the profile's `costs` matrix. The solver's integer
  "distance" matrices carry this per-arc travel cost (one per vehicle class), and real
  distances are kept aside for the output. `speed_factor` divides travel times.
* Amounts: up to two dimensions map to the solver's two capacities. Dimensions that can never
  bind (every vehicle holds all amounts of all tasks at once) are dropped first; more than two
  binding dimensions are an input error (code 2).
* Skills: a task may go to vehicles holding all its skills; tasks no vehicle can take are
  unassigned without being solved. Priority p ∈ [0, 100] becomes the penalty (1 + p) · B with
  B above the cost of inserting any one task, so tasks are dropped only when infeasible and
  higher priorities last (VROOM ranks priority strictly first; here it is weighted).
* Time windows: times are shifted so the earliest one is 0 and shifted back on output. A task
  with several windows keeps its longest one (valid for VROOM, possibly not optimal).
  `setup` is added to the service time at every task (VROOM skips it after a task at the
  same place, so this is conservative). One break per vehicle with one window is supported.
* Not supported (code 2): `max_tasks`, `max_travel_time`, `max_distance`, vehicle `steps`,
  `*_per_type`, break `max_load`, several breaks per vehicle.

Codes as in VROOM: 0 ok, 1 internal error, 2 input error, 3 routing error.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimizer.problem import Break, IntArray, Problem, Solution, Vehicle
from optimizer.solver import SolveParams, solve
from optimizer.validate import check_problem, validate

Json = dict[str, Any]

FALLBACK_SPEED_KMH = 50.0
EARTH_RADIUS_M = 6_371_000.0
DEFAULT_PROFILE = "car"
UNSUPPORTED_VEHICLE_KEYS = ("max_tasks", "max_travel_time", "max_distance", "steps")
UNSUPPORTED_TASK_KEYS = ("setup_per_type", "service_per_type")


class VroomInputError(ValueError):
    """Invalid or unsupported input (VROOM code 2)."""


class VroomRoutingError(RuntimeError):
    """Travel times cannot be had for some location (VROOM code 3)."""


@dataclass
class _Task:
    kind: str  # "job" | "pickup" | "delivery"
    id: int
    raw: Json
    loc: int = 0
    setup: int = 0
    service: int = 0
    delivery: tuple[int, ...] = ()
    pickup: tuple[int, ...] = ()
    skills: frozenset[int] = frozenset()
    priority: int = 0
    window: tuple[int, int] | None = None
    partner: int | None = None  # index of the other step of a shipment


@dataclass
class _Fleet:
    id: int
    raw: Json
    profile: str
    start: int | None
    end: int | None
    capacity: tuple[int, ...]
    skills: frozenset[int]
    window: tuple[int, int] | None
    fixed: int
    per_hour: int
    per_km: int
    per_task_hour: int
    speed_factor: float
    brk: tuple[int, int, int, int] | None  # id, earliest, latest, duration
    brk_raw: Json = field(default_factory=dict)


def _int(value: Any, where: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise VroomInputError(f"{where}: expected an integer, got {value!r}")
    if int(value) < minimum:
        raise VroomInputError(f"{where}: must be >= {minimum}, got {value}")
    return int(value)


def _ints(value: Any, where: str) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise VroomInputError(f"{where}: expected an array of integers")
    return tuple(_int(v, f"{where}[{k}]") for k, v in enumerate(value))


def _window(value: Any, where: str) -> tuple[int, int]:
    if not isinstance(value, list) or len(value) != 2:
        raise VroomInputError(f"{where}: expected a [start, end] pair")
    start, end = _int(value[0], where), _int(value[1], where)
    if start > end:
        raise VroomInputError(f"{where}: start {start} is after end {end}")
    return start, end


def _obj(value: Any, where: str) -> Json:
    if not isinstance(value, dict):
        raise VroomInputError(f"{where}: expected an object")
    return value


def _coords(value: Any, where: str) -> tuple[float, float]:
    ok = isinstance(value, list) and len(value) == 2
    if not ok or not all(isinstance(v, int | float) and math.isfinite(v) for v in value):
        raise VroomInputError(f"{where}: expected a [lon, lat] pair")
    lon, lat = float(value[0]), float(value[1])
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise VroomInputError(f"{where}: [{lon}, {lat}] is not a lon/lat pair")
    return lon, lat


def haversine_matrix(points: list[tuple[float, float]]) -> np.ndarray:
    """Great-circle distances (m, float) between [lon, lat] points."""
    arr = np.radians(np.asarray(points, dtype=np.float64).reshape(-1, 2))
    lon, lat = arr[:, 0], arr[:, 1]
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    h = np.sin(dlat / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlon / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))))


class _Locations:
    """Maps task and vehicle places to rows of the travel matrices."""

    def __init__(self, data: Json) -> None:
        self.matrices: dict[str, Json] = {}
        if "matrices" in data:
            for name, entry in _obj(data["matrices"], "matrices").items():
                self.matrices[name] = _obj(entry, f"matrices.{name}")
        if "matrix" in data:
            self.legacy: Any = data["matrix"]
        else:
            self.legacy = None
        self.indexed = bool(self.matrices) or self.legacy is not None
        self.points: list[tuple[float, float]] = []
        self._point_ids: dict[tuple[float, float], int] = {}
        self.size = 0

    def place(self, obj: Json, index_key: str, coord_key: str, where: str) -> int:
        """Row of the place described by `obj` (location_index or coordinates)."""
        if self.indexed:
            if index_key not in obj:
                raise VroomInputError(f"{where}: {index_key} is required with custom matrices")
            index = _int(obj[index_key], f"{where}.{index_key}")
            self.size = max(self.size, index + 1)
            return index
        if coord_key not in obj:
            raise VroomInputError(f"{where}: {coord_key} is required without custom matrices")
        point = _coords(obj[coord_key], f"{where}.{coord_key}")
        if point not in self._point_ids:
            self._point_ids[point] = len(self.points)
            self.points.append(point)
        return self._point_ids[point]

    def _square(self, value: Any, where: str) -> np.ndarray:
        if not isinstance(value, list) or not value:
            raise VroomInputError(f"{where}: expected a non-empty square matrix")
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (ValueError, TypeError) as exc:
            raise VroomInputError(f"{where}: not a numeric matrix") from exc
        if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
            raise VroomInputError(f"{where}: matrix must be square, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr != np.rint(arr)):
            raise VroomInputError(f"{where}: entries must be non-negative integers")
        if arr.shape[0] < self.size:
            raise VroomInputError(
                f"{where}: {arr.shape[0]} rows, but location index {self.size - 1} is used"
            )
        return arr.astype(np.int64)

    def travel(self, profile: str) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """(durations s, distances m or None, costs or None) over all rows for `profile`."""
        if not self.indexed:
            metres = haversine_matrix(self.points) if self.points else np.zeros((1, 1))
            seconds = np.rint(metres / (FALLBACK_SPEED_KMH / 3.6)).astype(np.int64)
            return seconds, np.rint(metres).astype(np.int64), None
        entry = self.matrices.get(profile)
        if entry is None:
            if self.legacy is None:
                raise VroomRoutingError(f"no matrix for profile {profile!r} and no router")
            return self._square(self.legacy, "matrix"), None, None
        if "durations" not in entry:
            raise VroomInputError(f"matrices.{profile}: durations are required")
        dur = self._square(entry["durations"], f"matrices.{profile}.durations")
        dist: np.ndarray | None = None
        cost: np.ndarray | None = None
        if "distances" in entry:
            dist = self._square(entry["distances"], f"matrices.{profile}.distances")
        if "costs" in entry:
            cost = self._square(entry["costs"], f"matrices.{profile}.costs")
        for other in (dist, cost):
            if other is not None and other.shape != dur.shape:
                raise VroomInputError(f"matrices.{profile}: matrices differ in size")
        return dur, dist, cost


def _read_task(raw: Any, kind: str, where: str, places: _Locations) -> _Task:
    obj = _obj(raw, where)
    for key in UNSUPPORTED_TASK_KEYS:
        if key in obj:
            raise VroomInputError(f"{where}.{key} is not supported")
    task = _Task(kind=kind, id=_int(obj.get("id"), f"{where}.id"), raw=obj)
    task.loc = places.place(obj, "location_index", "location", where)
    task.setup = _int(obj.get("setup", 0), f"{where}.setup")
    task.service = _int(obj.get("service", 0), f"{where}.service")
    windows = obj.get("time_windows")
    if windows is not None:
        if not isinstance(windows, list) or not windows:
            raise VroomInputError(f"{where}.time_windows: expected a non-empty array")
        parsed = [_window(w, f"{where}.time_windows[{k}]") for k, w in enumerate(windows)]
        task.window = max(parsed, key=lambda w: (w[1] - w[0], -w[0]))
    return task


def _read_jobs(data: Json, places: _Locations) -> list[_Task]:
    tasks: list[_Task] = []
    jobs = data.get("jobs", [])
    if not isinstance(jobs, list):
        raise VroomInputError("jobs: expected an array")
    for k, raw in enumerate(jobs):
        where = f"jobs[{k}]"
        task = _read_task(raw, "job", where, places)
        if "amount" in task.raw and "delivery" not in task.raw:
            task.delivery = _ints(task.raw["amount"], f"{where}.amount")
        if "delivery" in task.raw:
            task.delivery = _ints(task.raw["delivery"], f"{where}.delivery")
        if "pickup" in task.raw:
            task.pickup = _ints(task.raw["pickup"], f"{where}.pickup")
        task.skills = frozenset(_ints(task.raw.get("skills", []), f"{where}.skills"))
        task.priority = _int(task.raw.get("priority", 0), f"{where}.priority")
        if task.priority > 100:
            raise VroomInputError(f"{where}.priority: must be in [0, 100]")
        tasks.append(task)
    shipments = data.get("shipments", [])
    if not isinstance(shipments, list):
        raise VroomInputError("shipments: expected an array")
    for k, raw in enumerate(shipments):
        where = f"shipments[{k}]"
        obj = _obj(raw, where)
        amount = _ints(obj.get("amount", []), f"{where}.amount")
        skills = frozenset(_ints(obj.get("skills", []), f"{where}.skills"))
        priority = _int(obj.get("priority", 0), f"{where}.priority")
        if priority > 100:
            raise VroomInputError(f"{where}.priority: must be in [0, 100]")
        if "pickup" not in obj or "delivery" not in obj:
            raise VroomInputError(f"{where}: needs both pickup and delivery")
        pick = _read_task(obj["pickup"], "pickup", f"{where}.pickup", places)
        drop = _read_task(obj["delivery"], "delivery", f"{where}.delivery", places)
        pick.pickup, drop.delivery = amount, amount
        for step in (pick, drop):
            step.skills, step.priority = skills, priority
        pick.partner, drop.partner = len(tasks) + 1, len(tasks)
        tasks.extend([pick, drop])
    seen: set[tuple[str, int]] = set()
    for task in tasks:
        if (task.kind, task.id) in seen:
            raise VroomInputError(f"duplicate {task.kind} id {task.id}")
        seen.add((task.kind, task.id))
    return tasks


def _read_vehicles(data: Json, places: _Locations) -> list[_Fleet]:
    raw_list = data.get("vehicles")
    if not isinstance(raw_list, list) or not raw_list:
        raise VroomInputError("vehicles: expected a non-empty array")
    fleet: list[_Fleet] = []
    for k, raw in enumerate(raw_list):
        where = f"vehicles[{k}]"
        obj = _obj(raw, where)
        for key in UNSUPPORTED_VEHICLE_KEYS:
            if key in obj:
                raise VroomInputError(f"{where}.{key} is not supported")
        has_start = "start" in obj or "start_index" in obj
        has_end = "end" in obj or "end_index" in obj
        if not has_start and not has_end:
            raise VroomInputError(f"{where}: needs a start or an end")
        costs = _obj(obj.get("costs", {}), f"{where}.costs")
        speed = obj.get("speed_factor", 1.0)
        if not isinstance(speed, int | float) or not 0 < speed <= 5:
            raise VroomInputError(f"{where}.speed_factor: must be in (0, 5]")
        brk = None
        brk_raw: Json = {}
        breaks = obj.get("breaks", [])
        if not isinstance(breaks, list) or len(breaks) > 1:
            raise VroomInputError(f"{where}.breaks: at most one break is supported")
        if breaks:
            brk_raw = _obj(breaks[0], f"{where}.breaks[0]")
            windows = brk_raw.get("time_windows", [])
            if "max_load" in brk_raw or not isinstance(windows, list) or len(windows) != 1:
                raise VroomInputError(
                    f"{where}.breaks[0]: exactly one time window and no max_load are supported"
                )
            start, end = _window(windows[0], f"{where}.breaks[0].time_windows[0]")
            dur = _int(brk_raw.get("service", 0), f"{where}.breaks[0].service")
            brk = (_int(brk_raw.get("id"), f"{where}.breaks[0].id"), start, end, dur)
        window = obj.get("time_window")
        fleet.append(
            _Fleet(
                id=_int(obj.get("id"), f"{where}.id"),
                raw=obj,
                profile=str(obj.get("profile", DEFAULT_PROFILE)),
                start=places.place(obj, "start_index", "start", where) if has_start else None,
                end=places.place(obj, "end_index", "end", where) if has_end else None,
                capacity=_ints(obj.get("capacity", []), f"{where}.capacity"),
                skills=frozenset(_ints(obj.get("skills", []), f"{where}.skills")),
                window=None if window is None else _window(window, f"{where}.time_window"),
                fixed=_int(costs.get("fixed", 0), f"{where}.costs.fixed"),
                per_hour=_int(costs.get("per_hour", 3600), f"{where}.costs.per_hour"),
                per_km=_int(costs.get("per_km", 0), f"{where}.costs.per_km"),
                per_task_hour=_int(costs.get("per_task_hour", 0), f"{where}.costs.per_task_hour"),
                speed_factor=float(speed),
                brk=brk,
                brk_raw=brk_raw,
            )
        )
    if len({v.id for v in fleet}) != len(fleet):
        raise VroomInputError("vehicles: duplicate id")
    return fleet


def _vec(values: tuple[int, ...], size: int) -> np.ndarray:
    return np.asarray(values or (0,) * size, dtype=np.int64)


def _binding_dims(tasks: list[_Task], fleet: list[_Fleet]) -> tuple[int, list[int]]:
    """Amount size and the dimensions that can bind (see module docstring)."""
    task_sizes = {len(a) for t in tasks for a in (t.delivery, t.pickup) if a}
    fleet_sizes = {len(v.capacity) for v in fleet if v.capacity}
    if len(task_sizes) > 1 or len(fleet_sizes) > 1:
        raise VroomInputError(f"inconsistent amount sizes {sorted(task_sizes | fleet_sizes)}")
    size = max(task_sizes | fleet_sizes | {0})
    if task_sizes and any(len(v.capacity) != size for v in fleet):
        raise VroomInputError(f"every vehicle needs a capacity of size {size}")
    if not task_sizes:
        return size, []
    total = np.zeros(size, dtype=np.int64)
    for task in tasks:
        if task.kind != "delivery":  # a shipment's amount counted once, at its pickup
            total += _vec(task.delivery, size) + _vec(task.pickup, size)
    smallest = np.min(np.asarray([v.capacity for v in fleet], dtype=np.int64), axis=0)
    dims = [d for d in range(size) if total[d] > smallest[d]]
    if len(dims) > 2:
        raise VroomInputError(f"{len(dims)} binding amount dimensions; at most 2 are supported")
    return size, dims


@dataclass
class _Model:
    """The solver Problem plus what it takes to translate its Solution back to VROOM."""

    problem: Problem
    tasks: list[_Task]
    fleet: list[_Fleet]
    node_task: dict[int, int]  # solver node -> task index
    skipped: list[int]  # task indices no vehicle may serve
    real_dist: list[np.ndarray | None]  # per vehicle class, over solver nodes
    custom_costs: list[bool]  # per vehicle class: travel cost from a `costs` matrix
    size: int
    t0: int


def _build(data: Json) -> _Model:
    places = _Locations(data)
    tasks = _read_jobs(data, places)
    fleet = _read_vehicles(data, places)
    size, dims = _binding_dims(tasks, fleet)

    servable = {k for k, t in enumerate(tasks) if any(t.skills <= v.skills for v in fleet)}
    for k, task in enumerate(tasks):  # a shipment is served whole or not at all
        if task.partner is not None and task.partner not in servable:
            servable.discard(k)
    skipped = [k for k in range(len(tasks)) if k not in servable]

    depot_places = sorted({p for v in fleet for p in (v.start, v.end) if p is not None})
    needs_free = any(v.start is None or v.end is None for v in fleet)
    node_place: list[int | None] = [*depot_places, *([None] if needs_free else [])]
    depot_node = {p: k for k, p in enumerate(depot_places)}
    free = len(depot_places) if needs_free else -1
    node_task: dict[int, int] = {}
    for k in sorted(servable):
        node_task[len(node_place)] = k
        node_place.append(tasks[k].loc)
    n = len(node_place)
    rows = np.asarray([p if p is not None else 0 for p in node_place], dtype=np.int64)

    times = [t for task in tasks if task.window for t in task.window]
    times += [t for v in fleet if v.window for t in v.window]
    times += [t for v in fleet if v.brk for t in v.brk[1:3]]
    t0 = min(times) if times else 0

    classes: dict[tuple[Any, ...], int] = {}
    durations: list[IntArray] = []
    arc_costs: list[IntArray] = []
    real_dist: list[np.ndarray | None] = []
    custom_costs: list[bool] = []
    travel_cache: dict[str, tuple[np.ndarray, np.ndarray | None, np.ndarray | None]] = {}
    task_time = np.zeros(n, dtype=np.float64)
    for node, k in node_task.items():
        task_time[node] = tasks[k].setup + tasks[k].service
    vehicle_class: list[int] = []
    for veh in fleet:
        key = (veh.profile, veh.speed_factor, veh.per_hour, veh.per_km, veh.per_task_hour)
        if key not in classes:
            if veh.profile not in travel_cache:
                travel_cache[veh.profile] = places.travel(veh.profile)
            dur_all, dist_all, cost_all = travel_cache[veh.profile]
            sub = np.ix_(rows, rows)
            dur = np.rint(dur_all[sub] / veh.speed_factor).astype(np.int64)
            dist = None if dist_all is None else dist_all[sub].astype(np.int64)
            if cost_all is not None:
                if veh.per_hour != 3600 or veh.per_km:
                    raise VroomInputError(
                        f"vehicle {veh.id}: custom costs matrix with per_hour/per_km costs"
                    )
                cost = cost_all[sub].astype(np.float64)
            else:
                if veh.per_km and dist is None:
                    raise VroomInputError(f"vehicle {veh.id}: per_km cost needs distances")
                cost = veh.per_hour * dur / 3600.0
                if dist is not None:
                    cost = cost + veh.per_km * dist / 1000.0
            if free >= 0:
                for m in (dur, cost) if dist is None else (dur, cost, dist):
                    m[free, :] = 0
                    m[:, free] = 0
            cost = cost + veh.per_task_hour * task_time[None, :] / 3600.0
            classes[key] = len(durations)
            durations.append(dur)
            arc_costs.append(np.rint(cost).astype(np.int64))
            real_dist.append(dist)
            custom_costs.append(cost_all is not None)
        vehicle_class.append(classes[key])

    max_dur = max(int(d.max()) for d in durations) if durations else 0
    rel_ends = [t - t0 for t in times]
    horizon = (
        max([0, *rel_ends])
        + int(task_time.sum())
        + (len(node_task) + 2 * len(fleet) + 1) * (max_dur + 1)
        + sum(v.brk[3] for v in fleet if v.brk)
    )

    def amounts(values: tuple[int, ...]) -> list[int]:
        picked = [values[d] if values else 0 for d in dims]
        return picked + [0] * (2 - len(picked))

    delivery = np.zeros((n, 2), dtype=np.int64)
    pickup = np.zeros((n, 2), dtype=np.int64)
    windows = np.tile(np.array([0, horizon], dtype=np.int64), (n, 1))
    service = np.zeros(n, dtype=np.int64)
    allowed: list[frozenset[int] | None] = [None] * n
    max_fixed = max(v.fixed for v in fleet)
    unit = 2 * max(int(c.max()) for c in arc_costs) + max_fixed + 1
    penalty = np.full(n, unit, dtype=np.int64)
    pairs: list[tuple[int, int]] = []
    task_node = {k: node for node, k in node_task.items()}
    for node, k in node_task.items():
        task = tasks[k]
        delivery[node] = amounts(task.delivery)
        pickup[node] = amounts(task.pickup)
        if task.window:
            windows[node] = (task.window[0] - t0, task.window[1] - t0)
        service[node] = task.setup + task.service
        can = frozenset(v for v, veh in enumerate(fleet) if task.skills <= veh.skills)
        allowed[node] = None if len(can) == len(fleet) else can
        penalty[node] = unit * (1 + task.priority)
        if task.kind == "pickup" and task.partner is not None:
            pairs.append((node, task_node[task.partner]))

    big = 2**40
    vehicles = []
    for v, veh in enumerate(fleet):
        shift = (0, horizon) if veh.window is None else (veh.window[0] - t0, veh.window[1] - t0)
        lunch = None
        if veh.brk is not None:
            lunch = Break(earliest=veh.brk[1] - t0, latest=veh.brk[2] - t0, duration=veh.brk[3])
        caps = [veh.capacity[d] for d in dims] + [0] * (2 - len(dims))
        if not dims:
            caps = [big, big]
        elif len(dims) == 1:
            caps[1] = big
        vehicles.append(
            Vehicle(
                start=free if veh.start is None else depot_node[veh.start],
                end=free if veh.end is None else depot_node[veh.end],
                capacity_g=caps[0],
                capacity_ml=caps[1],
                profile=vehicle_class[v],
                fixed_cost=veh.fixed,
                cost_per_km=1000,
                shift_start=shift[0],
                shift_end=shift[1],
                lunch=lunch,
            )
        )
    problem = Problem(
        distances=arc_costs,
        durations=durations,
        delivery=delivery,
        pickup=pickup,
        time_windows=windows,
        service=service,
        vehicles=vehicles,
        penalty=penalty,
        allowed=allowed if any(a is not None for a in allowed) else [],
        pairs=pairs,
    )
    return _Model(problem, tasks, fleet, node_task, skipped, real_dist, custom_costs, size, t0)


def _place_fields(obj: Json, index_key: str, coord_key: str) -> Json:
    out: Json = {}
    if coord_key in obj:
        out["location"] = obj[coord_key]
    if index_key in obj:
        out["location_index"] = obj[index_key]
    return out


def _task_json(task: _Task) -> Json:
    out: Json = {"id": task.id, "type": task.kind}
    if "description" in task.raw:
        out["description"] = task.raw["description"]
    if "location" in task.raw:
        out["location"] = task.raw["location"]
    if "location_index" in task.raw:
        out["location_index"] = task.raw["location_index"]
    return out


def _route_json(model: _Model, solution_route: Any) -> Json:
    problem, size = model.problem, model.size
    veh_index = solution_route.vehicle
    veh, spec = problem.vehicles[veh_index], model.fleet[veh_index]
    dur_m = problem.durations[veh.profile]
    dist_m = model.real_dist[veh.profile]
    nodes: list[int] = list(solution_route.nodes)
    times: list[int] = list(solution_route.times)
    tasks = [model.tasks[model.node_task[node]] for node in nodes]
    load = sum((_vec(t.delivery, size) for t in tasks if t.kind == "job"), np.zeros(size, np.int64))
    stops = [veh.start, *nodes, veh.end]
    lunch = solution_route.lunch_start
    gap = None
    if lunch is not None and veh.lunch is not None:
        gap = next((k for k in range(len(stops) - 1) if lunch < times[k + 1]), len(stops) - 2)

    t0 = model.t0
    steps: list[Json] = []
    travel = distance = setup_sum = service_sum = wait_sum = 0

    def step(kind: str, arrival: int, extra: Json) -> Json:
        out: Json = {"type": kind, **extra, "arrival": arrival + t0, "duration": travel}
        out.setdefault("setup", 0)
        out.setdefault("service", 0)
        out.setdefault("waiting_time", 0)
        out["violations"] = []
        if size:
            out["load"] = [int(x) for x in load]
        if dist_m is not None:
            out["distance"] = distance
        return out

    start_extra = _place_fields(spec.raw, "start_index", "start")
    if spec.start is None and tasks:
        start_extra = _place_fields(tasks[0].raw, "location_index", "location")
    steps.append(step("start", times[0], start_extra))
    for k in range(len(stops) - 1):
        here, there = stops[k], stops[k + 1]
        ready = times[k] + int(problem.service[here])
        arrive = ready + int(dur_m[here, there])
        leg_travel = int(dur_m[here, there])
        leg_distance = 0 if dist_m is None else int(dist_m[here, there])
        if gap == k and lunch is not None and veh.lunch is not None and spec.brk is not None:
            on_arrival = lunch >= arrive  # taken at the next place rather than this one
            if on_arrival:
                travel, distance = travel + leg_travel, distance + leg_distance
            extra: Json = {"id": spec.brk[0], "service": veh.lunch.duration}
            if "description" in spec.brk_raw:
                extra["description"] = spec.brk_raw["description"]
            steps.append(step("break", lunch, extra))
            service_sum += veh.lunch.duration
            arrive = max(arrive, lunch) + veh.lunch.duration
            if on_arrival:
                leg_travel = leg_distance = 0
        travel += leg_travel
        distance += leg_distance
        if k + 1 == len(stops) - 1:
            end_extra = _place_fields(spec.raw, "end_index", "end")
            if spec.end is None and tasks:
                end_extra = _place_fields(tasks[-1].raw, "location_index", "location")
            steps.append(step("end", times[k + 1], end_extra))
            break
        task = tasks[k]
        wait = max(0, times[k + 1] - arrive)
        if task.kind == "job":
            load = load - _vec(task.delivery, size) + _vec(task.pickup, size)
        elif task.kind == "pickup":
            load = load + _vec(task.pickup, size)
        else:
            load = load - _vec(task.delivery, size)
        extra = {
            **_task_json(task),
            "setup": task.setup,
            "service": task.service,
            "waiting_time": wait,
        }
        extra.pop("type")
        steps.append(step(task.kind, times[k + 1] - wait, extra))
        setup_sum += task.setup
        service_sum += task.service
        wait_sum += wait

    task_hours = sum(t.setup + t.service for t in tasks) / 3600.0
    cost = spec.fixed
    if model.custom_costs[veh.profile]:
        cost += sum(int(problem.distances[veh.profile][a, b]) for a, b in itertools.pairwise(stops))
    else:
        cost += round(
            spec.per_hour * travel / 3600.0
            + spec.per_km * distance / 1000.0
            + spec.per_task_hour * task_hours
        )
    deliveries = sum((_vec(t.delivery, size) for t in tasks), np.zeros(size, np.int64))
    pickups = sum((_vec(t.pickup, size) for t in tasks), np.zeros(size, np.int64))
    route: Json = {
        "vehicle": spec.id,
        "cost": int(cost),
        "setup": setup_sum,
        "service": service_sum,
        "duration": travel,
        "waiting_time": wait_sum,
        "priority": sum(t.priority for t in tasks),
        "violations": [],
        "steps": steps,
    }
    if size:
        route["delivery"] = [int(x) for x in deliveries]
        route["pickup"] = [int(x) for x in pickups]
    if "description" in spec.raw:
        route["description"] = spec.raw["description"]
    if dist_m is not None:
        route["distance"] = distance
    return route


def _solution_json(model: _Model, solution: Solution, loading_ms: int, solving_ms: int) -> Json:
    routes = [_route_json(model, r) for r in solution.routes if r.nodes]
    unassigned_idx = sorted(
        set(model.skipped) | {model.node_task[node] for node in solution.unserved}
    )
    unassigned = [_task_json(model.tasks[k]) for k in unassigned_idx]
    size = model.size
    summary: Json = {
        "cost": sum(r["cost"] for r in routes),
        "routes": len(routes),
        "unassigned": len(unassigned),
        "setup": sum(r["setup"] for r in routes),
        "service": sum(r["service"] for r in routes),
        "duration": sum(r["duration"] for r in routes),
        "waiting_time": sum(r["waiting_time"] for r in routes),
        "priority": sum(r["priority"] for r in routes),
        "violations": [],
        "computing_times": {"loading": loading_ms, "solving": solving_ms, "routing": 0},
    }
    if size:
        summary["delivery"] = [sum(r["delivery"][d] for r in routes) for d in range(size)]
        summary["pickup"] = [sum(r["pickup"][d] for r in routes) for d in range(size)]
    if all(d is not None for d in model.real_dist):
        summary["distance"] = sum(r.get("distance", 0) for r in routes)
    return {"code": 0, "summary": summary, "unassigned": unassigned, "routes": routes}


def solve_vroom(problem_json: dict[str, Any], time_limit_s: float = 5.0) -> dict[str, Any]:
    """Solve a VROOM problem and answer in VROOM's solution format; never raises on input.

    Returns {"code": 2, "error": ...} for invalid or unsupported input, 3 when travel times
    cannot be had, 1 for an internal failure (including a solution failing validation).
    """
    started = time.monotonic()
    try:
        if not isinstance(problem_json, dict):
            raise VroomInputError("the problem must be a JSON object")
        model = _build(problem_json)
        faults = check_problem(model.problem)
        if faults:
            raise VroomInputError("; ".join(faults[:3]))
    except VroomInputError as exc:
        return {"code": 2, "error": f"Invalid input: {exc}"}
    except VroomRoutingError as exc:
        return {"code": 3, "error": f"Routing error: {exc}"}
    loaded = time.monotonic()
    try:
        if model.node_task:
            solution = solve(model.problem, SolveParams(time_limit_s=time_limit_s))
            errors = validate(model.problem, solution)
            if errors:
                return {"code": 1, "error": f"Internal error: invalid solution: {errors[:3]}"}
        else:
            solution = Solution(routes=[], unserved=[], cost=0, status="optimal")
        solved = time.monotonic()
        return _solution_json(
            model,
            solution,
            int((loaded - started) * 1000),
            int((solved - loaded) * 1000),
        )
    except Exception as exc:  # VROOM's contract: report, never raise
        return {"code": 1, "error": f"Internal error: {type(exc).__name__}: {exc}"}
