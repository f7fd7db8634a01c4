"""The plan (contract version 2.0) as a typed model: built once, read by attribute, JSON only
at the edges (plan.json, the HTTP API, the validator's input).

Version 2.0 (against 1.0): every trip starts with loading at its vehicle's own base (stop 0
`arrival_s` is the start of loading) and ends with unloading there (the last stop's
`departure_s`); `drivers` gives each working vehicle's driver-day with its one lunch break;
`held` lists produce waiting at a station for the next day; `carry_over` holds the full
records of what the next day must take (held produce, deferred parcels); `carried_in` lists
the parcels this plan took over from an earlier day; `vehicles[].available` says which
vehicles were off; `kpis.towns` counts what was actually done per town.

Units: metres, seconds since local midnight (Asia/Shanghai), grams, millilitres, fen.
`docs/plan.schema.json` is generated from these models (`python -m dispatch.plan_schema`).
The independent validator (`dispatch.validate`) reads the raw JSON, not these models.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from dispatch.parcel import Parcel

PLAN_VERSION: Literal["2.0"] = "2.0"

#: The mode a plan follows: through the town stations, or every village from the hub.
Mode = Literal["via_station", "direct"]
#: The mode a day is planned in: a plan's mode, or `auto` (both planned, the cheaper kept).
RequestedMode = Literal["auto", "via_station", "direct"]
Echelon = Literal[1, 2]
#: What happened to a plan's day when it was re-planned (dispatch.replan).
EventType = Literal["breakdown", "late_parcels", "point_closed", "road_closed"]
Status = Literal["optimal", "feasible", "partial", "failed"]
Seconds = Annotated[int, Field(ge=0, description="seconds since local midnight")]
#: A date as ISO-8601 text in the JSON, a `datetime.date` in the code.
Date = Annotated[dt.date, Field(strict=False)]


class PlanFormatError(ValueError):
    """A plan JSON lacks a field or has one of the wrong type; the message names it."""


class _Part(BaseModel):
    """A part of the plan: no unknown keys, no silent type conversions."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


def _is_none(value: object) -> bool:
    return value is None


def _optional(description: str | None = None) -> Any:
    """An optional key: None in the model, left out of the JSON."""
    return Field(default=None, exclude_if=_is_none, description=description)


class Break(_Part):
    """A driver's lunch break (s since midnight)."""

    start_s: Seconds
    end_s: Seconds


class Stop(_Part):
    """One stop: parcels loaded and dropped there, load on board after it (g, ml).

    Stop 0 is the depot (`arrival_s` starts loading), the last stop the return (its
    `departure_s` ends unloading)."""

    seq: int = Field(ge=0)
    point_id: str
    arrival_s: Seconds
    departure_s: Seconds
    load: list[str]
    drop: list[str]
    weight_g_after: int
    volume_ml_after: int


class Route(_Part):
    """One trip of one vehicle, from its depot back to it."""

    route_id: str
    vehicle_id: str
    vehicle_type: str
    echelon: Echelon
    trip: int = Field(ge=1, description="the vehicle's trip number of the day, in time order")
    depot: str
    distance_m: int = Field(ge=0)
    duration_s: int = Field(ge=0, description="start of loading to end of unloading")
    cost_fen: int = Field(ge=0)
    break_: Break | None = Field(alias="break", description="lunch taken during this trip")
    stops: list[Stop] = Field(min_length=2)
    ended: Literal["breakdown"] | None = _optional(
        "set when the route ended early (a re-plan's breakdown)"
    )

    @property
    def visits(self) -> list[Stop]:
        """The stops between leaving the depot and returning."""
        return self.stops[1:-1]


class Vehicle(_Part):
    """A vehicle of the plan's fleet with its capacity (g, ml) and shift (s)."""

    vehicle_id: str
    vehicle_type: str
    capacity_g: int
    capacity_ml: int
    cold: bool
    depot: str
    shift_start_s: Seconds
    shift_end_s: Seconds
    available: bool = Field(description="false when the vehicle was off that day")


class Driver(_Part):
    """A working vehicle's driver-day: first loading to last unloading, lunch, routes."""

    vehicle_id: str
    start_s: Seconds
    end_s: Seconds
    lunch: Break | None
    routes: list[str]


class Unassigned(_Part):
    """A parcel not carried today, with a reason code and a sentence a dispatcher reads."""

    model_config = ConfigDict(frozen=True)

    parcel_id: str
    code: str
    reason: str


