"""Request and response models of the HTTP API: what `/openapi.json` publishes.

Units as everywhere: metres, seconds since local midnight (Asia/Shanghai), grams, millilitres,
fen. Bounds are the contract bounds of `api.limits`. The plan itself is the typed model
`dispatch.plan.Plan` (its JSON Schema is docs/plan.schema.json).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from api.limits import (
    DAY_S,
    MAX_EVENTS,
    MAX_ID_CHARS,
    MAX_MANIFEST_IDS,
    MAX_SCAN_BATCH,
    MAX_TEXT_CHARS,
    MAX_TIME_LIMIT_S,
    MAX_VEHICLES_OFF,
    MAX_VROOM_INT,
    MAX_VROOM_LOCATIONS,
    MAX_VROOM_TASKS,
    MAX_VROOM_VEHICLES,
    MIN_TIME_LIMIT_S,
)
from dispatch.closures import MAX_CLOSURES, MAX_RADIUS_M
from dispatch.plan import Plan
from dispatch.plan import RequestedMode as Mode


def no_control_chars(text: str) -> str:
    """Refuse control characters (NUL included) and lone surrogates in request text."""
    bad = next((c for c in text if unicodedata.category(c) in ("Cc", "Cs")), None)
    if bad is not None:
        raise ValueError(f"contains the control character U+{ord(bad):04X}")
    return text


#: Ids of plans, routes and manifests: letters, digits, `_`, `-`, `.`.
ID_PATTERN = r"^[A-Za-z0-9_.\-]+$"
Id = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_CHARS, pattern=ID_PATTERN)]
#: Free-form names (vehicle and point ids come from fleet files and county data).
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_ID_CHARS),
    AfterValidator(no_control_chars),
]
Text = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_TEXT_CHARS),
    AfterValidator(no_control_chars),
]
#: ISO-8601 date-time with offset, as stored.
IsoTime = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]
TimeLimit = Annotated[
    float,
    Field(
        ge=MIN_TIME_LIMIT_S,
        le=MAX_TIME_LIMIT_S,
        allow_inf_nan=False,
        description="solver time limit (s); the job's hard stop follows from it",
    ),
]


class _Strict(BaseModel):
    """Request models refuse unknown keys (a misspelt key is an error, not ignored)."""

    model_config = ConfigDict(extra="forbid")


# --- Errors ----------------------------------------------------------------------------------


class FieldError(BaseModel):
    """One value at fault: the field (dotted path), and for a file its name and row."""

    field: str
    message: str
    file: str | None = None
    row: int | None = Field(default=None, description="1 = first data row; 0 = the file itself")


class ErrorBody(BaseModel):
    """Every error answer: `detail` always; 422 lists `errors`; 500 gives `error_id`."""

    detail: str
    errors: list[FieldError] | None = Field(
        default=None, description="422: each field (or file, row and field) at fault, at most 1000"
    )
    error_count: int | None = Field(default=None, description="422: how many errors in all")
    error_id: str | None = Field(
        default=None, description="500: quote it when reporting the failure"
    )


class VroomErrorBody(ErrorBody):
    """A refused VROOM problem: VROOM's own `code` (2 input, 3 routing) and `error` when the
    solver refused it; `errors` when this API's checks did."""

    code: int | None = None
    error: str | None = None


# --- Manifests -------------------------------------------------------------------------------


class ManifestInfo(BaseModel):
    """A stored manifest."""

    manifest_id: str
    parcels: int
    carrier: str = Field(description='the carrier, or "mixed"')
    date: dt.date
    filename: str
    created_at: IsoTime


class ManifestList(BaseModel):
    """Stored manifests, oldest first."""

    manifests: list[ManifestInfo]


# --- Plans -----------------------------------------------------------------------------------


