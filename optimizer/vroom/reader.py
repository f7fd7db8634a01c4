"""VROOM problem JSON in: tasks (jobs, shipment steps), vehicles and travel matrices, checked.

Every fault is a `VroomInputError` naming the field (`jobs[3].delivery[0]`), so a bad file on
the command line gets the same clear answer as a bad request body.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimizer.great_circle import great_circle_matrix

Json = dict[str, Any]

FALLBACK_SPEED_KMH = 50.0
#: Largest integer VROOM input may give (ids, amounts, capacities, times, costs, matrix
#: entries), so sums over a problem stay far inside the solver's int64. The HTTP API's
#: contract uses the same bound (api.limits.MAX_VROOM_INT).
MAX_INT = 2**40
DEFAULT_PROFILE = "car"
UNSUPPORTED_VEHICLE_KEYS = ("max_tasks", "max_travel_time", "max_distance", "steps")
UNSUPPORTED_TASK_KEYS = ("setup_per_type", "service_per_type")


class VroomInputError(ValueError):
    """Invalid or unsupported input (VROOM code 2)."""


class VroomRoutingError(RuntimeError):
    """Travel times cannot be had for some location (VROOM code 3)."""


@dataclass
class Task:
    """A job or one step of a shipment, as read: amounts, skills, priority, one window (s)."""

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
class VehicleSpec:
    """A vehicle as read: start/end rows (None: free), capacity, window and break (s), costs."""

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
    """A whole number in [minimum, MAX_INT] (JSON may write 3 as 3.0); else an input error."""
    whole = isinstance(value, int) or (
        isinstance(value, float) and math.isfinite(value) and value.is_integer()
    )
    if isinstance(value, bool) or not whole:
        raise VroomInputError(f"{where}: expected an integer, got {value!r}")
    if value < minimum:
        raise VroomInputError(f"{where}: must be >= {minimum}, got {value}")
    if value > MAX_INT:
        raise VroomInputError(f"{where}: must be <= {MAX_INT} (2**40), got {value!r}")
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


class Locations:
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
        if np.any(arr > MAX_INT):
            row, col = (int(k) for k in np.argwhere(arr > MAX_INT)[0])
            raise VroomInputError(
                f"{where}[{row}][{col}]: must be <= {MAX_INT} (2**40), got {float(arr[row, col])!r}"
            )
        if arr.shape[0] < self.size:
            raise VroomInputError(
                f"{where}: {arr.shape[0]} rows, but location index {self.size - 1} is used"
            )
        return arr.astype(np.int64)

    def travel(self, profile: str) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """(durations s, distances m or None, costs or None) over all rows for `profile`."""
        if not self.indexed:
            metres = great_circle_matrix(self.points) if self.points else np.zeros((1, 1))
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


def _read_task(raw: Any, kind: str, where: str, places: Locations) -> Task:
    obj = _obj(raw, where)
    for key in UNSUPPORTED_TASK_KEYS:
        if key in obj:
            raise VroomInputError(f"{where}.{key} is not supported")
    task = Task(kind=kind, id=_int(obj.get("id"), f"{where}.id"), raw=obj)
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


def read_tasks(data: Json, places: Locations) -> list[Task]:
    tasks: list[Task] = []
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


def read_vehicles(data: Json, places: Locations) -> list[VehicleSpec]:
    raw_list = data.get("vehicles")
    if not isinstance(raw_list, list) or not raw_list:
        raise VroomInputError("vehicles: expected a non-empty array")
    fleet: list[VehicleSpec] = []
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
            VehicleSpec(
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