class Held(_Part):
    """A parcel waiting at a station for the next day."""

    parcel_id: str
    station: str
    arrived_s: Seconds
    code: Literal["after_last_call", "no_village_run"]
    reason: str


class CarryOver(_Part):
    """The full record of a parcel the next day must take, and where it waits."""

    tracking_no: str
    carrier: str
    kind: Literal["delivery", "pickup"]
    point_id: str
    weight_g: int
    volume_ml: int
    cold: bool
    due_date: Date
    at: str = Field(description="the point where it waits")
    why: Literal["held", "deferred", "failed"] = Field(
        description="held at a station, deferred (due later), or failed today and tried "
        "again (only in the carry-over built from a day's scans, dispatch.carry_over)"
    )
    reason: str | None = _optional("failed: the failure reason of its last attempt")
    attempts: int | None = _optional("failed: the failed attempts so far, this one included")

    def parcel(self, source: str, row: int) -> Parcel:
        """The parcel record this entry hands on, named as entry `row` of `source`."""
        return Parcel(
            tracking_no=self.tracking_no,
            carrier=self.carrier,
            kind=self.kind,
            point_id=self.point_id,
            weight_g=self.weight_g,
            volume_ml=self.volume_ml,
            cold=self.cold,
            due_date=self.due_date,
            source=source,
            row=row,
        )


class CarriedIn(_Part):
    """A parcel this plan took over from an earlier day, and where it started."""

    parcel_id: str
    at: str


class EchelonKpis(_Part):
    """Routes, metres, seconds and fen of one echelon."""

    routes: int
    distance_m: int
    duration_s: int
    cost_fen: int


class TownKpis(_Part):
    """Per town, what was done with its parcels."""

    town_id: str
    name: str
    parcels: int
    via_station: int = Field(description="village parcels carried through the town station")
    direct: int = Field(description="village parcels carried straight from the hub")
    station: int = Field(description="parcels of the station itself")
    held: int
    deferred: int
    unassigned: int


class AutoKpis(_Part):
    """`auto` mode: both plans' figures and why the kept one was chosen."""

    chosen: Mode
    via_station_score_fen: int
    via_station_cost_fen: int
    via_station_left_today: int
    direct_score_fen: int
    direct_cost_fen: int
    direct_left_today: int
    why: str


class ClosureKpis(_Part):
    """What the day's road closures closed and cut off."""

    closures: int
    edges_closed: int = Field(description="directed road edges closed")
    closed_m: int = Field(description="length of the closed roads, each counted once")
    cut_off: list[str] = Field(description="points with no open road to or from the hub")
    apply_s: float = Field(description="seconds to close the roads and recompute the matrices")


class Kpis(_Part):
    """What the plan does and costs; the solve's own figures after `towns`."""

    parcels: int
    delivered: int
    picked_up: int
    unassigned: int = Field(description="parcels left behind (deferred ones not counted)")
    left_today: int = Field(description="parcels due today left behind")
    deferred: int
    held: int
    distance_m: int
    duration_s: int
    vehicle_hours: float
    cost_fen: int
    vehicles_used: int
    routes: int
    cost_per_parcel_fen: int
    echelon_1: EchelonKpis
    echelon_2: EchelonKpis
    towns: list[TownKpis]
    direct_why: dict[str, int] | None = _optional(
        "reason code -> village parcels served straight from the hub"
    )
    engines: dict[str, int] | None = _optional("solves won per engine")
    solve_time_s: float | None = _optional("wall-clock seconds of the solve")
    network: str | None = _optional("where the road network came from")
    county: str | None = _optional()
    placed_points: int | None = _optional(
        "points whose position was placed, not given by the county"
    )
    auto: AutoKpis | None = _optional()
    closures: ClosureKpis | None = _optional("what the day's road closures did")


class RecordedEvent(_Part):
    """An event a re-plan applied, as it was given."""

    time_s: Seconds | None = _optional()
    time: str | None = _optional("ISO-8601")
    type: EventType
    vehicle_id: str | None = _optional()
    manifest_id: str | None = _optional()
    manifest: str | None = _optional("a CLI re-plan's late manifest file")
    point_id: str | None = _optional()
    reason: str | None = _optional()
    parcels: list[str] | None = _optional()
    from_: str | None = Field(
        default=None, alias="from", exclude_if=_is_none, description="road_closed: one end"
    )
    to: str | None = _optional("road_closed: the other end")
    near: str | None = _optional("road_closed: the centre of the closed area")
    radius_m: float | None = _optional("road_closed: metres around `near`")
    label: str | None = _optional("road_closed: what happened")