class ClosureFields(BaseModel):
    """A road closed: `from` and `to` (the road between two places) or `near` and `radius_m`
    (every road within that many metres of a place). A place is a point id or "lon,lat"
    (WGS-84). `label` says what happened (shown to dispatchers)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: Name | None = Field(default=None, alias="from", description="one end of the road")
    to: Name | None = Field(default=None, description="the other end of the road")
    near: Name | None = Field(default=None, description="the centre of the closed area")
    radius_m: float | None = Field(
        default=None, ge=1, le=MAX_RADIUS_M, allow_inf_nan=False, description="metres"
    )
    label: Text | None = None

    def record(self) -> dict[str, Any]:
        """The closure's fields as the domain takes them (`from`, not `from_`)."""
        return {
            k: v
            for k, v in self.model_dump(by_alias=True, exclude_none=True).items()
            if k in ("from", "to", "near", "radius_m", "label")
        }


class Closure(ClosureFields):
    """A road closed for the whole day (README: Road closures)."""


class PlanRequest(_Strict):
    """Start a plan for `date` from stored manifests."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"date": "2026-03-05", "manifest_ids": ["m_0123456789abcdef"]}]
        },
    )

    date: dt.date
    manifest_ids: list[Id] = Field(min_length=1, max_length=MAX_MANIFEST_IDS)
    time_limit_s: TimeLimit = 30.0
    mode: Mode = "auto"
    engine: Literal["portfolio", "ortools", "pyvrp"] = Field(
        default="portfolio", description="the engine of every leg (README: Engines)"
    )
    vehicles_off: list[Id] = Field(
        default_factory=list,
        max_length=MAX_VEHICLES_OFF,
        description="ids of the fleet's vehicles that are off today",
    )
    carry_over_plan_id: Id | None = Field(
        default=None,
        description="a done plan of an earlier day: its held produce and deferred parcels "
        "are planned today",
    )
    closures: list[Closure] = Field(
        default_factory=list,
        max_length=MAX_CLOSURES,
        description="roads closed today: travel goes around them, parcels of points they "
        "cut off are unassigned (road_closed)",
    )


class _Event(_Strict):
    """When an event happened: `time_s` or `time` (at most one)."""

    time_s: int | None = Field(
        default=None, ge=0, le=DAY_S, description="seconds since local midnight of the plan's day"
    )
    time: dt.datetime | None = Field(
        default=None, description="ISO-8601; its local date (Asia/Shanghai) must be the plan's date"
    )

    @model_validator(mode="after")
    def _one_time(self) -> _Event:
        if self.time_s is not None and self.time is not None:
            raise ValueError("give time_s or time, not both")
        return self


class Breakdown(_Event):
    """A vehicle broke down at a time (and optionally at a point): its route ends there."""

    type: Literal["breakdown"]
    vehicle_id: Name
    point_id: Name | None = Field(default=None, description="where it stands, if not at a stop")

    @model_validator(mode="after")
    def _needs_time(self) -> Breakdown:
        if self.time_s is None and self.time is None:
            raise ValueError("a breakdown needs time_s or time")
        return self


class LateParcels(_Event):
    """A late batch: the parcels of a stored manifest join the day."""

    type: Literal["late_parcels"]
    manifest_id: Id


class PointClosed(_Event):
    """A station or village point is closed: its parcels wait."""

    type: Literal["point_closed"]
    point_id: Name
    reason: Text | None = None


class RoadClosed(ClosureFields, _Event):
    """A road closes (a landslide, a flood): everything planned again goes around it; parcels
    of points it cuts off are unassigned (road_closed)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    type: Literal["road_closed"]


ReplanEvent = Annotated[
    Breakdown | LateParcels | PointClosed | RoadClosed, Field(discriminator="type")
]


class ReplanRequest(_Strict):
    """Re-plan a done plan after events."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "events": [
                        {"type": "breakdown", "vehicle_id": "HUB-V01", "time_s": 34200},
                        {"type": "late_parcels", "manifest_id": "m_0123456789abcdef"},
                    ],
                    "time_limit_s": 20,
                }
            ]
        },
    )

    events: list[ReplanEvent] = Field(min_length=1, max_length=MAX_EVENTS)
    time_limit_s: TimeLimit = 30.0


class PlanAccepted(BaseModel):
    """A queued plan job; poll GET /v1/plans/{plan_id}."""

    plan_id: str
    status: Literal["queued"]


class PlanJob(BaseModel):
    """A plan job's status; `plan` once it is done."""

    plan_id: str
    date: dt.date
    status: JobStatus
    progress: float = Field(ge=0, le=1)
    best_cost_fen: int | None
    created_at: IsoTime
    started_at: IsoTime | None
    finished_at: IsoTime | None
    manifest_ids: list[str]
    time_limit_s: float | None
    mode: str | None
    version_of: str | None = Field(default=None, description="the plan this one re-plans")
    error: str | None = Field(default=None, description="why the job failed")
    released_at: IsoTime | None = Field(
        default=None, description="when a dispatcher released the plan to drivers and stations"
    )
    plan: Plan | None = Field(default=None, description="the plan, once status is done")


