"""Each driver's day across all of a vehicle's trips: one driver per vehicle, trips in order
with unloading, loading and recharge between them, the vehicle's shift, the maximum shift
from the first loading to the last unloading, and one lunch break with no work in it."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from dispatch.validate.context import Context, where


def check_drivers(ctx: Context) -> None:
    """The driver-day rules for every vehicle with routes."""
    listed = Counter(d["vehicle_id"] for d in ctx.plan["drivers"])
    for vid, n in listed.items():
        if n > 1:
            ctx.fault(f"driver {vid}", "driver", f"listed {n} times: one driver per vehicle")
    entries = {d["vehicle_id"]: d for d in ctx.plan["drivers"]}
    for vid in entries.keys() - ctx.routes_of.keys():
        ctx.fault(f"driver {vid}", "driver", "listed but the vehicle has no routes")
    for vid, routes in ctx.routes_of.items():
        entry = entries.get(vid)
        if entry is None:
            ctx.fault(f"driver {vid}", "driver", "the vehicle has routes but no driver entry")
            continue
        _day(ctx, vid, routes, entry)


def _day(
    ctx: Context, vid: str, routes: Sequence[Mapping[str, Any]], entry: Mapping[str, Any]
) -> None:
    s = ctx.settings
    fv = ctx.vehicles[vid]
    vt = ctx.vtype(vid)
    at = f"driver {vid}"
    start, end = routes[0]["stops"][0]["arrival_s"], routes[-1]["stops"][-1]["departure_s"]
    if (entry["start_s"], entry["end_s"]) != (start, end):
        ctx.fault(
            at,
            "driver",
            f"day given as {entry['start_s']}-{entry['end_s']}, routes make {start}-{end}",
        )
    if entry["routes"] != [r["route_id"] for r in routes]:
        ctx.fault(
            at,
            "driver",
            f"routes {entry['routes']}, the plan's are {[r['route_id'] for r in routes]}",
        )
    if end - start > s.max_shift_s:
        ctx.fault(
            at,
            "max_shift",
            f"works {end - start} s from first loading to last unloading, "
            f"at most {s.max_shift_s} s",
        )
    if start < fv.shift_start_s or end > fv.shift_end_s:
        ctx.fault(
            at,
            "shift",
            f"works {start}-{end}, outside the shift {fv.shift_start_s}-{fv.shift_end_s}",
        )
    trips = [r["trip"] for r in routes]
    if trips != list(range(1, len(routes) + 1)):
        ctx.fault(
            at, "trips", f"trips in time order are numbered {trips}, expected 1..{len(routes)}"
        )
    if len(routes) > fv.max_trips:
        ctx.fault(at, "trips", f"{len(routes)} trips, at most {fv.max_trips}")
    for a, b in itertools.pairwise(routes):
        if a.get("ended") == "breakdown":
            ctx.fault(
                where(b), "trips", f"follows route {a['route_id']}, which ended in a breakdown"
            )
        back, unloaded = a["stops"][-1]["arrival_s"], a["stops"][-1]["departure_s"]
        loads, leaves = b["stops"][0]["arrival_s"], b["stops"][0]["departure_s"]
        if loads < unloaded:
            ctx.fault(
                where(b, 0),
                "trips",
                f"loading starts {loads}, before route {a['route_id']} is unloaded at {unloaded}",
            )
        if leaves < back + vt.recharge_s:
            ctx.fault(
                where(b, 0),
                "recharge",
                f"leaves {leaves}, before {back} + {vt.recharge_s} s recharge "
                f"after route {a['route_id']}",
            )
    _lunch(ctx, at, routes, entry["lunch"])


def _lunch(
    ctx: Context,
    at: str,
    routes: Sequence[Mapping[str, Any]],
    lunch: Mapping[str, int] | None,
) -> None:
    """One lunch in its window, no work in it; the route it falls in names it as its break."""
    s = ctx.settings
    if lunch is None:
        ctx.fault(at, "lunch", "no lunch break")
        return
    start, end = lunch["start_s"], lunch["end_s"]
    if not s.lunch_earliest_s <= start <= s.lunch_latest_s:
        ctx.fault(
            at, "lunch", f"lunch starts {start}, outside {s.lunch_earliest_s}-{s.lunch_latest_s}"
        )
    if end - start != s.lunch_duration_s:
        ctx.fault(at, "lunch", f"lunch lasts {end - start} s, not {s.lunch_duration_s} s")
    for r in routes:
        first, last = r["stops"][0]["arrival_s"], r["stops"][-1]["departure_s"]
        inside = start < last and first < end
        brk = r["break"]
        if inside and (brk is None or (brk["start_s"], brk["end_s"]) != (start, end)):
            ctx.fault(
                where(r),
                "lunch",
                f"the driver's lunch {start}-{end} falls in this route, "
                "which does not hold it as its break",
            )
        if not inside and brk is not None:
            ctx.fault(
                where(r),
                "lunch",
                f"break {brk['start_s']}-{brk['end_s']} is not the driver's lunch {start}-{end}",
            )
