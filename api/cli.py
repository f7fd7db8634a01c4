"""The `ruraldispatch` command line: demo, plan, validate, sheets, replan, solve, network,
county, scenarios, serve, keys.

Exit codes: 0 success, 2 invalid input (nothing written), 3 a plan that breaks the rules
(`validate`), 1 internal error.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import sys
import time
import traceback
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.cli_day_inputs import another_county, another_days_plan, nothing_to_plan
from api.cli_outputs import out_file, out_folder
from api.cli_scans import register as register_scans
from api.cli_scenarios import register as register_scenarios
from api.cli_service import register as register_service
from dispatch import service
from dispatch.atomic import write_atomic
from dispatch.demo import generate_day, write_demo_manifests
from dispatch.fleet import Fleet, fleet_for_county
from dispatch.modes import requested_mode
from dispatch.parcel import InputError, ManifestError, Parcel
from dispatch.plan import InvalidRow, PlanFormatError, RequestedMode, read_plan
from dispatch.workspace import CountyError, Problem, check_county
from optimizer.formats import solve_file
from optimizer.portfolio import ENGINES
from optimizer.vroom import solve_vroom

app = typer.Typer(add_completion=False, help="Routing and dispatch for a county's rural delivery.")
network_app = typer.Typer(add_completion=False, help="The road network and service points.")
app.add_typer(network_app, name="network")
county_app = typer.Typer(add_completion=False, help="County folders: points, outline, roads.")
app.add_typer(county_app, name="county")
register_service(app)
register_scenarios(app)
register_scans(app)

console = Console(stderr=True)


class InvalidInput(Exception):
    """Input the user must fix; the command exits 2 and writes nothing."""


COUNTY_HELP = "County folder (county.toml, points.csv, ...); default: the embedded Yongchuan."
NETWORK_HELP = "Road file (.osm.pbf, .osm or .graphml); default: the county's own."


def today(time_zone: str = "Asia/Shanghai") -> dt.date:
    """Today's date in the county's time zone."""
    return dt.datetime.now(zoneinfo.ZoneInfo(time_zone)).date()


def _workspace(network: Path | None, county: Path | None = None) -> service.Workspace:
    if network is not None and not network.exists():
        raise InvalidInput(f"{network}: network file not found")
    if county is not None and not county.is_dir():
        raise InvalidInput(f"{county}: county folder not found")
    with console.status("Loading the county and its road network..."):
        try:
            ws = service.Workspace.load(county, network)
        except CountyError as exc:
            _print_problems(exc.problems)
            raise InvalidInput(f"{county}: the county folder has errors") from exc
        except (ValueError, OSError) as exc:
            raise InvalidInput(str(exc)) from exc
    _roads_note(ws.network_source, ws.network.graph.graph)
    return ws


def _roads_note(source: str, stats: dict[str, Any]) -> None:
    """Say which roads were loaded and how many ways of an extract were cut."""
    if "ways_cut" in stats:
        console.print(
            f"Roads: {source}: {stats.get('ways', 0):,} drivable ways, "
            f"{stats['ways_cut']:,} cut at the extract's edge, "
            f"{stats.get('ways_clipped', 0):,} cut at the county outline and its margin",
            highlight=False,
            soft_wrap=True,
        )


def _print_problems(problems: list[Problem]) -> None:
    errors = [p for p in problems if not p.warning]
    warnings = [p for p in problems if p.warning]
    for p in errors[:200]:
        console.print(f"[red]error[/red] {p}", highlight=False, soft_wrap=True)
    if len(errors) > 200:
        console.print(f"... and {len(errors) - 200} more errors")
    for p in warnings[:50]:
        console.print(f"[yellow]warning[/yellow] {p}", highlight=False, soft_wrap=True)
    if len(warnings) > 50:
        console.print(f"... and {len(warnings) - 50} more warnings")


def _fleet(ws: service.Workspace, path: Path | None) -> Fleet:
    if path is None:
        return ws.fleet
    try:
        return fleet_for_county(ws.county, path)
    except (ValueError, OSError) as exc:
        raise InvalidInput(str(exc)) from exc


#: Seconds of a `--time-limit` kept for checking the plan and writing its files: a base and
#: a share per 1,000 parcels (both grow with the day; measured 1.1 s at 10,000 parcels on a
#: quiet machine, more than twice that on a loaded one).
WRITE_RESERVE_S = 2.0
WRITE_RESERVE_PER_1000_S = 0.15


def process_age_s() -> float:
    """Seconds since this process started (interpreter start-up and imports included); 0 where
    the operating system does not tell (only Linux's /proc is read)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            started_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return 0.0
    return time.clock_gettime(time.CLOCK_BOOTTIME) - started_ticks / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class DayOptions:
    """How to plan a day, as the command line gives it; `date` None means today in the
    county (see `dated`)."""

    date: dt.date | None
    mode: RequestedMode
    time_limit: float
    fleet: Path | None
    off: tuple[str, ...]
    carry_over: Path | None
    driver_files: bool
    engine: str = "portfolio"
    closures: Path | None = None

    @property
    def day(self) -> dt.date:
        """The day to plan (call `dated` first)."""
        assert self.date is not None, "DayOptions.dated() sets the date"
        return self.date

    def dated(self, ws: service.Workspace) -> DayOptions:
        """The options with the day set: as given, else today in the county's time zone."""
        return replace(self, date=self.date or today(ws.county.settings.time_zone))


def _day_options(
    date: str | None,
    mode: str,
    time_limit: float,
    fleet: Path | None,
    off: str | None,
    carry_over: Path | None,
    driver_files: bool,
    engine: str,
    closures: Path | None = None,
) -> DayOptions:
    try:
        day = dt.date.fromisoformat(date) if date else None
    except ValueError as exc:
        raise InvalidInput(f"--date: {exc}") from exc
    try:
        chosen = requested_mode(mode)
    except ValueError as exc:
        raise InvalidInput(f"--mode: {exc}") from exc
    if carry_over is not None and not carry_over.is_file():
        raise InvalidInput(f"--carry-over: {carry_over}: file not found")
    if engine not in ENGINES:
        raise InvalidInput(f"--engine: must be one of {', '.join(ENGINES)}, not {engine!r}")
    if closures is not None and not closures.is_file():
        raise InvalidInput(f"--closures: {closures}: file not found")
    ids = tuple(v.strip() for v in (off or "").split(",") if v.strip())
    return DayOptions(
        day, chosen, time_limit, fleet, ids, carry_over, driver_files, engine, closures
    )


def _closures(ws: service.Workspace, path: Path | None) -> list[service.Closure]:
    """The closures of a --closures file, checked on the county's roads (InvalidInput naming
    the file, row and field of every problem)."""
    if path is None:
        return []
    try:
        return service.read_closure_file(ws, path)
    except service.ClosureError as exc:
        for p in exc.problems[:200]:
            console.print(
                f"[red]error[/red] {path.parent / p.file}: row {p.row}: {p.field}: {p.message}",
                highlight=False,
                soft_wrap=True,
            )
        raise InvalidInput(f"--closures: {path}: {len(exc.problems)} problem(s)") from exc


def _read_plan_json(path: Path) -> dict[str, Any]:
    """A plan file's raw JSON, as the validator checks it (InvalidInput when unreadable)."""
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{path}: not a readable plan JSON: {exc}") from exc
    if not isinstance(plan, dict):
        raise InvalidInput(f"{path}: a plan is a JSON object")
    return plan


def _load_plan(path: Path, option: str = "") -> service.Plan:
    """A plan file (InvalidInput naming the option, file and field when unreadable)."""
    try:
        return service.load_plan(path)
    except service.PlanFormatError as exc:
        raise InvalidInput(f"{option}{exc}") from exc


def _plan_and_write(
    ws: service.Workspace,
    parcels: list[Parcel],
    invalid: list[InputError],
    options: DayOptions,
    out: Path,
) -> service.Plan:
    """Plan, validate, write plan.json, routes.geojson and sheets/, print the summary.

    The plan is checked and written within `time_limit` seconds of the command's start: the
    solver gets what loading left, less the reserve for checking and writing.
    """
    fleet = _fleet(ws, options.fleet)
    try:
        fleet = fleet.with_off(options.off)
    except ValueError as exc:
        raise InvalidInput(f"--off: {exc}") from exc
    previous = _load_plan(options.carry_over, "--carry-over: ") if options.carry_over else None
    closures = _closures(ws, options.closures)
    reserve = WRITE_RESERVE_S + WRITE_RESERVE_PER_1000_S * len(parcels) / 1000
    budget = options.time_limit - process_age_s() - reserve
    with Progress(
        TextColumn("[bold]Planning[/bold]"),
        BarColumn(),
        TextColumn("{task.fields[cost]}"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("plan", total=1.0, cost="")

        def progress(fraction: float, cost: int | None) -> None:
            bar.update(
                task,
                completed=fraction,
                cost="" if cost is None else f"best {cost / 100:,.0f} yuan",
            )

        plan = service.plan_day(
            ws,
            parcels,
            date=options.day,
            fleet=fleet,
            time_limit_s=max(1.0, budget),
            mode=options.mode,
            progress=progress,
            carry_over=previous,
            engine=options.engine,
            workers=1,
            closures=closures,
        )
    if invalid:
        plan.invalid_rows = [
            InvalidRow(file=e.file, row=e.row, field=e.field, message=e.message) for e in invalid
        ]
    # the sheets list what was carried in too (its records come from the earlier plan)
    carried = service.carried_parcels(ws, previous)[0] if previous else []
    service.write_outputs(ws, out, plan, [*parcels, *carried], driver_files=options.driver_files)
    _summary(plan)
    return plan


def _summary(plan: service.Plan) -> None:
    k = plan.kpis
    table = Table(title=f"Plan {plan.plan_id} for {plan.date} ({plan.status})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    towns = k.towns
    rows = [
        ("parcels", f"{k.parcels:,}"),
        ("delivered", f"{k.delivered:,}"),
        ("produce picked up", f"{k.picked_up:,}"),
        (
            "through stations / direct (village parcels)",
            f"{sum(t.via_station for t in towns):,} / {sum(t.direct for t in towns):,}",
        ),
        ("held at stations for tomorrow", f"{k.held:,}"),
        ("deferred to a later day", f"{k.deferred:,}"),
        ("left behind (due today)", f"{k.left_today:,}"),
        ("routes (echelon 1 / 2)", f"{k.echelon_1.routes} / {k.echelon_2.routes}"),
        ("vehicles used", f"{k.vehicles_used}"),
        ("distance", f"{k.distance_m / 1000:,.1f} km"),
        ("vehicle hours", f"{k.vehicle_hours:,.1f} h"),
        ("cost", f"{k.cost_fen / 100:,.2f} yuan"),
        ("cost per parcel", f"{k.cost_per_parcel_fen / 100:,.2f} yuan"),
        ("solve time", f"{k.solve_time_s} s"),
    ]
    auto = k.auto
    if auto:
        rows.append(
            (
                "auto: three-tier / all direct",
                f"{auto.via_station_score_fen / 100:,.0f} / "
                f"{auto.direct_score_fen / 100:,.0f} yuan with penalties -> {auto.chosen}",
            )
        )
    for name, value in rows:
        table.add_row(name, value)
    Console().print(table)


def _print_errors(errors: list[InputError]) -> None:
    for e in errors[:200]:
        console.print(f"[red]error[/red] {e}", highlight=False, markup=True, soft_wrap=True)
    if len(errors) > 200:
        console.print(f"... and {len(errors) - 200} more")


TimeLimit = Annotated[
    float,
    typer.Option(
        min=1.0,
        help="Seconds from the command's start to the checked plan on disk (loading included).",
    ),
]
Mode = Annotated[str, typer.Option(help="auto | via_station | direct")]
DayEngine = Annotated[
    str,
    typer.Option(help="Engine of every leg: portfolio | ortools | pyvrp (see README: Engines)."),
]
FleetFile = Annotated[Path | None, typer.Option(help="Fleet TOML file.")]
Off = Annotated[
    str | None, typer.Option(help="Vehicles off today, comma-separated ids (e.g. HUB-V03).")
]
CarryOver = Annotated[
    Path | None,
    typer.Option(help="The previous day's plan.json: its held produce and deferred parcels."),
]
DriverFiles = Annotated[
    bool, typer.Option(help="Also write each route's PDF sheet (Chinese) and GPX track.")
]
DayDate = Annotated[
    str | None, typer.Option(help="Day to plan (YYYY-MM-DD); default: today in the county.")
]
Network = Annotated[Path | None, typer.Option(help=NETWORK_HELP)]
Closures = Annotated[
    Path | None,
    typer.Option(
        help="Roads closed today (TOML or CSV: from,to or near,radius_m; see README: Road "
        "closures)."
    ),
]
County = Annotated[Path | None, typer.Option(help=COUNTY_HELP)]


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Output folder.", callback=out_folder)] = Path(
        "demo-out"
    ),
    parcels: Annotated[int, typer.Option(min=1, help="Parcels in the day.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed of the generated day.")] = 0,
    time_limit: TimeLimit = 30.0,
    mode: Mode = "auto",
    date: DayDate = None,
    fleet: FleetFile = None,
    off: Off = None,
    carry_over: CarryOver = None,
    driver_files: DriverFiles = False,
    county: County = None,
    engine: DayEngine = "portfolio",
    network: Network = None,
    closures: Closures = None,
) -> None:
    """Generate a realistic day for the county, write its manifests, plan it."""
    options = _day_options(
        date, mode, time_limit, fleet, off, carry_over, driver_files, engine, closures
    )
    ws = _workspace(network, county)
    options = options.dated(ws)
    generated = generate_day(ws.county, n_parcels=parcels, seed=seed, date=options.day)
    paths = write_demo_manifests(generated, out, ws.county)
    console.print(f"Wrote {len(paths)} manifests to {out / 'manifests'}")
    read, invalid = service.read_manifest_files(ws, paths)
    _plan_and_write(ws, read, invalid, options, out)


@app.command()
def plan(
    manifests: Annotated[list[Path], typer.Argument(help="Manifest files (CSV or JSON).")],
    out: Annotated[Path, typer.Option(help="Output folder.", callback=out_folder)],
    fleet: FleetFile = None,
    network: Network = None,
    time_limit: TimeLimit = 30.0,
    skip_invalid: Annotated[bool, typer.Option(help="Plan the valid rows, list the rest.")] = False,
    mode: Mode = "auto",
    date: DayDate = None,
    off: Off = None,
    carry_over: CarryOver = None,
    driver_files: DriverFiles = False,
    county: County = None,
    engine: DayEngine = "portfolio",
    closures: Closures = None,
) -> None:
    """Plan a day from carriers' manifests."""
    missing = [m for m in manifests if not m.is_file()]
    if missing:
        raise InvalidInput(", ".join(f"{m}: file not found" for m in missing))
    options = _day_options(
        date, mode, time_limit, fleet, off, carry_over, driver_files, engine, closures
    )
    ws = _workspace(network, county)
    options = options.dated(ws)
    parcels, invalid = service.read_manifest_files(ws, manifests, skip_invalid=skip_invalid)
    if invalid:
        console.print(f"[yellow]Skipping {len(invalid)} invalid row(s):[/yellow]")
        _print_errors(invalid)
    empty = [] if carry_over else nothing_to_plan(manifests, parcels, invalid)
    if empty:
        raise ManifestError(empty)
    _plan_and_write(ws, parcels, invalid, options, out)


@app.command()
def validate(
    plan_file: Annotated[Path, typer.Argument(metavar="PLAN", help="plan.json to check.")],
    manifests: Annotated[list[Path], typer.Argument(help="The day's manifest files.")],
    fleet: FleetFile = None,
    network: Network = None,
    carry_over: CarryOver = None,
    county: County = None,
    closures: Closures = None,
) -> None:
    """Check a plan (planned here or edited by hand) against its manifests, fleet and roads.

    The roads are those around the closures the plan records and those of --closures.
    Exit 0 when it keeps every rule, 3 with one line per violation naming the route, stop and
    rule, 2 when an input cannot be read.
    """
    missing = [m for m in [plan_file, *manifests] if not m.is_file()]
    if closures is not None and not closures.is_file():
        missing.append(closures)
    if missing:
        raise InvalidInput(", ".join(f"{m}: file not found" for m in missing))
    plan = _read_plan_json(plan_file)
    previous = _load_plan(carry_over, "--carry-over: ") if carry_over else None
    ws = _workspace(network, county)
    model = _plan_model(plan)
    _same_county(plan_file, model, ws)
    chosen = _fleet(ws, fleet)
    closed = _closures(ws, closures)
    parcels, _ = service.read_manifest_files(ws, manifests)
    _same_day(plan_file, model, parcels, manifests)
    violations = service.check_plan_file(ws, plan, parcels, chosen, previous, closed)
    for line in violations:
        typer.echo(line)
    if violations:
        console.print(f"[red]{len(violations)} violation(s)[/red]")
        raise typer.Exit(3)
    console.print(f"[green]valid[/green]: {plan_file} keeps every rule")


def _plan_model(plan: dict[str, Any]) -> service.Plan | None:
    """The model of a plan's raw JSON; None when it does not read (the validator then names
    the bad field)."""
    try:
        return read_plan(plan)
    except PlanFormatError:
        return None


def _same_county(plan_file: Path, plan: service.Plan | None, ws: service.Workspace) -> None:
    """InvalidInput when the plan was made for another county than the one loaded."""
    why = None if plan is None else another_county(plan_file, plan.kpis.county, ws.county.name)
    if why:
        raise InvalidInput(why)


def _same_day(
    plan_file: Path,
    plan: service.Plan | None,
    parcels: Sequence[Parcel],
    manifests: Sequence[Path],
    every: bool = False,
) -> None:
    """InvalidInput when none of the plan's own parcels is in the manifests (another day's
    plan or manifests); with `every`, also when some are missing (a re-plan needs each one
    it carries). A plan only partly off is otherwise left to the validator."""
    if plan is None:
        return
    if every:
        own = {pid for r in plan.routes for s in r.stops for pid in s.load}
    else:
        own = plan.parcel_ids() - {c.parcel_id for c in plan.carried_in}
    why = another_days_plan(plan_file, plan.date, own, parcels, manifests, every=every)
    if why:
        raise InvalidInput(why)


@app.command()
def solve(
    file: Annotated[Path, typer.Argument(help="Instance file.")],
    format: Annotated[str, typer.Option("--format", help="vrplib | solomon | vroom")] = "vrplib",
    time_limit: Annotated[float, typer.Option(min=0.1, help="Time limit (s).")] = 30.0,
    out: Annotated[Path | None, typer.Option(help="Solution JSON file.", callback=out_file)] = None,
    engine: Annotated[
        str, typer.Option(help="portfolio | ortools | pyvrp (vrplib and solomon)")
    ] = "portfolio",
    workers: Annotated[
        int | None, typer.Option(min=1, help="Parallel solver processes [default: cores].")
    ] = None,
) -> None:
    """Solve a textbook instance (VRPLIB, Solomon) or a VROOM problem."""
    if not file.is_file():
        raise InvalidInput(f"{file}: file not found")
    if format == "vroom":
        _solve_vroom(file, time_limit, out)
        return
    if engine not in ENGINES:
        raise InvalidInput(f"--engine: must be {' | '.join(ENGINES)}, not {engine!r}")
    try:
        result = solve_file(
            file, format, time_limit, workers=workers or os.cpu_count() or 1, out=out, engine=engine
        )
    except ValueError as exc:
        raise InvalidInput(f"{file}: {exc}") from exc
    summary = {k: v for k, v in result.items() if k not in ("routes", "steps")}
    typer.echo(json.dumps(summary, ensure_ascii=False))


def _solve_vroom(file: Path, time_limit: float, out: Path | None) -> None:
    """VROOM problem JSON in, VROOM solution JSON out (stdout or --out); VROOM's exit codes."""
    try:
        problem = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{file}: not JSON: {exc}") from exc
    solution = solve_vroom(problem, time_limit_s=time_limit)
    text = json.dumps(solution, ensure_ascii=False)
    if out is None:
        typer.echo(text)
    else:
        write_atomic(out, (text + "\n").encode("utf-8"))
    if solution.get("code", 1) != 0:
        console.print(f"[red]error[/red] {file}: {solution.get('error', 'no solution')}")
        raise typer.Exit(2 if solution.get("code") == 2 else 1)


@app.command()
def sheets(
    plan_file: Annotated[Path, typer.Argument(metavar="PLAN.json", help="A stored plan.json.")],
    manifests: Annotated[list[Path], typer.Argument(help="The plan's manifest files.")],
    out: Annotated[Path, typer.Option(help="Output folder.", callback=out_folder)],
    format: Annotated[
        str, typer.Option("--format", help="Comma-separated: pdf,gpx,xlsx,csv,loading.")
    ] = ",".join(service.SHEET_FORMATS),
    fleet: Annotated[Path | None, typer.Option(help="Fleet TOML file the plan used.")] = None,
    network: Annotated[Path | None, typer.Option(help="Network the plan used.")] = None,
    county: County = None,
) -> None:
    """Route sheets (PDF, GPX, CSV), loading lists and the plan workbook from a stored plan."""
    try:
        formats = service.parse_sheet_formats(format)
    except ValueError as exc:
        raise InvalidInput(f"--format: {exc}") from exc
    missing = [m for m in (plan_file, *manifests) if not m.is_file()]
    if missing:
        raise InvalidInput(", ".join(f"{m}: file not found" for m in missing))
    plan = _load_plan(plan_file)
    ws = _workspace(network, county)
    _same_county(plan_file, plan, ws)
    try:  # the routes are drawn around the road closures the plan records
        ws = service.drawn_on(ws, plan)
    except service.ClosureError as exc:
        raise InvalidInput(f"{plan_file}: {exc}") from exc
    chosen = _fleet(ws, fleet) if fleet is not None else None
    parcels = service.read_plan_manifests(ws, plan, manifests)
    _same_day(plan_file, plan, parcels, manifests)
    try:
        with console.status("Writing sheets..."):
            written = service.write_sheets(ws, out, plan, parcels, formats, chosen)
    except service.SheetInputError as exc:
        raise InvalidInput(f"{plan_file} does not fit its inputs:\n{exc}") from exc
    except service.FontError as exc:
        raise InvalidInput(str(exc)) from exc
    console.print(f"Wrote {len(written)} files ({', '.join(formats)}) to {out}")


EventOption = Annotated[
    list[str],
    typer.Option(
        "--event",
        help="A re-plan event as JSON, as the API takes it (repeatable): "
        '{"type":"breakdown","vehicle_id":"HUB-V01","time":"2026-11-28T09:30:00+08:00"}, '
        '{"type":"point_closed","point_id":"500118001205","reason":"..."}, '
        '{"type":"road_closed","near":"500118001","radius_m":400,"label":"塌方"}, '
        '{"type":"late_parcels","manifest":"late.csv"}; @FILE reads one, a list, '
        'or {"events":[...]}.',
    ),
]


@app.command()
def replan(
    plan_file: Annotated[Path, typer.Argument(metavar="PLAN.json", help="The plan to change.")],
    manifests: Annotated[list[Path], typer.Argument(help="The plan's manifest files.")],
    event: EventOption,
    out: Annotated[
        Path, typer.Option(help="Output folder for the new version.", callback=out_folder)
    ],
    time_limit: Annotated[float, typer.Option(min=1.0, help="Seconds for the solver.")] = 30.0,
    fleet: Annotated[Path | None, typer.Option(help="Fleet TOML file the plan used.")] = None,
    network: Network = None,
    county: County = None,
    driver_files: DriverFiles = False,
) -> None:
    """A new version of a stored plan after events (breakdown, late parcels, point or road
    closed):
    writes plan.json, routes.geojson, sheets/ and changes.json (per route: stops added,
    removed, re-timed; the drivers whose sheets changed) into --out."""
    from api.cli_events import EventInputError, read_events
    from dispatch.plan_changes import plan_changes

    missing = [m for m in (plan_file, *manifests) if not m.is_file()]
    if missing:
        raise InvalidInput(", ".join(f"{m}: file not found" for m in missing))
    base = _load_plan(plan_file)
    ws = _workspace(network, county)
    _same_county(plan_file, base, ws)
    chosen = _fleet(ws, fleet)
    vehicles = frozenset(v.vehicle_id for v in chosen.vehicles)
    try:
        events = read_events(event, ws, base.date, vehicles)
    except EventInputError as exc:
        raise InvalidInput("--event: " + "\n".join(exc.problems)) from exc
    names = {m.name: m for m in manifests}
    clash = [f for f in events.late_files if f.name in names]
    if clash:  # parcels name their file by its name alone
        same = names[clash[0].name]
        why = (
            "is also one of the plan's manifests"
            if same.resolve() == clash[0].resolve()
            else f"has the same file name as the plan's manifest {same}: rename it"
        )
        raise InvalidInput(f"{clash[0]}: a late batch {why}")
    parcels = service.read_plan_manifests(ws, base, [*manifests, *events.late_files])
    _same_day(plan_file, base, parcels, manifests, every=True)
    late = {f: [p.tracking_no for p in parcels if p.source == f.name] for f in events.late_files}
    try:
        with console.status("Re-planning..."):
            new = service.replan(
                ws,
                base,
                parcels,
                events.as_domain(late),
                fleet=chosen,
                time_limit_s=time_limit,
            )
    except service.EventError as exc:
        raise InvalidInput(f"--event: {exc}") from exc
    new.plan_id = f"{base.plan_id}-r{len(base.events or []) + 1}"
    new.invalid_rows = base.invalid_rows
    service.write_outputs(ws, out, new, parcels, driver_files=driver_files)
    changes = plan_changes(base, new)
    (out / "changes.json").write_text(
        json.dumps(changes.as_json(), ensure_ascii=False, indent=1), encoding="utf-8"
    )
    _summary(new)
    changed = [r for r in changes.routes if r.status != "unchanged"]
    console.print(
        f"{len(changed)} of {len(changes.routes)} routes changed; sheets changed for "
        f"{', '.join(changes.drivers_changed) or 'no driver'} (changes.json)",
        highlight=False,
        soft_wrap=True,
    )


@network_app.command("points")
def network_points(
    out: Annotated[Path, typer.Option(help="CSV file to write.", callback=out_file)],
    network: Annotated[Path | None, typer.Option(help=NETWORK_HELP)] = None,
    county: Annotated[Path | None, typer.Option(help=COUNTY_HELP)] = None,
) -> None:
    """Write every service point as CSV: point_id,name,kind,town_id,lon,lat,open_s,close_s,
    placed (1 where the position was placed, not given)."""
    ws = _workspace(network, county)
    rows = service.network_points(ws)
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(out, text.getvalue().encode("utf-8"))
    console.print(f"Wrote {len(rows)} points to {out}")


@county_app.command("check")
def county_check(
    folder: Annotated[Path, typer.Argument(help="County folder.")],
    network: Annotated[Path | None, typer.Option(help=NETWORK_HELP)] = None,
) -> None:
    """Check a county folder: every problem with file, row and field (exit 2 if any error)."""
    if network is not None and not network.exists():
        raise InvalidInput(f"{network}: network file not found")
    with console.status("Checking the county and its roads..."):
        report = check_county(folder, network)
    _print_problems(report.problems)
    if report.network_source:
        _roads_note(report.network_source, report.road_stats)
    county = report.county
    if county is not None:
        kinds = [p.kind for p in county.points]
        console.print(
            f"{county.name}: {kinds.count('hub')} hub, {kinds.count('station')} stations, "
            f"{kinds.count('village')} villages ({len(county.placed)} placed); "
            f"roads: {report.network_source or 'not loaded'}",
            highlight=False,
            soft_wrap=True,
        )
    errors, warnings = len(report.errors), len(report.problems) - len(report.errors)
    console.print(f"{errors} error(s), {warnings} warning(s)")
    if errors:
        raise typer.Exit(2)


def main() -> None:
    """Entry point: run the app and map failures to exit codes."""
    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except ManifestError as exc:
        _print_errors(exc.errors)
        console.print("[red]Invalid input: nothing was planned or written.[/red]")
        sys.exit(2)
    except InvalidInput as exc:
        console.print(f"[red]error[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except (typer.Exit, SystemExit) as exc:
        code = exc.exit_code if isinstance(exc, typer.Exit) else exc.code
        sys.exit(code if isinstance(code, int) else 0)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:
        if _usage_error(exc):
            sys.exit(2)
        traceback.print_exc()
        console.print(f"[red]internal error[/red] {exc}", highlight=False)
        sys.exit(1)


def _usage_error(exc: Exception) -> bool:
    """Usage errors (a missing argument, a bad option) are invalid input too."""
    if isinstance(exc, typer.TyperException):
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            console.print(f"[red]error[/red] {exc}", highlight=False)
        return True
    return False
