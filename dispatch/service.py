"""The domain's front door: what the CLI and the HTTP API call, one function per action."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import multiprocessing
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dispatch.closures import (
    Closure,
    ClosureError,
    closed_at,
    closure_records,
    cut_off_parcels,
    cut_off_vehicles,
    has_closures,
    plan_closures,
    request_field,
)
from dispatch.exports import routes_geojson, sheet_csv_text, write_plan_outputs
from dispatch.fleet import Fleet, fleet_text_for_county, fleet_to_toml
from dispatch.fonts import FontError
from dispatch.gpx import route_gpx
from dispatch.legs import Engines
from dispatch.loading_list import loading_csv_text, loading_list
from dispatch.manifest import parse_manifest, read_manifests
from dispatch.parcel import InputError, ManifestError, Parcel
from dispatch.plan import (
    AutoKpis,
    CarriedIn,
    ClosureKpis,
    Kpis,
    Mode,
    Plan,
    PlanFormatError,
    RequestedMode,
    Route,
    load_plan,
    read_plan,
)
from dispatch.plan_build import build_plan
from dispatch.replan import EventError, record_events, replan_inputs
from dispatch.sheets import SHEET_FORMATS, SheetInputError, SheetSources, check_sources
from dispatch.sheets import parse_formats as parse_sheet_formats
from dispatch.sheets import write_sheets as _write_sheets
from dispatch.two_echelon import DayResult, Resume, Waiting, plan_trips
from dispatch.validate import PlanInputs, check_plan, validate_plan
from dispatch.validate.context import Roads
from dispatch.workspace import Workspace
from optimizer.portfolio import EnginePool

__all__ = [
    "SHEET_FORMATS",
    "Closure",
    "ClosureError",
    "EventError",
    "FontError",
    "InputError",
    "ManifestError",
    "Parcel",
    "Plan",
    "PlanFormatError",
    "SheetInputError",
    "Workspace",
    "carried_parcels",
    "check_closures",
    "check_plan_file",
    "drawn_on",
    "fleet_from_toml",
    "fleet_toml",
    "load_plan",
    "network_points",
    "parse_manifest_bytes",
    "parse_sheet_formats",
    "plan_day",
    "plan_lines",
    "plan_workbook",
    "read_closure_file",
    "read_manifest_files",
    "read_plan",
    "read_plan_manifests",
    "replan",
    "road_lines",
    "route_geojson",
    "route_gpx_text",
    "route_loading_list",
    "route_sheet_csv",
    "route_sheet_pdf",
    "town_kpis",
    "write_outputs",
    "write_sheets",
]

Progress = Callable[[float, int | None], None]


def parse_manifest_bytes(ws: Workspace, data: bytes, filename: str) -> list[Parcel]:
    """Parse and check one manifest; raises ManifestError naming file, row and field."""
    parcels, errors = parse_manifest(data, filename, ws.county, ws.areas)
    if errors:
        raise ManifestError(errors)
    return parcels


def read_manifest_files(
    ws: Workspace, paths: Sequence[Path], skip_invalid: bool = False
) -> tuple[list[Parcel], list[InputError]]:
    """Read manifest files (duplicates checked across files); see dispatch.manifest."""
    return read_manifests(paths, ws.county, ws.areas, skip_invalid=skip_invalid)


def _roads(ws: Workspace, fleet: Fleet) -> Roads:
    """Travel (s, m) on the workspace's roads for the fleet's vehicle types."""
    return Roads(
        travel_s=lambda t, a, b: ws.travel_s(t, a, b, fleet),
        travel_m=lambda t, a, b: ws.travel_m(t, a, b, fleet),
    )


def plan_inputs(
    ws: Workspace,
    fleet: Fleet,
    parcels: Sequence[Parcel],
    started_at: Mapping[str, str] | None = None,
) -> PlanInputs:
    """What the independent plan validator checks a plan against; `started_at` names the
    station where each parcel carried in from an earlier day waits. Travel is on `ws`'s roads,
    around its closures; a route that left its depot before a closure's `since_s` is checked
    on the roads without it."""
    today = _roads(ws, fleet)
    timed = any(c.since_s is not None for c in ws.closures)
    roads: dict[tuple[int, ...], Roads] = {}

    def roads_at(departure_s: int) -> Roads:
        applied = closed_at(ws.closures, departure_s)
        key = tuple(i for i, c in enumerate(ws.closures) if c in applied)
        if key not in roads:
            roads[key] = (
                today if len(key) == len(ws.closures) else _roads(_with(ws, applied), fleet)
            )
        return roads[key]

    return PlanInputs(
        parcels=parcels,
        fleet=fleet,
        points={p.point_id: p for p in ws.points},
        travel_s=today.travel_s,
        travel_m=today.travel_m,
        started_at=dict(started_at or {}),
        open_roads=_roads(ws.open, fleet) if ws.closed is not None else None,
        roads_at=roads_at if timed else None,
    )


def _with(ws: Workspace, closures: Sequence[Closure]) -> Workspace:
    """The county's roads with exactly `closures` closed."""
    return ws.open.with_closures(closures)


