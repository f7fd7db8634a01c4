"""The `ruraldispatch` command line: demo, plan, solve, network, serve, keys.

Exit codes: 0 success, 2 invalid input (nothing written), 1 internal error.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import sys
import traceback
import zoneinfo
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.cli_service import register as register_service
from dispatch import service
from dispatch.demo import generate_day, write_demo_manifests
from dispatch.fleet import Fleet, fleet_for_county
from dispatch.parcel import InputError, ManifestError, Parcel
from optimizer.formats import solve_file
from optimizer.portfolio import ENGINES
from optimizer.vroom import solve_vroom

app = typer.Typer(add_completion=False, help="Routing and dispatch for a county's rural delivery.")
network_app = typer.Typer(add_completion=False, help="The road network and service points.")
app.add_typer(network_app, name="network")
register_service(app)

console = Console(stderr=True)


class InvalidInput(Exception):
    """Input the user must fix; the command exits 2 and writes nothing."""


def today() -> dt.date:
    """Today's date in Asia/Shanghai."""
    return dt.datetime.now(zoneinfo.ZoneInfo("Asia/Shanghai")).date()


def _workspace(network: Path | None) -> service.Workspace:
    if network is not None and not network.exists():
        raise InvalidInput(f"{network}: network file not found")
    with console.status("Loading the county and its road network..."):
        try:
            return service.Workspace.default(network)
        except (ValueError, OSError) as exc:
            raise InvalidInput(f"{network}: {exc}") from exc


def _fleet(ws: service.Workspace, path: Path | None) -> Fleet:
    if path is None:
        return ws.fleet
    try:
        return fleet_for_county(ws.county, path)
    except (ValueError, OSError) as exc:
        raise InvalidInput(str(exc)) from exc


def _plan_and_write(
    ws: service.Workspace,
    parcels: list[Parcel],
    invalid: list[InputError],
    *,
    fleet: Fleet,
    out: Path,
    date: dt.date,
    time_limit: float,
    mode: str,
    driver_files: bool,
) -> dict[str, Any]:
    """Plan, validate, write plan.json, routes.geojson and sheets/, print the summary."""
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
            date=date,
            fleet=fleet,
            time_limit_s=time_limit,
            mode=mode,
            progress=progress,
        )
    if invalid:
        plan["invalid_rows"] = [
            {"file": e.file, "row": e.row, "field": e.field, "message": e.message} for e in invalid
        ]
    service.write_outputs(ws, out, plan, parcels, driver_files=driver_files)
    _summary(plan)
    return plan


def _summary(plan: dict[str, Any]) -> None:
    k = plan["kpis"]
    table = Table(title=f"Plan {plan['plan_id']} for {plan['date']} ({plan['status']})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = [
        ("parcels", f"{k['parcels']:,}"),
        ("delivered", f"{k['delivered']:,}"),
        ("produce picked up", f"{k['picked_up']:,}"),
        ("unassigned", f"{k['unassigned']:,}"),
        ("deferred to a later day", f"{k['deferred']:,}"),
        ("routes (echelon 1 / 2)", f"{k['echelon_1']['routes']} / {k['echelon_2']['routes']}"),
        ("vehicles used", f"{k['vehicles_used']}"),
        ("distance", f"{k['distance_m'] / 1000:,.1f} km"),
        ("vehicle hours", f"{k['vehicle_hours']:,.1f} h"),
        ("cost", f"{k['cost_fen'] / 100:,.2f} yuan"),
        ("cost per parcel", f"{k['cost_per_parcel_fen'] / 100:,.2f} yuan"),
        ("solve time", f"{k['solve_time_s']} s"),
    ]
    fallback = k.get("auto_fallback")
    if fallback:
        rows.append(
            (
                "auto: via towns / all direct",
                f"{fallback['towns_cost_fen'] / 100:,.0f} yuan, {fallback['towns_left_today']} left"
                f" / {fallback['direct_cost_fen'] / 100:,.0f} yuan, "
                f"{fallback['direct_left_today']} left -> {fallback['chosen']}",
            )
        )
    for name, value in rows:
        table.add_row(name, value)
    Console().print(table)