class PlanList(BaseModel):
    """Plan jobs, newest first, without their plans."""

    plans: list[PlanJob]


class PlanReleased(BaseModel):
    """A plan released to drivers and stations (a second release keeps the first time)."""

    plan_id: str
    released_at: IsoTime
    released_by: str = Field(description="the id of the dispatcher key that released it")


class RouteLinks(BaseModel):
    """Where a route's papers are: route sheets and, when the trip loads at its depot, the
    loading list for the crew there."""

    csv: str
    pdf: str
    gpx: str
    geojson: str
    loading_csv: str | None
    loading_pdf: str | None


class RouteEntry(BaseModel):
    """One route of a plan as the caller may see it."""

    route_id: str
    vehicle_id: str
    vehicle_type: str
    echelon: int
    trip: int | None
    depot: str
    start_s: int = Field(description="departure from the depot, seconds after local midnight")
    end_s: int = Field(description="arrival back, seconds after local midnight")
    stops: int
    links: RouteLinks


class RouteIndex(BaseModel):
    """The routes of a plan the caller may read: all for dispatchers and planners; for a
    driver the routes of its vehicle, for a station those that start or transfer there
    (released plans only)."""

    plan_id: str
    date: dt.date
    released_at: IsoTime | None
    routes: list[RouteEntry]


class StopChange(BaseModel):
    """A stop added (old_arrival_s null), removed (new_arrival_s null) or re-timed."""

    point_id: str
    old_arrival_s: int | None
    new_arrival_s: int | None


class RouteChange(BaseModel):
    """How one route differs from the plan it replaces (ids null where it does not exist)."""

    vehicle_id: str
    old_route_id: str | None
    new_route_id: str | None
    status: Literal["added", "removed", "changed", "unchanged"]
    added: list[StopChange]
    removed: list[StopChange]
    retimed: list[StopChange]
    parcels_changed: int = Field(
        description="parcels put on, taken off, or handed over at another stop than before"
    )


class PlanChanges(BaseModel):
    """What a re-plan changed per route against the plan it replaces (`version_of`), and the
    vehicles whose drivers' sheets changed."""

    old_plan_id: str
    new_plan_id: str
    old_released_at: IsoTime | None = Field(
        description="when the replaced plan was released (its drivers hold its sheets)"
    )
    routes: list[RouteChange]
    drivers_changed: list[str]


class PlanCancelled(BaseModel):
    """A cancelled plan job."""

    plan_id: str
    status: Literal["cancelled"]


# --- Fleet, network, KPIs --------------------------------------------------------------------


class FleetStored(BaseModel):
    """A stored fleet version: plans started from now on use it."""

    fleet_version: int
    vehicle_types: int
    vehicles: int


class NetworkPoint(BaseModel):
    """A service point (WGS-84; opening hours in seconds since midnight)."""

    point_id: str
    name: str
    kind: Literal["hub", "station", "village"]
    town_id: str = Field(description="the town a point belongs to; empty for the hub")
    lon: float
    lat: float
    open_s: int
    close_s: int
    placed: int = Field(description="1 when the county gave no position and it was placed")


class ServedCounty(BaseModel):
    """The county this server plans (one per server)."""

    name: str
    code: str
    time_zone: str
    hub_id: str
    network: str = Field(description="where the roads come from: 'synthetic' or a road file")
    placed_points: int = Field(description="points placed by the documented method")
    attribution: str


class NetworkPoints(BaseModel):
    """The county served, and its hub, town stations and village service points."""

    county: ServedCounty
    points: list[NetworkPoint]