def roads_of_plan(
    ws: Workspace, plan: Plan | Mapping[str, Any], extra: Sequence[Closure] = ()
) -> Workspace:
    """The roads a plan was made on: around every closure it records (`closures`, `road_closed`
    events) and `extra` ones. ClosureError naming the closure's field."""
    return ws.open.with_closures([*plan_closures(plan), *extra])


def drawn_on(ws: Workspace, plan: Plan | Mapping[str, Any]) -> Workspace:
    """The roads to draw a plan's routes on: around the closures it records (ClosureError
    naming the field of a malformed one)."""
    return roads_of_plan(ws, plan) if has_closures(plan) else ws


def check_closures(
    ws: Workspace, records: Sequence[Mapping[str, Any]], source: str, first_row: int = 0
) -> list[Closure]:
    """Closures given as records (FIELDS keys), checked against the county's roads;
    ClosureError naming `source`, row (index from `first_row`) and field of every problem."""
    from geodata.closures import parse_closures

    closures = parse_closures(records, source, first_row)
    ws.open.with_closures(closures)  # resolves every place on the roads
    return closures


def read_closure_file(ws: Workspace, path: Path) -> list[Closure]:
    """The closures of a TOML or CSV file, checked against the county's roads; ClosureError
    naming the file, row and field of every problem."""
    from geodata.closures import read_closures

    closures = read_closures(path)
    ws.open.with_closures(closures)  # resolves every place on the roads
    return closures


def check_plan_file(
    ws: Workspace,
    plan: Mapping[str, Any],
    parcels: Sequence[Parcel],
    fleet: Fleet,
    previous: Plan | None = None,
    closures: Sequence[Closure] = (),
) -> list[str]:
    """Every rule a plan (its raw JSON, planned here or edited by hand) breaks, one line
    each; [] = valid.

    `previous` is the earlier plan it took held produce and deferred parcels over from. The
    plan is checked on the roads around the closures it records (`closures` and `road_closed`
    events) and `closures` given here; a malformed closure is one line naming its field.
    """
    carried, at_station = carried_parcels(ws, previous) if previous else ([], {})
    try:
        now = roads_of_plan(ws, plan, closures)
    except ClosureError as exc:
        return [f"{p.file}[{p.row}].{p.field} [closure]: {p.message}" for p in exc.problems]
    return validate_plan(plan, plan_inputs(now, fleet, [*parcels, *carried], at_station))


