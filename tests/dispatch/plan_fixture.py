"""A small valid plan written by hand (contract 2.0), with its inputs: shared by the validator
and export tests.

Hub -> station S (cold room) -> villages A (vans at most) and B. Truck T1 (cold) does trip 1
(R001: loads 15 min, drops P1-P3 at S for the van, P4 directly at B, unloads 10 min) and trip 2
(R003: fetches produce P5 from S; its driver's lunch 11:30-12:00 falls on the way). Van VAN1
(cold) at S does R002 after the feeder drop is unloaded and sorted (P1, P2 cold, P3 to the
villages, collects P5 at A); its driver lunches after work. P6 is due tomorrow and deferred.
Costs follow the fleet's prices: fixed on a vehicle's first route, per km, per hour.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from dispatch.fleet import Fleet, FleetVehicle, Settings, VehicleType
from dispatch.parcel import Kind, Parcel
from dispatch.validate import PlanInputs
from geodata.points import ServicePoint

HUB, S, A, B = "HUB", "500118001", "500118001201", "500118001202"

POINTS = {
    HUB: ServicePoint(HUB, "永川快递分拨中心", "hub", "500118000", 105.93, 29.36, 18000, 72000),
    S: ServicePoint(
        S, "中山路街道服务站", "station", S, 105.90, 29.35, 21600, 72000, "truck", True
    ),
    A: ServicePoint(A, "和平村服务点", "village", S, 105.88, 29.33, 28800, 64800, "van"),
    B: ServicePoint(B, "双竹村服务点", "village", S, 105.87, 29.31, 28800, 64800, "truck"),
}

# (seconds, metres), symmetric, same for every vehicle type
_TRAVEL = {
    (HUB, S): (1800, 15000),
    (S, A): (600, 5000),
    (A, B): (300, 3000),
    (S, B): (900, 7000),
    (HUB, B): (2400, 20000),
    (HUB, A): (2100, 18000),
}


def _leg(a: str, b: str) -> tuple[int, int]:
    if a == b:
        return (0, 0)
    return _TRAVEL.get((a, b)) or _TRAVEL[(b, a)]


def travel_s(vtype: str, a: str, b: str) -> int:
    return _leg(a, b)[0]


def travel_m(vtype: str, a: str, b: str) -> int:
    return _leg(a, b)[1]


DAY = dt.date(2024, 5, 20)
TOMORROW = DAY + dt.timedelta(days=1)


def _p(
    t: str,
    carrier: str,
    kind: Kind,
    point: str,
    g: int,
    ml: int,
    cold: bool = False,
    due: dt.date = DAY,
) -> Parcel:
    return Parcel(t, carrier, kind, point, g, ml, cold, due)


PARCELS = [
    _p("P1", "中通", "delivery", A, 2000, 5000),
    _p("P2", "圆通", "delivery", A, 3000, 8000, cold=True),
    _p("P3", "中通", "delivery", B, 1000, 2000),
    _p("P4", "申通", "delivery", B, 5000, 10000),
    _p("P5", "邮政", "pickup", A, 4000, 6000),
    _p("P6", "中通", "delivery", B, 1000, 1000, due=TOMORROW),
]

TYPES = {
    "truck_cold": VehicleType(
        "truck_cold", "冷藏货车", "truck", 1_000_000, 10_000_000, True, 25000, 250, 3500
    ),
    "van_cold": VehicleType(
        "van_cold", "冷藏面包车", "van", 20_000, 100_000, True, 18000, 180, 3200
    ),
}


def make_fleet(types: dict[str, VehicleType] | None = None) -> Fleet:
    return Fleet(
        types=dict(types or TYPES),
        vehicles=[
            FleetVehicle("T1", "truck_cold", HUB, 21600, 64800, max_trips=2),
            FleetVehicle("VAN1", "van_cold", S, 25200, 68400),
        ],
        settings=Settings(),
    )


def make_inputs(
    points: dict[str, ServicePoint] | None = None, fleet: Fleet | None = None
) -> PlanInputs:
    return PlanInputs(
        parcels=PARCELS,
        fleet=fleet or make_fleet(),
        points=points or dict(POINTS),
        travel_s=travel_s,
        travel_m=travel_m,
    )


def _stop(
    seq: int, pid: str, arr: int, dep: int, load: list[str], drop: list[str], g: int, ml: int
) -> dict[str, Any]:
    return {
        "seq": seq,
        "point_id": pid,
        "arrival_s": arr,
        "departure_s": dep,
        "load": load,
        "drop": drop,
        "weight_g_after": g,
        "volume_ml_after": ml,
    }


_PLAN: dict[str, Any] = {
    "version": "2.0",
    "plan_id": "2024-05-20-test",
    "date": "2024-05-20",
    "status": "feasible",
    "mode": "via_station",
    "vehicles": [
        {
            "vehicle_id": "T1",
            "vehicle_type": "truck_cold",
            "capacity_g": 1_000_000,
            "capacity_ml": 10_000_000,
            "cold": True,
            "depot": HUB,
            "shift_start_s": 21600,
            "shift_end_s": 64800,
            "available": True,
        },
        {
            "vehicle_id": "VAN1",
            "vehicle_type": "van_cold",
            "capacity_g": 20_000,
            "capacity_ml": 100_000,
            "cold": True,
            "depot": S,
            "shift_start_s": 25200,
            "shift_end_s": 68400,
            "available": True,
        },
    ],
    "drivers": [
        {
            "vehicle_id": "T1",
            "start_s": 25200,
            "end_s": 47300,
            "lunch": {"start_s": 41400, "end_s": 43200},
            "routes": ["R001", "R003"],
        },
        {
            "vehicle_id": "VAN1",
            "start_s": 29200,
            "end_s": 33300,
            "lunch": {"start_s": 41400, "end_s": 43200},
            "routes": ["R002"],
        },
    ],
    "routes": [
        {
            "route_id": "R001",
            "vehicle_id": "T1",
            "vehicle_type": "truck_cold",
            "echelon": 1,
            "trip": 1,
            "depot": HUB,
            "distance_m": 42000,  # 15 + 7 + 20 km
            "duration_s": 7400,  # 25200 loading to 32600 unloaded
            "cost_fen": 42694,  # 25000 + 250 x 42 + 3500 x 7400 / 3600
            "break": None,
            "stops": [
                _stop(0, HUB, 25200, 26100, ["P1", "P2", "P3", "P4"], [], 11000, 25000),
                _stop(1, S, 27900, 28300, [], ["P1", "P2", "P3"], 5000, 10000),
                _stop(2, B, 29200, 29600, [], ["P4"], 0, 0),
                _stop(3, HUB, 32000, 32600, [], [], 0, 0),
            ],
        },
        {
            "route_id": "R002",
            "vehicle_id": "VAN1",
            "vehicle_type": "van_cold",
            "echelon": 2,
            "trip": 1,
            "depot": S,
            "distance_m": 15000,  # 5 + 3 + 7 km
            "duration_s": 4100,
            "cost_fen": 24344,  # 18000 + 180 x 15 + 3200 x 4100 / 3600
            "break": None,
            "stops": [
                # leaves at 30100: the feeder drop at S ended 28300, plus 1800 s sorting
                _stop(0, S, 29200, 30100, ["P1", "P2", "P3"], [], 6000, 15000),
                _stop(1, A, 30700, 31100, ["P5"], ["P1", "P2"], 5000, 8000),
                _stop(2, B, 31400, 31800, [], ["P3"], 4000, 6000),
                _stop(3, S, 32700, 33300, [], ["P5"], 0, 0),
            ],
        },
        {
            "route_id": "R003",
            "vehicle_id": "T1",
            "vehicle_type": "truck_cold",
            "echelon": 1,
            "trip": 2,
            "depot": HUB,
            "distance_m": 30000,
            "duration_s": 7300,
            "cost_fen": 14597,  # no fixed cost on a second trip: 250 x 30 + 3500 x 7300 / 3600
            "break": {"start_s": 41400, "end_s": 43200},
            "stops": [
                _stop(0, HUB, 40000, 40900, [], [], 0, 0),
                _stop(1, S, 44500, 44900, ["P5"], [], 4000, 6000),  # 1800 s drive + lunch
                _stop(2, HUB, 46700, 47300, [], ["P5"], 0, 0),
            ],
        },
    ],
    "unassigned": [
        {"parcel_id": "P6", "code": "deferred_capacity", "reason": "明天到期，今天运力已满，顺延。"}
    ],
    "held": [],
    "carry_over": [
        {
            "tracking_no": "P6",
            "carrier": "中通",
            "kind": "delivery",
            "point_id": B,
            "weight_g": 1000,
            "volume_ml": 1000,
            "cold": False,
            "due_date": "2024-05-21",
            "at": HUB,
            "why": "deferred",
        }
    ],
    "carried_in": [],
    "kpis": {
        "parcels": 6,
        "delivered": 4,
        "picked_up": 1,
        "unassigned": 0,
        "left_today": 0,
        "deferred": 1,
        "held": 0,
        "distance_m": 87000,
        "duration_s": 18800,
        "vehicle_hours": 5.22,
        "cost_fen": 81635,
        "vehicles_used": 2,
        "routes": 3,
        "cost_per_parcel_fen": 16327,
        "echelon_1": {"routes": 2, "distance_m": 72000, "duration_s": 14700, "cost_fen": 57291},
        "echelon_2": {"routes": 1, "distance_m": 15000, "duration_s": 4100, "cost_fen": 24344},
        "towns": [
            {
                "town_id": S,
                "name": "中山路街道服务站",
                "parcels": 6,
                "via_station": 4,
                "direct": 1,
                "station": 0,
                "held": 0,
                "deferred": 1,
                "unassigned": 0,
            }
        ],
    },
}


def make_plan() -> dict[str, Any]:
    """A fresh deep copy of the valid plan (tests mutate it)."""
    return copy.deepcopy(_PLAN)


def route(plan: dict[str, Any], route_id: str) -> dict[str, Any]:
    """The route `route_id` of `plan`."""
    return next(r for r in plan["routes"] if r["route_id"] == route_id)