class ClosureRecord(_Part):
    """A road closed that day: `from` and `to` (the road between two places) or `near` and
    `radius_m` (every road within that many metres); a place is a point id or "lon,lat".
    `since_s` when a re-plan's event closed it: routes that left by then drove without it."""

    from_: str | None = Field(default=None, alias="from", exclude_if=_is_none)
    to: str | None = _optional()
    near: str | None = _optional()
    radius_m: float | None = Field(
        default=None, exclude_if=_is_none, strict=False, description="metres"
    )
    label: str
    since_s: Seconds | None = _optional("closed since (s since midnight); absent: all day")


class InvalidRow(_Part):
    """A manifest row the plan skipped as invalid (`plan --skip-invalid`)."""

    file: str
    row: int
    field: str
    message: str


class Plan(_Part):
    """The plan of one day: the product, and a public contract (`docs/plan.schema.json`)."""

    model_config = ConfigDict(title="Plan")

    version: Literal["2.0"] = PLAN_VERSION
    plan_id: str
    date: Date
    status: Status
    mode: Mode
    vehicles: list[Vehicle]
    drivers: list[Driver]
    routes: list[Route]
    unassigned: list[Unassigned]
    held: list[Held]
    carry_over: list[CarryOver]
    carried_in: list[CarriedIn]
    kpis: Kpis
    version_of: str | None = _optional("the plan this one re-plans")
    replanned_at_s: Seconds | None = _optional("when the re-plan cut the day")
    events: list[RecordedEvent] | None = _optional("what the re-plan applied")
    closures: list[ClosureRecord] | None = _optional("the road closures it was planned around")
    invalid_rows: list[InvalidRow] | None = _optional()

    @model_validator(mode="after")
    def _unique_route_ids(self) -> Plan:
        seen: set[str] = set()
        for i, route in enumerate(self.routes):
            if route.route_id in seen:
                raise ValueError(f"routes[{i}].route_id: {route.route_id!r} appears twice")
            seen.add(route.route_id)
        return self

    def route(self, route_id: str) -> Route:
        """The route `route_id`; KeyError naming it when the plan has none."""
        for route in self.routes:
            if route.route_id == route_id:
                return route
        raise KeyError(f"plan {self.plan_id} has no route {route_id!r}")

    def vehicle(self, vehicle_id: str) -> Vehicle | None:
        """The fleet vehicle `vehicle_id`, or None."""
        return next((v for v in self.vehicles if v.vehicle_id == vehicle_id), None)

    def parcel_ids(self) -> set[str]:
        """Every parcel the plan mentions: carried on a route or listed as unassigned."""
        ids = {u.parcel_id for u in self.unassigned}
        for route in self.routes:
            for stop in route.stops:
                ids.update(stop.load)
                ids.update(stop.drop)
        return ids

    def skipped_rows(self) -> frozenset[tuple[str, int, str]]:
        """(file, row, field) of the manifest rows the plan skipped as invalid."""
        return frozenset((r.file, r.row, r.field) for r in self.invalid_rows or ())

    def to_json(self) -> dict[str, Any]:
        """The plan JSON value (what plan.json and the API hold)."""
        data: dict[str, Any] = self.model_dump(mode="json", by_alias=True)
        return data

    def json_text(self, indent: int | None = None) -> str:
        """The plan JSON as text, Chinese kept readable; compact without `indent`."""
        if indent is None:
            return json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":"))
        return json.dumps(self.to_json(), ensure_ascii=False, indent=indent)


def read_plan(data: object) -> Plan:
    """The plan of a JSON value; PlanFormatError names the first bad field by its path
    (`routes[2].stops[0].arrival_s`)."""
    if not isinstance(data, dict):
        raise PlanFormatError("plan: expected an object")
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        raise PlanFormatError(_first_error(exc)) from None


def load_plan(path: Path) -> Plan:
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


def _first_error(exc: ValidationError) -> str:
    """`path: message` of a validation error's first entry (`break` by its JSON name)."""
    error = exc.errors(include_url=False)[0]
    path = ""
    for part in error["loc"]:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        message = "missing"
    if error["type"] == "value_error" and not path:
        return message
    got = error.get("input")
    if error["type"] not in ("missing", "value_error", "extra_forbidden"):
        message += f", got {got!r:.60}"
    return f"{path or 'plan'}: {message}"
