"""What one version of a day's plan says about each parcel: the legs that carry it, when it is
due where it goes, which route hands it over or collects it, and the planned cost it carries.

Built once per stored plan version from the plan JSON as stored (the edge where plans come
back from the database or a file) and the parcel records of the day, then read by the scan
judge, the trace, plan-against-actual, the assessment and the settlement. Units: seconds since
local midnight, grams, millilitres, fen (shares of a route's cost are fractions of a fen).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dispatch.parcel import Parcel


@dataclass(frozen=True, slots=True)
class Leg:
    """One ride of a parcel: loaded at `from_point` (leaving at `load_s`) onto a route, dropped
    at `to_point` (arriving at `drop_s`)."""

    route_id: str
    vehicle_id: str
    echelon: int
    from_point: str
    load_s: int
    to_point: str
    drop_s: int


@dataclass(frozen=True, slots=True)
class ParcelFacts:
    """The plan's word on one parcel.

    `status`: carried (a complete chain today), held (waits at a station for the next day),
    deferred (due later) or unassigned (not carried, with `code`). `due_s` is the planned
    arrival where it goes (a delivery at its point, produce at the hub); `collect_s` the
    planned arrival at the village of a pickup. `route_id` is the route that hands the
    delivery over or collects the produce. `cost_fen` is its equal share of every route that
    carries it; `carrier_cost_fen` its share by the settlement rule (dispatch.settlement).
    """

    parcel: Parcel
    town_id: str
    status: str
    code: str | None
    legs: tuple[Leg, ...]
    route_id: str | None
    due_s: int | None
    collect_s: int | None
    cost_fen: float
    carrier_cost_fen: float


@dataclass(frozen=True)
class RouteFacts:
    """A route as plan-against-actual reports it."""

    route_id: str
    vehicle_id: str
    echelon: int
    depot: str
    start_s: int
    end_s: int
    cost_fen: int


@dataclass
class DayFacts:
    """Every parcel of one plan version, its routes and its vehicles' depots."""

    plan_id: str
    date: dt.date
    parcels: dict[str, ParcelFacts]
    routes: dict[str, RouteFacts]
    depots: dict[str, str]
    hub_id: str
    #: Failed attempts before this day of parcels carried in after a failure.
    attempts: dict[str, int] = field(default_factory=dict)
    _through: dict[str, set[str]] = field(default_factory=dict, repr=False)

    def vehicles_of(self, tracking_no: str) -> set[str]:
        """The vehicles whose routes carry the parcel."""
        facts = self.parcels.get(tracking_no)
        return {leg.vehicle_id for leg in facts.legs} if facts else set()

    def points_of(self, tracking_no: str) -> set[str]:
        """The points the parcel passes: its own point, every leg's ends, where it waits."""
        return self._through.get(tracking_no, set())


#: Share of a route's cost split by weight, by volume and by stops (the settlement rule).
SHARE_WEIGHT = SHARE_VOLUME = SHARE_STOPS = 1 / 3


