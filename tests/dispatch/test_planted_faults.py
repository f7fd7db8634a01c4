"""Every rule the validator claims, proven: one fault planted into a real planner plan (which
passes as it is) and seen refused, naming the rule and where."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from dispatch import service
from dispatch.demo import generate_day
from dispatch.fleet import Fleet
from dispatch.parcel import Parcel
from dispatch.validate import PlanInputs, validate_plan
from dispatch.workspace import Workspace
from tests.dispatch.plan_json import plan_json

DAY = dt.date(2026, 11, 28)
Plan = dict[str, Any]


@pytest.fixture(scope="module")
def ws() -> Workspace:
    return Workspace.default()


@pytest.fixture(scope="module")
def day(ws: Workspace) -> tuple[Plan, list[Parcel]]:
    parcels = generate_day(ws.county, n_parcels=300, seed=7, date=DAY)
    plan = plan_json(ws, parcels, date=DAY, time_limit_s=3.0, mode="via_station")
    return plan, parcels


@pytest.fixture
def plan(day: tuple[Plan, list[Parcel]]) -> Plan:
    return copy.deepcopy(day[0])


@pytest.fixture
def inputs(ws: Workspace, day: tuple[Plan, list[Parcel]]) -> PlanInputs:
    return service.plan_inputs(ws, ws.fleet, day[1])


def refused(plan: Plan, inputs: PlanInputs, rule: str, *words: str) -> list[str]:
    """The plan's faults; asserts one of them names `rule` and every one of `words`."""
    errors = validate_plan(plan, inputs)
    assert any(f"[{rule}]" in e and all(w in e for w in words) for e in errors), errors[:20]
    return errors


def with_fleet(inputs: PlanInputs, fleet: Fleet) -> PlanInputs:
    return dataclasses.replace(inputs, fleet=fleet)


def retype(inputs: PlanInputs, name: str, **fields: Any) -> PlanInputs:
    """The inputs with vehicle type `name` changed."""
    fleet = inputs.fleet
    types = dict(fleet.types)
    types[name] = dataclasses.replace(types[name], **fields)
    return with_fleet(inputs, dataclasses.replace(fleet, types=types))


def routes(plan: Plan, echelon: int | None = None) -> Iterator[dict[str, Any]]:
    return (r for r in plan["routes"] if echelon is None or r["echelon"] == echelon)


def village_stop(plan: Plan, echelon: int = 2) -> tuple[dict[str, Any], int]:
    """A route and the index of a stop of it that hands parcels over (not a depot)."""
    for r in routes(plan, echelon):
        for i, s in enumerate(r["stops"][1:-1], start=1):
            if s["drop"] or s["load"]:
                return r, i
    raise AssertionError("the day must have a village stop")


