"""VRPLIB and Solomon readers, solution JSON and solve_file on tiny hand-written files."""

from __future__ import annotations

import itertools
import json
import math
import time
from pathlib import Path

import pytest

from optimizer.formats import SOLOMON_SCALE, read_problem, solution_json, solve_file
from optimizer.solver import SolveParams, solve
from optimizer.stopping import SMALL_JOBS, SMALL_SOLUTIONS, small_problem_limit
from optimizer.validate import validate
from tests.optimizer.brute_force import optimum

VRPLIB = """NAME : tiny-n6
COMMENT : hand made
TYPE : CVRP
DIMENSION : 6
EDGE_WEIGHT_TYPE : EUC_2D
CAPACITY : 10
NODE_COORD_SECTION
1 0 0
2 3 4
3 1 1
4 1 2
5 -3 4
6 -6 -1
DEMAND_SECTION
1 0
2 4
3 3
4 5
5 6
6 2
DEPOT_SECTION
1
-1
EOF
"""

SOLOMON = """TINY1

VEHICLE
NUMBER     CAPACITY
  3         20

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      10         10          0          0        200          0
    1      13         14          5         10         60          5
    2      11         11          8          0        100          5
    3       5          9          6         30         90          5
    4      14         10          4          0        150          5
    5       8         16          7         50        120          5
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", "\r\n").encode())  # upstream files are often CRLF
    return path


def _coords(text: str) -> list[tuple[int, int]]:
    rows = text.split("CUST NO.")[1].splitlines()[2:]
    return [(int(r.split()[1]), int(r.split()[2])) for r in rows if r.strip()]


def test_vrplib_uses_rounded_euclidean_per_arc(tmp_path: Path) -> None:
    inst = read_problem(_write(tmp_path, "tiny.vrp", VRPLIB), "vrplib")
    problem = inst.problem
    assert inst.name == "tiny-n6" and inst.scale == 1 and problem.n == 6
    dist = problem.distances[0]
    assert dist[0, 1] == 5  # 3-4-5
    assert dist[0, 2] == 1  # sqrt 2 = 1.41 -> 1
    assert dist[0, 3] == 2  # sqrt 5 = 2.24 -> 2
    assert dist[0, 5] == 6  # sqrt 37 = 6.08 -> 6
    assert (problem.durations[0] == dist).all()
    assert problem.delivery[:, 0].tolist() == [0, 4, 3, 5, 6, 2]
    # no fleet in the file: at least the capacity bound ceil(20 / 10) vehicles
    assert len(problem.vehicles) >= 2
    assert all(v.capacity_g == 10 and v.start == v.end == 0 for v in problem.vehicles)


def test_solomon_scales_distances_and_rounds_travel_time_up(tmp_path: Path) -> None:
    inst = read_problem(_write(tmp_path, "TINY1.txt", SOLOMON), "solomon")
    problem = inst.problem
    assert inst.scale == SOLOMON_SCALE and len(problem.vehicles) == 3
    exact = math.hypot(13 - 10, 14 - 10)  # 5.0
    assert problem.distances[0][0, 1] == round(exact * SOLOMON_SCALE)
    d = math.hypot(11 - 10, 11 - 10) * SOLOMON_SCALE  # 1414.21...
    assert problem.distances[0][0, 2] == round(d)
    assert problem.durations[0][0, 2] == math.ceil(d)
    assert (problem.durations[0] >= problem.distances[0]).all()
    assert problem.time_windows[1].tolist() == [10 * SOLOMON_SCALE, 60 * SOLOMON_SCALE]
    assert problem.service[1] == 5 * SOLOMON_SCALE and problem.service[0] == 0
    assert problem.vehicles[0].shift_end == 200 * SOLOMON_SCALE


def test_solve_small_solomon_and_report_double_precision_cost(tmp_path: Path) -> None:
    inst = read_problem(_write(tmp_path, "TINY1.txt", SOLOMON), "solomon")
    solution = solve(inst.problem, SolveParams(time_limit_s=2, solution_limit=50))
    assert validate(inst.problem, solution) == []
    payload = solution_json(inst, solution)
    assert set(payload) == {
        "instance",
        "format",
        "cost",
        "routes",
        "vehicles",
        "time_s",
        "valid",
        "engine",
        "engines",
    }
    assert payload["engine"] == "ortools"
    assert payload["format"] == "solomon" and payload["valid"] is True
    assert sorted(n for r in payload["routes"] for n in r) == [1, 2, 3, 4, 5]
    xy = _coords(SOLOMON)
    expected = 0.0
    for route in payload["routes"]:
        path = [0, *route, 0]
        expected += sum(math.dist(xy[a], xy[b]) for a, b in itertools.pairwise(path))
    assert payload["cost"] == pytest.approx(expected, abs=1e-4)
    assert payload["vehicles"] == len(payload["routes"]) <= 3


def test_solve_file_writes_valid_vrplib_solution(tmp_path: Path) -> None:
    out = tmp_path / "out" / "tiny.json"
    payload = solve_file(_write(tmp_path, "tiny.vrp", VRPLIB), "vrplib", 0.5, out=out)
    assert json.loads(out.read_text()) == payload
    assert isinstance(payload["cost"], int)
    assert sorted(n for r in payload["routes"] for n in r) == [1, 2, 3, 4, 5]
    inst = read_problem(tmp_path / "tiny.vrp", "vrplib")
    assert payload["cost"] == round(inst.cost(payload["routes"]))
    for route in payload["routes"]:  # capacity 10
        assert sum(int(inst.problem.delivery[n, 0]) for n in route) <= 10


def test_small_instance_returns_long_before_its_time_limit_at_the_optimum(
    tmp_path: Path,
) -> None:
    """Five customers settle in a few hundred search steps: no waiting out 20 s."""
    path = _write(tmp_path, "tiny.vrp", VRPLIB)
    started = time.monotonic()
    payload = solve_file(path, "vrplib", 20.0)
    assert time.monotonic() - started < 5.0
    inst = read_problem(path, "vrplib")
    _, best = optimum(inst.problem)
    assert payload["cost"] == round(inst.cost([r.nodes for r in best.routes]))


def test_only_small_problems_stop_before_their_time_limit() -> None:
    assert small_problem_limit(SMALL_JOBS) == SMALL_SOLUTIONS
    assert small_problem_limit(SMALL_JOBS + 1) is None
    assert small_problem_limit(100) is None  # the benchmark instances keep their time limit


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (VRPLIB.replace("5 6\n", "5 16\n"), "exceeds capacity"),
        (VRPLIB.replace("CAPACITY : 10\n", ""), "CAPACITY"),
        (VRPLIB.replace("EUC_2D", "GEO"), "EDGE_WEIGHT_TYPE GEO"),
        ("this is not an instance\n", "tiny.vrp"),
    ],
)
def test_bad_vrplib_input_is_a_value_error_naming_the_file(
    tmp_path: Path, text: str, message: str
) -> None:
    path = _write(tmp_path, "tiny.vrp", text)
    out = tmp_path / "never.json"
    with pytest.raises(ValueError, match=message):
        solve_file(path, "vrplib", 0.1, out=out)
    assert not out.exists()


def test_bad_solomon_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="time window"):
        bad = SOLOMON.replace("10         60", "70         60")
        read_problem(_write(tmp_path, "BAD.txt", bad), "solomon")
    with pytest.raises(ValueError, match="unknown format"):
        solve_file(_write(tmp_path, "TINY1.txt", SOLOMON), "tsplib", 0.1)
    with pytest.raises(ValueError, match="no such file"):
        read_problem(tmp_path / "missing.txt", "solomon")


def test_rural_generator_files_read_back_identically(tmp_path: Path) -> None:
    from benchmarks.rural_instances import DAY_END, generate, write

    inst = generate(seed=7, towns=3, villages=15)
    cvrp, vrptw = write(inst, tmp_path / "a")
    again = write(generate(seed=7, towns=3, villages=15), tmp_path / "b")
    assert cvrp.read_bytes() == again[0].read_bytes()
    assert vrptw.read_bytes() == again[1].read_bytes()
    flat = read_problem(cvrp, "vrplib")
    timed = read_problem(vrptw, "solomon")
    assert flat.problem.n == timed.problem.n == 19
    assert (flat.problem.delivery == timed.problem.delivery).all()
    assert (flat.coords == timed.coords).all()
    windows, travel = timed.problem.time_windows, timed.problem.durations[0]
    for i in range(1, 19):  # every customer reachable and back within the day
        assert windows[i, 0] <= windows[i, 1]
        start = max(windows[i, 0], travel[0, i])
        assert start <= windows[i, 1]
        back = start + timed.problem.service[i] + travel[i, 0]
        assert back <= DAY_END * SOLOMON_SCALE
