"""End-to-end planning of small days: every mode validates, every reason is provoked."""

from __future__ import annotations

import copy
import datetime as dt
from collections import Counter
from typing import Any

import pytest

from dispatch import service
from dispatch.demo import generate_day
from dispatch.fleet import Fleet, load_fleet_text
from dispatch.parcel import Parcel
from dispatch.validate import validate_plan
from dispatch.workspace import Workspace

DAY = dt.date(2026, 11, 28)
VILLAGE = "500118118201"  # a village of 朱沱镇, the farthest town from the hub
STATION = "500118118"

FLEET_HEAD = """
[settings]
sort_time_min = 30
lunch = "11:30-13:30"
lunch_min = 30

[types.van]
label = "微型厢式面包车"
class = "van"
capacity_kg = 800
capacity_m3 = 5
fixed_cost_fen = 12000
cost_per_km_fen = 120
cost_per_hour_fen = 3000

[types.van_cold]
label = "冷藏面包车"
class = "van"
capacity_kg = 600
capacity_m3 = 3.5
cold = true
fixed_cost_fen = 18000
cost_per_km_fen = 180
cost_per_hour_fen = 3200
"""


@pytest.fixture(scope="module")
def ws() -> Workspace:
    return Workspace.default()


def fleet(ws: Workspace, vehicles: str) -> Fleet:
    """A small fleet from TOML vehicles, on the embedded county's stations."""
    stations = [p.point_id for p in ws.points if p.kind == "station"]
    return load_fleet_text(FLEET_HEAD + vehicles, "test.toml", stations)


def van(shift: str = "07:00-18:00", trips: int = 3, count: int = 1) -> str:
    """TOML for `count` hub vans."""
    return (
        f'[[vehicles]]\nid_prefix = "HUB-V"\ncount = {count}\ntype = "van"\ndepot = "HUB"\n'
        f'shift = "{shift}"\nmax_trips = {trips}\n'
    )


def parcel(n: int, point: str = VILLAGE, **kw: Any) -> Parcel:
    base: dict[str, Any] = {
        "tracking_no": f"T{n:05d}",
        "carrier": "中通快递",
        "kind": "delivery",
        "point_id": point,
        "weight_g": 2000,
        "volume_ml": 8000,
        "cold": False,
        "due_date": DAY,
    }
    base.update(kw)
    return Parcel(**base)


def codes(plan: dict[str, Any]) -> Counter[str]:
    return Counter(u["code"] for u in plan["unassigned"])


def accounted(plan: dict[str, Any], parcels: list[Parcel]) -> None:
    """Every parcel is either dropped at its destination or listed unassigned, once."""
    done = Counter()
    for r in plan["routes"]:
        for s in r["stops"]:
            done.update(s["drop"])
    unassigned = {u["parcel_id"] for u in plan["unassigned"]}
    for p in parcels:
        if p.tracking_no in unassigned:
            assert done[p.tracking_no] == 0 or p.kind == "delivery"
        else:
            assert done[p.tracking_no] >= 1, p


@pytest.mark.parametrize("mode", ["auto", "via_station", "direct"])
def test_small_day_in_every_mode_is_valid_and_complete(ws: Workspace, mode: str) -> None:
    parcels = generate_day(ws.county, n_parcels=250, seed=3, date=DAY)
    plan = service.plan_day(ws, parcels, date=DAY, time_limit_s=2.0, mode=mode)
    used = service.mode_fleet(ws.fleet, mode)
    assert validate_plan(plan, service.plan_inputs(ws, used, parcels)) == []
    assert validate_plan(plan, service.plan_inputs(ws, ws.fleet, parcels)) == [] or mode == "direct"
    accounted(plan, parcels)
    k = plan["kpis"]
    assert k["parcels"] == 250
    assert k["delivered"] + k["picked_up"] + k["unassigned"] + k["deferred"] == 250
    assert k["delivered"] > 200
    echelons = {r["echelon"] for r in plan["routes"]}
    if mode == "direct":
        assert echelons == {1}
        assert all(t["choice"] == "direct" for t in k["towns"])
    if mode == "via_station":
        assert 2 in echelons
    if mode == "auto":
        assert {t["choice"] for t in k["towns"]} <= {"direct", "via_station"}
        assert any(t["cost_via_station_fen"] for t in k["towns"])


def test_transfers_pickups_and_cold_pass_through_stations(ws: Workspace) -> None:
    parcels = [
        parcel(1),
        parcel(2, kind="pickup", weight_g=12000, volume_ml=30000),
        parcel(3, cold=True, weight_g=1500, volume_ml=4000),
        parcel(4, point=STATION),
    ]
    plan = service.plan_day(ws, parcels, date=DAY, time_limit_s=2.0, mode="via_station")
    assert plan["unassigned"] == []
    stops = [(r["echelon"], s) for r in plan["routes"] for s in r["stops"]]
    dropped_at_station = {
        pid for e, s in stops if e == 1 and s["point_id"] == STATION for pid in s["drop"]
    }
    loaded_at_station = {
        pid for e, s in stops if e == 2 and s["point_id"] == STATION for pid in s["load"]
    }
    assert {"T00001", "T00003"} <= dropped_at_station & loaded_at_station  # 朱沱 keeps a cold room
    assert "T00004" in dropped_at_station
    produce_to_hub = {
        pid for e, s in stops if e == 1 and s["point_id"] == "HUB" for pid in s["drop"]
    }
    assert "T00002" in produce_to_hub
    cold_vehicles = {v["vehicle_id"] for v in plan["vehicles"] if v["cold"]}
    for r in plan["routes"]:
        carried = {pid for s in r["stops"] for pid in s["load"]}
        if "T00003" in carried:
            assert r["vehicle_id"] in cold_vehicles


