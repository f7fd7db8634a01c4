"""VROOM JSON in, VROOM JSON out: a tiny round trip checked against the input's constraints."""

from __future__ import annotations

import copy
import itertools
import math
import time
from typing import Any

import pytest

from optimizer.great_circle import great_circle_matrix
from optimizer.vroom import FALLBACK_SPEED_KMH, solve_vroom

# Location 0 is the depot; 1..6 are customers on a line, 100 s (1 km) apart.
SIZE = 7
DURATIONS = [[abs(i - j) * 100 for j in range(SIZE)] for i in range(SIZE)]
DISTANCES = [[abs(i - j) * 1000 for j in range(SIZE)] for i in range(SIZE)]


def _problem() -> dict[str, Any]:
    return {
        "vehicles": [
            {
                "id": 7,
                "start_index": 0,
                "end_index": 0,
                "capacity": [5, 100],
                "skills": [1],
                "time_window": [1000, 5000],
                "breaks": [{"id": 70, "service": 100, "time_windows": [[1400, 2000]]}],
            },
            {
                "id": 8,
                "start_index": 0,
                "end_index": 0,
                "capacity": [5, 100],
                "skills": [2],
                "time_window": [1000, 5000],
                "costs": {"fixed": 50},
            },
        ],
        "jobs": [
            {"id": 1, "location_index": 1, "delivery": [2, 10], "service": 30},
            {"id": 2, "location_index": 2, "pickup": [1, 5], "skills": [1]},
            {
                "id": 3,
                "location_index": 3,
                "delivery": [1, 10],
                "time_windows": [[1250, 1300]],
                "service": 60,
            },
            {"id": 4, "location_index": 4, "delivery": [1, 0], "skills": [2]},
            {"id": 5, "location_index": 5, "delivery": [1, 0], "skills": [3]},  # nobody
        ],
        "shipments": [
            {
                "amount": [2, 20],
                "skills": [1],
                "pickup": {"id": 10, "location_index": 6, "service": 20},
                "delivery": {"id": 11, "location_index": 2, "service": 20},
            }
        ],
        "matrices": {"car": {"durations": DURATIONS, "distances": DISTANCES}},
    }


def _check_answer(problem: dict[str, Any], answer: dict[str, Any]) -> None:
    """Every task once, skills, windows, loads, shipments and summary totals."""
    assert answer["code"] == 0, answer.get("error")
    vehicles = {v["id"]: v for v in problem["vehicles"]}
    tasks: dict[tuple[str, int], dict[str, Any]] = {("job", j["id"]): j for j in problem["jobs"]}
    skills_of = {("job", j["id"]): set(j.get("skills", [])) for j in problem["jobs"]}
    for s in problem.get("shipments", []):
        for kind in ("pickup", "delivery"):
            tasks[(kind, s[kind]["id"])] = s[kind]
            skills_of[(kind, s[kind]["id"])] = set(s.get("skills", []))
    seen = [(u["type"], u["id"]) for u in answer["unassigned"]]
    for route in answer["routes"]:
        vehicle = vehicles[route["vehicle"]]
        steps = route["steps"]
        assert steps[0]["type"] == "start" and steps[-1]["type"] == "end"
        capacity = vehicle["capacity"]
        picked: set[int] = set()
        for step in steps:
            assert {"arrival", "duration", "service", "waiting_time", "load"} <= set(step)
            assert all(0 <= x <= c for x, c in zip(step["load"], capacity, strict=True))
            if step["type"] in ("start", "end", "break"):
                continue
            key = (step["type"], step["id"])
            seen.append(key)
            assert skills_of[key] <= set(vehicle.get("skills", []))
            begin = step["arrival"] + step["waiting_time"]
            windows = tasks[key].get("time_windows", [[0, 10**9]])
            assert any(lo <= begin <= hi for lo, hi in windows)
            lo, hi = vehicle["time_window"]
            assert lo <= step["arrival"] and steps[-1]["arrival"] <= hi
            if step["type"] == "pickup":
                picked.add(step["id"])
            if step["type"] == "delivery":
                assert step["id"] - 1 in picked  # the test's shipments pair id k with k - 1
        assert route["duration"] == steps[-1]["duration"]
        assert route["distance"] == steps[-1]["distance"]
        fixed = vehicle.get("costs", {}).get("fixed", 0)
        assert route["cost"] == fixed + route["duration"]  # default per_hour = 3600
    assert sorted(seen) == sorted(tasks)
    summary = answer["summary"]
    assert summary["cost"] == sum(r["cost"] for r in answer["routes"])
    assert summary["routes"] == len(answer["routes"])
    assert summary["unassigned"] == len(answer["unassigned"])