class TownKpi(BaseModel):
    """One town's day in a done plan."""

    date: dt.date
    plan_id: str
    town_id: str
    name: str
    parcels: int = Field(description="the town's parcels of the day: deliveries and produce")
    delivered: int
    collected: int = Field(description="produce collected and brought to the hub")
    produce_left: int = Field(
        description="produce not brought in today: held at a station, deferred or unassigned"
    )
    cost_fen: int
    cost_per_parcel_fen: int
    planned_today_share: float = Field(
        description="share of the town's parcels the plan carries today (not deferred, not "
        "unassigned): a planned figure; what was delivered on time is measured from the "
        "drivers' scans (GET /v1/actuals, GET /v1/assessment: on_time_share)"
    )


#: [lon, lat] (WGS-84 degrees)
Position = Annotated[list[float], Field(min_length=2, max_length=2)]


class RoadLines(BaseModel):
    """The county's roads to draw, each once: polylines of [lon, lat] by OSM highway class."""

    classes: dict[str, list[list[Position]]]


class RouteLine(BaseModel):
    """One route along the roads: [lon, lat] pairs from its depot back to its depot."""

    route_id: str
    echelon: int
    line: list[Position]


class PlanMap(BaseModel):
    """Every route of a plan along the roads, for a map."""

    plan_id: str
    routes: list[RouteLine]


class Me(BaseModel):
    """The caller's key: its role and, for a driver or station, what it is bound to."""

    key_id: str
    role: Literal["dispatcher", "planner", "driver", "station"]
    vehicle_id: str | None
    station_id: str | None


class KpiReport(BaseModel):
    """KPIs per town per day, from each day's latest done plan."""

    model_config = ConfigDict(populate_by_name=True)

    date_from: dt.date = Field(alias="from")
    date_to: dt.date = Field(alias="to")
    towns: list[TownKpi]


# --- VROOM -----------------------------------------------------------------------------------

VInt = Annotated[int, Field(ge=0, le=MAX_VROOM_INT)]
Amount = Annotated[list[VInt], Field(max_length=16)]
Window = tuple[VInt, VInt]
LonLat = tuple[
    Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False, description="lon")],
    Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False, description="lat")],
]
Index = Annotated[int, Field(ge=0, lt=MAX_VROOM_LOCATIONS)]
Skills = Annotated[list[VInt], Field(max_length=100)]
Windows = Annotated[list[Window], Field(min_length=1, max_length=100)]
Matrix = Annotated[
    list[Annotated[list[VInt], Field(max_length=MAX_VROOM_LOCATIONS)]],
    Field(min_length=1, max_length=MAX_VROOM_LOCATIONS),
]


class _Vroom(BaseModel):
    """VROOM objects keep keys this model does not name (the solver reports them)."""

    model_config = ConfigDict(extra="allow")


class VroomStep(_Vroom):
    """A job, or one end of a shipment."""

    id: VInt
    location: LonLat | None = None
    location_index: Index | None = None
    setup: VInt | None = None
    service: VInt | None = None
    time_windows: Windows | None = None
    description: Text | None = None


class VroomJob(VroomStep):
    """A single-stop job."""

    amount: Amount | None = None
    delivery: Amount | None = None
    pickup: Amount | None = None
    skills: Skills | None = None
    priority: Annotated[int, Field(ge=0, le=100)] | None = None


class VroomShipment(_Vroom):
    """A pickup and its delivery."""

    pickup: VroomStep
    delivery: VroomStep
    amount: Amount | None = None
    skills: Skills | None = None
    priority: Annotated[int, Field(ge=0, le=100)] | None = None


class VroomBreak(_Vroom):
    """A driver's break."""

    id: VInt
    time_windows: Windows | None = None
    service: VInt | None = None


class VroomCosts(_Vroom):
    """A vehicle's costs."""

    fixed: VInt | None = None
    per_hour: VInt | None = None
    per_km: VInt | None = None
    per_task_hour: VInt | None = None


class VroomVehicle(_Vroom):
    """A vehicle."""

    id: VInt
    profile: Annotated[str, StringConstraints(max_length=MAX_ID_CHARS)] | None = None
    start: LonLat | None = None
    start_index: Index | None = None
    end: LonLat | None = None
    end_index: Index | None = None
    capacity: Amount | None = None
    skills: Skills | None = None
    time_window: Window | None = None
    breaks: Annotated[list[VroomBreak], Field(max_length=10)] | None = None
    costs: VroomCosts | None = None
    speed_factor: Annotated[float, Field(gt=0, le=5, allow_inf_nan=False)] | None = None