def carried_parcels(ws: Workspace, previous: Plan) -> tuple[list[Parcel], dict[str, str]]:
    """The parcels an earlier plan hands on (its `carry_over`), and for those waiting at a
    station, where they wait. Raises ManifestError naming an entry whose point is unknown."""
    source = f"plan {previous.plan_id}"
    parcels: list[Parcel] = []
    at_station: dict[str, str] = {}
    errors: list[InputError] = []
    for row, entry in enumerate(previous.carry_over, 1):
        if not ws.has(entry.point_id) or not ws.has(entry.at):
            errors.append(InputError(source, row, "carry_over", "unknown point"))
            continue
        parcels.append(entry.parcel(source, row))
        if ws.point(entry.at).kind == "station":
            at_station[entry.tracking_no] = entry.at
    if errors:
        raise ManifestError(errors)
    return parcels, at_station


def plan_day(
    ws: Workspace,
    parcels: Sequence[Parcel],
    *,
    date: dt.date,
    fleet: Fleet | None = None,
    time_limit_s: float = 30.0,
    mode: RequestedMode = "auto",
    progress: Progress | None = None,
    warm_start: Plan | None = None,
    carry_over: Plan | None = None,
    engine: str = "portfolio",
    workers: int = 1,
    closures: Sequence[Closure] = (),
    solution_limit: int | None = None,
    second_process: bool = True,
) -> Plan:
    """Plan a day and return the validated plan (PlanInvalid if validation fails).

    `via_station` plans the three-tier day (dispatch.two_echelon); `direct` serves every
    village from the hub's vehicles, station vehicles staying at their stations; `auto` makes
    both plans, in parallel processes when it can, and returns the one that costs the company
    less (route cost plus the fleet's penalties for parcels left behind, deferred or held),
    with both plans' figures and the reason in `kpis.auto`.
    `warm_start` (an earlier plan, e.g. yesterday's) seeds each vehicle's routes;
    `carry_over` (the previous day's plan) adds its held produce and deferred parcels.
    Legs are solved by `engine` (portfolio, ortools or pyvrp) on `workers` processes started
    once for the day; `auto` uses one per plan, its two plans already filling two, or plans
    them one after the other in this process without `second_process`. `solution_limit`
    caps every leg's search (see dispatch.legs.Engines).
    `closures` close roads for the day (ClosureError naming a bad one): travel goes around
    them, parcels of points they cut off are unassigned (`road_closed`), vehicles based there
    idle; the plan records them (`closures`, and `kpis.closures`).
    """
    base = fleet or ws.fleet
    started = time.perf_counter()
    ws = ws.with_closures(closures)
    closures_s = ws.closing_s + ws.matrices(base) if ws.closed is not None else 0.0
    carried: list[Parcel] = []
    at_station: dict[str, str] = {}
    if carry_over is not None:
        carried, at_station = carried_parcels(ws, carry_over)
        clash = {p.tracking_no for p in parcels} & {p.tracking_no for p in carried}
        if clash:
            raise ManifestError(
                [
                    InputError("carry_over", 0, "tracking_no", f"{t} is also in today's manifests")
                    for t in sorted(clash)
                ]
            )
    everything = [*parcels, *carried]
    reachable, cut_off = cut_off_parcels(ws, everything)
    resume = Resume(
        start_s=0,
        hints=route_hints(warm_start.routes) if warm_start else {},
        at_station={
            t: Waiting(st, ws.point(st).open_s, ws.point(st).open_s)
            for t, st in at_station.items()
            if t not in {u.parcel_id for u in cut_off}
        },
        excluded=cut_off_vehicles(ws, base),
    )
    carried_in = [
        CarriedIn(parcel_id=p.tracking_no, at=at_station.get(p.tracking_no, _origin(ws, p)))
        for p in carried
    ]
    origin = ws.origin if second_process else None  # None: auto's two plans in this process
    request = _DayRequest(
        origin, reachable, date, base, resume, engine, tuple(ws.closures), solution_limit
    )

    def build(day: DayResult, followed: Mode) -> Plan:
        day.unassigned += cut_off
        plan = build_plan(
            ws,
            base,
            day,
            everything,
            date=date,
            mode=followed,
            extra_kpis=_kpis(ws, day, started),
            carried_in=carried_in,
        )
        if ws.closed is not None:
            plan.closures = closure_records(ws.closures)
            plan.kpis.closures = closure_kpis(ws, closures_s)
        return plan

    if mode == "auto":
        plan = _auto(ws, request, time_limit_s, progress, build)
    else:
        with EnginePool(workers) as pool:
            day = plan_trips(
                ws,
                base,
                reachable,
                date=date,
                mode=mode,
                time_limit_s=time_limit_s,
                progress=progress,
                resume=resume,
                engines=Engines(engine, pool if workers > 1 else None, solution_limit),
            )
        plan = build(day, mode)
    plan.kpis.solve_time_s = round(time.perf_counter() - started, 2)
    check_plan(plan.to_json(), plan_inputs(ws, base, everything, at_station))
    return plan


