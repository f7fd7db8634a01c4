"""Re-planning after a breakdown, a late batch and a closed point."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest

from dispatch import service
from dispatch.demo import generate_day
from dispatch.parcel import Parcel
from dispatch.plan import read_plan
from dispatch.replan import EventError
from dispatch.validate import validate_plan
from dispatch.workspace import Workspace
from tests.dispatch.plan_json import plan_json, replan_json

DAY = dt.date(2026, 11, 28)


@pytest.fixture(scope="module")
def ws() -> Workspace:
    return Workspace.default()


@pytest.fixture(scope="module")
def day(ws: Workspace) -> tuple[list[Parcel], dict[str, Any]]:
    parcels = generate_day(ws.county, n_parcels=400, seed=4, date=DAY)
    return parcels, plan_json(ws, parcels, date=DAY, time_limit_s=3.0, mode="auto")


def test_breakdown_late_batch_and_closed_point(
    ws: Workspace, day: tuple[list[Parcel], dict[str, Any]]
) -> None:
    parcels, plan = day
    route = next(r for r in plan["routes"] if r["echelon"] == 1 and len(r["stops"]) > 4)
    at = (route["stops"][2]["departure_s"] + route["stops"][3]["arrival_s"]) // 2
    late = [
        p for p in generate_day(ws.county, n_parcels=40, seed=77, date=DAY) if p.kind == "delivery"
    ]
    closed = route["stops"][-2]["point_id"]
    events = [
        {"type": "breakdown", "vehicle_id": route["vehicle_id"], "time_s": at},
        {"type": "late_parcels", "time_s": at},
        {"type": "point_closed", "point_id": closed, "time_s": at},
    ]
    everything = parcels + late
    new = replan_json(ws, plan, everything, events, time_limit_s=3.0)

    assert validate_plan(new, service.plan_inputs(ws, ws.fleet, everything)) == []
    assert new["version_of"] == plan["plan_id"] and new["plan_id"] != plan["plan_id"]
    old = {r["route_id"]: r for r in plan["routes"]}
    for r in plan["routes"]:
        if r["stops"][0]["departure_s"] <= at and r["vehicle_id"] != route["vehicle_id"]:
            assert r in new["routes"]  # routes already on the road are left alone
    for r in new["routes"]:
        if r["route_id"] not in old:
            assert r["stops"][0]["departure_s"] >= at
    broken = next(r for r in new["routes"] if r["route_id"] == route["route_id"])
    assert broken["ended"] == "breakdown"
    assert broken["stops"][:3] == route["stops"][:3]
    codes = Counter(u["code"] for u in new["unassigned"])
    assert codes["vehicle_breakdown"] >= 1
    assert all(
        r["vehicle_id"] != route["vehicle_id"] or r["route_id"] in old for r in new["routes"]
    )
    carried_late = {pid for r in new["routes"] for s in r["stops"] for pid in s["drop"]}
    assert carried_late & {p.tracking_no for p in late}  # the late batch goes out today
    for u in new["unassigned"]:
        if u["code"] == "point_closed":
            assert next(p for p in everything if p.tracking_no == u["parcel_id"]).point_id == closed


def test_bad_events_are_refused(ws: Workspace, day: tuple[list[Parcel], dict[str, Any]]) -> None:
    parcels, plan = day
    with pytest.raises(EventError, match=r"events\[0\].vehicle_id"):
        service.replan(
            ws, read_plan(plan), parcels, [{"type": "breakdown", "vehicle_id": "NOPE", "time_s": 1}]
        )
    with pytest.raises(EventError, match=r"events\[0\].type"):
        service.replan(ws, read_plan(plan), parcels, [{"type": "flood"}])
    with pytest.raises(EventError, match=r"events\[0\].time"):
        service.replan(ws, read_plan(plan), parcels, [{"type": "late_parcels", "time": "noon"}])
    vid = plan["routes"][0]["vehicle_id"]
    with pytest.raises(EventError, match="needs time"):
        service.replan(ws, read_plan(plan), parcels, [{"type": "breakdown", "vehicle_id": vid}])


def test_a_breakdown_on_the_way_to_the_first_stop(
    ws: Workspace, day: tuple[list[Parcel], dict[str, Any]]
) -> None:
    parcels, plan = day
    route = next(
        r for r in plan["routes"] if r["stops"][1]["arrival_s"] > r["stops"][0]["departure_s"] + 60
    )
    at = route["stops"][0]["departure_s"] + 30
    events = [{"type": "breakdown", "vehicle_id": route["vehicle_id"], "time_s": at}]
    new = replan_json(ws, plan, parcels, events, time_limit_s=2.0)
    broken = next(r for r in new["routes"] if r["route_id"] == route["route_id"])
    assert broken["ended"] == "breakdown" and len(broken["stops"]) == 2
    assert broken["stops"][-1]["arrival_s"] == at
    stranded = {u["parcel_id"] for u in new["unassigned"] if u["code"] == "vehicle_breakdown"}
    assert stranded == set(route["stops"][0]["load"])
