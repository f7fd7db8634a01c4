"""The independent plan validator: a hand-written valid plan, then one test per fault kind."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.validate import PlanInvalid, check_plan, validate_plan
from tests.dispatch.plan_fixture import (
    POINTS,
    TYPES,
    A,
    B,
    S,
    make_fleet,
    make_inputs,
    make_plan,
    route,
)


def errors_of(plan: dict[str, Any], **kw: Any) -> list[str]:
    return validate_plan(plan, make_inputs(**kw))


def assert_caught(errors: list[str], *words: str) -> None:
    """Some message contains every one of `words`."""
    assert any(all(w in e for w in words) for e in errors), errors


def stop(plan: dict[str, Any], route_id: str, seq: int) -> dict[str, Any]:
    return route(plan, route_id)["stops"][seq]


def test_hand_written_plan_is_valid() -> None:
    plan = make_plan()
    assert errors_of(plan) == []
    check_plan(plan, make_inputs())


def test_check_plan_raises_with_every_message() -> None:
    plan = make_plan()
    plan["kpis"]["delivered"] = 9
    plan["routes"][0]["distance_m"] = 1
    with pytest.raises(PlanInvalid) as exc:
        check_plan(plan, make_inputs())
    assert len(exc.value.errors) == 3  # the route, its kpi sum and delivered
    assert "kpis.delivered" in str(exc.value)


# --- parcels: exactly once, complete chains ------------------------------------------------


def test_missing_parcel() -> None:
    plan = make_plan()
    plan["unassigned"] = []
    assert_caught(errors_of(plan), "parcel P6", "neither carried")


def test_parcel_both_carried_and_unassigned() -> None:
    plan = make_plan()
    plan["unassigned"].append({"parcel_id": "P4", "code": "capacity_full", "reason": "满了。"})
    assert_caught(errors_of(plan), "parcel P4", "unassigned but carried")


def test_parcel_listed_twice_in_unassigned() -> None:
    plan = make_plan()
    plan["unassigned"].append(dict(plan["unassigned"][0]))
    assert_caught(errors_of(plan), "parcel P6", "listed 2 times")


def test_parcel_carried_twice() -> None:
    plan = make_plan()
    s0, s1 = stop(plan, "R003", 0), stop(plan, "R003", 1)
    s0.update(load=["P3"], weight_g_after=1000, volume_ml_after=2000)
    s1.update(drop=["P3"])
    assert errors_of(plan) == [
        "parcel P3: carried more than once, loaded at its origin by ['R001', 'R003']"
    ]


def test_load_twice_without_drop() -> None:
    plan = make_plan()
    stop(plan, "R001", 0)["load"].append("P1")
    assert_caught(errors_of(plan), "R001 seq 0", "P1 is already on board")


def test_drop_without_load() -> None:
    plan = make_plan()
    stop(plan, "R002", 2)["drop"].append("P4")
    assert_caught(errors_of(plan), "R002 seq 2", "P4 is not on board")


def test_parcel_left_on_board() -> None:
    plan = make_plan()
    stop(plan, "R002", 3).update(drop=[], weight_g_after=4000, volume_ml_after=6000)
    errors = errors_of(plan)
    assert_caught(errors, "route R002", "still on board", "P5")
    assert_caught(errors, "parcel P5", f"pickup first loaded at {S}")


def test_delivery_dropped_at_wrong_village() -> None:
    plan = make_plan()
    stop(plan, "R002", 1).update(drop=["P1", "P2", "P3"], weight_g_after=4000, volume_ml_after=6000)
    stop(plan, "R002", 2)["drop"] = []
    stop(plan, "R002", 3)["drop"] = ["P5"]
    assert_caught(errors_of(plan), "parcel P3", f"left at {A}", f"not {B}")


def test_transfer_too_early_for_sorting() -> None:
    plan = make_plan()
    stop(plan, "R002", 0).update(arrival_s=29399, departure_s=29399)
    route(plan, "R002")["duration_s"] = 2701
    errors = errors_of(plan)
    assert_caught(errors, "parcel P1", "R001 -> R002", "before drop at 27600 + 1800")
    assert len(errors) == 3  # P1, P2 and P3 are all loaded too early


def test_produce_loaded_before_it_was_dropped() -> None:
    plan = make_plan()
    stop(plan, "R002", 3).update(arrival_s=44001, departure_s=44001)
    route(plan, "R002")["duration_s"] = 44001 - 29400
    assert_caught(errors_of(plan), "parcel P5", "R002 -> R003", "before drop at 44001")


def test_transfer_with_wrong_echelons() -> None:
    plan = make_plan()
    r2 = route(plan, "R002")
    r2["echelon"] = 1
    errors = errors_of(plan)
    assert_caught(errors, "route R002.depot", "echelon 1 starts at the hub")
    assert_caught(errors, "parcel P1", "echelon 1 -> 1, expected 1 -> 2")
    assert_caught(errors, "parcel P5", "echelon 1 -> 1, expected 2 -> 1")


# --- load and capacity ------------------------------------------------------------------------


def test_overload() -> None:
    types = dict(TYPES)
    types["van_cold"] = dataclasses.replace(TYPES["van_cold"], capacity_g=5000)
    plan = make_plan()
    plan["vehicles"][1]["capacity_g"] = 5000
    errors = errors_of(plan, fleet=make_fleet(types))
    assert_caught(errors, "R002 seq 0", "weight_g_after: 6000 exceeds", "5000")
    assert len(errors) == 1


def test_wrong_weight_after() -> None:
    plan = make_plan()
    stop(plan, "R002", 1)["weight_g_after"] = 5001
    assert_caught(errors_of(plan), "R002 seq 1", "weight_g_after: 5001", "make 5000")


def test_wrong_volume_after() -> None:
    plan = make_plan()
    stop(plan, "R001", 1)["volume_ml_after"] = 0
    assert_caught(errors_of(plan), "R001 seq 1", "volume_ml_after: 0", "make 10000")


# --- cold chain ---------------------------------------------------------------------------


def test_cold_parcel_on_non_cold_vehicle() -> None:
    types = dict(TYPES)
    types["van_cold"] = dataclasses.replace(TYPES["van_cold"], cold=False)
    plan = make_plan()
    plan["vehicles"][1]["cold"] = False
    errors = errors_of(plan, fleet=make_fleet(types))
    assert errors == [f"route R002 seq 0 ({S}).load: cold parcel P2 on non-refrigerated van_cold"]


def test_cold_parcel_waiting_at_station_without_cold_storage() -> None:
    points = dict(POINTS)
    points[S] = dataclasses.replace(POINTS[S], cold_storage=False)
    errors = errors_of(make_plan(), points=points)
    assert_caught(errors, "parcel P2", f"cold parcel waits at {S}")
    assert len(errors) == 1


# --- places, vehicle classes, hours, travel -----------------------------------------------------


def test_truck_at_village_that_admits_vans_only() -> None:
    points = dict(POINTS)
    points[B] = dataclasses.replace(POINTS[B], max_vclass="van")
    errors = errors_of(make_plan(), points=points)
    assert errors == [f"route R001 seq 2 ({B}): a truck (truck_cold) may not enter; van max"]


def test_arrival_before_travel_time() -> None:
    plan = make_plan()
    stop(plan, "R001", 1)["arrival_s"] = 27599
    assert_caught(errors_of(plan), "R001 seq 1", "arrival_s: 27599", "travel 1800 s")


def test_lunch_break_needs_its_time_on_the_leg() -> None:
    plan = make_plan()
    stop(plan, "R003", 1)["arrival_s"] = 43599
    assert_caught(errors_of(plan), "R003 seq 1", "3600 s", "+ break")


def test_break_outside_lunch_window_or_too_short() -> None:
    plan = make_plan()
    route(plan, "R003")["break"] = {"start_s": 41000, "end_s": 42000}
    errors = errors_of(plan)
    assert_caught(errors, "route R003.break.start_s", "41000")
    assert_caught(errors, "route R003.break", "lasts 1000 s")


def test_arrival_at_closed_point() -> None:
    points = dict(POINTS)
    points[A] = dataclasses.replace(POINTS[A], open_s=30600)
    errors = errors_of(make_plan(), points=points)
    assert errors == [
        f"route R002 seq 1 ({A}).arrival_s: 30000 outside opening hours [30600, 64800]"
    ]


def test_departure_before_arrival() -> None:
    plan = make_plan()
    stop(plan, "R002", 1)["departure_s"] = 29999
    assert_caught(errors_of(plan), "R002 seq 1", "departure_s: 29999 before arrival")


def test_echelon_two_outside_its_town() -> None:
    points = dict(POINTS)
    points[B] = dataclasses.replace(POINTS[B], town_id="500118002")
    assert_caught(errors_of(make_plan(), points=points), "R002 seq 2", "only villages of town")


def test_route_not_starting_at_its_depot() -> None:
    plan = make_plan()
    route(plan, "R003")["depot"] = S
    assert_caught(errors_of(plan), "R003 seq 0.point_id", "not the depot")


# --- trips and shifts -------------------------------------------------------------------------


def test_overlapping_trips() -> None:
    plan = make_plan()
    stop(plan, "R001", 3)["departure_s"] = 40001
    errors = errors_of(plan)
    assert errors == [
        "route R003: trip 2 of T1 starts at 40000, before trip 1 (route R001) ends at 40001"
    ]


def test_trip_numbers() -> None:
    plan = make_plan()
    route(plan, "R003")["trip"] = 3
    assert_caught(errors_of(plan), "vehicle T1", "trips are numbered [1, 3]")


def test_too_many_trips() -> None:
    fleet = make_fleet()
    fleet.vehicles[0] = dataclasses.replace(fleet.vehicles[0], max_trips=1)
    assert_caught(errors_of(make_plan(), fleet=fleet), "vehicle T1", "at most 1")


def test_route_outside_shift() -> None:
    fleet = make_fleet()
    fleet.vehicles[1] = dataclasses.replace(fleet.vehicles[1], shift_end_s=32000)
    plan = make_plan()
    plan["vehicles"][1]["shift_end_s"] = 32000
    errors = errors_of(plan, fleet=fleet)
    assert errors == ["route R002: [29400, 32400] outside the shift of VAN1 [25200, 32000]"]


# --- distances, durations, kpis ---------------------------------------------------------------


def test_wrong_distance() -> None:
    plan = make_plan()
    route(plan, "R001")["distance_m"] = 42001
    plan["kpis"]["distance_m"] += 1
    assert errors_of(plan) == ["route R001.distance_m: 42001 but legs sum to 42000"]


def test_wrong_duration() -> None:
    plan = make_plan()
    route(plan, "R002")["duration_s"] = 3000
    assert_caught(errors_of(plan), "route R002.duration_s: 3000", "2700")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("parcels", 5),
        ("delivered", 5),
        ("picked_up", 0),
        ("distance_m", 85999),
        ("cost_fen", 1),
        ("vehicles_used", 3),
    ],
)
def test_kpi_mismatch(key: str, value: int) -> None:
    plan = make_plan()
    plan["kpis"][key] = value
    errors = errors_of(plan)
    assert len(errors) == 1
    assert errors[0].startswith(f"kpis.{key}: {value} but")


# --- shape and references -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda p: p.pop("kpis"), ["plan: missing field 'kpis'"]),
        (lambda p: p.update(version="2.0"), ["plan.version"]),
        (lambda p: p.update(status="done"), ["plan.status"]),
        (lambda p: p.update(mode="fly"), ["plan.mode"]),
        (lambda p: p.update(date="20.5.2024"), ["plan.date"]),
        (lambda p: p["routes"][0].update(echelon=3), ["route R001.echelon"]),
        (lambda p: p["routes"][0].update(distance_m=True), ["routes[0].distance_m", "integer"]),
        (lambda p: p["routes"][1].update(route_id="R001"), ["route R001: route_id used 2 times"]),
        (lambda p: p["routes"][2]["stops"][1].update(seq=5), ["stops[1].seq: expected 1"]),
        (lambda p: p["routes"][2].update(stops=p["routes"][2]["stops"][:1]), ["at least"]),
        (lambda p: p["unassigned"][0].update(reason=" "), ["unassigned[0] (P6).reason"]),
        (lambda p: p["unassigned"][0].update(code=""), ["unassigned[0] (P6).code"]),
        (lambda p: p["routes"][2].update({"break": {"start_s": 1}}), ["missing field 'end_s'"]),
        (lambda p: p["vehicles"][0].update(capacity_g=1), ["vehicles[0] (T1).capacity_g"]),
        (lambda p: p["vehicles"].pop(), ["fleet vehicle VAN1 is missing"]),
        (lambda p: p["routes"][0].update(vehicle_id="X"), ["R001.vehicle_id", "not in the fleet"]),
        (lambda p: p["routes"][0].update(vehicle_type="van_cold"), ["R001.vehicle_type"]),
        (lambda p: p["routes"][0]["stops"][1].update(point_id="9"), ["R001 seq 1.point_id"]),
        (lambda p: p["routes"][0]["stops"][0]["load"].append("P9"), ["unknown parcel 'P9'"]),
        (lambda p: p["unassigned"][0].update(parcel_id="P9"), ["unassigned[0].parcel_id"]),
    ],
)
def test_shape_and_reference_faults(mutate: Callable[[Any], Any], words: list[str]) -> None:
    plan = make_plan()
    mutate(plan)
    assert_caught(errors_of(plan), *words)


# --- properties -------------------------------------------------------------------------------


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every (path, value) in the plan, containers included (the root excluded)."""
    if path:
        yield path, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*path, i))