def _origin(ws: Workspace, p: Parcel) -> str:
    """Where a parcel starts: deliveries at the hub, pickups at their point."""
    return ws.hub_id if p.kind == "delivery" else p.point_id


@dataclass(frozen=True)
class _DayRequest:
    """What both of auto's plans are made from (picklable, for the second process)."""

    origin: tuple[str, str] | None  # where the second process loads the workspace from
    parcels: Sequence[Parcel]
    date: dt.date
    fleet: Fleet
    resume: Resume
    engine: str
    closures: tuple[Closure, ...] = ()  # applied again in the second process
    solution_limit: int | None = None


def _auto(
    ws: Workspace,
    request: _DayRequest,
    time_limit_s: float,
    progress: Progress | None,
    build: Callable[[DayResult, Mode], Plan],
) -> Plan:
    """auto: the three-tier plan and the all-direct plan of the same day, the better kept;
    the plan's `mode` says which, `kpis.auto` compares them.

    The direct plan runs in a second process at the same time when processes can be started
    (both end by the same deadline); otherwise one after the other, splitting the limit.
    """
    deadline = time.time() + time_limit_s
    pool, future = _start_direct(request, deadline)
    share = 1.0 if future is not None else 0.6
    mixed_day = plan_trips(
        ws,
        request.fleet,
        request.parcels,
        date=request.date,
        mode="via_station",
        time_limit_s=time_limit_s * share,
        progress=progress,
        resume=request.resume,
        engines=Engines(request.engine, solution_limit=request.solution_limit),
    )
    try:
        direct_day = future.result() if future is not None else _direct_day(request, deadline, ws)
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
    mixed, direct = build(mixed_day, "via_station"), build(direct_day, "direct")
    scores = {"via_station": _score(mixed, request.fleet), "direct": _score(direct, request.fleet)}
    chosen: Mode = "direct" if scores["direct"] < scores["via_station"] else "via_station"
    plan = mixed if chosen == "via_station" else direct
    plan.kpis.auto = AutoKpis(
        chosen=chosen,
        via_station_score_fen=scores["via_station"],
        via_station_cost_fen=mixed.kpis.cost_fen,
        via_station_left_today=mixed.kpis.left_today,
        direct_score_fen=scores["direct"],
        direct_cost_fen=direct.kpis.cost_fen,
        direct_left_today=direct.kpis.left_today,
        why=_why(chosen, mixed.kpis, direct.kpis),
    )
    return plan


def _why(chosen: Mode, mixed: Kpis, direct: Kpis) -> str:
    """A sentence on why auto chose its plan."""
    if chosen == "via_station":
        return "the three-tier plan costs the company less than serving every village from the hub"
    if mixed.left_today > direct.left_today:
        return (
            f"the three-tier plan leaves {mixed.left_today} parcels due today behind, "
            f"serving every village from the hub leaves {direct.left_today}"
        )
    return "serving every village from the hub costs less with this fleet and these parcels"