def test_round_trip_jobs_shipment_skills_time_windows() -> None:
    problem = _problem()
    answer = solve_vroom(copy.deepcopy(problem), time_limit_s=0.5)
    _check_answer(problem, answer)
    assert [(u["type"], u["id"]) for u in answer["unassigned"]] == [("job", 5)]
    assert answer["unassigned"][0]["location_index"] == 5
    served = {s["id"] for r in answer["routes"] for s in r["steps"] if "id" in s}
    assert {1, 2, 3, 4, 10, 11} <= served
    by_vehicle = {r["vehicle"]: r for r in answer["routes"]}
    assert {s.get("id") for s in by_vehicle[8]["steps"]} >= {4}
    breaks = [s for s in by_vehicle[7]["steps"] if s["type"] == "break"]
    assert [(b["id"], b["service"]) for b in breaks] == [(70, 100)]
    assert 1400 <= breaks[0]["arrival"] <= 2000
    assert answer["summary"]["distance"] == sum(r["distance"] for r in answer["routes"])


def test_more_amount_dimensions_are_fine_when_they_cannot_bind() -> None:
    problem = _problem()
    for vehicle in problem["vehicles"]:
        vehicle["capacity"] = [*vehicle["capacity"], 1000]
    for job in problem["jobs"]:
        for key in ("delivery", "pickup"):
            if key in job:
                job[key] = [*job[key], 1]
    problem["shipments"][0]["amount"] = [2, 20, 1]
    answer = solve_vroom(copy.deepcopy(problem), time_limit_s=0.3)
    _check_answer(problem, answer)
    assert len(answer["summary"]["delivery"]) == 3


def test_coordinates_fall_back_to_straight_line_at_fixed_speed() -> None:
    depot, a, b = [106.0, 29.3], [106.05, 29.3], [106.0, 29.35]
    problem = {
        "vehicles": [{"id": 1, "start": depot, "end": depot}],
        "jobs": [{"id": 1, "location": a}, {"id": 2, "location": b}],
    }
    answer = solve_vroom(problem, time_limit_s=0.2)
    assert answer["code"] == 0
    route = answer["routes"][0]
    metres = great_circle_matrix([tuple(depot), tuple(a), tuple(b)])  # type: ignore[list-item]
    loop = metres[0, 1] + metres[1, 2] + metres[2, 0]
    assert route["distance"] == pytest.approx(loop, abs=3)
    assert route["duration"] == pytest.approx(loop / (FALLBACK_SPEED_KMH / 3.6), abs=3)
    assert route["steps"][0]["location"] == depot


def test_open_route_without_end() -> None:
    problem = {
        "vehicles": [{"id": 1, "start_index": 0}],
        "jobs": [{"id": 1, "location_index": 2}, {"id": 2, "location_index": 1}],
        "matrix": [[0, 10, 20], [10, 0, 10], [20, 10, 0]],
    }
    answer = solve_vroom(problem, time_limit_s=0.2)
    assert answer["code"] == 0
    steps = answer["routes"][0]["steps"]
    assert [s.get("id") for s in steps[1:-1]] == [2, 1]
    assert answer["summary"]["cost"] == 20  # no way back to pay for


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda p: p.pop("vehicles"), 2),
        (lambda p: p["jobs"][0].update(time_windows=[[50, 10]]), 2),
        (lambda p: p["jobs"][0].pop("location_index"), 2),
        (lambda p: p["jobs"].append(dict(p["jobs"][0])), 2),  # duplicate id
        (lambda p: p["vehicles"][0].update(max_tasks=3), 2),
        (lambda p: p["jobs"][0].update(delivery=[1, 2, 3]), 2),
        (lambda p: p["matrices"]["car"].update(durations=[[0, 1], [1, 0]]), 2),
        (lambda p: p["vehicles"][0].update(profile="bike"), 3),
    ],
)
def test_bad_input_gets_vroom_error_codes(mutate: Any, code: int) -> None:
    problem = _problem()
    mutate(problem)
    answer = solve_vroom(problem, time_limit_s=0.1)
    assert answer["code"] == code
    assert answer["error"]


