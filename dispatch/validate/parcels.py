"""Parcel by parcel: a complete chain of loads and drops from where it is to where it goes
(through station transfers, after sorting, cold only where a cold room is), or held at a
station, or listed as not carried; and what the next day takes over (carry_over)."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence

from dispatch.parcel import Parcel
from dispatch.validate.context import Context
from dispatch.validate.routes import Leg, Rides


def check_parcels(ctx: Context, rides: Rides) -> set[str]:
    """Every parcel accounted for exactly once; returns the ids whose chain is complete."""
    unassigned = Counter(u["parcel_id"] for u in ctx.plan["unassigned"])
    held = {h["parcel_id"]: h for h in ctx.plan["held"]}
    for t, n in unassigned.items():
        if n > 1:
            ctx.fault(f"parcel {t}", "chain", f"listed {n} times in unassigned")
    for t in held.keys() & unassigned.keys():
        ctx.fault(f"parcel {t}", "held", "both held and unassigned")
    codes = {u["parcel_id"]: u["code"] for u in ctx.plan["unassigned"]}
    for t in rides.stranded:
        if codes.get(t) != "vehicle_breakdown":
            ctx.fault(
                f"parcel {t}", "reason", "on board a broken-down vehicle but not listed as such"
            )
    for t in {t for t, c in codes.items() if c == "vehicle_breakdown"} - rides.stranded:
        ctx.fault(f"parcel {t}", "reason", "listed as on a broken-down vehicle but it is not")
    carried_in = {c["parcel_id"]: c["at"] for c in ctx.plan["carried_in"]}
    for t, station in ctx.inputs.started_at.items():
        if carried_in.get(t) != station:
            ctx.fault(
                f"parcel {t}",
                "carried_in",
                f"waits at {station} since an earlier day, the plan says {carried_in.get(t)!r}",
            )
    for t, at in carried_in.items():
        if ctx.points[at].kind == "station" and ctx.inputs.started_at.get(t) != at:
            ctx.fault(
                f"parcel {t}",
                "carried_in",
                f"said to wait at {at}, which the earlier plan does not say",
            )
    complete: set[str] = set()
    for t, parcel in ctx.parcels.items():
        legs = sorted(rides.legs.get(t, []), key=lambda g: (g.load_departure_s, g.drop_arrival_s))
        if t in rides.stranded:
            continue
        if t in held:
            _held(ctx, parcel, legs, held[t])
        elif t in rides.touched and codes.get(t) in ("point_closed", "road_closed"):
            _closed(ctx, parcel, legs)
        elif t in rides.touched:
            if t in unassigned:
                ctx.fault(f"parcel {t}", "chain", "listed in unassigned but carried by a route")
            if _chain(ctx, parcel, legs, ctx.inputs.started_at.get(t)):
                complete.add(t)
        elif t not in unassigned:
            ctx.fault(f"parcel {t}", "chain", "neither carried, held nor listed in unassigned")
    _carry_over(ctx, held, codes)
    return complete


def _origin(ctx: Context, parcel: Parcel, started: str | None) -> str:
    if started is not None:
        return started
    return ctx.hub if parcel.kind == "delivery" else parcel.point_id


def _chain(ctx: Context, parcel: Parcel, legs: Sequence[Leg], started: str | None) -> bool:
    """Legs from the parcel's origin to its destination, transfers in between; True if whole."""
    t = parcel.tracking_no
    if not legs:
        ctx.fault(f"parcel {t}", "chain", "loaded but never dropped")
        return False
    origin = _origin(ctx, parcel, started)
    dest = parcel.point_id if parcel.kind == "delivery" else ctx.hub
    ok = True
    if legs[0].load_point != origin:
        ctx.fault(
            f"parcel {t}",
            "chain",
            f"first loaded at {legs[0].load_point} by {legs[0].route_id}, it is at {origin}",
        )
        ok = False
    if legs[-1].drop_point != dest:
        ctx.fault(
            f"parcel {t}",
            "chain",
            f"left at {legs[-1].drop_point} by {legs[-1].route_id}, not {dest}",
        )
        ok = False
    for a, b in itertools.pairwise(legs):
        ok = _transfer(ctx, parcel, a, b) and ok
    return ok


def _transfer(ctx: Context, parcel: Parcel, a: Leg, b: Leg) -> bool:
    """Leg `a` drops the parcel where leg `b` loads it: a station, echelons and times right."""
    t = parcel.tracking_no
    at = f"parcel {t} transfer {a.route_id} -> {b.route_id}"
    if a.drop_point != b.load_point:
        ctx.fault(at, "chain", f"dropped at {a.drop_point} but loaded at {b.load_point}")
        return False
    station = ctx.points[a.drop_point]
    ok = True
    if station.kind != "station":
        ctx.fault(at, "transfer", f"at {station.point_id}, a {station.kind}, not a station")
        ok = False
    want = (1, 2) if parcel.kind == "delivery" else (2, 1)
    if (a.echelon, b.echelon) != want:
        ctx.fault(
            at, "transfer", f"echelon {a.echelon} -> {b.echelon}, expected {want[0]} -> {want[1]}"
        )
        ok = False
    wait = ctx.settings.sort_time_s if parcel.kind == "delivery" else 0
    if b.load_departure_s < a.drop_departure_s + wait:
        ctx.fault(
            at,
            "transfer",
            f"leaves {station.point_id} at {b.load_departure_s}, before the drop there ends "
            f"at {a.drop_departure_s} + {wait} s sorting",
        )
        ok = False
    if parcel.cold and not station.cold_storage:
        ctx.fault(
            at, "cold_chain", f"cold parcel waits at {station.point_id}, which has no cold room"
        )
        ok = False
    return ok


