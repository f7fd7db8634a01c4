"""The independent plan validator: a hand-written valid plan, then one test per fault kind."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.validate import PlanInvalid, check_plan, validate_plan
from tests.dispatch.plan_fixture import (
    PARCELS,
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
    # the route's distance, its cost, and three KPIs: delivered, distance, echelon 1
    assert any("route R001 [distance]" in e for e in exc.value.errors)
    assert "kpis.delivered [kpi]" in str(exc.value)


# --- parcels: exactly once, complete chains ------------------------------------------------


def test_missing_parcel() -> None:
    plan = make_plan()
    plan["unassigned"] = []
    assert_caught(errors_of(plan), "parcel P6 [chain]", "neither carried")


def test_parcel_both_carried_and_unassigned() -> None:
    plan = make_plan()
    plan["unassigned"].append({"parcel_id": "P4", "code": "capacity_full", "reason": "满了。"})
    assert_caught(errors_of(plan), "parcel P4 [chain]", "unassigned but carried")


def test_parcel_listed_twice_in_unassigned() -> None:
    plan = make_plan()
    plan["unassigned"].append(dict(plan["unassigned"][0]))
    assert_caught(errors_of(plan), "parcel P6 [chain]", "listed 2 times")


def test_parcel_carried_twice() -> None:
    plan = make_plan()
    s0, s1 = stop(plan, "R003", 0), stop(plan, "R003", 1)
    s0.update(load=["P3"], weight_g_after=1000, volume_ml_after=2000)
    s1.update(drop=["P3"], weight_g_after=4000, volume_ml_after=6000)
    assert_caught(errors_of(plan), "parcel P3", "R002 -> R003")


def test_load_twice_without_drop() -> None:
    plan = make_plan()
    stop(plan, "R001", 0)["load"].append("P1")
    assert_caught(errors_of(plan), "R001 stop 0", "[on_board]", "P1, which is already on board")


def test_drop_without_load() -> None:
    plan = make_plan()
    stop(plan, "R002", 2)["drop"].append("P4")
    assert_caught(errors_of(plan), "R002 stop 2", "[on_board]", "P4, which is not on board")


def test_parcel_left_on_board() -> None:
    plan = make_plan()
    stop(plan, "R002", 3).update(drop=[], weight_g_after=4000, volume_ml_after=6000)
    errors = errors_of(plan)
    assert_caught(errors, "route R002 [on_board]", "still on board", "P5")
    assert_caught(errors, "parcel P5 [chain]", f"first loaded at {S}")


def test_delivery_dropped_at_wrong_village() -> None:
    plan = make_plan()
    stop(plan, "R002", 1).update(drop=["P1", "P2", "P3"], weight_g_after=4000, volume_ml_after=6000)
    stop(plan, "R002", 2)["drop"] = []
    assert_caught(errors_of(plan), "parcel P3 [chain]", f"left at {A}", f"not {B}")


def test_transfer_too_early_for_sorting() -> None:
    plan = make_plan()
    stop(plan, "R002", 0).update(arrival_s=29199, departure_s=30099)
    route(plan, "R002")["duration_s"] = 4101
    errors = errors_of(plan)
    assert_caught(errors, "parcel P1 transfer R001 -> R002 [transfer]", "28300 + 1800 s sorting")


def test_produce_loaded_before_it_was_unloaded() -> None:
    plan = make_plan()
    route(plan, "R002")["stops"][3]["departure_s"] = 44901
    route(plan, "R002")["duration_s"] = 44901 - 29200
    assert_caught(errors_of(plan), "parcel P5 transfer R002 -> R003 [transfer]", "44901")


def test_transfer_with_wrong_echelons() -> None:
    plan = make_plan()
    route(plan, "R002")["echelon"] = 1
    errors = errors_of(plan)
    assert_caught(errors, "route R002 [place]", "echelon 1 starts at the hub")
    assert_caught(errors, "parcel P1 transfer", "echelon 1 -> 1, expected 1 -> 2")
    assert_caught(errors, "parcel P5 transfer", "echelon 1 -> 1, expected 2 -> 1")


# --- load and capacity ------------------------------------------------------------------------


def test_overload() -> None:
    types = dict(TYPES)
    types["van_cold"] = dataclasses.replace(TYPES["van_cold"], capacity_g=5000)
    plan = make_plan()
    plan["vehicles"][1]["capacity_g"] = 5000
    errors = errors_of(plan, fleet=make_fleet(types))
    assert errors == [
        f"route R002 stop 0 ({S}) [capacity]: weight_g_after 6000 exceeds the van_cold "
        "capacity 5000"
    ]


def test_wrong_weight_after() -> None:
    plan = make_plan()
    stop(plan, "R002", 1)["weight_g_after"] = 5001
    assert_caught(errors_of(plan), "R002 stop 1", "weight_g_after 5001", "make 5000")


def test_wrong_volume_after() -> None:
    plan = make_plan()
    stop(plan, "R001", 1)["volume_ml_after"] = 0
    assert_caught(errors_of(plan), "R001 stop 1", "volume_ml_after 0", "make 10000")


# --- cold chain ---------------------------------------------------------------------------


def test_cold_parcel_on_non_cold_vehicle() -> None:
    types = dict(TYPES)
    types["van_cold"] = dataclasses.replace(TYPES["van_cold"], cold=False)
    plan = make_plan()
    plan["vehicles"][1]["cold"] = False
    errors = errors_of(plan, fleet=make_fleet(types))
    assert errors == [
        f"route R002 stop 0 ({S}) [cold_chain]: cold parcel P2 on non-refrigerated van_cold"
    ]


def test_cold_parcel_waiting_at_station_without_cold_storage() -> None:
    points = dict(POINTS)
    points[S] = dataclasses.replace(POINTS[S], cold_storage=False)
    errors = errors_of(make_plan(), points=points)
    assert_caught(errors, "parcel P2 transfer R001 -> R002 [cold_chain]", f"waits at {S}")


# --- places, vehicle classes, hours, travel -----------------------------------------------------


def test_truck_at_village_that_admits_vans_only() -> None:
    points = dict(POINTS)
    points[B] = dataclasses.replace(POINTS[B], max_vclass="van")
    errors = errors_of(make_plan(), points=points)
    assert errors == [f"route R001 stop 2 ({B}) [class]: a truck may not enter; van at most"]


def test_arrival_before_travel_time() -> None:
    plan = make_plan()
    stop(plan, "R001", 1)["arrival_s"] = 27899
    assert_caught(errors_of(plan), "R001 stop 1", "[travel_time]", "arrives 27899", "needs 1800 s")


def test_lunch_break_needs_its_time_on_the_leg() -> None:
    plan = make_plan()
    stop(plan, "R003", 1)["arrival_s"] = 44499
    assert_caught(errors_of(plan), "R003 stop 1", "[travel_time]", "1800 s + 1800 s lunch")


def test_break_outside_lunch_window_or_too_short() -> None:
    plan = make_plan()
    brk = {"start_s": 41000, "end_s": 42000}
    route(plan, "R003")["break"] = brk
    plan["drivers"][0]["lunch"] = dict(brk)
    errors = errors_of(plan)
    assert_caught(errors, "driver T1 [lunch]", "lunch starts 41000, outside")
    assert_caught(errors, "route R003 [lunch]", "break lasts 1000 s")


def test_arrival_at_closed_point() -> None:
    points = dict(POINTS)
    points[A] = dataclasses.replace(POINTS[A], open_s=30800)
    errors = errors_of(make_plan(), points=points)
    assert errors == [f"route R002 stop 1 ({A}) [opening_hours]: arrives 30700, open 30800-64800"]


def test_departure_before_arrival() -> None:
    plan = make_plan()
    stop(plan, "R002", 1)["departure_s"] = 30699
    assert_caught(errors_of(plan), "R002 stop 1", "[service_time]", "-1 s at the stop")


def test_echelon_two_outside_its_town() -> None:
    points = dict(POINTS)
    points[B] = dataclasses.replace(POINTS[B], town_id="500118002")
    assert_caught(errors_of(make_plan(), points=points), "R002 stop 2", "[place]", "own town")


def test_route_not_starting_at_its_depot() -> None:
    plan = make_plan()
    route(plan, "R003")["depot"] = S
    assert_caught(errors_of(plan), "route R003 [depot]", f"depot {S} is not T1's base")


# --- trips and shifts -------------------------------------------------------------------------


def test_overlapping_trips() -> None:
    plan = make_plan()
    stop(plan, "R001", 3)["departure_s"] = 40001
    route(plan, "R001")["duration_s"] = 40001 - 25200
    assert_caught(
        errors_of(plan), "R003 stop 0", "[trips]", "before route R001 is unloaded at 40001"
    )


def test_trip_numbers() -> None:
    plan = make_plan()
    route(plan, "R003")["trip"] = 3
    assert_caught(errors_of(plan), "driver T1 [trips]", "numbered [1, 3]")


def test_too_many_trips() -> None:
    fleet = make_fleet()
    fleet.vehicles[0] = dataclasses.replace(fleet.vehicles[0], max_trips=1)
    assert_caught(errors_of(make_plan(), fleet=fleet), "driver T1 [trips]", "at most 1")


def test_route_outside_shift() -> None:
    fleet = make_fleet()
    fleet.vehicles[1] = dataclasses.replace(fleet.vehicles[1], shift_end_s=33000)
    plan = make_plan()
    plan["vehicles"][1]["shift_end_s"] = 33000
    errors = errors_of(plan, fleet=fleet)
    assert errors == ["driver VAN1 [shift]: works 29200-33300, outside the shift 25200-33000"]


# --- distances, durations, kpis ---------------------------------------------------------------


def test_wrong_distance() -> None:
    plan = make_plan()
    route(plan, "R001")["distance_m"] = 42001
    assert_caught(errors_of(plan), "route R001 [distance]", "distance_m 42001, roads make 42000")


def test_wrong_duration() -> None:
    plan = make_plan()
    route(plan, "R002")["duration_s"] = 3000
    assert_caught(errors_of(plan), "route R002 [duration]", "duration_s 3000", "4100")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("parcels", 5),
        ("delivered", 5),
        ("picked_up", 0),
        ("distance_m", 85999),
        ("cost_fen", 1),
        ("vehicles_used", 3),
        ("deferred", 0),
        ("routes", 2),
    ],
)
def test_kpi_mismatch(key: str, value: int) -> None:
    plan = make_plan()
    plan["kpis"][key] = value
    errors = errors_of(plan)
    assert len(errors) == 1
    assert errors[0].startswith(f"kpis.{key} [kpi]: {value} but")


# --- shape and references -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda p: p.pop("kpis"), ["plan [shape]: missing field 'kpis'"]),
        (lambda p: p.update(version="1.0"), ["plan.version"]),
        (lambda p: p.update(status="done"), ["plan.status"]),
        (lambda p: p.update(mode="fly"), ["plan.mode"]),
        (lambda p: p.update(mode="auto"), ["plan.mode"]),
        (lambda p: p.update(date="20.5.2024"), ["plan.date"]),
        (lambda p: p["routes"][0].update(echelon=3), ["route R001.echelon"]),
        (lambda p: p["routes"][0].update(distance_m=True), ["routes[0].distance_m", "integer"]),
        (lambda p: p["routes"][1].update(route_id="R001"), ["route R001 [shape]: route_id used 2"]),
        (lambda p: p["routes"][2]["stops"][1].update(seq=5), ["stop 1.seq [shape]: expected 1"]),
        (lambda p: p["routes"][2].update(stops=p["routes"][2]["stops"][:1]), ["at least"]),
        (lambda p: p["unassigned"][0].update(reason=" "), ["unassigned[0].reason"]),
        (lambda p: p["routes"][2].update({"break": {"start_s": 1}}), ["missing field 'end_s'"]),
        (lambda p: p["vehicles"][0].update(capacity_g=1), ["vehicles[0] (T1).capacity_g"]),
        (lambda p: p["vehicles"][0].update(available="yes"), ["vehicles[0].available"]),
        (lambda p: p["vehicles"].pop(), ["fleet vehicle VAN1 is missing"]),
        (lambda p: p["routes"][0].update(vehicle_id="X"), ["R001.vehicle_id", "not in the fleet"]),
        (lambda p: p["routes"][0].update(vehicle_type="van_cold"), ["R001.vehicle_type"]),
        (lambda p: p["routes"][0]["stops"][1].update(point_id="9"), ["R001 stop 1 [reference]"]),
        (lambda p: p["routes"][0]["stops"][0]["load"].append("P9"), ["unknown parcel 'P9'"]),
        (lambda p: p["unassigned"][0].update(parcel_id="P9"), ["unassigned[0].parcel_id"]),
        (lambda p: p.pop("drivers"), ["missing field 'drivers'"]),
        (lambda p: p["drivers"][0].update(lunch=[1]), ["drivers[0].lunch"]),
        (lambda p: p["carry_over"][0].update(due_date="soon"), ["carry_over[0].due_date"]),
        (lambda p: p["carry_over"][0].update(at="X"), ["carry_over[0].at [reference]"]),
        (lambda p: p["held"].append({"parcel_id": "P5"}), ["held[0] [shape]: missing field"]),
        (lambda p: p["kpis"]["towns"][0].pop("direct"), ["kpis.towns[0] [shape]"]),
    ],
)
def test_shape_and_reference_faults(mutate: Callable[[Any], Any], words: list[str]) -> None:
    plan = make_plan()
    mutate(plan)
    assert_caught(errors_of(plan), *words)


def test_the_deferred_parcel_is_due_later() -> None:
    early = [
        dataclasses.replace(p, due_date=dt.date(2024, 5, 20)) if p.tracking_no == "P6" else p
        for p in PARCELS
    ]
    errors = validate_plan(make_plan(), dataclasses.replace(make_inputs(), parcels=early))
    assert_caught(
        errors, "unassigned P6 (deferred_capacity) [reason]", "deferred but due 2024-05-20"
    )


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
    float: [None, "x", []],
    type(None): ["x", 7, []],
}


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(_LOAD_PATHS), st.integers(-(10**6), 10**6).filter(bool))
def test_any_change_of_a_load_after_is_caught(path: tuple[Any, ...], delta: int) -> None:
    plan = make_plan()
    _set(plan, path, plan["routes"][path[1]]["stops"][path[3]][path[4]] + delta)
    errors = errors_of(plan)
    assert_caught(errors, f"stop {path[3]}", f"{path[4]} ")


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


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"events": "breakdown"}, ["plan.events [shape]"]),
        ({"events": [1]}, ["events[0] [shape]"]),
        ({"replanned_at_s": "noon"}, ["plan.replanned_at_s [shape]"]),
    ],
)
def test_optional_fields_of_a_replanned_plan_are_checked_not_trusted(
    extra: dict[str, Any], words: list[str]
) -> None:
    plan = make_plan() | extra
    assert_caught(errors_of(plan), *words)
