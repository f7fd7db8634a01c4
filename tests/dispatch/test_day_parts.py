"""The day planner's parts, each on the tiny hand-built county: eligibility, modes, station
timing, drivers' days, lunch placement, reasons."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dispatch.driver_day import Drivers, LunchWindow, TripSlot, TripTimes
from dispatch.eligibility import Eligibility
from dispatch.jobs import Job, Role, make_jobs
from dispatch.legs import Trip, Visit, _place_lunch, solve_leg
from dispatch.modes import route_parcels
from dispatch.reasons import why_unserved
from dispatch.station_timing import feeder_ready, last_call, produce_back
from dispatch.workspace import Workspace
from optimizer.problem import Problem, Vehicle
from tests.dispatch.tiny_county import S1, S2, V11, V12, V21, V22, H, fleet, parcel, workspace

HOUR = 3600


@pytest.fixture(scope="module")
def ws() -> Workspace:
    return workspace()


@pytest.fixture(scope="module")
def rules(ws: Workspace) -> Eligibility:
    return Eligibility(ws, ws.fleet)


def vehicles(ws: Workspace, depot: str) -> list:
    return [v for v in ws.fleet.working() if v.depot == depot]


# --- eligibility ---------------------------------------------------------------------------


def test_road_class_and_cold_chain(rules: Eligibility) -> None:
    t = rules.fleet.types
    assert rules.may_enter(t["trike"], V22) and not rules.may_enter(t["van"], V22)
    assert rules.may_enter(t["truck"], S1) and not rules.may_enter(t["truck"], V11)
    assert rules.may_serve(t["van_cold"], V11, cold=True)
    assert not rules.may_serve(t["van"], V11, cold=True)


def test_largest_capacity_that_may_serve_a_point(ws: Workspace, rules: Eligibility) -> None:
    assert rules.capacity(vehicles(ws, H), V11, False) == (800_000, 5_000_000)  # no truck
    assert rules.capacity(vehicles(ws, H), S1, False) == (2_000_000, 16_000_000)
    assert rules.capacity(vehicles(ws, H), V22, False) == (0, 0)  # a tricycle lane


def test_impossible_parcels_in_order_of_the_rules(ws: Workspace, rules: Eligibility) -> None:
    hub = vehicles(ws, H)
    assert rules.impossible(parcel(1, V22), hub) == "no_vehicle_allowed"
    assert rules.impossible(parcel(2, V21, cold=True), vehicles(ws, S2)) == "no_cold_vehicle"
    assert rules.impossible(parcel(3, V11, weight_g=900_000), hub) == "too_large"
    assert rules.impossible(parcel(4, V11), hub) is None


# --- modes ---------------------------------------------------------------------------------


def test_parcels_go_through_their_station_unless_it_cannot_handle_them(
    ws: Workspace, rules: Eligibility
) -> None:
    by_station = {S1: vehicles(ws, S1), S2: vehicles(ws, S2)}
    ps = [
        parcel(1, V11),
        parcel(2, V12, cold=True),  # S1 keeps a cold room and a cold tricycle
        parcel(3, V21, cold=True),  # S2 has no cold room
        parcel(4, V22, weight_g=350_000),  # more than S2's tricycle, the only class that enters
        parcel(5, S1),
    ]
    r = route_parcels(rules, ps, by_station, "via_station")
    assert [p.tracking_no for p in r.via[S1]] == ["T0001", "T0002"]
    assert [p.tracking_no for p in r.station] == ["T0005"]
    assert r.why_direct == {
        "T0003": "cold_without_cold_room",
        "T0004": "station_vehicle_cannot_serve",
    }
    direct = route_parcels(rules, ps, by_station, "direct")
    assert not direct.via and set(direct.why_direct.values()) == {"mode_direct"}
    no_vans = route_parcels(rules, ps[:1], {S1: []}, "via_station")
    assert no_vans.why_direct == {"T0001": "no_station_vehicle"}


def test_a_station_vehicle_that_cannot_arrive_in_time_sends_the_parcel_direct(
    ws: Workspace,
) -> None:
    late = [
        dataclasses.replace(v, shift_start_s=18 * HOUR + 2700, shift_end_s=23 * HOUR)
        for v in vehicles(ws, S1)
    ]
    rules = Eligibility(ws, dataclasses.replace(ws.fleet, vehicles=late))
    r = route_parcels(rules, [parcel(1, V11)], {S1: late}, "via_station")
    assert r.why_direct == {"T0001": "station_too_far"}


def test_an_unknown_mode_is_refused(rules: Eligibility) -> None:
    with pytest.raises(ValueError, match="mode must be one of"):
        route_parcels(rules, [], {}, "sideways")


# --- jobs ----------------------------------------------------------------------------------


def test_jobs_split_to_fit_and_keep_roles() -> None:
    ps = [parcel(i, V11, weight_g=300_000) for i in range(3)] + [parcel(9, V11, kind="pickup")]
    jobs, big = make_jobs(ps, Role.VILLAGE, lambda point, cold: (700_000, 10**9), lambda p: False)
    assert big == []
    assert sorted(len(j.deliveries) for j in jobs) == [1, 2]
    assert all(j.role is Role.VILLAGE for j in jobs)
    assert sum(len(j.pickups) for j in jobs) == 1
    job = jobs[0]
    assert job.without({p.tracking_no for p in job.parcels}).parcels == ()
    fed, _ = make_jobs(ps[:1], Role.FEED, lambda p, c: (10**9, 10**9), lambda p: False, at=S1)
    assert fed[0].point_id == S1 and fed[0].deliveries[0].point_id == V11


# --- drivers' days -------------------------------------------------------------------------


def test_turnaround_recharge_and_maximum_shift(ws: Workspace) -> None:
    drivers = Drivers(ws.fleet)
    trike = next(v for v in ws.fleet.vehicles if v.vehicle_id == f"{S1}-E1")
    s = ws.fleet.settings
    first = drivers.slot(trike)
    assert first is not None and first.first and first.trip == 1
    assert first.earliest_s == trike.shift_start_s
    drivers.record(first, TripTimes(8 * HOUR, 8 * HOUR + s.load_s, 9 * HOUR, 9 * HOUR + s.unload_s))
    second = drivers.slot(trike)
    assert second is not None and second.trip == 2 and not second.first
    # the tricycle recharges 30 min after arriving; loading (15 min) may overlap it
    assert second.earliest_s == max(9 * HOUR + s.unload_s, 9 * HOUR + 1800 - s.load_s)
    assert second.latest_s == min(trike.shift_end_s, 8 * HOUR + s.max_shift_s)


def test_one_lunch_per_driver_across_trips(ws: Workspace) -> None:
    s = ws.fleet.settings
    drivers = Drivers(ws.fleet)
    van = next(v for v in ws.fleet.vehicles if v.vehicle_id == "HUB-V01")
    morning = drivers.slot(van)
    assert morning is not None and morning.lunch == LunchWindow(
        s.lunch_earliest_s, s.lunch_latest_s
    )
    drivers.record(morning, TripTimes(7 * HOUR, 7 * HOUR + 900, 10 * HOUR, 10 * HOUR + 600))
    assert drivers.days["HUB-V01"].lunch_owed  # back before the lunch window: still owed
    noon = drivers.slot(van)
    assert noon is not None and noon.lunch is not None
    drivers.record(
        noon, TripTimes(11 * HOUR, 11 * HOUR + 900, 14 * HOUR, 14 * HOUR + 600, 12 * HOUR)
    )
    assert drivers.days["HUB-V01"].lunch_s == 12 * HOUR
    evening = drivers.slot(van)
    assert evening is not None and evening.lunch is None  # settled: no second lunch
    assert drivers.settle() == {"HUB-V01": 12 * HOUR}


def test_an_owed_lunch_is_taken_after_a_trip_that_ends_in_the_window(ws: Workspace) -> None:
    drivers = Drivers(ws.fleet)
    van = next(v for v in ws.fleet.vehicles if v.vehicle_id == "HUB-V01")
    slot = drivers.slot(van)
    assert slot is not None
    drivers.record(slot, TripTimes(9 * HOUR, 9 * HOUR + 900, 12 * HOUR, 12 * HOUR + 600))
    assert drivers.days["HUB-V01"].lunch_s == 12 * HOUR + 600
    nxt = drivers.slot(van)
    assert nxt is not None and nxt.earliest_s >= 12 * HOUR + 600 + 1800


# --- lunch placement ------------------------------------------------------------------------


def _line_problem() -> Problem:
    """Depot 0 and stops 1, 2 half an hour apart; 10 min service."""
    d = np.array([[0, 1800, 3600], [1800, 0, 1800], [3600, 1800, 0]], np.int64)
    return Problem.build([d], [Vehicle(0, 0, 10, 10)], durations=[d], service=[900, 600, 600])


def _slot(ws: Workspace, lunch: LunchWindow | None) -> TripSlot:
    van = next(v for v in ws.fleet.vehicles if v.vehicle_id == "HUB-V01")
    return TripSlot(van, ws.fleet.types["van"], 1, 7 * HOUR, 18 * HOUR, 10 * HOUR, lunch, True)


def test_lunch_goes_into_the_first_gap_the_window_opens_in(ws: Workspace) -> None:
    s = ws.fleet.settings
    problem = _line_problem()
    start = 11 * HOUR
    times = [start, start + 900 + 1800, start + 900 + 1800 + 600 + 1800, 0]
    times[3] = times[2] + 600 + 3600
    window = LunchWindow(s.lunch_earliest_s, s.lunch_latest_s)
    placed = _place_lunch(
        problem, 0, [1, 2], times, _slot(ws, window), problem.time_windows, ["D", "A", "B"], s
    )
    assert placed is not None
    new, lunch = placed
    # the window opens on the way to the first stop: parked at 11:30, then on
    assert lunch == s.lunch_earliest_s
    assert new[1] == times[1] + 1800 and new[2] == times[2] + 1800
    assert new[3] == new[2] + 600 + 3600


def test_lunch_before_the_trip_or_after_it(ws: Workspace) -> None:
    s = ws.fleet.settings
    problem = _line_problem()
    late = [14 * HOUR, 14 * HOUR + 2700, 14 * HOUR + 5100, 14 * HOUR + 9300]
    window = LunchWindow(s.lunch_earliest_s, s.lunch_latest_s)
    slot = _slot(ws, window)
    assert _place_lunch(
        problem, 0, [1, 2], late, slot, problem.time_windows, ["D", "A", "B"], s
    ) == (late, s.lunch_earliest_s)
    early = [7 * HOUR, 7 * HOUR + 2700, 7 * HOUR + 5100, 7 * HOUR + 9300]
    assert _place_lunch(
        problem, 0, [1, 2], early, slot, problem.time_windows, ["D", "A", "B"], s
    ) == (early, None)


def test_a_leg_across_lunch_keeps_the_lunch_free_of_work(ws: Workspace, rules: Eligibility) -> None:
    van = next(v for v in ws.fleet.vehicles if v.vehicle_id == "HUB-V01")
    noon = dataclasses.replace(van, shift_start_s=11 * HOUR)
    days = Drivers(dataclasses.replace(ws.fleet, vehicles=[noon]))
    slot = days.slot(noon)
    assert slot is not None and slot.lunch is not None
    jobs = [
        Job(V11, Role.DIRECT, deliveries=(parcel(1, V11),)),
        Job(V21, Role.DIRECT, deliveries=(parcel(2, V21),)),
    ]
    leg = solve_leg(ws, rules, jobs, [slot], echelon=1, time_limit_s=1.0)
    assert not leg.unserved and len(leg.trips) == 1
    trip = leg.trips[0]
    lunch = trip.times.lunch_s
    assert lunch is not None and ws.fleet.settings.lunch_earliest_s <= lunch
    for v in trip.visits:
        assert v.end_s <= lunch or v.start_s >= lunch + 1800


# --- station timing -------------------------------------------------------------------------


def _trip(ws: Workspace, vid: str, echelon: int, visits: list[Visit], times: TripTimes) -> Trip:
    vehicle = next(v for v in ws.fleet.vehicles if v.vehicle_id == vid)
    slot = TripSlot(vehicle, ws.fleet.types[vehicle.vtype], 1, 0, 86400, 86400, None, True)
    return Trip(slot, echelon, times, tuple(visits))


def test_village_runs_wait_for_the_last_feeder_drop_and_sorting(ws: Workspace) -> None:
    feed = Job(S1, Role.FEED, deliveries=(parcel(1, V11),))
    own = Job(S1, Role.STATION, deliveries=(parcel(2, S1),))
    early = _trip(
        ws,
        "HUB-T01",
        1,
        [Visit(feed, 8 * HOUR, 8 * HOUR + 400)],
        TripTimes(0, 0, 9 * HOUR, 9 * HOUR),
    )
    late = _trip(
        ws,
        "HUB-V01",
        1,
        [Visit(own, 10 * HOUR, 10 * HOUR + 400)],
        TripTimes(0, 0, 11 * HOUR, 11 * HOUR),
    )
    assert feeder_ready([early, late], 1800) == {
        S1: 8 * HOUR + 400 + 1800
    }  # the station's own parcels hold nothing up


def test_produce_is_ready_when_unloaded_and_the_last_call_counts_the_cold_chain(
    ws: Workspace,
) -> None:
    pick = Job(V11, Role.VILLAGE, pickups=(parcel(1, V11, "pickup", cold=True),))
    run = _trip(
        ws,
        f"{S1}-R1",
        2,
        [Visit(pick, 12 * HOUR, 12 * HOUR + 300)],
        TripTimes(11 * HOUR, 11 * HOUR + 900, 13 * HOUR, 13 * HOUR + 600),
    )
    assert produce_back([run]) == [(run, 13 * HOUR + 600)]
    fetch = Job(S1, Role.COLLECT)
    van = _trip(
        ws,
        "HUB-V01",
        1,
        [Visit(fetch, 15 * HOUR, 15 * HOUR + 300)],
        TripTimes(0, 0, 16 * HOUR, 16 * HOUR),
    )
    reefer = _trip(
        ws,
        "HUB-R01",
        1,
        [Visit(fetch, 14 * HOUR, 14 * HOUR + 300)],
        TripTimes(0, 0, 16 * HOUR, 16 * HOUR),
    )
    assert last_call([van, reefer], S1, cold=False) == 15 * HOUR + 300
    assert last_call([van, reefer], S1, cold=True) == 14 * HOUR + 300
    assert last_call([van], S2, cold=False) is None


# --- reasons -------------------------------------------------------------------------------


def test_reasons_follow_the_first_rule_that_leaves_no_vehicle(
    ws: Workspace, rules: Eligibility
) -> None:
    hub, s1, s2 = vehicles(ws, H), vehicles(ws, S1), vehicles(ws, S2)
    assert why_unserved(rules, parcel(1, V22), hub, []) == "no_vehicle_allowed"
    assert why_unserved(rules, parcel(2, V22, cold=True), hub, s2) == "no_cold_vehicle"
    assert why_unserved(rules, parcel(3, V11, weight_g=900_000), hub, s1) == "too_large"
    short = dataclasses.replace(ws.fleet.types["trike"], range_m=1000)
    tight = Eligibility(ws, dataclasses.replace(ws.fleet, types={**ws.fleet.types, "trike": short}))
    assert why_unserved(tight, parcel(4, V22), hub, s2) == "out_of_range"
    assert (
        why_unserved(rules, parcel(5, V11), hub, s1, not_before_s=20 * HOUR)
        == "closes_before_arrival"
    )
    assert why_unserved(rules, parcel(6, V11), hub, s1) == "capacity_full"
    assert why_unserved(rules, parcel(7, V11, cold=True), hub, s1) == "no_cold_vehicle"


def test_the_fleet_in_the_tiny_county_is_consistent() -> None:
    f = fleet(off=("HUB-V01",))
    assert "HUB-V01" not in {v.vehicle_id for v in f.working()}
    with pytest.raises(ValueError, match="unknown vehicle id 'NOPE'"):
        f.with_off(["NOPE"])