def _start_direct(
    request: _DayRequest, deadline: float
) -> tuple[
    concurrent.futures.ProcessPoolExecutor | None, concurrent.futures.Future[DayResult] | None
]:
    """Start the direct plan in a second process, or (None, None) where processes cannot be
    started (e.g. inside a daemonic worker)."""
    if multiprocessing.current_process().daemon or request.origin is None:
        return None, None
    try:
        pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn")
        )
        return pool, pool.submit(_direct_day, request, deadline)
    except (OSError, RuntimeError, AssertionError):
        return None, None


def _direct_day(request: _DayRequest, deadline: float, ws: Workspace | None = None) -> DayResult:
    """The direct plan of the request, ending by `deadline` (epoch s)."""
    if ws is None:
        assert request.origin is not None, "only a loaded workspace is loaded again"
        folder, network = request.origin
        ws = Workspace.load(Path(folder) if folder else None, Path(network) if network else None)
        ws = ws.with_closures(request.closures)
    return plan_trips(
        ws,
        request.fleet,
        request.parcels,
        date=request.date,
        mode="direct",
        time_limit_s=max(1.0, deadline - time.time()),
        resume=request.resume,
        engines=Engines(request.engine, solution_limit=request.solution_limit),
    )


def route_hints(routes: Sequence[Route]) -> dict[str, list[str]]:
    """Vehicle id -> the points its routes visit, in order (to warm-start a new plan)."""
    hints: dict[str, list[str]] = {}
    for r in sorted(routes, key=lambda r: (r.vehicle_id, r.stops[0].departure_s)):
        hints.setdefault(r.vehicle_id, []).extend(s.point_id for s in r.visits)
    return hints


def _score(plan: Plan, fleet: Fleet) -> int:
    """What the plan costs the company (fen): routes plus the fleet's penalties for parcels
    due today left behind, and for parcels deferred or produce held to the next day."""
    k, s = plan.kpis, fleet.settings
    return int(
        k.cost_fen + s.drop_penalty_fen * k.left_today + s.defer_penalty_fen * (k.deferred + k.held)
    )


def closure_kpis(ws: Workspace, apply_s: float) -> ClosureKpis:
    """What the day's road closures close and cut off (not checked by the validator):
    closures, closed road edges and metres, the points cut off, and the seconds it took to
    close the roads and recompute the fleet's travel matrices around them."""
    assert ws.closed is not None
    return ClosureKpis(
        closures=len(ws.closures),
        edges_closed=len(ws.network.closed),
        closed_m=round(ws.closed.closed_m),
        cut_off=sorted(ws.cut_off()),
        apply_s=round(apply_s, 3),
    )


def _kpis(ws: Workspace, day: DayResult, started: float) -> dict[str, Any]:
    """KPIs a plan adds beyond the routes: why village parcels went direct, solve time,
    network."""
    why: dict[str, int] = {}
    for code in day.why_direct.values():
        why[code] = why.get(code, 0) + 1
    return {
        "direct_why": dict(sorted(why.items())),
        "engines": day.engines,
        "solve_time_s": round(time.perf_counter() - started, 2),
        "network": ws.network_source,
        "county": ws.county.name,
        "placed_points": len(ws.county.placed),
    }


def write_outputs(
    ws: Workspace,
    out: Path,
    plan: Plan,
    parcels: Sequence[Parcel],
    driver_files: bool = False,
) -> list[Path]:
    """Write plan.json, routes.geojson and sheets/<route_id>.csv into `out` atomically;
    with `driver_files` also sheets/<route_id>.pdf and sheets/<route_id>.gpx. Routes are drawn
    around the road closures the plan records."""
    ws = drawn_on(ws, plan)
    points = {p.point_id: p for p in ws.points}
    by_id = {p.tracking_no: p for p in parcels}
    geojson = routes_geojson(plan.routes, ws.geometry)
    written = write_plan_outputs(out, plan, geojson, points, by_id)
    if driver_files:
        written += _write_sheets(out, _sources(ws, plan, parcels), ("pdf", "gpx"))
    return written


