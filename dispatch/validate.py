"""Independent check of a finished plan against the plan JSON contract (version 1.0).

It recomputes everything from the plan JSON and the day's inputs (parcels, fleet, points,
travel callbacks) and shares no code with the planner or the optimizer, so a planner bug
cannot hide behind the same bug here. Units: seconds since midnight, metres, grams,
millilitres, fen; integers compare with a tolerance of 0.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dispatch.fleet import CLASS_RANK, Fleet, VehicleType
from dispatch.parcel import Parcel
from geodata.points import ServicePoint

PLAN_VERSION = "1.0"
_STATUSES = ("optimal", "feasible", "partial", "failed")
_MODES = ("auto", "via_station", "direct")


@dataclass(frozen=True)
class PlanInputs:
    """What a plan is checked against: the day's parcels, the fleet, points and travel."""

    parcels: Sequence[Parcel]
    fleet: Fleet
    points: Mapping[str, ServicePoint]
    travel_s: Callable[[str, str, str], int]
    travel_m: Callable[[str, str, str], int]


class PlanInvalid(RuntimeError):
    """A plan broke the contract; `errors` holds every message."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        shown = "\n".join(errors[:50])
        more = f"\n... and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(f"plan is invalid ({len(errors)} problem(s)):\n{shown}{more}")


def validate_plan(plan: Mapping[str, Any], inputs: PlanInputs) -> list[str]:
    """Every contract violation of `plan` as a message naming route/seq/parcel/field; [] = valid.

    Shape and references are checked first; the semantic checks run only on a plan whose
    shape is right and whose ids all resolve (otherwise they would report noise).
    """
    errors = _check_shape(plan)
    if not errors:
        errors = _check_references(plan, inputs)
    if not errors:
        errors = _Semantics(plan, inputs).run()
    return errors


def check_plan(plan: Mapping[str, Any], inputs: PlanInputs) -> None:
    """Raise PlanInvalid with all messages unless `plan` is valid."""
    errors = validate_plan(plan, inputs)
    if errors:
        raise PlanInvalid(errors)


# --- shape -------------------------------------------------------------------------------


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_str_list(v: object) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


_Kind = tuple[Callable[[object], bool], str]
_INT: _Kind = (_is_int, "an integer")
_STR: _Kind = (lambda v: isinstance(v, str), "a string")
_BOOL: _Kind = (lambda v: isinstance(v, bool), "true or false")
_LIST: _Kind = (lambda v: isinstance(v, list), "a list")
_DICT: _Kind = (lambda v: isinstance(v, dict), "an object")
_OPT_DICT: _Kind = (lambda v: v is None or isinstance(v, dict), "an object or null")
_STR_LIST: _Kind = (_is_str_list, "a list of strings")
_NUMBER: _Kind = (lambda v: _is_int(v) or isinstance(v, float), "a number")

_TOP = {
    "version": _STR,
    "plan_id": _STR,
    "date": _STR,
    "status": _STR,
    "mode": _STR,
    "vehicles": _LIST,
    "routes": _LIST,
    "unassigned": _LIST,
    "kpis": _DICT,
}
_VEHICLE = {
    "vehicle_id": _STR,
    "vehicle_type": _STR,
    "capacity_g": _INT,
    "capacity_ml": _INT,
    "cold": _BOOL,
    "depot": _STR,
    "shift_start_s": _INT,
    "shift_end_s": _INT,
}
_ROUTE = {
    "route_id": _STR,
    "vehicle_id": _STR,
    "vehicle_type": _STR,
    "echelon": _INT,
    "trip": _INT,
    "depot": _STR,
    "distance_m": _INT,
    "duration_s": _INT,
    "cost_fen": _INT,
    "break": _OPT_DICT,
    "stops": _LIST,
}
_STOP = {
    "seq": _INT,
    "point_id": _STR,
    "arrival_s": _INT,
    "departure_s": _INT,
    "load": _STR_LIST,
    "drop": _STR_LIST,
    "weight_g_after": _INT,
    "volume_ml_after": _INT,
}
_BREAK = {"start_s": _INT, "end_s": _INT}
_UNASSIGNED = {"parcel_id": _STR, "code": _STR, "reason": _STR}
_KPIS = {
    "parcels": _INT,
    "delivered": _INT,
    "picked_up": _INT,
    "unassigned": _INT,
    "deferred": _INT,
    "distance_m": _INT,
    "duration_s": _INT,
    "cost_fen": _INT,
    "vehicles_used": _INT,
    "cost_per_parcel_fen": _NUMBER,
}


def _fields(obj: object, spec: Mapping[str, _Kind], where: str, errors: list[str]) -> bool:
    """Check that `obj` is an object with every field of `spec` of the right kind."""
    if not isinstance(obj, dict):
        errors.append(f"{where}: must be an object")
        return False
    ok = True
    for key, (is_kind, kind) in spec.items():
        if key not in obj:
            errors.append(f"{where}: missing field {key!r}")
            ok = False
        elif not is_kind(obj[key]):
            errors.append(f"{where}.{key}: must be {kind}, got {obj[key]!r}")
            ok = False
    return ok


def _check_shape(plan: object) -> list[str]:
    """Keys, types and value domains of the whole plan, with no reference to the inputs."""
    errors: list[str] = []
    if not _fields(plan, _TOP, "plan", errors):
        return errors
    assert isinstance(plan, dict)
    if plan["version"] != PLAN_VERSION:
        errors.append(f"plan.version: expected {PLAN_VERSION!r}, got {plan['version']!r}")
    if plan["status"] not in _STATUSES:
        errors.append(f"plan.status: {plan['status']!r} is not one of {', '.join(_STATUSES)}")
    if plan["mode"] not in _MODES:
        errors.append(f"plan.mode: {plan['mode']!r} is not one of {', '.join(_MODES)}")
    try:
        ok_date = dt.date.fromisoformat(plan["date"]).isoformat() == plan["date"]
    except ValueError:
        ok_date = False
    if not ok_date:
        errors.append(f"plan.date: {plan['date']!r} is not a YYYY-MM-DD date")
    for i, v in enumerate(plan["vehicles"]):
        _fields(v, _VEHICLE, f"vehicles[{i}]", errors)
    route_ids: Counter[str] = Counter()
    for i, route in enumerate(plan["routes"]):
        if _fields(route, _ROUTE, f"routes[{i}]", errors):
            route_ids[route["route_id"]] += 1
            _check_route_shape(route, errors)
    errors += [f"route {r}: route_id used {n} times" for r, n in route_ids.items() if n > 1]
    for i, u in enumerate(plan["unassigned"]):
        if _fields(u, _UNASSIGNED, f"unassigned[{i}]", errors):
            for key in ("code", "reason"):
                if not u[key].strip():
                    errors.append(f"unassigned[{i}] ({u['parcel_id']}).{key}: must not be empty")
    _fields(plan["kpis"], _KPIS, "kpis", errors)
    return errors


def _check_route_shape(route: Mapping[str, Any], errors: list[str]) -> None:
    """Domains of one route's fields and the shape of its stops and break."""
    where = f"route {route['route_id']}"
    if route["echelon"] not in (1, 2):
        errors.append(f"{where}.echelon: must be 1 or 2, got {route['echelon']}")
    if route["trip"] < 1:
        errors.append(f"{where}.trip: must be >= 1, got {route['trip']}")
    for key in ("distance_m", "duration_s", "cost_fen"):
        if route[key] < 0:
            errors.append(f"{where}.{key}: must not be negative, got {route[key]}")
    if route["break"] is not None:
        _fields(route["break"], _BREAK, f"{where}.break", errors)
    stops = route["stops"]
    if len(stops) < 2:
        errors.append(f"{where}.stops: needs at least the start and end depot, got {len(stops)}")
    for i, stop in enumerate(stops):
        if _fields(stop, _STOP, f"{where} stops[{i}]", errors) and stop["seq"] != i:
            errors.append(f"{where} stops[{i}].seq: expected {i}, got {stop['seq']}")