class VroomMatrices(_Vroom):
    """Travel matrices of one profile (s, m, cost units)."""

    durations: Matrix | None = None
    distances: Matrix | None = None
    costs: Matrix | None = None


class VroomProblem(_Vroom):
    """A VROOM problem (VROOM's input JSON); see optimizer/vroom.py for what is supported."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "vehicles": [{"id": 1, "start": [105.9, 29.35], "capacity": [4]}],
                    "jobs": [
                        {"id": 1, "location": [105.91, 29.36], "delivery": [1]},
                        {"id": 2, "location": [105.92, 29.37], "delivery": [2]},
                    ],
                }
            ]
        },
    )

    vehicles: list[VroomVehicle] = Field(min_length=1, max_length=MAX_VROOM_VEHICLES)
    jobs: Annotated[list[VroomJob], Field(max_length=MAX_VROOM_TASKS)] | None = None
    shipments: Annotated[list[VroomShipment], Field(max_length=MAX_VROOM_TASKS // 2)] | None = None
    matrices: Annotated[dict[str, VroomMatrices], Field(max_length=10)] | None = None
    matrix: Matrix | None = None

    @model_validator(mode="after")
    def _task_count(self) -> VroomProblem:
        tasks = len(self.jobs or []) + 2 * len(self.shipments or [])
        if tasks > MAX_VROOM_TASKS:
            raise ValueError(f"{tasks} tasks (jobs + 2 x shipments); at most {MAX_VROOM_TASKS}")
        return self


class VroomSolution(_Vroom):
    """VROOM's solution JSON (code 0)."""

    code: int
    summary: dict[str, Any]
    unassigned: list[dict[str, Any]]
    routes: list[dict[str, Any]]


# --- Scans, parcel trace, plan against actual, assessment, settlement ------------------------

ScanName = Literal["loaded", "unloaded_at_station", "delivered", "picked_up", "failed"]
FailReason = Literal[
    "recipient_absent",
    "address_not_found",
    "point_closed",
    "no_access",
    "not_ready",
    "refused",
    "damaged",
]


class ScanEventIn(_Strict):
    """One scan. `time` is when it happened (ISO-8601 with offset), not when it is sent; a
    `failed` event names its reason; the position is optional (WGS-84 or GCJ-02 degrees)."""

    event_id: Id = Field(description="made by the client (e.g. a UUID); re-sending is idempotent")
    tracking_no: Name
    event: ScanName
    time: AwareDatetime
    reason: FailReason | None = None
    lon: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    crs: Literal["wgs84", "gcj02"] = "wgs84"

    @model_validator(mode="after")
    def _both_or_neither(self) -> ScanEventIn:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("give both lon and lat, or neither")
        return self


class ScanBatch(_Strict):
    """A batch of scans from one phone (queued while offline, sent when back online)."""

    events: list[ScanEventIn] = Field(min_length=1, max_length=MAX_SCAN_BATCH)


class ScanOutcome(BaseModel):
    """What became of one event: stored, duplicate (stored before) or refused (`detail`)."""

    index: int
    event_id: str
    status: Literal["stored", "duplicate", "refused"]
    detail: str | None = None


class ScanBatchResult(BaseModel):
    """Counts and one outcome per event, in batch order; refused events are not stored."""

    stored: int
    duplicates: int
    refused: int
    clock_tolerance_s: int
    results: list[ScanOutcome]


class TraceLeg(BaseModel):
    """A planned ride: loaded at `from_point`, dropped at `to_point` (s since midnight)."""

    route_id: str
    vehicle_id: str
    echelon: int
    from_point: str
    from_name: str
    load_s: int
    to_point: str
    to_name: str
    drop_s: int


class TraceScan(BaseModel):
    """A stored scan of the parcel."""

    event_id: str
    event: str
    time: IsoTime
    time_s: float
    reason: str | None
    role: str
    vehicle_id: str | None
    station_id: str | None
    lon: float | None
    lat: float | None


