"""Typed, read-only view of a stored plan JSON (README "The plan"), for its readers.

Sheets, loading lists and the workbook read a plan through these dataclasses rather than
through the raw dict, so a wrong or missing field is reported once, by its path
(`routes[2].stops[0].arrival_s`), and a later typed plan model can replace `read_plan`
without touching the readers. Only the fields the readers use are checked; others are kept
in `kpis` or ignored. Units: metres, seconds since local midnight, grams, millilitres, fen.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class PlanFormatError(ValueError):
    """The plan JSON lacks a field or has one of the wrong type; the message names it."""


@dataclass(frozen=True)
class StopView:
    """One stop: parcels loaded and dropped there, load on board after it (g, ml)."""

    seq: int
    point_id: str
    arrival_s: int
    departure_s: int
    load: tuple[str, ...]
    drop: tuple[str, ...]
    weight_g_after: int
    volume_ml_after: int


@dataclass(frozen=True)
class RouteView:
    """One trip of one vehicle; stop 0 is the depot (loading), the last stop the return."""

    route_id: str
    vehicle_id: str
    vehicle_type: str
    echelon: int
    trip: int
    depot: str
    distance_m: int
    duration_s: int
    cost_fen: int
    stops: tuple[StopView, ...]
    #: "breakdown" when a re-plan cut the route where its vehicle broke down, else None
    ended: str | None = None

    @property
    def visits(self) -> tuple[StopView, ...]:
        """The stops between leaving the depot and returning."""
        return self.stops[1:-1]


@dataclass(frozen=True)
class VehicleView:
    """A vehicle of the plan's fleet with its capacity (g, ml)."""

    vehicle_id: str
    vehicle_type: str
    capacity_g: int
    capacity_ml: int
    cold: bool


@dataclass(frozen=True)
class UnassignedView:
    """A parcel the plan does not carry today, with a code and a sentence for dispatchers."""

    parcel_id: str
    code: str
    reason: str


@dataclass(frozen=True)
class PlanView:
    """The plan as its readers see it."""

    plan_id: str
    date: dt.date
    status: str
    mode: str
    routes: tuple[RouteView, ...]
    unassigned: tuple[UnassignedView, ...]
    vehicles: Mapping[str, VehicleView]
    kpis: Mapping[str, Any]
    #: (file, row, field) of manifest rows the plan skipped as invalid (`plan --skip-invalid`)
    invalid_rows: frozenset[tuple[str, int, str]]

    def route(self, route_id: str) -> RouteView:
        """The route `route_id`; KeyError naming it when the plan has none."""
        for route in self.routes:
            if route.route_id == route_id:
                return route
        raise KeyError(f"plan {self.plan_id} has no route {route_id!r}")

    def parcel_ids(self) -> set[str]:
        """Every parcel the plan mentions: carried on a route or listed as unassigned."""
        ids = {u.parcel_id for u in self.unassigned}
        for route in self.routes:
            for stop in route.stops:
                ids.update(stop.load)
                ids.update(stop.drop)
        return ids


def read_plan(data: object) -> PlanView:
    """Check and view a plan JSON value; PlanFormatError names the first bad field."""
    top = _Fields(data, "")
    routes = tuple(_route(r) for r in top.objects("routes"))
    seen: set[str] = set()
    for i, route in enumerate(routes):
        if route.route_id in seen:
            raise PlanFormatError(f"routes[{i}].route_id: {route.route_id!r} appears twice")
        seen.add(route.route_id)
    vehicles = (_vehicle(v) for v in top.objects("vehicles"))
    skipped = top.objects("invalid_rows", optional=True)
    invalid = frozenset((f.text("file"), f.integer("row"), f.text("field")) for f in skipped)
    try:
        date = dt.date.fromisoformat(top.text("date"))
    except ValueError as exc:
        raise PlanFormatError(f"date: {exc}") from exc
    return PlanView(
        plan_id=top.text("plan_id"),
        date=date,
        status=top.text("status"),
        mode=top.text("mode"),
        routes=routes,
        unassigned=tuple(
            UnassignedView(u.text("parcel_id"), u.text("code"), u.text("reason"))
            for u in top.objects("unassigned")
        ),
        vehicles={v.vehicle_id: v for v in vehicles},
        kpis=top.obj("kpis"),
        invalid_rows=invalid,
    )


