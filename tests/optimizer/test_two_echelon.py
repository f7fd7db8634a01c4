"""2E-CVRP reader, solver and validator on tiny hand-written unified-format files."""

from __future__ import annotations

import itertools
import math
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.two_echelon import (
    TwoEchelonInstance,
    TwoEchelonSolution,
    read_2e,
    solve_2e,
    solve_single_echelon,
    validate_2e,
)

# depot far left; satellite 0 east, satellite 1 west, four customers of 12 units around
# each; freighters of 10, at most 3 in all, so one freighter must serve both sides
TINY = """!----------------------------------------------------------------
!Trucks: (total #, capacity, cost per distance, fixcost)
2,20,1,5
!----------------------------------------------------------------
!CityFreighters: (max cf/sat, total #, cap, cost/dist, fixcost)
2,3,10,1,0
!----------------------------------------------------------------
!Stores: (first: depot x,y; then: satellites x,y)
-40,0   10,0   -10,0
!----------------------------------------------------------------
!Customers: (x,y,demand)
12,3,3   14,-2,4   9,5,2   11,-4,3   -12,2,4   -8,-3,2   -11,6,3   -13,-1,3
"""

# one satellite whose load (24) exceeds a truck (10): trucks must split their deliveries
SPLIT = """!Trucks
3,10,1,0
!CityFreighters
3,3,10,1,0
!Stores
0,0   30,0,0.5
!Customers
32,2,5   33,-1,5   28,3,7   29,-2,7
"""


def _write(tmp_path: Path, text: str, name: str = "tiny.dat", newline: str = "\n") -> Path:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode())
    return path


def _length(points: list[tuple[float, float]]) -> float:
    return sum(math.dist(a, b) for a, b in itertools.pairwise(points))


def _hand_solution(inst: TwoEchelonInstance) -> TwoEchelonSolution:
    """A feasible solution built by hand: two freighters east (one also serving a western
    customer), one west, one truck per satellite."""
    second = [(0, [0, 1, 3]), (0, [2, 5]), (1, [4, 6, 7])]
    first, first_loads = [[0], [1]], [[14], [10]]
    cost = 0.0
    for s, route in second:
        sat = inst.satellites[s]
        cost += _length([sat, *(inst.customers[c] for c in route), sat])
    for route in first:
        cost += inst.truck_fixed + _length([inst.depot, inst.satellites[route[0]], inst.depot])
    return TwoEchelonSolution(cost, first, first_loads, second, valid=True)


@pytest.fixture
def tiny(tmp_path: Path) -> TwoEchelonInstance:
    return read_2e(_write(tmp_path, TINY))


def test_read_tiny(tiny: TwoEchelonInstance) -> None:
    assert tiny.name == "tiny"
    assert tiny.depot == (-40.0, 0.0)
    assert tiny.satellites == [(10.0, 0.0), (-10.0, 0.0)]
    assert len(tiny.customers) == 8 and sum(tiny.demand) == 24
    assert (tiny.truck_count, tiny.truck_capacity, tiny.truck_fixed) == (2, 20, 5.0)
    assert (tiny.freighters_per_satellite, tiny.freighters_total) == (2, 3)
    assert tiny.freighter_capacity == 10
    assert tiny.satellite_handling == [0.0, 0.0]


def test_read_crlf_and_handling(tmp_path: Path) -> None:
    inst = read_2e(_write(tmp_path, SPLIT, "split.dat", newline="\r\n"))
    assert inst.satellite_handling == [0.5]
    assert inst.demand == [5, 5, 7, 7]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("2,20,1,5", "2,twenty,1,5", "line 3: trucks: 'twenty' is not a number"),
        ("2,3,10,1,0", "2,3,10,1", "line 6: city freighters: expected 5"),
        ("2,3,10,1,0", "2,3,10.5,1,0", "line 6: city freighters: '10.5' is not a whole"),
        ("-40,0   10,0   -10,0", "-40,0", "line 9: stores need the depot and at least one"),
        ("14,-2,4", "14,-2", "line 12: customer 2: expected 3"),
        ("14,-2,4", "14,-2,11", "line 12: customer 2: demand 11 exceeds"),
        ("-13,-1,3\n", "-13,-1,3\n1,2,3\n", "line 13: unexpected data"),
        ("12,3,3   14", "!12,3,3   14", "no customers line"),
    ],
)
def test_malformed_file_names_the_line(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = _write(tmp_path, TINY.replace(old, new))
    with pytest.raises(ValueError, match=message):
        read_2e(path)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-500, 500), st.integers(-500, 500), st.integers(0, 10)),
        min_size=1,
        max_size=12,
    )
)
def test_reader_round_trip(customers: list[tuple[int, int, int]]) -> None:
    tokens = "   ".join(f"{x},{y},{d}" for x, y, d in customers)
    text = TINY.replace(TINY.splitlines()[11], tokens)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "round.dat"
        path.write_text(text)
        inst = read_2e(path)
    assert inst.customers == [(float(x), float(y)) for x, y, _ in customers]
    assert inst.demand == [d for _, _, d in customers]