def _print_errors(errors: list[InputError]) -> None:
    for e in errors[:200]:
        console.print(f"[red]error[/red] {e}", highlight=False, markup=True)
    if len(errors) > 200:
        console.print(f"... and {len(errors) - 200} more")


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("demo-out"),
    parcels: Annotated[int, typer.Option(min=1, help="Parcels in the day.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed of the generated day.")] = 0,
    time_limit: Annotated[float, typer.Option(min=0.5, help="Solver time limit (s).")] = 30.0,
    mode: Annotated[str, typer.Option(help="auto | via_station | direct")] = "auto",
    date: Annotated[str | None, typer.Option(help="Day to plan (YYYY-MM-DD).")] = None,
    fleet: Annotated[Path | None, typer.Option(help="Fleet TOML file.")] = None,
    driver_files: Annotated[
        bool, typer.Option(help="Also write each route's PDF sheet (Chinese) and GPX track.")
    ] = False,
) -> None:
    """Generate a realistic day for the embedded county, write its manifests, plan it."""
    day = dt.date.fromisoformat(date) if date else today()
    ws = _workspace(None)
    chosen = _fleet(ws, fleet)
    generated = generate_day(ws.county, n_parcels=parcels, seed=seed, date=day)
    paths = write_demo_manifests(generated, out, ws.county)
    console.print(f"Wrote {len(paths)} manifests to {out / 'manifests'}")
    read, invalid = service.read_manifest_files(ws, paths)
    _plan_and_write(
        ws,
        read,
        invalid,
        fleet=chosen,
        out=out,
        date=day,
        time_limit=time_limit,
        mode=mode,
        driver_files=driver_files,
    )


@app.command()
def plan(
    manifests: Annotated[list[Path], typer.Argument(help="Manifest files (CSV or JSON).")],
    out: Annotated[Path, typer.Option(help="Output folder.")],
    fleet: Annotated[Path | None, typer.Option(help="Fleet TOML file.")] = None,
    network: Annotated[Path | None, typer.Option(help=".osm or .graphml road network.")] = None,
    time_limit: Annotated[float, typer.Option(min=0.5, help="Solver time limit (s).")] = 30.0,
    skip_invalid: Annotated[bool, typer.Option(help="Plan the valid rows, list the rest.")] = False,
    mode: Annotated[str, typer.Option(help="auto | via_station | direct")] = "auto",
    date: Annotated[str | None, typer.Option(help="Day to plan (YYYY-MM-DD).")] = None,
    driver_files: Annotated[
        bool, typer.Option(help="Also write each route's PDF sheet (Chinese) and GPX track.")
    ] = False,
) -> None:
    """Plan a day from carriers' manifests."""
    missing = [m for m in manifests if not m.is_file()]
    if missing:
        raise InvalidInput(", ".join(f"{m}: file not found" for m in missing))
    try:
        day = dt.date.fromisoformat(date) if date else today()
    except ValueError as exc:
        raise InvalidInput(f"--date: {exc}") from exc
    if mode not in ("auto", "via_station", "direct"):
        raise InvalidInput(f"--mode: must be auto, via_station or direct, not {mode!r}")
    ws = _workspace(network)
    chosen = _fleet(ws, fleet)
    parcels, invalid = service.read_manifest_files(ws, manifests, skip_invalid=skip_invalid)
    if invalid:
        console.print(f"[yellow]Skipping {len(invalid)} invalid row(s):[/yellow]")
        _print_errors(invalid)
    _plan_and_write(
        ws,
        parcels,
        invalid,
        fleet=chosen,
        out=out,
        date=day,
        time_limit=time_limit,
        mode=mode,
        driver_files=driver_files,
    )


@app.command()
def solve(
    file: Annotated[Path, typer.Argument(help="Instance file.")],
    format: Annotated[str, typer.Option("--format", help="vrplib | solomon | vroom")] = "vrplib",
    time_limit: Annotated[float, typer.Option(min=0.1, help="Time limit (s).")] = 30.0,
    out: Annotated[Path | None, typer.Option(help="Solution JSON file.")] = None,
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
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(text + "\n", encoding="utf-8")
        tmp.replace(out)
    if solution.get("code", 1) != 0:
        console.print(f"[red]error[/red] {file}: {solution.get('error', 'no solution')}")
        raise typer.Exit(2 if solution.get("code") == 2 else 1)


@network_app.command("points")
def network_points(
    out: Annotated[Path, typer.Option(help="CSV file to write.")],
    network: Annotated[Path | None, typer.Option(help=".osm or .graphml road network.")] = None,
) -> None:
    """Write every service point as CSV: point_id,name,kind,town_id,lon,lat,open_s,close_s."""
    ws = _workspace(network)
    rows = service.network_points(ws)
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(out)
    console.print(f"Wrote {len(rows)} points to {out}")


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
        console.print(f"[red]error[/red] {exc}", highlight=False)
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
