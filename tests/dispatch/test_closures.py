"""A day planned around road closures, and a re-plan after a road closes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from dispatch import service
from dispatch.demo import generate_day
from dispatch.parcel import Parcel
from dispatch.replan import EventError
from dispatch.validate import validate_plan
from dispatch.workspace import Workspace
from geodata.closures import ClosureError, parse_closures
from tests.dispatch.plan_json import plan_json, replan_json

DAY = dt.date(2026, 11, 28)
Plan = dict[str, Any]


@pytest.fixture(scope="module")
def ws() -> Workspace:
    return Workspace.default()


@pytest.fixture(scope="module")
def parcels(ws: Workspace) -> list[Parcel]:
    return generate_day(ws.county, n_parcels=300, seed=7, date=DAY)


@pytest.fixture(scope="module")
def landslide(ws: Workspace, parcels: list[Parcel]) -> str:
    """A village with parcels today, cut off by a landslide."""
    wanted = {p.point_id for p in parcels}
    return next(p.point_id for p in ws.points if p.kind == "village" and p.point_id in wanted)


@pytest.fixture(scope="module")
def closed_day(ws: Workspace, parcels: list[Parcel], landslide: str) -> Plan:
    closures = parse_closures(
        [{"near": landslide, "radius_m": 300, "label": "山体滑坡"}], "closures.toml", first_row=1
    )
    return plan_json(ws, parcels, date=DAY, time_limit_s=3.0, mode="via_station", closures=closures)


def stops_at(plan: Plan, point_id: str) -> list[str]:
    return [r["route_id"] for r in plan["routes"] for s in r["stops"] if s["point_id"] == point_id]


def test_a_day_planned_around_a_landslide(
    ws: Workspace, parcels: list[Parcel], landslide: str, closed_day: Plan
) -> None:
    plan = closed_day
    there = {p.tracking_no for p in parcels if p.point_id == landslide}
    cut = {u["parcel_id"]: u for u in plan["unassigned"] if u["code"] == "road_closed"}
    assert set(cut) == there
    assert all(
        "山体滑坡" in u["reason"] and ws.point(landslide).name in u["reason"] for u in cut.values()
    )
    assert stops_at(plan, landslide) == []
    assert plan["closures"] == [{"near": landslide, "radius_m": 300.0, "label": "山体滑坡"}]
    k = plan["kpis"]["closures"]
    assert k["cut_off"] == [landslide] and k["edges_closed"] > 0 and k["closed_m"] > 0
    # checked again from the plan JSON alone: the closures it records are applied again
    assert service.check_plan_file(ws, plan, parcels, ws.fleet) == []
    # checked on open roads, its road_closed reasons have no closure behind them
    errors = validate_plan(plan, service.plan_inputs(ws, ws.fleet, parcels))
    assert errors and all("[reason]" in e and "no road closure cuts" in e for e in errors)


def test_a_cut_off_station_idles_its_vehicles(ws: Workspace, parcels: list[Parcel]) -> None:
    station = next(p for p in ws.points if p.kind == "station" and p.point_id == "500118002")
    closures = parse_closures([{"near": station.point_id, "radius_m": 400}], "closures.csv")
    plan = plan_json(ws, parcels, date=DAY, time_limit_s=2.0, mode="via_station", closures=closures)
    assert station.point_id in plan["kpis"]["closures"]["cut_off"]
    based = {v["vehicle_id"] for v in plan["vehicles"] if v["depot"] == station.point_id}
    assert based and not {r["vehicle_id"] for r in plan["routes"]} & based
    assert stops_at(plan, station.point_id) == []
    town = {p.tracking_no for p in parcels if ws.point(p.point_id).town_id == station.point_id}
    delivered = {t for r in plan["routes"] for s in r["stops"] for t in s["drop"]}
    assert town & delivered  # its villages are served straight from the hub


def test_a_road_closes_mid_morning(
    ws: Workspace, parcels: list[Parcel], closed_day: Plan, landslide: str
) -> None:
    plan = closed_day

    def village_of(r: dict[str, Any]) -> str | None:
        return next(
            (s["point_id"] for s in r["stops"][1:-1] if ws.point(s["point_id"]).kind == "village"),
            None,
        )

    later = sorted(
        (r for r in plan["routes"] if r["stops"][0]["arrival_s"] > 8 * 3600 and village_of(r)),
        key=lambda r: r["stops"][0]["arrival_s"],
    )
    route = later[0]
    village = village_of(route)
    assert village is not None
    at = route["stops"][0]["arrival_s"] + 1  # the van is loading when the news comes
    events = [
        {"type": "road_closed", "near": village, "radius_m": 250, "label": "塌方", "time_s": at}
    ]
    new = replan_json(ws, plan, parcels, events, time_limit_s=2.0)
    assert new["version_of"] == plan["plan_id"] and new["closures"] == plan["closures"]
    assert set(new["kpis"]["closures"]["cut_off"]) >= {landslide, village}
    fresh = [r for r in new["routes"] if r["stops"][0]["departure_s"] > at]
    assert all(village not in [s["point_id"] for s in r["stops"]] for r in fresh)
    assert route["route_id"] not in {r["route_id"] for r in new["routes"]}  # planned again
    for r in plan["routes"]:
        if r["stops"][0]["departure_s"] <= at:
            assert r in new["routes"]  # already on the road: kept as planned
    cut = {u["parcel_id"] for u in new["unassigned"] if u["code"] == "road_closed"}
    assert cut & {p.tracking_no for p in parcels if p.point_id == village}
    assert service.check_plan_file(ws, new, parcels, ws.fleet) == []

    # a third version, later: the morning's closure stays, closed since the second's cut
    later_route = min(
        (r for r in new["routes"] if r["stops"][0]["arrival_s"] > at + 1800),
        key=lambda r: r["stops"][0]["arrival_s"],
    )
    events = [
        {
            "type": "breakdown",
            "vehicle_id": later_route["vehicle_id"],
            "time_s": later_route["stops"][0]["departure_s"] + 600,
        }
    ]
    third = replan_json(ws, new, parcels, events, time_limit_s=2.0)
    assert third["closures"] == [
        *plan["closures"],
        {"near": village, "radius_m": 250.0, "label": "塌方", "since_s": at},
    ]
    assert set(third["kpis"]["closures"]["cut_off"]) >= {landslide, village}
    assert service.check_plan_file(ws, third, parcels, ws.fleet) == []
    # the routes that left before the closure are checked on the roads they had
    assert any(r["stops"][0]["departure_s"] <= at for r in third["routes"])


def test_bad_closures_name_the_field(
    ws: Workspace, parcels: list[Parcel], closed_day: Plan
) -> None:
    with pytest.raises(ClosureError, match=r"closures.toml: row 1: near: unknown point 'NOPE'"):
        service.plan_day(
            ws,
            parcels[:5],
            date=DAY,
            time_limit_s=1.0,
            closures=parse_closures([{"near": "NOPE", "radius_m": 9}], "closures.toml", 1),
        )
    with pytest.raises(EventError, match=r"events\[0\]\.to: unknown point 'NOPE'"):
        replan_json(
            ws,
            closed_day,
            parcels,
            [{"type": "road_closed", "from": ws.hub_id, "to": "NOPE", "time_s": 36000}],
        )
    with pytest.raises(EventError, match=r"events\[1\]\.radius_m: must be between 1 and"):
        replan_json(
            ws,
            closed_day,
            parcels,
            [
                {"type": "late_parcels", "time_s": 36000},
                {"type": "road_closed", "near": ws.hub_id, "radius_m": 0},
            ],
        )
    broken = dict(closed_day, closures=[{"near": ws.hub_id}])
    assert service.check_plan_file(ws, broken, parcels, ws.fleet) == [
        "closures[0].radius_m [closure]: a closed area needs radius_m (metres)"
    ]
