"""Keys, types and value domains of the plan JSON (contract 2.0), before anything else."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

PLAN_VERSION = "2.0"
STATUSES = ("optimal", "feasible", "partial", "failed")
#: The mode a plan follows (an `auto` request yields one of them, with `kpis.auto`).
MODES = ("via_station", "direct")


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_str_list(v: object) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


Kind = tuple[Callable[[object], bool], str]
INT: Kind = (_is_int, "an integer")
STR: Kind = (lambda v: isinstance(v, str), "a string")
BOOL: Kind = (lambda v: isinstance(v, bool), "true or false")
LIST: Kind = (lambda v: isinstance(v, list), "a list")
DICT: Kind = (lambda v: isinstance(v, dict), "an object")
OPT_DICT: Kind = (lambda v: v is None or isinstance(v, dict), "an object or null")
STR_LIST: Kind = (_is_str_list, "a list of strings")
NUMBER: Kind = (lambda v: _is_int(v) or isinstance(v, float), "a number")

TOP = {
    "version": STR,
    "plan_id": STR,
    "date": STR,
    "status": STR,
    "mode": STR,
    "vehicles": LIST,
    "drivers": LIST,
    "routes": LIST,
    "unassigned": LIST,
    "held": LIST,
    "carry_over": LIST,
    "carried_in": LIST,
    "kpis": DICT,
}
VEHICLE = {
    "vehicle_id": STR,
    "vehicle_type": STR,
    "capacity_g": INT,
    "capacity_ml": INT,
    "cold": BOOL,
    "depot": STR,
    "shift_start_s": INT,
    "shift_end_s": INT,
    "available": BOOL,
}
DRIVER = {"vehicle_id": STR, "start_s": INT, "end_s": INT, "lunch": OPT_DICT, "routes": STR_LIST}
ROUTE = {
    "route_id": STR,
    "vehicle_id": STR,
    "vehicle_type": STR,
    "echelon": INT,
    "trip": INT,
    "depot": STR,
    "distance_m": INT,
    "duration_s": INT,
    "cost_fen": INT,
    "break": OPT_DICT,
    "stops": LIST,
}
STOP = {
    "seq": INT,
    "point_id": STR,
    "arrival_s": INT,
    "departure_s": INT,
    "load": STR_LIST,
    "drop": STR_LIST,
    "weight_g_after": INT,
    "volume_ml_after": INT,
}
INTERVAL = {"start_s": INT, "end_s": INT}
UNASSIGNED = {"parcel_id": STR, "code": STR, "reason": STR}
HELD = {"parcel_id": STR, "station": STR, "arrived_s": INT, "code": STR, "reason": STR}
CARRY = {
    "tracking_no": STR,
    "carrier": STR,
    "kind": STR,
    "point_id": STR,
    "weight_g": INT,
    "volume_ml": INT,
    "cold": BOOL,
    "due_date": STR,
    "at": STR,
    "why": STR,
}
CARRIED_IN = {"parcel_id": STR, "at": STR}
ECHELON = {"routes": INT, "distance_m": INT, "duration_s": INT, "cost_fen": INT}
KPIS = {
    "parcels": INT,
    "delivered": INT,
    "picked_up": INT,
    "unassigned": INT,
    "left_today": INT,
    "deferred": INT,
    "held": INT,
    "distance_m": INT,
    "duration_s": INT,
    "vehicle_hours": NUMBER,
    "cost_fen": INT,
    "vehicles_used": INT,
    "routes": INT,
    "cost_per_parcel_fen": NUMBER,
    "echelon_1": DICT,
    "echelon_2": DICT,
    "towns": LIST,
}
TOWN = {
    "town_id": STR,
    "name": STR,
    "parcels": INT,
    "via_station": INT,
    "direct": INT,
    "station": INT,
    "held": INT,
    "deferred": INT,
    "unassigned": INT,
}


def fields(obj: object, spec: Mapping[str, Kind], at: str, errors: list[str]) -> bool:
    """Check that `obj` is an object with every field of `spec` of the right kind."""
    if not isinstance(obj, dict):
        errors.append(f"{at} [shape]: must be an object")
        return False
    ok = True
    for key, (is_kind, kind) in spec.items():
        if key not in obj:
            errors.append(f"{at} [shape]: missing field {key!r}")
            ok = False
        elif not is_kind(obj[key]):
            errors.append(f"{at}.{key} [shape]: must be {kind}, got {obj[key]!r}")
            ok = False
    return ok


def check_shape(plan: object) -> list[str]:
    """Keys, types and value domains of the whole plan, with no reference to the inputs."""
    errors: list[str] = []
    if not fields(plan, TOP, "plan", errors):
        return errors
    assert isinstance(plan, dict)
    if plan["version"] != PLAN_VERSION:
        errors.append(f"plan.version [shape]: expected {PLAN_VERSION!r}, got {plan['version']!r}")
    if plan["status"] not in STATUSES:
        errors.append(
            f"plan.status [shape]: {plan['status']!r} is not one of {', '.join(STATUSES)}"
        )
    if plan["mode"] not in MODES:
        errors.append(f"plan.mode [shape]: {plan['mode']!r} is not one of {', '.join(MODES)}")
    if not _is_date(plan["date"]):
        errors.append(f"plan.date [shape]: {plan['date']!r} is not a YYYY-MM-DD date")
    for i, v in enumerate(plan["vehicles"]):
        fields(v, VEHICLE, f"vehicles[{i}]", errors)
    for i, d in enumerate(plan["drivers"]):
        if fields(d, DRIVER, f"drivers[{i}]", errors) and d["lunch"] is not None:
            fields(d["lunch"], INTERVAL, f"drivers[{i}].lunch", errors)
    route_ids: Counter[str] = Counter()
    for i, route in enumerate(plan["routes"]):
        if fields(route, ROUTE, f"routes[{i}]", errors):
            route_ids[route["route_id"]] += 1
            _route_shape(route, errors)
    errors += [f"route {r} [shape]: route_id used {n} times" for r, n in route_ids.items() if n > 1]
    for key, spec in (
        ("unassigned", UNASSIGNED),
        ("held", HELD),
        ("carry_over", CARRY),
        ("carried_in", CARRIED_IN),
    ):
        for i, entry in enumerate(plan[key]):
            fields(entry, spec, f"{key}[{i}]", errors)
    for i, c in enumerate(plan["carry_over"]):
        if (
            isinstance(c, dict)
            and isinstance(c.get("due_date"), str)
            and not _is_date(c["due_date"])
        ):
            errors.append(f"carry_over[{i}].due_date [shape]: not a YYYY-MM-DD date")
    for i, u in enumerate(plan["unassigned"]):
        if isinstance(u, dict) and isinstance(u.get("reason"), str) and not u["reason"].strip():
            errors.append(f"unassigned[{i}].reason [shape]: must not be empty")
    optional = {
        "events": LIST,
        "replanned_at_s": INT,
        "version_of": STR,
        "invalid_rows": LIST,
        "closures": LIST,
    }
    for key, (is_kind, kind) in optional.items():
        if key in plan and not is_kind(plan[key]):
            errors.append(f"plan.{key} [shape]: must be {kind}, got {plan[key]!r}")
    for key in ("events", "closures"):
        for i, entry in enumerate(plan.get(key) or []):
            if not isinstance(entry, dict):
                errors.append(f"{key}[{i}] [shape]: must be an object")
    if fields(plan["kpis"], KPIS, "kpis", errors):
        for key in ("echelon_1", "echelon_2"):
            fields(plan["kpis"][key], ECHELON, f"kpis.{key}", errors)
        for i, row in enumerate(plan["kpis"]["towns"]):
            fields(row, TOWN, f"kpis.towns[{i}]", errors)
    return errors


def _is_date(text: str) -> bool:
    try:
        return dt.date.fromisoformat(text).isoformat() == text
    except ValueError:
        return False


def _route_shape(route: Mapping[str, Any], errors: list[str]) -> None:
    """Domains of one route's fields and the shape of its stops and break."""
    at = f"route {route['route_id']}"
    if route["echelon"] not in (1, 2):
        errors.append(f"{at}.echelon [shape]: must be 1 or 2, got {route['echelon']}")
    if route["trip"] < 1:
        errors.append(f"{at}.trip [shape]: must be >= 1, got {route['trip']}")
    for key in ("distance_m", "duration_s", "cost_fen"):
        if route[key] < 0:
            errors.append(f"{at}.{key} [shape]: must not be negative, got {route[key]}")
    if route["break"] is not None:
        fields(route["break"], INTERVAL, f"{at}.break", errors)
    stops = route["stops"]
    if len(stops) < 2:
        errors.append(f"{at}.stops [shape]: needs the depot and at least one more stop")
    for i, stop in enumerate(stops):
        if fields(stop, STOP, f"{at} stop {i}", errors) and stop["seq"] != i:
            errors.append(f"{at} stop {i}.seq [shape]: expected {i}, got {stop['seq']}")
    if route.get("ended") not in (None, "breakdown"):
        errors.append(f"{at}.ended [shape]: only 'breakdown' is allowed, got {route['ended']!r}")
