"""The solver Problem of a VROOM problem: nodes, vehicle classes, amounts, windows, penalties."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from optimizer.problem import Break, IntArray, Problem, Vehicle
from optimizer.vroom.reader import (
    MAX_INT,
    Json,
    Locations,
    Task,
    VehicleSpec,
    VroomInputError,
    read_tasks,
    read_vehicles,
)

#: Longest time horizon (s) the model builds, far inside int64 with sums on top.
_MAX_HORIZON_S = 2**50


def amount_vector(values: tuple[int, ...], size: int) -> np.ndarray:
    """An amount as an int64 vector of `size` entries (zeros when the task has none)."""
    return np.asarray(values or (0,) * size, dtype=np.int64)


def _binding_dims(tasks: list[Task], fleet: list[VehicleSpec]) -> tuple[int, list[int]]:
    """Amount size and the dimensions that can bind (see the `optimizer.vroom` docstring)."""
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
            total += amount_vector(task.delivery, size) + amount_vector(task.pickup, size)
    smallest = np.min(np.asarray([v.capacity for v in fleet], dtype=np.int64), axis=0)
    dims = [d for d in range(size) if total[d] > smallest[d]]
    if len(dims) > 2:
        raise VroomInputError(f"{len(dims)} binding amount dimensions; at most 2 are supported")
    return size, dims


@dataclass
class VroomModel:
    """The solver Problem plus what it takes to translate its Solution back to VROOM."""

    problem: Problem
    tasks: list[Task]
    fleet: list[VehicleSpec]
    node_task: dict[int, int]  # solver node -> task index
    skipped: list[int]  # task indices no vehicle may serve
    real_dist: list[np.ndarray | None]  # per vehicle class, over solver nodes
    custom_costs: list[bool]  # per vehicle class: travel cost from a `costs` matrix
    size: int
    t0: int


def build_model(data: Json) -> VroomModel:
    places = Locations(data)
    tasks = read_tasks(data, places)
    fleet = read_vehicles(data, places)
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
            scaled = dur_all[sub] / veh.speed_factor
            if scaled.max() > MAX_INT:
                raise VroomInputError(
                    f"vehicle {veh.id}: travel times over speed_factor {veh.speed_factor} reach "
                    f"{scaled.max():.4g} s, above {MAX_INT} (2**40)"
                )
            dur = np.rint(scaled).astype(np.int64)
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
                # in floats: an int64 product could wrap around unseen (same values otherwise)
                cost = veh.per_hour * dur.astype(np.float64) / 3600.0
                if dist is not None:
                    cost = cost + veh.per_km * dist.astype(np.float64) / 1000.0
            if free >= 0:
                for m in (dur, cost) if dist is None else (dur, cost, dist):
                    m[free, :] = 0
                    m[:, free] = 0
            cost = cost + veh.per_task_hour * task_time[None, :] / 3600.0
            if cost.max() > MAX_INT:
                raise VroomInputError(
                    f"vehicle {veh.id}: an arc costs {cost.max():.4g}, above {MAX_INT} (2**40): "
                    "lower its costs or the matrix entries"
                )
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
    if horizon > _MAX_HORIZON_S:
        raise VroomInputError(
            f"the day these tasks and times span ({horizon} s) is beyond the solver's reach"
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
    problem = Problem.build(
        arc_costs,
        vehicles,
        durations=durations,
        delivery=delivery,
        pickup=pickup,
        time_windows=windows,
        service=service,
        penalty=penalty,
        allowed=allowed if any(a is not None for a in allowed) else None,
        pairs=pairs,
    )
    return VroomModel(problem, tasks, fleet, node_task, skipped, real_dist, custom_costs, size, t0)