def test_three_binding_dimensions_are_refused() -> None:
    problem = _problem()
    for vehicle in problem["vehicles"]:
        vehicle["capacity"] = [5, 30, 1]  # all tasks together need [9, 45, 6]
    for job in problem["jobs"]:
        for key in ("delivery", "pickup"):
            if key in job:
                job[key] = [*job[key], 1]
    problem["shipments"][0]["amount"] = [2, 20, 1]
    answer = solve_vroom(problem, time_limit_s=0.1)
    assert answer["code"] == 2 and "binding" in answer["error"]


def test_not_an_object() -> None:
    assert solve_vroom([], time_limit_s=0.1)["code"] == 2  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda p: p["jobs"][0].update(delivery=[1e300, 0]), "jobs[0].delivery[0]"),
        (lambda p: p["jobs"][0].update(service=2**40 + 1), "jobs[0].service"),
        (lambda p: p["jobs"][2].update(time_windows=[[0, 1e300]]), "jobs[2].time_windows[0]"),
        (lambda p: p["jobs"][0].update(id=float("inf")), "jobs[0].id"),
        (lambda p: p["jobs"][0].update(priority=float("nan")), "jobs[0].priority"),
        (lambda p: p["shipments"][0].update(amount=[1e300, 1]), "shipments[0].amount[0]"),
        (lambda p: p["vehicles"][1].update(capacity=[5, 1e300]), "vehicles[1].capacity[1]"),
        (lambda p: p["vehicles"][0].update(time_window=[0, 1e300]), "vehicles[0].time_window"),
        (lambda p: p["vehicles"][1]["costs"].update(fixed=1e300), "vehicles[1].costs.fixed"),
        (
            lambda p: p["matrices"]["car"]["durations"][0].__setitem__(3, 1e300),
            "matrices.car.durations[0][3]",
        ),
        (
            lambda p: p["matrices"]["car"]["distances"][4].__setitem__(1, 2**41),
            "matrices.car.distances[4][1]",
        ),
    ],
)
def test_huge_or_non_finite_numbers_are_input_errors_naming_the_field(
    mutate: Any, field: str
) -> None:
    problem = copy.deepcopy(_problem())  # the matrices are shared
    mutate(problem)
    answer = solve_vroom(problem, time_limit_s=0.1)
    assert answer["code"] == 2, answer
    assert answer["error"].startswith(f"Invalid input: {field}: "), answer["error"]


def test_costs_within_bounds_whose_products_overflow_are_input_errors() -> None:
    problem = copy.deepcopy(_problem())  # the matrices are shared
    problem["vehicles"][1]["costs"] = {"per_hour": 2**40}
    for row in problem["matrices"]["car"]["durations"]:
        row[:] = [2**40 if x else 0 for x in row]
    answer = solve_vroom(problem, time_limit_s=0.1)
    assert answer["code"] == 2 and answer["error"].startswith("Invalid input: vehicle 8: ")
    slow = copy.deepcopy(_problem())
    slow["vehicles"][0]["speed_factor"] = 1e-300
    answer = solve_vroom(slow, time_limit_s=0.1)
    assert answer["code"] == 2 and "speed_factor" in answer["error"]


def test_small_problem_returns_long_before_its_time_limit_at_the_optimum() -> None:
    """Four jobs settle in a few hundred search steps: the answer does not wait out 20 s."""
    points = [(0, 0), (7, 1), (2, 6), (8, 7), (-3, 4)]  # 0 is the depot
    durations = [[round(100 * math.dist(p, q)) for q in points] for p in points]
    problem = {
        "vehicles": [{"id": 1, "start_index": 0, "end_index": 0}],
        "jobs": [{"id": k, "location_index": k} for k in range(1, len(points))],
        "matrices": {"car": {"durations": durations}},
    }
    started = time.monotonic()
    answer = solve_vroom(problem, time_limit_s=20.0)
    assert time.monotonic() - started < 5.0
    assert answer["code"] == 0, answer.get("error")
    loops = ([0, *order, 0] for order in itertools.permutations(range(1, len(points))))
    best = min(sum(durations[a][b] for a, b in itertools.pairwise(loop)) for loop in loops)
    assert answer["summary"]["cost"] == best  # cost = duration at the default 3600 per hour