class TraceDay(BaseModel):
    """The parcel on one day: the released plan's chain beside the scans."""

    date: dt.date
    plan_id: str | None
    status: str | None = Field(description="carried, held, deferred, unassigned (plan) or None")
    code: str | None
    due_s: int | None
    planned: list[TraceLeg]
    scans: list[TraceScan]


class WhereNow(BaseModel):
    """Where the parcel is by its latest scan (or by the plan when it has none)."""

    state: str
    point_id: str | None
    vehicle_id: str | None
    since: IsoTime | None
    date: dt.date | None


class ParcelTrace(BaseModel):
    """A parcel's planned chain and scans over the days it was planned or scanned."""

    tracking_no: str
    kind: str | None
    carrier: str | None
    point_id: str | None
    town_id: str | None
    now: WhereNow
    days: list[TraceDay]


class ActualRow(BaseModel):
    """Plan against actual for a route, a town or the day."""

    model_config = ConfigDict(extra="allow")

    planned_deliveries: int
    delivered: int
    on_time: int
    on_time_share: float | None
    planned_pickups: int
    collected: int
    failed: dict[str, int]
    failed_total: int
    failure_rate: dict[str, float]
    open: int


class ReturnEntry(BaseModel):
    """A refused or damaged delivery going back to its carrier."""

    tracking_no: str
    carrier: str
    reason: str | None
    at: str


class DayActualReport(BaseModel):
    """One day's released plan against its scans."""

    date: dt.date
    plan_id: str
    scans_seq: int = Field(description="the day's scans folded in (its last event number)")
    on_time_tolerance_s: int
    total: ActualRow
    routes: list[ActualRow]
    towns: list[ActualRow]
    returns: list[ReturnEntry]


class TownAssessment(BaseModel):
    """One town over the period (README: The towns' assessment)."""

    town_id: str
    name: str
    days: int
    delivered: int
    collected: int
    planned_deliveries: int
    planned_pickups: int
    on_time: int
    on_time_share: float | None
    failed: dict[str, int]
    failure_rate: dict[str, float]
    open: int
    planned_cost_fen: int
    planned_cost_per_parcel_fen: int | None = Field(
        description="planned: route costs shared equally among the parcels they handle"
    )
    produce_shipped: int
    produce_shipped_kg: float


class Assessment(BaseModel):
    """The towns' assessment over [from, to]."""

    model_config = ConfigDict(populate_by_name=True)

    date_from: dt.date = Field(alias="from")
    date_to: dt.date = Field(alias="to")
    days: list[dt.date]
    plans: list[str]
    on_time_tolerance_s: int | None
    cost_note: str
    towns: list[TownAssessment]


class CarrierTown(BaseModel):
    """A carrier's parcels in one town over the period."""

    town_id: str
    carried: int
    delivered: int
    collected: int
    failed: dict[str, int]
    cost_fen: int


class CarrierSettlement(BaseModel):
    """What one carrier is billed for the period."""

    carrier: str
    carried: int
    delivered: int
    collected: int
    failed: dict[str, int]
    failed_total: int
    cost_fen: int
    towns: list[CarrierTown]


class Settlement(BaseModel):
    """The carriers' settlement over [from, to] and the cost-sharing rule."""

    model_config = ConfigDict(populate_by_name=True)

    date_from: dt.date = Field(alias="from")
    date_to: dt.date = Field(alias="to")
    days: list[dt.date]
    rule: str
    carriers: list[CarrierSettlement]


class DriverParcel(BaseModel):
    """A parcel to hand over or collect at a stop, with what its scans say so far."""

    tracking_no: str
    carrier: str
    kind: str
    action: Literal["deliver", "unload", "collect", "load"]
    status: str = Field(description="open, delivered, collected or failed (its scans so far)")
    reason: str | None = None


class DriverStop(BaseModel):
    """A stop of one of the vehicle's trips, in order."""

    route_id: str
    seq: int
    point_id: str
    name: str
    arrival_s: int
    parcels: list[DriverParcel]


class DriverDay(BaseModel):
    """A driver's stops of the day's released plan, in order, and the failure reasons."""

    date: dt.date
    plan_id: str | None
    vehicle_id: str
    stops: list[DriverStop]
    reasons: dict[str, str]