# --- references --------------------------------------------------------------------------


def _check_references(plan: Mapping[str, Any], inputs: PlanInputs) -> list[str]:
    """Vehicles match the fleet; every vehicle, type, point and parcel id resolves."""
    errors: list[str] = []
    fleet = {v.vehicle_id: v for v in inputs.fleet.vehicles}
    parcel_ids = Counter(p.tracking_no for p in inputs.parcels)
    errors += [f"inputs: tracking_no {t} appears {n} times" for t, n in parcel_ids.items() if n > 1]
    listed: Counter[str] = Counter()
    for i, pv in enumerate(plan["vehicles"]):
        vid = pv["vehicle_id"]
        listed[vid] += 1
        fv = fleet.get(vid)
        if fv is None:
            errors.append(f"vehicles[{i}] ({vid}): not in the fleet")
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
        for key, want in expected.items():
            if pv[key] != want:
                errors.append(f"vehicles[{i}] ({vid}).{key}: fleet says {want!r}, got {pv[key]!r}")
    errors += [f"vehicles: {v} listed {n} times" for v, n in listed.items() if n > 1]
    errors += [f"vehicles: fleet vehicle {v} is missing" for v in fleet if v not in listed]

    for route in plan["routes"]:
        where = f"route {route['route_id']}"
        fv = fleet.get(route["vehicle_id"])
        if fv is None:
            errors.append(f"{where}.vehicle_id: {route['vehicle_id']!r} is not in the fleet")
        elif route["vehicle_type"] != fv.vtype:
            errors.append(
                f"{where}.vehicle_type: vehicle {fv.vehicle_id} is a {fv.vtype!r}, "
                f"got {route['vehicle_type']!r}"
            )
        if route["depot"] not in inputs.points:
            errors.append(f"{where}.depot: unknown point {route['depot']!r}")
        for stop in route["stops"]:
            at = f"{where} seq {stop['seq']}"
            if stop["point_id"] not in inputs.points:
                errors.append(f"{at}.point_id: unknown point {stop['point_id']!r}")
            for key in ("load", "drop"):
                errors += [
                    f"{at}.{key}: unknown parcel {t!r}" for t in stop[key] if t not in parcel_ids
                ]
    for i, u in enumerate(plan["unassigned"]):
        if u["parcel_id"] not in parcel_ids:
            errors.append(f"unassigned[{i}].parcel_id: unknown parcel {u['parcel_id']!r}")
    return errors