def two_trips(plan: Plan) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two consecutive routes of one vehicle."""
    by: dict[str, list[dict[str, Any]]] = {}
    for r in plan["routes"]:
        by.setdefault(r["vehicle_id"], []).append(r)
    for mine in by.values():
        if len(mine) > 1:
            mine.sort(key=lambda r: r["trip"])
            return mine[0], mine[1]
    raise AssertionError("the day must have a vehicle with two trips")


def test_the_real_plan_passes(day: tuple[Plan, list[Parcel]], inputs: PlanInputs) -> None:
    plan = day[0]
    assert validate_plan(plan, inputs) == []
    assert plan["kpis"]["echelon_2"]["routes"] > 0


# --- route by route ------------------------------------------------------------------------


def test_distance_recomputed_from_the_roads(plan: Plan, inputs: PlanInputs) -> None:
    r = plan["routes"][0]
    r["distance_m"] += 100
    refused(plan, inputs, "distance", r["route_id"])


def test_a_network_that_does_not_cover_the_points(plan: Plan, inputs: PlanInputs) -> None:
    for r in plan["routes"]:
        r["distance_m"] = 0  # what a plan on a foreign network reports
    blind = dataclasses.replace(inputs, travel_m=lambda t, a, b: 0)
    refused(plan, blind, "straight_line", "shorter than the")


def test_travel_time(plan: Plan, inputs: PlanInputs) -> None:
    r, i = village_stop(plan)
    r["stops"][i]["arrival_s"] = r["stops"][i - 1]["departure_s"]
    refused(plan, inputs, "travel_time", f"route {r['route_id']} stop {i}")


def test_service_time_per_stop_and_parcel(plan: Plan, inputs: PlanInputs) -> None:
    r, i = village_stop(plan)
    s = r["stops"][i]
    handled = len(s["load"]) + len(s["drop"])
    s["departure_s"] = s["arrival_s"] + 300 + 6 * handled - 1
    refused(plan, inputs, "service_time", f"route {r['route_id']} stop {i}", f"x {handled} parcels")


def test_loading_and_unloading_time(plan: Plan, inputs: PlanInputs) -> None:
    r = plan["routes"][0]
    r["stops"][0]["arrival_s"] = r["stops"][0]["departure_s"] - 60
    r["stops"][-1]["departure_s"] = r["stops"][-1]["arrival_s"]
    errors = refused(plan, inputs, "service_time", "loading")
    assert any("[service_time]" in e and "unloading" in e for e in errors)


def test_opening_hours(plan: Plan, inputs: PlanInputs, ws: Workspace) -> None:
    r, i = village_stop(plan)
    point = r["stops"][i]["point_id"]
    early = dict(inputs.points)
    early[point] = dataclasses.replace(ws.point(point), close_s=r["stops"][i]["arrival_s"] - 1)
    refused(plan, dataclasses.replace(inputs, points=early), "opening_hours", point)


def test_vehicle_class_at_the_point(plan: Plan, inputs: PlanInputs, ws: Workspace) -> None:
    r = next(r for r in plan["routes"] if inputs.fleet.types[r["vehicle_type"]].vclass == "van")
    stop = r["stops"][1]
    narrow = dict(inputs.points)
    narrow[stop["point_id"]] = dataclasses.replace(
        ws.point(stop["point_id"]), max_vclass="tricycle"
    )
    refused(
        plan, dataclasses.replace(inputs, points=narrow), "class", f"route {r['route_id']} stop 1"
    )


def test_load_recorded_after_a_stop(plan: Plan, inputs: PlanInputs) -> None:
    r, i = village_stop(plan)
    r["stops"][i]["weight_g_after"] += 1
    refused(plan, inputs, "capacity", "weight_g_after")


def test_overload(plan: Plan, inputs: PlanInputs) -> None:
    r = max(routes(plan, 1), key=lambda r: r["stops"][0]["weight_g_after"])
    limit = r["stops"][0]["weight_g_after"] - 1
    for v in plan["vehicles"]:
        if v["vehicle_type"] == r["vehicle_type"]:
            v["capacity_g"] = limit  # as the smaller fleet says
    refused(plan, retype(inputs, r["vehicle_type"], capacity_g=limit), "capacity", "exceeds")


def test_cold_chain(plan: Plan, inputs: PlanInputs) -> None:
    r = next(r for r in routes(plan, 2) if not inputs.fleet.types[r["vehicle_type"]].cold)
    t = r["stops"][0]["load"][0]
    chilled = [
        dataclasses.replace(p, cold=True) if p.tracking_no == t else p for p in inputs.parcels
    ]
    refused(plan, dataclasses.replace(inputs, parcels=chilled), "cold_chain", t)


def test_a_parcel_dropped_without_being_on_board(plan: Plan, inputs: PlanInputs) -> None:
    r, _ = village_stop(plan)
    gone = r["stops"][0]["load"].pop()
    refused(plan, inputs, "on_board", gone)


def test_depot_against_base(plan: Plan, inputs: PlanInputs) -> None:
    r = next(routes(plan, 2))
    other = next(x for x in routes(plan, 2) if x["depot"] != r["depot"])
    r["depot"] = other["depot"]
    refused(plan, inputs, "depot", r["route_id"], "is not")


def test_range(plan: Plan, inputs: PlanInputs) -> None:
    r = max(routes(plan, 2), key=lambda r: r["distance_m"])
    refused(plan, retype(inputs, r["vehicle_type"], range_m=r["distance_m"] - 1), "range")


def test_duration(plan: Plan, inputs: PlanInputs) -> None:
    r = plan["routes"][0]
    r["duration_s"] += 60
    refused(plan, inputs, "duration", r["route_id"])


def test_cost_from_the_fleets_prices(plan: Plan, inputs: PlanInputs) -> None:
    r = plan["routes"][0]
    r["cost_fen"] += 1
    refused(plan, inputs, "cost", r["route_id"])


def test_fixed_cost_only_on_the_first_route_of_the_day(plan: Plan, inputs: PlanInputs) -> None:
    _, second = two_trips(plan)
    second["cost_fen"] += inputs.fleet.types[second["vehicle_type"]].fixed_cost_fen
    refused(plan, inputs, "cost", second["route_id"])


def test_hourly_price(plan: Plan, inputs: PlanInputs) -> None:
    r = plan["routes"][0]
    dearer = retype(
        inputs,
        r["vehicle_type"],
        cost_per_hour_fen=inputs.fleet.types[r["vehicle_type"]].cost_per_hour_fen + 3600,
    )
    refused(plan, dearer, "cost", r["route_id"])


def test_echelon_two_only_in_its_own_town(plan: Plan, inputs: PlanInputs) -> None:
    a = next(routes(plan, 2))
    foreign = next(x for x in routes(plan, 2) if x["depot"] != a["depot"])
    a["stops"][1]["point_id"] = foreign["stops"][1]["point_id"]
    refused(plan, inputs, "place", a["route_id"], "own town")


# --- the driver's day ----------------------------------------------------------------------


def driver(plan: Plan, vehicle_id: str) -> dict[str, Any]:
    return next(d for d in plan["drivers"] if d["vehicle_id"] == vehicle_id)


def test_lunch_is_required(plan: Plan, inputs: PlanInputs) -> None:
    d = plan["drivers"][0]
    d["lunch"] = None
    for r in plan["routes"]:
        if r["vehicle_id"] == d["vehicle_id"]:
            r["break"] = None
    refused(plan, inputs, "lunch", d["vehicle_id"], "no lunch")


def test_lunch_in_its_window(plan: Plan, inputs: PlanInputs) -> None:
    d = plan["drivers"][0]
    d["lunch"] = {"start_s": 10 * 3600, "end_s": 10 * 3600 + 1800}
    refused(plan, inputs, "lunch", d["vehicle_id"], "outside")


def test_lunch_with_work_in_it(plan: Plan, inputs: PlanInputs) -> None:
    s = inputs.fleet.settings
    r, i = next(
        (r, i)
        for r in plan["routes"]
        for i, stop in enumerate(r["stops"][1:-1], start=1)
        if s.lunch_earliest_s <= stop["arrival_s"] <= s.lunch_latest_s
    )
    for other in plan["routes"]:
        if other["vehicle_id"] == r["vehicle_id"]:
            other["break"] = None
    start = r["stops"][i]["arrival_s"]
    driver(plan, r["vehicle_id"])["lunch"] = r["break"] = {"start_s": start, "end_s": start + 1800}
    refused(plan, inputs, "lunch", f"route {r['route_id']} stop {i}", "overlaps the work")


def test_lunch_one_per_driver_across_trips(plan: Plan, inputs: PlanInputs) -> None:
    first, second = two_trips(plan)
    d = driver(plan, first["vehicle_id"])
    start = second["stops"][0]["departure_s"]
    if d["lunch"] is not None and d["lunch"]["start_s"] == start:
        start += 60  # the solve put the lunch right there: plant one that differs
    brk = {"start_s": start, "end_s": start + 1800}
    second["break"] = brk  # a second break, not the driver's lunch
    refused(plan, inputs, "lunch", second["route_id"])
    assert d["lunch"] != brk


def test_maximum_shift_per_driver_day(plan: Plan, inputs: PlanInputs) -> None:
    first, second = two_trips(plan)
    span = second["stops"][-1]["departure_s"] - first["stops"][0]["arrival_s"]
    short = dataclasses.replace(inputs.fleet.settings, max_shift_s=span - 1)
    refused(
        plan,
        with_fleet(inputs, dataclasses.replace(inputs.fleet, settings=short)),
        "max_shift",
        first["vehicle_id"],
    )


def test_turnaround_between_trips(plan: Plan, inputs: PlanInputs) -> None:
    first, second = two_trips(plan)
    second["stops"][0]["arrival_s"] = first["stops"][-1]["departure_s"] - 60
    refused(plan, inputs, "trips", second["route_id"], "before route")


def test_recharge_before_a_trip_starts_full(plan: Plan, inputs: PlanInputs) -> None:
    first, second = two_trips(plan)
    gap = second["stops"][0]["departure_s"] - first["stops"][-1]["arrival_s"]
    refused(
        plan,
        retype(inputs, first["vehicle_type"], recharge_s=gap + 1),
        "recharge",
        second["route_id"],
    )


def test_trips_numbered_in_time_order(plan: Plan, inputs: PlanInputs) -> None:
    first, second = two_trips(plan)
    first["trip"], second["trip"] = 2, 1
    refused(plan, inputs, "trips", first["vehicle_id"], "numbered")


def test_max_trips(plan: Plan, inputs: PlanInputs) -> None:
    first, _ = two_trips(plan)
    fleet = inputs.fleet
    vehicles = [
        dataclasses.replace(v, max_trips=1) if v.vehicle_id == first["vehicle_id"] else v
        for v in fleet.vehicles
    ]
    refused(
        plan,
        with_fleet(inputs, dataclasses.replace(fleet, vehicles=vehicles)),
        "trips",
        "at most 1",
    )


def test_vehicle_shift(plan: Plan, inputs: PlanInputs) -> None:
    r = plan["routes"][0]
    end = r["stops"][-1]["departure_s"] - 1
    fleet = inputs.fleet
    vehicles = [
        dataclasses.replace(v, shift_end_s=end) if v.vehicle_id == r["vehicle_id"] else v
        for v in fleet.vehicles
    ]
    listed = next(v for v in plan["vehicles"] if v["vehicle_id"] == r["vehicle_id"])
    listed["shift_end_s"] = end
    refused(
        plan,
        with_fleet(inputs, dataclasses.replace(fleet, vehicles=vehicles)),
        "shift",
        r["vehicle_id"],
    )


def test_driver_entry_matches_the_routes(plan: Plan, inputs: PlanInputs) -> None:
    d = plan["drivers"][0]
    d["end_s"] += 60
    refused(plan, inputs, "driver", d["vehicle_id"])
    plan["drivers"].pop(0)
    refused(plan, inputs, "driver", d["vehicle_id"], "no driver entry")


def test_a_vehicle_off_today_has_no_routes(plan: Plan, inputs: PlanInputs) -> None:
    r = plan["routes"][0]
    next(v for v in plan["vehicles"] if v["vehicle_id"] == r["vehicle_id"])["available"] = False
    refused(plan, inputs, "availability", r["vehicle_id"], "off today")


# --- parcels -------------------------------------------------------------------------------


def test_transfer_waits_for_sorting(plan: Plan, inputs: PlanInputs) -> None:
    slow = dataclasses.replace(inputs.fleet.settings, sort_time_s=6 * 3600)
    refused(
        plan,
        with_fleet(inputs, dataclasses.replace(inputs.fleet, settings=slow)),
        "transfer",
        "sorting",
    )


def test_every_parcel_accounted_for(plan: Plan, inputs: PlanInputs) -> None:
    r, i = village_stop(plan)
    t = r["stops"][i]["drop"][0] if r["stops"][i]["drop"] else r["stops"][i]["load"][0]
    for route in plan["routes"]:
        for s in route["stops"]:
            for key in ("load", "drop"):
                if t in s[key]:
                    s[key].remove(t)
    refused(plan, inputs, "chain", t, "neither carried")


def test_deferred_only_when_due_later(plan: Plan, inputs: PlanInputs) -> None:
    t = next(p.tracking_no for p in inputs.parcels if p.due_date == DAY)
    plan["unassigned"].append({"parcel_id": t, "code": "deferred_capacity", "reason": "Deferred."})
    refused(plan, inputs, "reason", t, "deferred but due")


def test_held_produce_claim_is_checked(plan: Plan, inputs: PlanInputs) -> None:
    produce = next(p for p in inputs.parcels if p.kind == "pickup" and not p.cold)
    station = inputs.points[produce.point_id].town_id
    plan["held"].append(
        {
            "parcel_id": produce.tracking_no,
            "station": station,
            "arrived_s": 0,
            "code": "after_last_call",
            "reason": "Held.",
        }
    )
    refused(plan, inputs, "held", produce.tracking_no)


def test_carry_over_lists_what_the_next_day_takes(plan: Plan, inputs: PlanInputs) -> None:
    later = next(p for p in inputs.parcels if p.due_date > DAY and p.kind == "delivery")
    for r in plan["routes"]:
        for s in r["stops"]:
            for key in ("load", "drop"):
                if later.tracking_no in s[key]:
                    s[key].remove(later.tracking_no)
    plan["unassigned"].append(
        {"parcel_id": later.tracking_no, "code": "deferred_capacity", "reason": "Deferred."}
    )
    refused(plan, inputs, "carry_over", later.tracking_no, "not handed on")


# --- KPIs ----------------------------------------------------------------------------------


KPIS = [
    "parcels", "delivered", "picked_up", "unassigned", "left_today", "deferred", "held",
    "distance_m", "duration_s", "vehicle_hours", "cost_fen", "vehicles_used", "routes",
    "cost_per_parcel_fen",
]  # fmt: skip


@pytest.mark.parametrize("key", KPIS)
def test_every_kpi_is_recomputed(plan: Plan, inputs: PlanInputs, key: str) -> None:
    plan["kpis"][key] += 1
    refused(plan, inputs, "kpi", f"kpis.{key}")


@pytest.mark.parametrize("echelon", ["echelon_1", "echelon_2"])
def test_echelon_kpis(plan: Plan, inputs: PlanInputs, echelon: str) -> None:
    plan["kpis"][echelon]["cost_fen"] += 1
    refused(plan, inputs, "kpi", f"kpis.{echelon}")


def test_town_kpis_say_what_was_done(plan: Plan, inputs: PlanInputs) -> None:
    row = next(t for t in plan["kpis"]["towns"] if t["via_station"])
    row["via_station"] -= 1
    row["direct"] += 1
    refused(plan, inputs, "kpi", "kpis.towns")


def test_status(plan: Plan, inputs: PlanInputs) -> None:
    plan["status"] = "partial"
    refused(plan, inputs, "kpi", "plan.status")