def _sources(
    ws: Workspace, plan: Plan, parcels: Sequence[Parcel], fleet: Fleet | None = None
) -> SheetSources:
    """What the sheets of `plan` are made from; vehicle type names from `fleet` (or default)."""
    return SheetSources(
        plan=plan,
        points={p.point_id: p for p in ws.points},
        parcels={p.tracking_no: p for p in parcels},
        geometry=ws.geometry,
        vehicle_labels={name: t.label for name, t in (fleet or ws.fleet).types.items()},
    )


def read_plan_manifests(ws: Workspace, plan: Plan, paths: Sequence[Path]) -> list[Parcel]:
    """The parcels of a stored plan from its manifests.

    Rows the plan itself skipped as invalid (`invalid_rows`) are left out; any other invalid
    row raises ManifestError naming file, row and field.
    """
    parcels, errors = read_manifests(paths, ws.county, ws.areas, skip_invalid=True)
    skipped = plan.skipped_rows()
    unexcused = [e for e in errors if (e.file, e.row, e.field) not in skipped]
    if unexcused:
        raise ManifestError(unexcused)
    return parcels


def write_sheets(
    ws: Workspace,
    out: Path,
    plan: Plan,
    parcels: Sequence[Parcel],
    formats: Sequence[str] = SHEET_FORMATS,
    fleet: Fleet | None = None,
) -> list[Path]:
    """Route sheets, loading lists and the workbook of a stored plan (see dispatch.sheets).

    Raises SheetInputError, before writing anything, when the plan does not fit its parcels,
    the network's points or `fleet` (when given).
    """
    src = _sources(ws, plan, parcels, fleet)
    check_sources(src, fleet.types if fleet is not None else None)
    return _write_sheets(out, src, formats)


def replan(
    ws: Workspace,
    plan: Plan,
    parcels: Sequence[Parcel],
    events: Sequence[Mapping[str, Any]],
    *,
    fleet: Fleet | None = None,
    time_limit_s: float = 30.0,
    progress: Progress | None = None,
) -> Plan:
    """A new version of `plan` after `events` (see dispatch.replan); validated.

    `parcels` are all the day's parcels, late ones included (and any carried in). Raises
    EventError (a ValueError) naming the event and field when an event cannot be applied.
    """
    mode, date = plan.mode, plan.date
    recorded = record_events(events)
    fleet = fleet or ws.fleet
    off = [v.vehicle_id for v in plan.vehicles if not v.available]
    if off:
        fleet = fleet.with_off(off)
    started = time.perf_counter()
    cut, todo, refused = replan_inputs(ws, plan, parcels, events, fleet)
    try:
        earlier = plan_closures(plan)  # the day's, and those of earlier versions' events
        now = ws.open.with_closures([*earlier, *cut.closures])
    except ClosureError as exc:
        raise EventError(
            "; ".join(f"{request_field(p)}: {p.message}" for p in exc.problems)
        ) from exc
    closures_s = now.closing_s + now.matrices(fleet) if now.closed is not None else 0.0
    todo, cut_off = cut_off_parcels(now, todo)
    cut.resume.excluded |= cut_off_vehicles(now, fleet)
    for t in {u.parcel_id for u in cut_off}:
        cut.resume.at_station.pop(t, None)
    day = plan_trips(
        now,
        fleet,
        todo,
        date=date,
        mode=mode,
        time_limit_s=time_limit_s,
        progress=progress,
        resume=cut.resume,
    )
    day.unassigned += [*cut.stranded, *refused, *cut_off]
    carried_in = plan.carried_in
    new = build_plan(
        now,
        fleet,
        day,
        parcels,
        date=date,
        mode=mode,
        extra_kpis=_kpis(now, day, started),
        kept=cut.kept,
        retired_ids=[r.route_id for r in plan.routes],
        carried_in=carried_in,
    )
    new.version_of = plan.plan_id
    new.replanned_at_s = cut.at_s
    new.events = recorded
    if earlier:
        new.closures = closure_records(earlier)
    if now.closed is not None:
        new.kpis.closures = closure_kpis(now, closures_s)
    started_at = {c.parcel_id: c.at for c in carried_in if ws.point(c.at).kind == "station"}
    check_plan(new.to_json(), plan_inputs(now, fleet, parcels, started_at))
    return new