def _set(plan: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    node: Any = plan
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


_ALL = list(_paths(make_plan()))
_INT_PATHS = [p for p, v in _ALL if isinstance(v, int) and not isinstance(v, bool)]
_LOAD_PATHS = [p for p, _ in _ALL if p[-1] in ("weight_g_after", "volume_ml_after")]
_PARCEL_LISTS = [p for p, v in _ALL if p[-1] in ("load", "drop") and v]
#: integer fields a change of which the contract always exposes
_ALWAYS_CHECKED = {
    "weight_g_after", "volume_ml_after", "distance_m", "duration_s", "cost_fen", "seq",
    "echelon", "trip", "capacity_g", "capacity_ml", "shift_start_s", "shift_end_s",
    "start_s", "end_s", "parcels", "delivered", "picked_up", "vehicles_used",
}  # fmt: skip
_WRONG_TYPE: dict[type, list[Any]] = {
    bool: [None, 1, "yes"],
    int: [None, "1", True, [], 1.5],
    str: [None, 1, []],
    list: [None, "x", {}],
    dict: ["x", 7, []],
    type(None): ["x", 7, []],
}


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(_LOAD_PATHS), st.integers(-(10**6), 10**6).filter(bool))
def test_any_change_of_a_load_after_is_caught(path: tuple[Any, ...], delta: int) -> None:
    plan = make_plan()
    _set(plan, path, plan["routes"][path[1]]["stops"][path[3]][path[4]] + delta)
    errors = errors_of(plan)
    assert_caught(errors, f"seq {path[3]}", f".{path[4]}:")


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(_INT_PATHS), st.integers(-(10**5), 10**5).filter(bool))
def test_integer_mutations_are_caught_or_consistently_valid(
    path: tuple[Any, ...], delta: int
) -> None:
    plan = make_plan()
    node: Any = plan
    for key in path:
        node = node[key]
    _set(plan, path, node + delta)
    errors = errors_of(plan)
    assert all(isinstance(e, str) for e in errors)
    assert errors == errors_of(plan)  # deterministic
    if path[-1] in _ALWAYS_CHECKED and path != ("kpis", "duration_s"):
        assert errors, path
    if errors:
        with pytest.raises(PlanInvalid):
            check_plan(plan, make_inputs())
    else:
        check_plan(plan, make_inputs())


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(_ALL), st.data())
def test_a_wrong_type_anywhere_is_reported_not_raised(
    item: tuple[tuple[Any, ...], Any], data: st.DataObject
) -> None:
    path, value = item
    choices = _WRONG_TYPE[type(value)]
    if path[-1] == "cost_per_parcel_fen":
        choices = [c for c in choices if not isinstance(c, float)]
    plan = make_plan()
    _set(plan, path, data.draw(st.sampled_from(choices)))
    assert errors_of(plan)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(_PARCEL_LISTS), st.data())
def test_removing_a_load_or_drop_event_is_caught(
    path: tuple[Any, ...], data: st.DataObject
) -> None:
    plan = make_plan()
    events = plan["routes"][path[1]]["stops"][path[3]][path[4]]
    events.pop(data.draw(st.integers(0, len(events) - 1)))
    assert errors_of(plan)