def test_validator_accepts_hand_solution(tiny: TwoEchelonInstance) -> None:
    assert validate_2e(tiny, _hand_solution(tiny)) == []


def test_validator_catches_missing_customer(tiny: TwoEchelonInstance) -> None:
    sol = _hand_solution(tiny)
    sol.second = [(0, [0, 1, 3]), (0, [5]), (1, [4, 6, 7])]
    faults = validate_2e(tiny, sol)
    assert "customer 2: not served" in faults
    assert "satellite 0: trucks deliver 14, freighters carry 12" in faults


def test_validator_catches_capacity(tiny: TwoEchelonInstance) -> None:
    sol = _hand_solution(tiny)
    sol.second = [(0, [0, 1, 3, 2]), (0, [5]), (1, [4, 6, 7])]  # 12 > 10
    faults = validate_2e(tiny, sol)
    assert any("freighter route 0: load 12 exceeds capacity 10" in f for f in faults)
    sol = _hand_solution(tiny)
    sol.first, sol.first_loads = [[0, 1]], [[14, 10]]  # one truck of 20 carrying 24
    assert any("truck route 0: load 24 exceeds capacity 20" in f for f in validate_2e(tiny, sol))


def test_validator_catches_flow_mismatch_and_cost(tiny: TwoEchelonInstance) -> None:
    sol = _hand_solution(tiny)
    sol.first_loads = [[12], [12]]
    faults = validate_2e(tiny, sol)
    assert "satellite 0: trucks deliver 12, freighters carry 14" in faults
    assert "satellite 1: trucks deliver 12, freighters carry 10" in faults
    sol = replace(_hand_solution(tiny), cost=1.0)
    assert any("differs from the recomputed" in f for f in validate_2e(tiny, sol))


def test_validator_catches_fleet_limits(tiny: TwoEchelonInstance) -> None:
    sol = _hand_solution(tiny)
    sol.second = [(0, [0, 1]), (0, [3]), (0, [2, 5]), (1, [4, 6, 7])]
    faults = validate_2e(tiny, sol)
    assert "satellite 0: 3 freighters, at most 2" in faults
    assert "4 freighters, at most 3" in faults


def test_solve_tiny_is_valid(tiny: TwoEchelonInstance) -> None:
    sol = solve_2e(tiny, 1.0)
    assert validate_2e(tiny, sol) == []
    assert sol.valid
    assert len(sol.second) <= tiny.freighters_total
    # trucks pay at least one round trip to the nearer satellite; a fair search is not far
    # from the hand-made solution
    lower = tiny.truck_fixed + 2 * math.dist(tiny.depot, tiny.satellites[1])
    assert lower < sol.cost <= 1.25 * _hand_solution(tiny).cost


def test_solve_splits_truck_deliveries(tmp_path: Path) -> None:
    inst = read_2e(_write(tmp_path, SPLIT, "split.dat"))
    sol = solve_2e(inst, 1.0)
    assert validate_2e(inst, sol) == []
    assert len(sol.first) == 3  # 24 units, trucks of 10
    assert sum(a for loads in sol.first_loads for a in loads) == 24
    assert all(sum(loads) <= 10 for loads in sol.first_loads)
    # handling 0.5 per unit through the satellite is part of the cost
    assert sol.cost > 0.5 * 24 + 3 * 2 * 30


def test_infeasible_instance_is_not_claimed_valid(tmp_path: Path) -> None:
    # four customers of 6 need four freighters of 10; only three exist
    text = SPLIT.replace(
        "32,2,5   33,-1,5   28,3,7   29,-2,7", "32,2,6   33,-1,6   28,3,6   29,-2,6"
    )
    inst = read_2e(_write(tmp_path, text, "short.dat"))
    sol = solve_2e(inst, 0.3)
    assert not sol.valid
    assert validate_2e(inst, sol)


def test_single_echelon_baseline(tiny: TwoEchelonInstance) -> None:
    cost = solve_single_echelon(tiny, 0.5)
    # every customer is at least 27 from the depot and back; three routes are needed
    far = max(math.dist(tiny.depot, c) for c in tiny.customers)
    assert 2 * far <= cost < math.inf


def test_unknown_seed_rejected(tiny: TwoEchelonInstance) -> None:
    with pytest.raises(ValueError, match="seed strategies"):
        solve_2e(tiny, 0.1, seeds=("farthest",))