def build_day_facts(
    plan: Mapping[str, Any],
    parcels: Iterable[Parcel],
    town_of: Mapping[str, str],
    hub_id: str,
    attempts: Mapping[str, int] | None = None,
) -> DayFacts:
    """The facts of `plan` (plan JSON, contract 2.0) over the day's parcel records (manifests
    and what was carried in); `town_of` maps a point to its town; `attempts` the failed
    attempts before this day of parcels carried in after a failure."""
    records = {p.tracking_no: p for p in parcels}
    legs: dict[str, list[Leg]] = defaultdict(list)
    equal: dict[str, float] = defaultdict(float)
    by_rule: dict[str, float] = defaultdict(float)
    routes: dict[str, RouteFacts] = {}
    for r in plan.get("routes", []):
        stops = r["stops"]
        routes[r["route_id"]] = RouteFacts(
            route_id=r["route_id"],
            vehicle_id=r["vehicle_id"],
            echelon=int(r["echelon"]),
            depot=r["depot"],
            start_s=int(stops[0]["arrival_s"]),
            end_s=int(stops[-1]["departure_s"]),
            cost_fen=int(r["cost_fen"]),
        )
        loaded: dict[str, tuple[str, int]] = {}
        at_stop: dict[int, list[str]] = defaultdict(list)
        for i, s in enumerate(stops):
            for t in s["load"]:
                loaded[t] = (s["point_id"], int(s["departure_s"]))
                if 0 < i < len(stops) - 1:
                    at_stop[i].append(t)
            for t in s["drop"]:
                start = loaded.pop(t, (r["depot"], int(stops[0]["departure_s"])))
                legs[t].append(
                    Leg(
                        route_id=r["route_id"],
                        vehicle_id=r["vehicle_id"],
                        echelon=int(r["echelon"]),
                        from_point=start[0],
                        load_s=start[1],
                        to_point=s["point_id"],
                        drop_s=int(s["arrival_s"]),
                    )
                )
                if 0 < i < len(stops) - 1:
                    at_stop[i].append(t)
        _share(r, at_stop, records, equal, by_rule)
    status: dict[str, tuple[str, str | None]] = {}  # tracking number -> (status, code)
    for u in plan.get("unassigned", []):
        why = str(u["code"])
        status[u["parcel_id"]] = ("deferred" if why.startswith("deferred") else "unassigned", why)
    for h in plan.get("held", []):
        status[h["parcel_id"]] = ("held", str(h["code"]))
    waits = {c["parcel_id"]: c["at"] for c in plan.get("carried_in", [])}
    facts: dict[str, ParcelFacts] = {}
    through: dict[str, set[str]] = {}
    for t, p in records.items():
        mine = tuple(sorted(legs.get(t, []), key=lambda g: (g.load_s, g.drop_s)))
        if t not in status and not mine:
            continue  # a record the plan does not mention (not this version's parcel)
        planned, code = status.get(t, ("carried", None))
        facts[t] = ParcelFacts(
            parcel=p,
            town_id=town_of.get(p.point_id, p.point_id),
            status=planned,
            code=code,
            legs=mine,
            route_id=_handing_route(p, mine),
            due_s=_due_s(p, mine, hub_id),
            collect_s=_collect_s(p, mine),
            cost_fen=equal.get(t, 0.0),
            carrier_cost_fen=by_rule.get(t, 0.0),
        )
        through[t] = {p.point_id, *(g.from_point for g in mine), *(g.to_point for g in mine)}
        if t in waits:
            through[t].add(waits[t])
    depots = {v["vehicle_id"]: v["depot"] for v in plan.get("vehicles", [])}
    return DayFacts(
        plan_id=str(plan["plan_id"]),
        date=dt.date.fromisoformat(str(plan["date"])),
        parcels=facts,
        routes=routes,
        depots=depots,
        hub_id=hub_id,
        attempts=dict(attempts or {}),
        _through=through,
    )


def _share(
    route: Mapping[str, Any],
    at_stop: Mapping[int, Sequence[str]],
    records: Mapping[str, Parcel],
    equal: dict[str, float],
    by_rule: dict[str, float],
) -> None:
    """Share the route's cost among the parcels it handles: equally (the towns' planned cost
    per parcel) and by the settlement rule (a third by weight, a third by volume, a third by
    stops: each stop served an equal part, split equally among the parcels handled there)."""
    handled = sorted({t for ts in at_stop.values() for t in ts if t in records})
    if not handled:
        return
    cost = float(route["cost_fen"])
    for t in handled:
        equal[t] += cost / len(handled)
    grams = sum(records[t].weight_g for t in handled)
    millilitres = sum(records[t].volume_ml for t in handled)
    parts = {
        "weight": SHARE_WEIGHT if grams else 0.0,
        "volume": SHARE_VOLUME if millilitres else 0.0,
        "stops": SHARE_STOPS,
    }
    scale = cost / sum(parts.values())
    for t in handled:
        p = records[t]
        if grams:
            by_rule[t] += scale * parts["weight"] * p.weight_g / grams
        if millilitres:
            by_rule[t] += scale * parts["volume"] * p.volume_ml / millilitres
    served = {i: [t for t in ts if t in records] for i, ts in at_stop.items()}
    served = {i: ts for i, ts in served.items() if ts}
    for ts in served.values():
        unique = sorted(set(ts))
        for t in unique:
            by_rule[t] += scale * parts["stops"] / len(served) / len(unique)


def _handing_route(p: Parcel, legs: Sequence[Leg]) -> str | None:
    """The route that hands a delivery over at its point, or collects produce at its point."""
    if p.kind == "delivery":
        last = next((g for g in reversed(legs) if g.to_point == p.point_id), None)
        return last.route_id if last else None
    first = next((g for g in legs if g.from_point == p.point_id), None)
    return first.route_id if first else None


def _due_s(p: Parcel, legs: Sequence[Leg], hub_id: str) -> int | None:
    """Planned arrival where the parcel goes: a delivery at its point, produce at the hub."""
    goal = p.point_id if p.kind == "delivery" else hub_id
    last = next((g for g in reversed(legs) if g.to_point == goal), None)
    return last.drop_s if last else None


def _collect_s(p: Parcel, legs: Sequence[Leg]) -> int | None:
    """Planned arrival at the village of a pickup (the stop where it is loaded)."""
    if p.kind != "pickup":
        return None
    first = next((g for g in legs if g.from_point == p.point_id), None)
    return first.load_s if first else None