def load_plan(path: Path) -> PlanView:
    """Read a plan.json file; PlanFormatError naming the file (and field) when unreadable."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlanFormatError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise PlanFormatError(f"{path}: not UTF-8 text: {exc.reason}") from exc
    except json.JSONDecodeError as exc:
        raise PlanFormatError(f"{path}: not JSON: {exc}") from exc
    try:
        return read_plan(data)
    except PlanFormatError as exc:
        raise PlanFormatError(f"{path}: {exc}") from exc


def _route(f: _Fields) -> RouteView:
    return RouteView(
        route_id=f.text("route_id"),
        vehicle_id=f.text("vehicle_id"),
        vehicle_type=f.text("vehicle_type"),
        echelon=f.integer("echelon"),
        trip=f.integer("trip"),
        depot=f.text("depot"),
        distance_m=f.integer("distance_m"),
        duration_s=f.integer("duration_s"),
        cost_fen=f.integer("cost_fen"),
        stops=tuple(_stop(s) for s in f.objects("stops", min_len=2)),
        ended=f.optional_text("ended"),
    )


def _stop(f: _Fields) -> StopView:
    return StopView(
        seq=f.integer("seq"),
        point_id=f.text("point_id"),
        arrival_s=f.integer("arrival_s"),
        departure_s=f.integer("departure_s"),
        load=f.texts("load"),
        drop=f.texts("drop"),
        weight_g_after=f.integer("weight_g_after"),
        volume_ml_after=f.integer("volume_ml_after"),
    )


def _vehicle(f: _Fields) -> VehicleView:
    return VehicleView(
        vehicle_id=f.text("vehicle_id"),
        vehicle_type=f.text("vehicle_type"),
        capacity_g=f.integer("capacity_g"),
        capacity_ml=f.integer("capacity_ml"),
        cold=f.flag("cold"),
    )


class _Fields:
    """Typed access to one JSON object; errors name the field by its path."""

    def __init__(self, value: object, path: str) -> None:
        if not isinstance(value, dict):
            raise PlanFormatError(f"{path or 'plan'}: expected an object")
        self._d: dict[str, Any] = value
        self._path = path

    def _get(self, key: str) -> Any:
        if key not in self._d:
            raise PlanFormatError(f"{self._name(key)}: missing")
        return self._d[key]

    def _name(self, key: str) -> str:
        return f"{self._path}.{key}" if self._path else key

    def _bad(self, key: str, what: str) -> PlanFormatError:
        return PlanFormatError(f"{self._name(key)}: expected {what}, got {self._d[key]!r:.60}")

    def text(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str):
            raise self._bad(key, "a string")
        return value

    def optional_text(self, key: str) -> str | None:
        """The string `key`, or None when it is absent or null."""
        if self._d.get(key) is None:
            return None
        return self.text(key)

    def integer(self, key: str) -> int:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._bad(key, "an integer")
        return value

    def flag(self, key: str) -> bool:
        value = self._get(key)
        if not isinstance(value, bool):
            raise self._bad(key, "true or false")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        value = self._get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._bad(key, "a list of strings")
        return tuple(value)

    def obj(self, key: str) -> Mapping[str, Any]:
        value = self._get(key)
        if not isinstance(value, dict):
            raise self._bad(key, "an object")
        return value

    def objects(self, key: str, optional: bool = False, min_len: int = 0) -> list[_Fields]:
        """The objects of the list `key` (an absent optional list is empty)."""
        if optional and key not in self._d:
            return []
        value = self._get(key)
        if not isinstance(value, list):
            raise self._bad(key, "a list")
        if len(value) < min_len:
            raise PlanFormatError(f"{self._name(key)}: expected at least {min_len} entries")
        return [_Fields(v, f"{self._name(key)}[{i}]") for i, v in enumerate(value)]
