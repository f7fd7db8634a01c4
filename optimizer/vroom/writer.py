"""VROOM solution JSON out: routes with their steps, loads and costs, unassigned tasks, summary."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from optimizer.problem import Solution
from optimizer.vroom.model import VroomModel, amount_vector
from optimizer.vroom.reader import Json, Task


def _place_fields(obj: Json, index_key: str, coord_key: str) -> Json:
    out: Json = {}
    if coord_key in obj:
        out["location"] = obj[coord_key]
    if index_key in obj:
        out["location_index"] = obj[index_key]
    return out


def _task_json(task: Task) -> Json:
    out: Json = {"id": task.id, "type": task.kind}
    if "description" in task.raw:
        out["description"] = task.raw["description"]
    if "location" in task.raw:
        out["location"] = task.raw["location"]
    if "location_index" in task.raw:
        out["location_index"] = task.raw["location_index"]
    return out


def _route_json(model: VroomModel, solution_route: Any) -> Json:
    problem, size = model.problem, model.size
    veh_index = solution_route.vehicle
    veh, spec = problem.vehicles[veh_index], model.fleet[veh_index]
    dur_m = problem.durations[veh.profile]
    dist_m = model.real_dist[veh.profile]
    nodes: list[int] = list(solution_route.nodes)
    times: list[int] = list(solution_route.times)
    tasks = [model.tasks[model.node_task[node]] for node in nodes]
    load = sum(
        (amount_vector(t.delivery, size) for t in tasks if t.kind == "job"),
        np.zeros(size, np.int64),
    )
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
            load = load - amount_vector(task.delivery, size) + amount_vector(task.pickup, size)
        elif task.kind == "pickup":
            load = load + amount_vector(task.pickup, size)
        else:
            load = load - amount_vector(task.delivery, size)
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
    deliveries = sum((amount_vector(t.delivery, size) for t in tasks), np.zeros(size, np.int64))
    pickups = sum((amount_vector(t.pickup, size) for t in tasks), np.zeros(size, np.int64))
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


def solution_json(model: VroomModel, solution: Solution, loading_ms: int, solving_ms: int) -> Json:
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