def _held(ctx: Context, parcel: Parcel, legs: Sequence[Leg], entry: dict[str, object]) -> None:
    """A parcel waiting at a station for the next day, chilled goods only in a cold room.

    Produce: brought there by a village run after the last hub vehicle that could carry it had
    called. A delivery: dropped at its own town's station by a hub vehicle, and every working
    vehicle of that station that could take it on has work today. Either may wait there since
    an earlier day.
    """
    t = parcel.tracking_no
    at = f"parcel {t}"
    station = str(entry["station"])
    if parcel.cold and not ctx.points[station].cold_storage:
        ctx.fault(at, "cold_chain", f"chilled goods held at {station}, which has no cold room")
    started = ctx.inputs.started_at.get(t)
    if not legs and started == station:
        if entry["arrived_s"] != ctx.points[station].open_s:
            ctx.fault(
                at, "held", f"waits at {station} since an earlier day: arrived_s is its opening"
            )
        ready = ctx.points[station].open_s
    else:
        want = 2 if parcel.kind == "pickup" else 1
        last = legs[-1] if legs else None
        if last is None or last.drop_point != station or last.echelon != want:
            ctx.fault(at, "held", f"not brought to {station} by an echelon-{want} route")
            return
        if len(legs) > 1 or last.load_point != _origin(ctx, parcel, started):
            ctx.fault(at, "held", f"its chain does not run from where it was to {station}")
        if entry["arrived_s"] != last.drop_arrival_s:
            ctx.fault(
                at,
                "held",
                f"arrived_s {entry['arrived_s']}, the route arrives {last.drop_arrival_s}",
            )
        ready = last.drop_departure_s
    if parcel.kind == "pickup":
        _after_last_call(ctx, parcel, station, ready)
    else:
        _no_village_run(ctx, parcel, station)


def _after_last_call(ctx: Context, parcel: Parcel, station: str, ready: int) -> None:
    """No hub vehicle that could carry the produce calls at the station once it is there."""
    for r in ctx.plan["routes"]:
        if r["echelon"] != 1 or (parcel.cold and not ctx.vtype(r["vehicle_id"]).cold):
            continue
        for i, s in enumerate(r["stops"]):
            if s["point_id"] == station and s["departure_s"] >= ready:
                ctx.fault(
                    f"parcel {parcel.tracking_no}",
                    "held",
                    f"route {r['route_id']} stop {i} calls at {station} at {s['departure_s']}, "
                    f"after it was there ({ready}), and could have taken it",
                )


def _no_village_run(ctx: Context, parcel: Parcel, station: str) -> None:
    """A delivery waits at its own town's station and every station vehicle that could take it
    on is busy today."""
    at = f"parcel {parcel.tracking_no}"
    if ctx.points[parcel.point_id].town_id != station:
        ctx.fault(at, "held", f"a delivery waits only at its own town's station, not {station}")
    types = ctx.inputs.fleet.types
    for v in ctx.working():
        t = types[v.vtype]
        could = (
            v.depot == station
            and ctx.enters(v, parcel.point_id)
            and (t.cold or not parcel.cold)
            and parcel.weight_g <= t.capacity_g
            and parcel.volume_ml <= t.capacity_ml
        )
        if could and v.vehicle_id not in ctx.routes_of:
            ctx.fault(at, "held", f"{v.vehicle_id} could take it on and has no work today")


def _closed(ctx: Context, parcel: Parcel, legs: Sequence[Leg]) -> None:
    """A parcel for a point closed (or cut off) after it left: it must end up held at a
    station."""
    if not legs or ctx.points[legs[-1].drop_point].kind != "station":
        ctx.fault(
            f"parcel {parcel.tracking_no}",
            "reason",
            "its point is closed but it is not held at a station",
        )


def _carry_over(ctx: Context, held: dict[str, dict[str, object]], codes: dict[str, str]) -> None:
    """What the next day takes: exactly the held and deferred parcels, as the inputs have them,
    each where it waits."""
    want: dict[str, tuple[str, str]] = {t: (str(h["station"]), "held") for t, h in held.items()}
    for t, code in codes.items():
        if code.startswith("deferred"):
            p = ctx.parcels[t]
            want[t] = (ctx.hub if p.kind == "delivery" else p.point_id, "deferred")
    seen = Counter(c["tracking_no"] for c in ctx.plan["carry_over"])
    for c in ctx.plan["carry_over"]:
        t = c["tracking_no"]
        at = f"carry_over {t}"
        if t not in want:
            ctx.fault(at, "carry_over", "neither held nor deferred")
            continue
        if seen[t] > 1:
            ctx.fault(at, "carry_over", f"listed {seen[t]} times")
        p = ctx.parcels[t]
        record = {
            "carrier": p.carrier,
            "kind": p.kind,
            "point_id": p.point_id,
            "weight_g": p.weight_g,
            "volume_ml": p.volume_ml,
            "cold": p.cold,
            "due_date": p.due_date.isoformat(),
        }
        for key, value in record.items():
            if c[key] != value:
                ctx.fault(at, "carry_over", f"{key} {c[key]!r}, the parcel's is {value!r}")
        if (c["at"], c["why"]) != want[t]:
            ctx.fault(
                at,
                "carry_over",
                f"waits at {c['at']} ({c['why']}), expected {want[t][0]} ({want[t][1]})",
            )
    for t in want.keys() - seen.keys():
        ctx.fault(
            f"carry_over {t}", "carry_over", f"{want[t][1]} but not handed on to the next day"
        )