def network_points(ws: Workspace) -> list[dict[str, Any]]:
    """All service points as rows (point_id, name, kind, town_id, lon, lat, open_s, close_s,
    placed: 1 where the position was placed by geodata.placement, not given by the county)."""
    return [
        {
            "point_id": p.point_id,
            "name": p.name,
            "kind": p.kind,
            "town_id": p.town_id,
            "lon": round(p.lon, 6),
            "lat": round(p.lat, 6),
            "open_s": p.open_s,
            "close_s": p.close_s,
            "placed": int(p.placed),
        }
        for p in ws.points
    ]


def fleet_toml(fleet: Fleet) -> str:
    """The fleet as TOML text."""
    return fleet_to_toml(fleet)


def fleet_from_toml(text: str, ws: Workspace) -> Fleet:
    """A fleet from TOML text (ValueError naming the key when invalid)."""
    return fleet_text_for_county(text, ws.county)


def route_sheet_csv(ws: Workspace, plan: Plan, route_id: str, parcels: Sequence[Parcel]) -> str:
    """The route sheet of one route as CSV text (KeyError if no such route)."""
    ws = drawn_on(ws, plan)
    return sheet_csv_text(_sources(ws, plan, parcels).sheet(route_id))


def route_sheet_pdf(ws: Workspace, plan: Plan, route_id: str, parcels: Sequence[Parcel]) -> bytes:
    """The printable A4 route sheet in Chinese as PDF bytes (KeyError if no such route)."""
    ws = drawn_on(ws, plan)
    from dispatch.sheet_pdf import route_sheet_pdf as pdf  # reportlab: loaded when used

    src = _sources(ws, plan, parcels)
    return pdf(src.sheet(route_id), src.road(route_id))


def route_loading_list(
    ws: Workspace, plan: Plan, route_id: str, parcels: Sequence[Parcel], kind: str
) -> str | bytes | None:
    """The loading list of one trip for its depot's crew as `kind` "csv" (text) or "pdf"
    (bytes); None when the trip loads nothing at its depot (KeyError if no such route)."""
    ll = loading_list(
        _sources(ws, plan, parcels).sheet(route_id),
        {p.tracking_no: p for p in parcels},
        plan.vehicle(plan.route(route_id).vehicle_id),
    )
    if not ll.entries:
        return None
    if kind == "csv":
        return loading_csv_text(ll)
    from dispatch.sheet_pdf import loading_list_pdf  # reportlab: loaded when used

    return loading_list_pdf(ll)


def plan_workbook(ws: Workspace, plan: Plan, parcels: Sequence[Parcel]) -> bytes:
    """The XLSX workbook of a plan (summary, one sheet per route, unassigned) as bytes."""
    import tempfile

    from dispatch.workbook import write_plan_workbook  # openpyxl: loaded when used

    src = _sources(ws, plan, parcels)
    sheets = [src.sheet(r.route_id) for r in plan.routes]
    with tempfile.TemporaryDirectory(prefix="rd-xlsx-") as tmp:
        path = Path(tmp) / "plan.xlsx"
        write_plan_workbook(path, plan, sheets, src.points, src.parcels)
        return path.read_bytes()


def route_gpx_text(ws: Workspace, plan: Plan, route_id: str) -> str:
    """The route as GPX 1.1 for a phone: stops as waypoints, the road path as a track."""
    ws = drawn_on(ws, plan)
    road = ws.geometry([s.point_id for s in plan.route(route_id).stops])
    return route_gpx(plan, route_id, {p.point_id: p for p in ws.points}, road)