def test_no_cold_vehicle(ws: Workspace) -> None:
    f = fleet(ws, van())
    parcels = [parcel(1), parcel(2, cold=True)]
    plan = service.plan_day(ws, parcels, date=DAY, fleet=f, time_limit_s=1.0, mode="direct")
    assert codes(plan) == Counter({"no_cold_vehicle": 1})
    assert "refrigerated" in plan["unassigned"][0]["reason"]


def test_heavier_than_any_vehicle_that_can_reach(ws: Workspace) -> None:
    f = fleet(ws, van())
    parcels = [parcel(1), parcel(2, weight_g=900_000)]
    plan = service.plan_day(ws, parcels, date=DAY, fleet=f, time_limit_s=1.0, mode="direct")
    assert codes(plan) == Counter({"too_large": 1})
    assert plan["status"] == "partial"


def test_cannot_arrive_before_the_point_closes(ws: Workspace) -> None:
    late = fleet(ws, van("18:30-23:00"))
    parcels = [parcel(1)]
    plan = service.plan_day(ws, parcels, date=DAY, fleet=late, time_limit_s=1.0, mode="direct")
    assert codes(plan) == Counter({"closes_before_arrival": 1})
    assert "closes" in plan["unassigned"][0]["reason"]


def test_due_tomorrow_deferred_when_capacity_is_full(ws: Workspace) -> None:
    one = fleet(ws, van(trips=1))
    today = [parcel(i, weight_g=70_000, volume_ml=400_000) for i in range(10)]
    tomorrow = [
        parcel(100 + i, weight_g=70_000, volume_ml=400_000, due_date=DAY + dt.timedelta(days=1))
        for i in range(6)
    ]
    plan = service.plan_day(
        ws, today + tomorrow, date=DAY, fleet=one, time_limit_s=2.0, mode="direct"
    )
    c = codes(plan)
    assert c["deferred_capacity"] >= 1
    deferred = {u["parcel_id"] for u in plan["unassigned"] if u["code"] == "deferred_capacity"}
    assert deferred <= {p.tracking_no for p in tomorrow}
    assert "tomorrow" in plan["unassigned"][0]["reason"] or "due" in plan["unassigned"][0]["reason"]
    assert plan["kpis"]["deferred"] == c["deferred_capacity"]


def test_today_beyond_capacity_is_capacity_full(ws: Workspace) -> None:
    one = fleet(ws, van(trips=1))
    today = [parcel(i, weight_g=100_000, volume_ml=600_000) for i in range(12)]
    plan = service.plan_day(ws, today, date=DAY, fleet=one, time_limit_s=2.0, mode="direct")
    assert codes(plan)["capacity_full"] >= 1
    assert plan["status"] == "partial"


def test_stop_too_big_for_one_vehicle_is_split(ws: Workspace) -> None:
    f = fleet(ws, van(trips=2, count=3))
    big = [parcel(i, weight_g=50_000, volume_ml=300_000) for i in range(30)]  # 9 m3, 1.5 t
    plan = service.plan_day(ws, big, date=DAY, fleet=f, time_limit_s=2.0, mode="direct")
    assert plan["unassigned"] == []
    visits = [r for r in plan["routes"] if any(s["point_id"] == VILLAGE for s in r["stops"])]
    assert len(visits) >= 2
    for r in plan["routes"]:
        cap = next(v for v in plan["vehicles"] if v["vehicle_id"] == r["vehicle_id"])
        assert max(s["volume_ml_after"] for s in r["stops"]) <= cap["capacity_ml"]


def test_collection_missed_when_no_trunk_trip_is_left(ws: Workspace) -> None:
    stations = (
        '\n[[stations]]\nid = "500118118"\nshift = "08:00-18:00"\n'
        'vehicles = [{ type = "van", count = 1 }]\n'
    )
    f = fleet(ws, van(trips=1) + stations)
    parcels = [parcel(1), parcel(2, kind="pickup", weight_g=10_000, volume_ml=20_000)]
    plan = service.plan_day(ws, parcels, date=DAY, fleet=f, time_limit_s=1.0, mode="via_station")
    assert codes(plan) == Counter({"collection_missed": 1})
    assert plan["unassigned"][0]["parcel_id"] == "T00002"


def test_a_plan_broken_after_planning_fails_validation(ws: Workspace) -> None:
    parcels = [parcel(1), parcel(2)]
    plan = service.plan_day(ws, parcels, date=DAY, time_limit_s=1.0, mode="direct")
    broken = copy.deepcopy(plan)
    broken["routes"][0]["stops"][1]["arrival_s"] = broken["routes"][0]["stops"][0]["departure_s"]
    assert validate_plan(broken, service.plan_inputs(ws, ws.fleet, parcels))


def test_no_vehicle_may_enter(ws: Workspace) -> None:
    trucks = (
        '[types.truck]\nlabel = "4.2米厢式货车"\nclass = "truck"\ncapacity_kg = 2000\n'
        'capacity_m3 = 16\n\n[[vehicles]]\nid = "HUB-T01"\ntype = "truck"\ndepot = "HUB"\n'
        'shift = "07:00-18:00"\n'
    )
    parcels = [parcel(1), parcel(2, point=STATION)]
    plan = service.plan_day(
        ws, parcels, date=DAY, fleet=fleet(ws, trucks), time_limit_s=1.0, mode="direct"
    )
    assert codes(plan) == Counter({"no_vehicle_allowed": 1})
    assert plan["unassigned"][0]["parcel_id"] == "T00001"  # trucks may not use village roads