# --- semantics ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Leg:
    """A parcel's ride on one route: loaded at one stop, dropped at a later one."""

    route_id: str
    order: int
    echelon: int
    load_point: str
    load_departure_s: int
    drop_point: str
    drop_arrival_s: int


@dataclass
class _Board:
    """What a vehicle carries while a route is replayed: parcel -> stop index it was loaded."""

    order: int
    route: Mapping[str, Any]
    vtype: VehicleType
    on_board: dict[str, int] = field(default_factory=dict)
    weight: int = 0
    volume: int = 0


def _overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    """Length of the intersection of [a0, a1] and [b0, b1] (s)."""
    return max(0, min(a1, b1) - max(a0, b0))


class _Semantics:
    """Checks of a well-formed plan whose ids all resolve; collects messages."""

    def __init__(self, plan: Mapping[str, Any], inputs: PlanInputs) -> None:
        self.plan = plan
        self.inputs = inputs
        self.points = inputs.points
        self.settings = inputs.fleet.settings
        self.parcels = {p.tracking_no: p for p in inputs.parcels}
        self.vehicles = {v.vehicle_id: v for v in inputs.fleet.vehicles}
        self.errors: list[str] = []
        self.legs: dict[str, list[_Leg]] = defaultdict(list)
        self.carried: set[str] = set()
        self.stranded: set[str] = set()  # on board a vehicle when it broke down
        self.held: set[str] = set()  # held at a station: their point closed after they left

    def run(self) -> list[str]:
        """All semantic checks, in plan order."""
        for order, route in enumerate(self.plan["routes"]):
            self._route(order, route)
        self._trips()
        self._chains()
        self._kpis()
        return self.errors

    def _err(self, msg: str) -> None:
        self.errors.append(msg)

    def _route(self, order: int, route: Mapping[str, Any]) -> None:
        """One route: places, break, then stop by stop; distance and duration at the end."""
        rid, stops = route["route_id"], route["stops"]
        vt = self.inputs.fleet.types[self.vehicles[route["vehicle_id"]].vtype]
        self._route_places(route)
        brk = route["break"]
        if brk is not None:
            self._break(rid, brk, stops)
        window = (brk["start_s"], brk["end_s"]) if brk is not None else (0, 0)
        board = _Board(order=order, route=route, vtype=vt)
        for i in range(len(stops)):
            self._stop_time(route, i, vt, window)
            self._stop_parcels(board, i)
        distance = sum(
            self.inputs.travel_m(vt.name, a["point_id"], b["point_id"])
            for a, b in itertools.pairwise(stops)
        )
        if route.get("ended") == "breakdown":
            self.stranded |= set(board.on_board)
        elif board.on_board:
            self._err(f"route {rid}: parcels still on board at the end: {sorted(board.on_board)}")
        if route["distance_m"] != distance:
            self._err(f"route {rid}.distance_m: {route['distance_m']} but legs sum to {distance}")
        span = stops[-1]["arrival_s"] - stops[0]["departure_s"]
        if route["duration_s"] != span:
            self._err(
                f"route {rid}.duration_s: {route['duration_s']} but last arrival - first "
                f"departure is {span}"
            )

    def _stop_time(
        self, route: Mapping[str, Any], i: int, vt: VehicleType, brk: tuple[int, int]
    ) -> None:
        """Vehicle class admitted, arrival in opening hours and after travel (+ break)."""
        stops = route["stops"]
        stop = stops[i]
        pid = stop["point_id"]
        point = self.points[pid]
        at = f"route {route['route_id']} seq {i} ({pid})"
        if CLASS_RANK[vt.vclass] > CLASS_RANK[point.max_vclass]:
            self._err(f"{at}: a {vt.vclass} ({vt.name}) may not enter; {point.max_vclass} max")
        if not point.open_s <= stop["arrival_s"] <= point.close_s:
            self._err(
                f"{at}.arrival_s: {stop['arrival_s']} outside opening hours "
                f"[{point.open_s}, {point.close_s}]"
            )
        if stop["departure_s"] < stop["arrival_s"]:
            self._err(f"{at}.departure_s: {stop['departure_s']} before arrival")
        if i == 0:
            return
        dep, arr = stops[i - 1]["departure_s"], stop["arrival_s"]
        travel = self.inputs.travel_s(vt.name, stops[i - 1]["point_id"], pid)
        need = travel + _overlap(dep, arr, *brk)
        if arr - dep < need:
            self._err(
                f"{at}.arrival_s: {arr} is earlier than departure {dep} + {need} s "
                f"(travel {travel} s{' + break' if need > travel else ''})"
            )

    def _stop_parcels(self, board: _Board, i: int) -> None:
        """Drops then loads at stop i: on board or not, cold chain, load after vs capacity."""
        route, vt = board.route, board.vtype
        stop = route["stops"][i]
        at = f"route {route['route_id']} seq {i} ({stop['point_id']})"
        for t in stop["drop"]:
            self.carried.add(t)
            if t not in board.on_board:
                self._err(f"{at}.drop: parcel {t} is not on board")
                continue
            loaded = route["stops"][board.on_board.pop(t)]
            board.weight -= self.parcels[t].weight_g
            board.volume -= self.parcels[t].volume_ml
            self.legs[t].append(
                _Leg(
                    route_id=route["route_id"],
                    order=board.order,
                    echelon=route["echelon"],
                    load_point=loaded["point_id"],
                    load_departure_s=loaded["departure_s"],
                    drop_point=stop["point_id"],
                    drop_arrival_s=stop["arrival_s"],
                )
            )
        for t in stop["load"]:
            self.carried.add(t)
            if t in board.on_board:
                self._err(f"{at}.load: parcel {t} is already on board")
                continue
            board.on_board[t] = i
            board.weight += self.parcels[t].weight_g
            board.volume += self.parcels[t].volume_ml
            if self.parcels[t].cold and not vt.cold:
                self._err(f"{at}.load: cold parcel {t} on non-refrigerated {vt.name}")
        for key, value, cap in (
            ("weight_g_after", board.weight, vt.capacity_g),
            ("volume_ml_after", board.volume, vt.capacity_ml),
        ):
            if stop[key] != value:
                self._err(f"{at}.{key}: {stop[key]} but the parcels on board make {value}")
            if value > cap:
                self._err(f"{at}.{key}: {value} exceeds the {vt.name} capacity {cap}")

    def _route_places(self, route: Mapping[str, Any]) -> None:
        """Start at the depot, end at a hub or station; echelons start where the contract says."""
        rid, stops = route["route_id"], route["stops"]
        depot = self.points[route["depot"]]
        if stops[0]["point_id"] != depot.point_id:
            self._err(f"route {rid} seq 0.point_id: {stops[0]['point_id']} is not the depot")
        end = self.points[stops[-1]["point_id"]]
        if end.kind not in ("hub", "station") and route.get("ended") != "breakdown":
            self._err(
                f"route {rid} seq {len(stops) - 1}.point_id: ends at {end.kind} {end.point_id}"
            )
        if route["echelon"] == 1 and depot.kind != "hub":
            self._err(f"route {rid}.depot: echelon 1 starts at the hub, not {depot.point_id}")
        if route["echelon"] == 2:
            if depot.kind != "station":
                self._err(f"route {rid}.depot: echelon 2 starts at a station, not {depot.point_id}")
            for i, stop in enumerate(stops[1:-1], start=1):
                p = self.points[stop["point_id"]]
                if p.kind != "village" or p.town_id != depot.town_id:
                    self._err(
                        f"route {rid} seq {i} ({p.point_id}): echelon 2 serves only villages "
                        f"of town {depot.town_id}"
                    )

    def _break(self, rid: str, brk: Mapping[str, int], stops: Sequence[Mapping[str, Any]]) -> None:
        """Lunch break: its window and length, within the route."""
        s = self.settings
        start, end = brk["start_s"], brk["end_s"]
        if not s.lunch_earliest_s <= start <= s.lunch_latest_s:
            self._err(
                f"route {rid}.break.start_s: {start} outside "
                f"[{s.lunch_earliest_s}, {s.lunch_latest_s}]"
            )
        if end - start != s.lunch_duration_s:
            self._err(f"route {rid}.break: lasts {end - start} s, not {s.lunch_duration_s} s")
        if start < stops[0]["departure_s"] or end > stops[-1]["arrival_s"]:
            self._err(f"route {rid}.break: [{start}, {end}] is not within the route")

    def _trips(self) -> None:
        """Trips of one vehicle: numbered 1..k, within its shift, one after another."""
        by_vehicle: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for route in self.plan["routes"]:
            by_vehicle[route["vehicle_id"]].append(route)
        for vid, routes in by_vehicle.items():
            fv = self.vehicles[vid]
            vt = self.inputs.fleet.types[fv.vtype]
            trips = sorted(r["trip"] for r in routes)
            if trips != list(range(1, len(routes) + 1)):
                self._err(f"vehicle {vid}: trips are numbered {trips}, expected 1..{len(routes)}")
            if len(routes) > fv.max_trips:
                self._err(f"vehicle {vid}: {len(routes)} trips, at most {fv.max_trips} allowed")
            for r in routes:
                first, last = r["stops"][0]["arrival_s"], r["stops"][-1]["departure_s"]
                if first < fv.shift_start_s or last > fv.shift_end_s:
                    self._err(
                        f"route {r['route_id']}: [{first}, {last}] outside the shift of {vid} "
                        f"[{fv.shift_start_s}, {fv.shift_end_s}]"
                    )
            ordered = sorted(routes, key=lambda r: (r["trip"], r["stops"][0]["arrival_s"]))
            for a, b in itertools.pairwise(ordered):
                end_pt, end_s = a["stops"][-1]["point_id"], a["stops"][-1]["departure_s"]
                start_pt, start_s = b["stops"][0]["point_id"], b["stops"][0]["arrival_s"]
                move = self.inputs.travel_s(vt.name, end_pt, start_pt) if end_pt != start_pt else 0
                if start_s < end_s + move:
                    self._err(
                        f"route {b['route_id']}: trip {b['trip']} of {vid} starts at {start_s}, "
                        f"before trip {a['trip']} (route {a['route_id']}) ends at {end_s}"
                        + (f" + {move} s to reach {start_pt}" if move else "")
                    )

    def _chains(self) -> None:
        """Every parcel exactly once: a complete chain origin -> destination, or unassigned."""
        unassigned = Counter(u["parcel_id"] for u in self.plan["unassigned"])
        for t, n in unassigned.items():
            if n > 1:
                self._err(f"parcel {t}: listed {n} times in unassigned")
        codes = {u["parcel_id"]: u["code"] for u in self.plan["unassigned"]}
        for t in self.stranded:
            if codes.get(t) != "vehicle_breakdown":
                self._err(f"parcel {t}: on board a broken-down vehicle but not listed as such")
        for t in {t for t, c in codes.items() if c == "vehicle_breakdown"} - self.stranded:
            self._err(f"parcel {t}: listed as on a broken-down vehicle but it is not")
        for t, parcel in self.parcels.items():
            if t in self.stranded:
                continue
            if t in self.carried and codes.get(t) == "point_closed":
                self.held.add(t)
                self._held(parcel, self.legs[t])
                continue
            if t in self.carried:
                if t in unassigned:
                    self._err(f"parcel {t}: listed in unassigned but carried by a route")
                self._chain(parcel, self.legs[t])
            elif t not in unassigned:
                self._err(f"parcel {t}: neither carried by any route nor listed in unassigned")

    def _held(self, parcel: Parcel, legs: list[_Leg]) -> None:
        """A parcel for a point closed after it left: it must end up held at a station."""
        last = max(legs, key=lambda g: g.drop_arrival_s)
        if self.points[last.drop_point].kind != "station":
            self._err(
                f"parcel {parcel.tracking_no}: its point is closed but it is left at "
                f"{last.drop_point}, not held at a station"
            )

    def _chain(self, parcel: Parcel, legs: list[_Leg]) -> None:
        """One parcel's legs: from origin, through station transfers, to destination."""
        t = parcel.tracking_no
        delivery = parcel.kind == "delivery"
        # the order a chain must have: deliveries echelon 1 then 2, produce 2 then 1
        legs = sorted(
            legs, key=lambda g: (g.echelon if delivery else -g.echelon, g.load_departure_s, g.order)
        )
        if not legs:
            self._err(f"parcel {t}: never dropped anywhere")
            return
        origin = "hub" if delivery else parcel.point_id
        starts = [
            g.route_id
            for g in legs
            if (self.points[g.load_point].kind if delivery else g.load_point) == origin
        ]
        if len(starts) > 1:
            self._err(f"parcel {t}: carried more than once, loaded at its origin by {starts}")
            return
        first, last = legs[0], legs[-1]
        if delivery and self.points[first.load_point].kind != "hub":
            self._err(f"parcel {t}: delivery first loaded at {first.load_point}, not at the hub")
        if not delivery and first.load_point != parcel.point_id:
            self._err(
                f"parcel {t}: pickup first loaded at {first.load_point}, not {parcel.point_id}"
            )
        reached = (delivery and last.drop_point == parcel.point_id) or (
            not delivery and self.points[last.drop_point].kind == "hub"
        )
        if not reached:
            dest = parcel.point_id if delivery else "the hub"
            self._err(f"parcel {t}: left at {last.drop_point} by route {last.route_id}, not {dest}")
        for a, b in itertools.pairwise(legs):
            self._transfer(parcel, a, b)

    def _transfer(self, parcel: Parcel, a: _Leg, b: _Leg) -> None:
        """Leg `a` drops the parcel where leg `b` loads it: a station, echelons and times right."""
        t = parcel.tracking_no
        delivery = parcel.kind == "delivery"
        where = f"parcel {t}: transfer {a.route_id} -> {b.route_id}"
        if a.drop_point != b.load_point:
            if a.drop_point == parcel.point_id or self.points[a.drop_point].kind == "hub":
                self._err(f"parcel {t}: carried again by route {b.route_id} after {a.route_id}")
            else:
                self._err(f"{where}: dropped at {a.drop_point} but loaded at {b.load_point}")
            return
        station = self.points[a.drop_point]
        if station.kind != "station":
            self._err(f"{where}: at {station.point_id}, which is a {station.kind}, not a station")
        want = (1, 2) if delivery else (2, 1)
        if (a.echelon, b.echelon) != want:
            self._err(
                f"{where}: echelon {a.echelon} -> {b.echelon}, expected {want[0]} -> {want[1]}"
            )
        wait = self.settings.sort_time_s if delivery else 0
        if b.load_departure_s < a.drop_arrival_s + wait:
            self._err(
                f"{where}: leaves {station.point_id} at {b.load_departure_s}, before drop at "
                f"{a.drop_arrival_s} + {wait} s"
            )
        if parcel.cold and not station.cold_storage:
            self._err(
                f"{where}: cold parcel waits at {station.point_id}, which has no cold storage"
            )

    def _kpis(self) -> None:
        """KPIs recomputed from the routes and inputs."""
        kpis, routes = self.plan["kpis"], self.plan["routes"]
        kinds = Counter(self.parcels[t].kind for t in self.carried - self.stranded - self.held)
        expected = {
            "parcels": len(self.parcels),
            "delivered": kinds["delivery"],
            "picked_up": kinds["pickup"],
            "distance_m": sum(r["distance_m"] for r in routes),
            "cost_fen": sum(r["cost_fen"] for r in routes),
            "vehicles_used": len({r["vehicle_id"] for r in routes}),
        }
        for key, want in expected.items():
            if kpis[key] != want:
                self._err(f"kpis.{key}: {kpis[key]} but the plan makes {want}")
