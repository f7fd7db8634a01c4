"""Whole days: the three-tier default, direct, vehicles where they live, drivers' rules,
held produce carried into the next day, and every reason provoked in a real plan."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from collections import Counter
from typing import Any

import pytest

from dispatch import service
from dispatch.demo import generate_day
from dispatch.fleet import Fleet
from dispatch.parcel import Parcel
from dispatch.plan import read_plan
from dispatch.validate import validate_plan
from dispatch.workspace import Workspace
from tests.dispatch.plan_json import plan_json, replan_json
from tests.dispatch.tiny_county import DAY, S1, S2, V11, V12, V21, V22, H, parcel, workspace

Plan = dict[str, Any]
HOUR = 3600


@pytest.fixture(scope="module")
def yongchuan() -> Workspace:
    return Workspace.default()


@pytest.fixture(scope="module")
def tiny() -> Workspace:
    return workspace()


def codes(plan: Plan) -> Counter[str]:
    return Counter(u["code"] for u in plan["unassigned"])


def plan_tiny(
    ws: Workspace,
    parcels: list[Parcel],
    f: Fleet | None = None,
    mode: str = "via_station",
    **kw: Any,
) -> Plan:
    plan = plan_json(ws, parcels, date=DAY, fleet=f, time_limit_s=2.0, mode=mode, **kw)
    assert validate_plan(plan, service.plan_inputs(ws, f or ws.fleet, parcels)) == [] or kw
    return plan


def vehicles_with_routes(plan: Plan) -> set[str]:
    return {r["vehicle_id"] for r in plan["routes"]}


# --- the three tiers on the embedded county -----------------------------------------------


@pytest.fixture(scope="module")
def small_day(yongchuan: Workspace) -> tuple[list[Parcel], Plan, Plan]:
    parcels = generate_day(yongchuan.county, n_parcels=400, seed=3, date=DAY)
    via = plan_json(yongchuan, parcels, date=DAY, time_limit_s=3.0, mode="via_station")
    direct = plan_json(yongchuan, parcels, date=DAY, time_limit_s=3.0, mode="direct")
    return parcels, via, direct


def test_the_default_day_runs_through_the_stations(
    yongchuan: Workspace, small_day: tuple[list[Parcel], Plan, Plan]
) -> None:
    parcels, plan, _ = small_day
    assert validate_plan(plan, service.plan_inputs(yongchuan, yongchuan.fleet, parcels)) == []
    k = plan["kpis"]
    assert k["echelon_2"]["routes"] > 0 and k["left_today"] == 0
    via = sum(t["via_station"] for t in k["towns"])
    village = via + sum(t["direct"] for t in k["towns"])
    assert via >= 0.8 * village
    # a transfer: dropped by echelon 1 at a station, loaded there by echelon 2
    dropped = {
        t for r in plan["routes"] if r["echelon"] == 1 for s in r["stops"][1:-1] for t in s["drop"]
    }
    loaded = {t for r in plan["routes"] if r["echelon"] == 2 for t in r["stops"][0]["load"]}
    assert dropped & loaded
    # every vehicle works from its own base
    base = {v["vehicle_id"]: v["depot"] for v in plan["vehicles"]}
    assert all(r["depot"] == base[r["vehicle_id"]] for r in plan["routes"])


def test_direct_leaves_station_vehicles_at_their_stations(
    yongchuan: Workspace, small_day: tuple[list[Parcel], Plan, Plan]
) -> None:
    parcels, _, plan = small_day
    assert validate_plan(plan, service.plan_inputs(yongchuan, yongchuan.fleet, parcels)) == []
    assert plan["mode"] == "direct"
    assert {r["depot"] for r in plan["routes"]} == {"HUB"}
    assert {r["echelon"] for r in plan["routes"]} == {1}


def test_auto_keeps_the_better_of_the_two_plans(yongchuan: Workspace) -> None:
    parcels = generate_day(yongchuan.county, n_parcels=250, seed=4, date=DAY)
    plan = plan_json(yongchuan, parcels, date=DAY, time_limit_s=3.0, mode="auto")
    auto = plan["kpis"]["auto"]
    assert plan["mode"] == auto["chosen"]
    assert auto["via_station_score_fen"] >= plan["kpis"]["cost_fen"] or auto["chosen"] == "direct"
    chosen = auto[f"{auto['chosen']}_score_fen"]
    assert chosen <= min(auto["via_station_score_fen"], auto["direct_score_fen"])
    assert auto["why"]


def test_drivers_rules_hold_across_trips(
    yongchuan: Workspace, small_day: tuple[list[Parcel], Plan, Plan]
) -> None:
    _, plan, _ = small_day
    s = yongchuan.fleet.settings
    for d in plan["drivers"]:
        assert d["end_s"] - d["start_s"] <= s.max_shift_s
        lunch = d["lunch"]
        assert lunch is not None and s.lunch_earliest_s <= lunch["start_s"] <= s.lunch_latest_s
        mine = [r for r in plan["routes"] if r["vehicle_id"] == d["vehicle_id"]]
        assert [r["route_id"] for r in sorted(mine, key=lambda r: r["trip"])] == d["routes"]
        assert sum(1 for r in mine if r["break"]) <= 1
        for r in mine:
            for stop in r["stops"]:  # no work during lunch
                assert (
                    stop["departure_s"] <= lunch["start_s"] or stop["arrival_s"] >= lunch["end_s"]
                )


# --- the tiny county: each rule provoked ---------------------------------------------------


def test_chilled_goods_for_a_town_without_a_cold_room_go_straight_from_the_hub(
    tiny: Workspace,
) -> None:
    plan = plan_tiny(tiny, [parcel(1, V21, cold=True), parcel(2, V11, cold=True)])
    assert plan["kpis"]["direct_why"] == {"cold_without_cold_room": 1}
    loaded_by = {
        (t, r["echelon"]): r["vehicle_id"] for r in plan["routes"] for t in r["stops"][0]["load"]
    }
    assert loaded_by[("T0001", 1)] == "HUB-R01"
    assert loaded_by[("T0002", 1)] == "HUB-R01"  # fed to S1, then S1's cold tricycle
    assert loaded_by[("T0002", 2)] == f"{S1}-R1"


def test_a_vehicle_off_today(tiny: Workspace) -> None:
    f = tiny.fleet.with_off(["HUB-R01"])
    plan = plan_tiny(tiny, [parcel(1, V21, cold=True), parcel(2, V11)], f)
    assert "HUB-R01" not in vehicles_with_routes(plan)
    assert next(v for v in plan["vehicles"] if v["vehicle_id"] == "HUB-R01")["available"] is False
    assert codes(plan) == Counter({"no_cold_vehicle": 1})


def test_tricycles_keep_to_their_range(tiny: Workspace) -> None:
    short = dataclasses.replace(tiny.fleet.types["trike"], range_m=3000)
    f = dataclasses.replace(tiny.fleet, types={**tiny.fleet.types, "trike": short})
    plan = plan_tiny(tiny, [parcel(1, V22)], f)
    assert codes(plan) == Counter(
        {"out_of_range": 1}
    )  # only tricycles enter V22; 7.6 km there and back


def test_too_large_for_every_vehicle_that_may_enter(tiny: Workspace) -> None:
    plan = plan_tiny(tiny, [parcel(1, V11), parcel(2, V11, weight_g=900_000)])
    assert codes(plan) == Counter({"too_large": 1})
    assert plan["status"] == "partial" and plan["kpis"]["left_today"] == 1


def test_no_vehicle_may_enter(tiny: Workspace) -> None:
    plan = plan_tiny(tiny, [parcel(1, V22)], mode="direct")
    assert codes(plan) == Counter({"no_vehicle_allowed": 1})  # a tricycle lane, hub vans only


def test_cannot_arrive_before_the_point_closes(tiny: Workspace) -> None:
    late = [
        dataclasses.replace(v, shift_start_s=18 * HOUR + 2700, shift_end_s=23 * HOUR)
        for v in tiny.fleet.vehicles
    ]
    plan = plan_tiny(tiny, [parcel(1, V11)], dataclasses.replace(tiny.fleet, vehicles=late))
    assert codes(plan) == Counter({"closes_before_arrival": 1})


def test_due_later_is_deferred_and_today_beyond_capacity_is_capacity_full(tiny: Workspace) -> None:
    one_van = dataclasses.replace(
        tiny.fleet,
        vehicles=[
            dataclasses.replace(v, max_trips=1)
            for v in tiny.fleet.vehicles
            if v.vehicle_id == "HUB-V01"
        ],
    )
    big = {"weight_g": 150_000, "volume_ml": 900_000}
    today = [parcel(i, V11, **big) for i in range(8)]
    later = [parcel(100 + i, V12, due_date=DAY + dt.timedelta(days=1), **big) for i in range(3)]
    plan = plan_tiny(tiny, today + later, one_van, mode="direct")
    c = codes(plan)
    assert c["deferred_capacity"] == 3 and c["capacity_full"] >= 1
    assert {x["tracking_no"] for x in plan["carry_over"]} == {p.tracking_no for p in later}
    assert all(x["at"] == H and x["why"] == "deferred" for x in plan["carry_over"])


# --- held produce and the next day ---------------------------------------------------------


def test_produce_after_the_last_call_is_held_and_collected_the_next_day(tiny: Workspace) -> None:
    early = [
        dataclasses.replace(v, shift_end_s=8 * HOUR + 2700) if v.depot == H else v
        for v in tiny.fleet.vehicles
    ]
    f = dataclasses.replace(tiny.fleet, vehicles=early)
    produce = [parcel(1, V11, "pickup", weight_g=10_000, volume_ml=20_000), parcel(2, V11)]
    today = plan_tiny(tiny, produce, f)
    assert [h["parcel_id"] for h in today["held"]] == ["T0001"]
    assert today["held"][0]["station"] == S1
    assert today["kpis"]["held"] == 1 and today["kpis"]["left_today"] == 0
    assert [c["tracking_no"] for c in today["carry_over"]] == ["T0001"]
    assert today["carry_over"][0]["at"] == S1

    tomorrow = plan_json(
        tiny,
        [parcel(3, V12)],
        date=DAY + dt.timedelta(days=1),
        time_limit_s=2.0,
        mode="via_station",
        carry_over=today,
    )
    assert tomorrow["carried_in"] == [{"parcel_id": "T0001", "at": S1}]
    fetched = [
        r
        for r in tomorrow["routes"]
        if r["echelon"] == 1
        and any("T0001" in s["load"] for s in r["stops"] if s["point_id"] == S1)
    ]
    assert fetched and "T0001" in fetched[0]["stops"][-1]["drop"]
    previous = read_plan(copy.deepcopy(today))
    assert service.check_plan_file(tiny, tomorrow, [parcel(3, V12)], tiny.fleet, previous) == []
    # without the earlier plan the validator cannot place T0001 at the station
    assert service.check_plan_file(tiny, tomorrow, [parcel(3, V12)], tiny.fleet) != []


def test_a_carried_parcel_that_is_also_in_todays_manifests_is_refused(tiny: Workspace) -> None:
    early = [
        dataclasses.replace(v, shift_end_s=8 * HOUR + 2700) if v.depot == H else v
        for v in tiny.fleet.vehicles
    ]
    today = plan_tiny(
        tiny, [parcel(1, V11, "pickup")], dataclasses.replace(tiny.fleet, vehicles=early)
    )
    assert today["held"]
    from dispatch.parcel import ManifestError

    with pytest.raises(ManifestError, match="T0001 is also in today's manifests"):
        plan_json(tiny, [parcel(1, V11)], date=DAY, time_limit_s=1.0, carry_over=today)


def test_both_stations_and_their_vehicles_are_used(tiny: Workspace) -> None:
    plan = plan_tiny(tiny, [parcel(1, V11), parcel(2, V21), parcel(3, V22), parcel(4, S2)])
    assert {r["depot"] for r in plan["routes"] if r["echelon"] == 2} == {S1, S2}
    assert plan["kpis"]["towns"][1]["station"] == 1


def test_parcels_at_a_station_whose_vehicles_broke_down_wait_there(tiny: Workspace) -> None:
    parcels = [parcel(1, V11), parcel(2, V12)]
    plan = plan_tiny(tiny, parcels)
    feed = next(
        r
        for r in plan["routes"]
        if r["echelon"] == 1 and any(s["point_id"] == S1 for s in r["stops"])
    )
    dropped = next(s for s in feed["stops"] if s["point_id"] == S1)
    at = dropped["departure_s"] + 60  # unloaded at the station, not yet sorted
    events = [
        {"type": "breakdown", "vehicle_id": v.vehicle_id, "time_s": at}
        for v in tiny.fleet.vehicles
        if v.depot == S1
    ]
    new = replan_json(tiny, plan, parcels, events, time_limit_s=2.0)
    assert sorted(h["parcel_id"] for h in new["held"]) == ["T0001", "T0002"]
    assert {h["code"] for h in new["held"]} == {"no_village_run"}
    assert all(c["at"] == S1 and c["why"] == "held" for c in new["carry_over"])
    tomorrow = plan_json(
        tiny,
        [],
        date=DAY + dt.timedelta(days=1),
        time_limit_s=2.0,
        mode="via_station",
        carry_over=new,
    )
    delivered = {
        t for r in tomorrow["routes"] if r["echelon"] == 2 for s in r["stops"] for t in s["drop"]
    }
    assert delivered == {"T0001", "T0002"}


def test_produce_left_at_a_station_rides_a_hub_trip_that_calls_there_anyway(
    tiny: Workspace,
) -> None:
    """The afternoon has no refrigerated trip left for chilled produce waiting at S1, but the
    reefer van's one trip calls at S1 after the produce is there: the late insertion puts it
    on that call instead of leaving it behind."""
    early = [
        dataclasses.replace(v, shift_end_s=8 * HOUR + 2700) if v.depot == H else v
        for v in tiny.fleet.vehicles
    ]
    chilled = {"cold": True, "weight_g": 10_000, "volume_ml": 20_000}
    yesterday = plan_tiny(
        tiny, [parcel(1, V11, "pickup", **chilled)], dataclasses.replace(tiny.fleet, vehicles=early)
    )
    assert [h["parcel_id"] for h in yesterday["held"]] == ["T0001"]

    one_trip = dataclasses.replace(
        tiny.fleet,
        vehicles=[
            dataclasses.replace(v, max_trips=1) if v.depot == H else v for v in tiny.fleet.vehicles
        ],
    )
    today_parcels = [parcel(2, S1, cold=True)]  # only the reefer van may take it, in the morning
    today = plan_json(
        tiny,
        today_parcels,
        date=DAY + dt.timedelta(days=1),
        fleet=one_trip,
        time_limit_s=2.0,
        mode="via_station",
        carry_over=yesterday,
    )
    assert today["unassigned"] == [] and today["held"] == []
    (reefer,) = [r for r in today["routes"] if r["vehicle_id"] == "HUB-R01"]
    at_s1 = next(s for s in reefer["stops"] if s["point_id"] == S1)
    assert "T0001" in at_s1["load"] and "T0002" in at_s1["drop"]
    assert "T0001" in reefer["stops"][-1]["drop"]
    previous = read_plan(copy.deepcopy(yesterday))
    assert service.check_plan_file(tiny, today, today_parcels, one_trip, previous) == []


def test_a_village_parcel_left_at_the_end_goes_through_its_station_after_all(
    tiny: Workspace,
) -> None:
    """The hub's vehicles start after the station deadline, so no morning run feeds S2 and
    none of them may enter V22 (a tricycle lane): the late insertion drops the parcel at S2 on
    the hub trip that calls there anyway, and S2's tricycle takes it on once it is sorted."""
    late = [
        dataclasses.replace(v, shift_start_s=11 * HOUR) if v.depot == H else v
        for v in tiny.fleet.vehicles
    ]
    f = dataclasses.replace(tiny.fleet, vehicles=late)
    plan = plan_tiny(tiny, [parcel(1, S2), parcel(2, V22)], f)
    assert plan["unassigned"] == []
    hub_stop = next(
        s for r in plan["routes"] if r["echelon"] == 1 for s in r["stops"] if "T0002" in s["drop"]
    )
    assert hub_stop["point_id"] == S2 and "T0001" in hub_stop["drop"]
    (run,) = [r for r in plan["routes"] if r["echelon"] == 2]
    assert run["vehicle_id"] == f"{S2}-E1" and "T0002" in run["stops"][0]["load"]
