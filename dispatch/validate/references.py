"""Every id of the plan resolves against the inputs, and the vehicles match the fleet."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from dispatch.validate.context import PlanInputs


def check_references(plan: Mapping[str, Any], inputs: PlanInputs) -> list[str]:
    """Vehicles match the fleet; every vehicle, type, point and parcel id resolves."""
    errors: list[str] = []
    fleet = {v.vehicle_id: v for v in inputs.fleet.vehicles}
    parcel_ids = Counter(p.tracking_no for p in inputs.parcels)
    errors += [
        f"inputs [reference]: tracking_no {t} appears {n} times"
        for t, n in parcel_ids.items()
        if n > 1
    ]
    if not any(p.kind == "hub" for p in inputs.points.values()):
        errors.append("inputs [reference]: the county has no hub")
    listed: Counter[str] = Counter()
    for i, pv in enumerate(plan["vehicles"]):
        vid = pv["vehicle_id"]
        listed[vid] += 1
        fv = fleet.get(vid)
        if fv is None:
            errors.append(f"vehicles[{i}] ({vid}) [reference]: not in the fleet")
            continue
        vt = inputs.fleet.types[fv.vtype]
        expected = {
            "vehicle_type": fv.vtype,
            "capacity_g": vt.capacity_g,
            "capacity_ml": vt.capacity_ml,
            "cold": vt.cold,
            "depot": fv.depot,
            "shift_start_s": fv.shift_start_s,
            "shift_end_s": fv.shift_end_s,
        }
        if vid in inputs.fleet.off:
            expected["available"] = False
        for key, want in expected.items():
            if pv[key] != want:
                errors.append(
                    f"vehicles[{i}] ({vid}).{key} [reference]: fleet says {want!r}, got {pv[key]!r}"
                )
    errors += [f"vehicles [reference]: {v} listed {n} times" for v, n in listed.items() if n > 1]
    errors += [
        f"vehicles [reference]: fleet vehicle {v} is missing" for v in fleet if v not in listed
    ]

    for route in plan["routes"]:
        at = f"route {route['route_id']}"
        fv = fleet.get(route["vehicle_id"])
        if fv is None:
            errors.append(
                f"{at}.vehicle_id [reference]: {route['vehicle_id']!r} is not in the fleet"
            )
        elif route["vehicle_type"] != fv.vtype:
            errors.append(
                f"{at}.vehicle_type [reference]: vehicle {fv.vehicle_id} is a {fv.vtype!r}, "
                f"got {route['vehicle_type']!r}"
            )
        if route["depot"] not in inputs.points:
            errors.append(f"{at}.depot [reference]: unknown point {route['depot']!r}")
        for i, stop in enumerate(route["stops"]):
            if stop["point_id"] not in inputs.points:
                errors.append(f"{at} stop {i} [reference]: unknown point {stop['point_id']!r}")
            for key in ("load", "drop"):
                errors += [
                    f"{at} stop {i}.{key} [reference]: unknown parcel {t!r}"
                    for t in stop[key]
                    if t not in parcel_ids
                ]
    for key, id_key in (
        ("unassigned", "parcel_id"),
        ("held", "parcel_id"),
        ("carried_in", "parcel_id"),
    ):
        for i, entry in enumerate(plan[key]):
            if entry[id_key] not in parcel_ids:
                errors.append(f"{key}[{i}].{id_key} [reference]: unknown parcel {entry[id_key]!r}")
    for i, entry in enumerate(plan["held"]):
        if entry["station"] not in inputs.points:
            errors.append(f"held[{i}].station [reference]: unknown point {entry['station']!r}")
    for i, entry in enumerate(plan["carry_over"]):
        if entry["tracking_no"] not in parcel_ids:
            errors.append(f"carry_over[{i}] [reference]: unknown parcel {entry['tracking_no']!r}")
        for key in ("point_id", "at"):
            if entry[key] not in inputs.points:
                errors.append(f"carry_over[{i}].{key} [reference]: unknown point {entry[key]!r}")
    for i, d in enumerate(plan["drivers"]):
        if d["vehicle_id"] not in fleet:
            errors.append(f"drivers[{i}] [reference]: {d['vehicle_id']!r} is not in the fleet")
    return errors