def route_geojson(ws: Workspace, plan: Plan, route_id: str) -> dict[str, Any]:
    """One route as a GeoJSON FeatureCollection along the roads (KeyError if no such route)."""
    ws = drawn_on(ws, plan)
    return routes_geojson([plan.route(route_id)], ws.geometry)


def town_kpis(ws: Workspace, plan: Plan, parcels: Sequence[Parcel]) -> list[dict[str, Any]]:
    """Per town: parcels, delivered, produce collected and left behind, cost share and per
    parcel, and the share the plan carries today (a planned figure, not an on-time share:
    that comes from scans, dispatch.actuals).

    A route's cost is shared among towns by the parcels it handles there; planned today means
    delivered or collected on the planned day (not deferred, not unassigned). Produce left
    behind is the town's produce not brought to the hub today (held, deferred, unassigned).
    """
    by_id = {p.tracking_no: p for p in parcels}
    town_of = {p.point_id: p.town_id for p in ws.points}
    stats: dict[str, dict[str, float]] = {}

    def row(town: str) -> dict[str, float]:
        return stats.setdefault(
            town,
            {
                "delivered": 0,
                "collected": 0,
                "cost_fen": 0.0,
                "parcels": 0,
                "not_today": 0,
                "produce": 0,
            },
        )

    for p in parcels:
        row(town_of[p.point_id])["parcels"] += 1
        if p.kind == "pickup":
            row(town_of[p.point_id])["produce"] += 1
    for r in plan.routes:
        handled: dict[str, int] = {}
        for s in r.stops:
            for pid in s.drop:
                p = by_id[pid]
                if p.kind == "delivery" and p.point_id == s.point_id:
                    row(town_of[p.point_id])["delivered"] += 1
            for pid in s.load + s.drop:
                t = town_of[by_id[pid].point_id]
                handled[t] = handled.get(t, 0) + 1
            if s is r.stops[-1] and s.point_id == ws.hub_id:
                for pid in s.drop:
                    if by_id[pid].kind == "pickup":
                        row(town_of[by_id[pid].point_id])["collected"] += 1
        total = sum(handled.values())
        for t, k in handled.items():
            row(t)["cost_fen"] += r.cost_fen * k / total
    for u in plan.unassigned:
        row(town_of[by_id[u.parcel_id].point_id])["not_today"] += 1
    out = []
    for town, figures in sorted(stats.items()):
        done = figures["delivered"] + figures["collected"]
        out.append(
            {
                "town_id": town,
                "name": ws.point(town).name if town in town_of else town,
                "parcels": int(figures["parcels"]),
                "delivered": int(figures["delivered"]),
                "collected": int(figures["collected"]),
                "produce_left": int(figures["produce"] - figures["collected"]),
                "cost_fen": round(figures["cost_fen"]),
                "cost_per_parcel_fen": round(figures["cost_fen"] / done) if done else 0,
                "planned_today_share": (
                    round(1 - figures["not_today"] / count, 4)
                    if (count := figures["parcels"])
                    else 1.0
                ),
            }
        )
    return out


def road_lines(ws: Workspace) -> dict[str, list[list[tuple[float, float]]]]:
    """The county's roads as polylines (lon, lat) by highway class, each road once."""
    from geodata.road_lines import road_lines as lines

    return lines(ws.network.graph)


def plan_lines(ws: Workspace, plan: Plan) -> list[dict[str, Any]]:
    """Each route of the plan along the roads: route_id, echelon, line [(lon, lat), ...]."""
    return [
        {
            "route_id": r.route_id,
            "echelon": r.echelon,
            "line": [
                (round(x, 5), round(y, 5)) for x, y in ws.geometry([s.point_id for s in r.stops])
            ],
        }
        for r in plan.routes
    ]
