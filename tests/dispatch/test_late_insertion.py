"""Late insertion on the tiny county: a job left by the legs goes into a planned trip with
room, around the driver's lunch, and the independent validator accepts the day; stops with
feeder drops and calls before held produce do not move."""

from __future__ import annotations

import dataclasses
import time

import pytest

from dispatch import service
from dispatch.driver_day import Drivers
from dispatch.eligibility import Eligibility
from dispatch.fleet import Fleet
from dispatch.jobs import Job, Role
from dispatch.late_insertion import insert_late
from dispatch.legs import Trip, solve_leg
from dispatch.plan_build import build_plan
from dispatch.two_echelon import DayResult
from dispatch.validate import validate_plan
from dispatch.workspace import Workspace
from tests.dispatch.tiny_county import DAY, S1, V11, V12, V21, parcel, workspace

HOUR = 3600


@pytest.fixture(scope="module")
def ws() -> Workspace:
    return workspace()


def _van(ws: Workspace, start_s: int) -> Fleet:
    """The tiny fleet with only the hub van, starting at `start_s`."""
    van = next(v for v in ws.fleet.vehicles if v.vehicle_id == "HUB-V01")
    return dataclasses.replace(ws.fleet, vehicles=[dataclasses.replace(van, shift_start_s=start_s)])


def _planned(ws: Workspace, f: Fleet, jobs: list[Job]) -> tuple[Drivers, Eligibility, Trip]:
    """One trip of the van for `jobs`, booked in its driver's day."""
    rules = Eligibility(ws, f)
    drivers = Drivers(f)
    slot = drivers.slot(f.vehicles[0])
    assert slot is not None
    leg = solve_leg(ws, rules, jobs, [slot], echelon=1, time_limit_s=1.0)
    assert not leg.unserved and len(leg.trips) == 1
    drivers.record(slot, leg.trips[0].times)
    return drivers, rules, leg.trips[0]


def test_a_left_job_goes_into_a_trip_across_lunch_and_the_day_stays_valid(ws: Workspace) -> None:
    f = _van(ws, 11 * HOUR)  # its trip crosses the lunch window
    first = [
        Job(V11, Role.DIRECT, deliveries=(parcel(1, V11),)),
        Job(V21, Role.DIRECT, deliveries=(parcel(2, V21),)),
    ]
    drivers, rules, trip = _planned(ws, f, first)
    left = Job(V12, Role.DIRECT, deliveries=(parcel(3, V12),), pickups=(parcel(4, V12, "pickup"),))
    trips, unplaced = insert_late(rules, drivers, [trip], [left], {}, time.monotonic() + 5)
    assert unplaced == []
    (new,) = trips
    assert [v.job.point_id for v in new.visits].count(V12) == 1
    lunch = drivers.settle()["HUB-V01"]
    assert all(v.end_s <= lunch or v.start_s >= lunch + 1800 for v in new.visits)

    parcels = [parcel(n, p) for n, p in ((1, V11), (2, V21), (3, V12))]
    parcels.append(parcel(4, V12, "pickup"))
    day = DayResult(trips=trips, unassigned=[], lunches=drivers.settle())
    plan = build_plan(ws, f, day, parcels, date=DAY, mode="direct").to_json()
    assert validate_plan(plan, service.plan_inputs(ws, f, parcels)) == []


def test_stops_with_feeder_drops_stay_put(ws: Workspace) -> None:
    f = _van(ws, 7 * HOUR)
    feed = Job(S1, Role.FEED, deliveries=(parcel(1, V11),), due_s=f.settings.station_deadline_s)
    drivers, rules, trip = _planned(ws, f, [feed])
    village = Job(V12, Role.DIRECT, deliveries=(parcel(3, V12),))
    # a parcel for S1 itself would move the drop (before it) or make its stop end later (after
    # it), and S1's village runs leave once that stop is done and sorted
    for_s1 = Job(S1, Role.STATION, deliveries=(parcel(2, S1),))
    _, unplaced = insert_late(rules, drivers, [trip], [for_s1], {}, time.monotonic() + 5)
    assert unplaced == [for_s1]
    # after the drop, at the next point, it fits
    trips, unplaced = insert_late(rules, drivers, [trip], [village], {}, time.monotonic() + 5)
    assert unplaced == [] and trips[0].visits[0] == trip.visits[0]


def test_a_call_does_not_move_past_produce_held_at_the_station(ws: Workspace) -> None:
    f = _van(ws, 7 * HOUR)
    drivers, rules, trip = _planned(ws, f, [Job(S1, Role.STATION, deliveries=(parcel(1, S1),))])
    more = Job(S1, Role.STATION, deliveries=(parcel(2, S1),))
    # produce held at S1, ready just after the van leaves it: a longer call would find it there
    held = {S1: [(trip.visits[0].end_s + 1, False)]}
    _, unplaced = insert_late(rules, drivers, [trip], [more], held, time.monotonic() + 5)
    assert unplaced == [more]
    _, unplaced = insert_late(rules, drivers, [trip], [more], {}, time.monotonic() + 5)
    assert unplaced == []
