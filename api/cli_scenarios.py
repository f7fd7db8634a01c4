"""`ruraldispatch scenarios run|report` and `plan-region`: planners' what-if sweeps and
several counties' days, in parallel, from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.cli_outputs import out_folder
from dispatch.scenarios.model import ScenarioError
from dispatch.scenarios.sweep import DETERMINISTIC_SOLUTIONS, Settings, report, run_sweep
from dispatch.scenarios.task import PlanResult

console = Console(stderr=True)
scenarios_app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Planners' what-if scenarios."
)


def _bar(label: str) -> Progress:
    """A progress bar counting finished `label` (plans, counties) with the latest one named."""
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
    )


@scenarios_app.command("run")
def run(
    files: Annotated[list[Path], typer.Argument(help="Scenario files (TOML).")],
    out: Annotated[
        Path, typer.Option(help="Output folder (resumed when it exists).", callback=out_folder)
    ],
    replicas: Annotated[int, typer.Option(min=1, max=100, help="Demand seeds per scenario.")] = 3,
    time_limit: Annotated[
        float | None,
        typer.Option(min=0.1, help="Time limit per plan (s); default: each scenario's own."),
    ] = None,
    cluster: Annotated[
        str | None,
        typer.Option(help="Address of a running dask.distributed scheduler (tcp://host:8786)."),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Local worker processes.")] = 2,
    deterministic: Annotated[
        bool,
        typer.Option(
            help="OR-Tools under a solution limit instead of a time limit: same seeds, same "
            "table on any machine (slower on large days)."
        ),
    ] = False,
    solution_limit: Annotated[
        int, typer.Option(min=1, help="Solutions per leg with --deterministic.")
    ] = DETERMINISTIC_SOLUTIONS,
    county: Annotated[
        Path | None, typer.Option(help="County folder; default: the embedded Yongchuan.")
    ] = None,
    baseline: Annotated[
        str | None, typer.Option(help="Scenario the others are compared with.")
    ] = None,
    first_seed: Annotated[int, typer.Option(min=0, help="First demand seed.")] = 0,
) -> None:
    """Plan every scenario × replicas in parallel; write the table and charts into OUT."""
    missing = [f for f in files if not f.is_file()]
    if missing:
        console.print(f"[red]error[/red] {missing[0]}: no such scenario file", highlight=False)
        raise typer.Exit(2)
    if county is not None and not county.is_dir():
        console.print(f"[red]error[/red] {county}: county folder not found", highlight=False)
        raise typer.Exit(2)
    settings = Settings(
        replicas=replicas,
        first_seed=first_seed,
        time_limit_s=time_limit,
        deterministic=deterministic,
        solution_limit=solution_limit,
        workers=workers,
        cluster=cluster,
        county=county,
        baseline=baseline,
    )
    with _bar("plans") as bar:
        task = bar.add_task("", total=None)

        def progress(done: int, total: int, result: PlanResult | None) -> None:
            text = (
                "" if result is None else f"{result.scenario} seed {result.seed}: {result.status}"
            )
            bar.update(task, completed=done, total=total, description=text)

        try:
            outcome = run_sweep(files, out, settings, progress)
        except ScenarioError as exc:
            bar.stop()
            for p in exc.problems:
                console.print(f"[red]error[/red] {p}", highlight=False, soft_wrap=True)
            console.print("[red]Invalid scenario: nothing was planned.[/red]")
            raise typer.Exit(2) from None
        except (ValueError, OSError) as exc:  # also ClusterError (cannot reach the scheduler)
            bar.stop()
            console.print(f"[red]error[/red] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            bar.stop()
            console.print(
                f"Interrupted: the finished plans are kept in {out}; run the same command "
                "again to plan the rest."
            )
            raise typer.Exit(130) from None
    for r in outcome.failed:
        console.print(
            f"[red]{r.status}[/red] {r.scenario} seed {r.seed}: {r.reason}",
            highlight=False,
            soft_wrap=True,
        )
    console.print(
        f"{outcome.planned} plans made, {outcome.skipped} kept from before, "
        f"{len(outcome.failed)} failed; table and charts in {out}",
        highlight=False,
    )
    typer.echo((out / "table.md").read_text(encoding="utf-8"))


@scenarios_app.command("report")
def report_cmd(
    out: Annotated[Path, typer.Argument(help="Folder of a sweep (scenarios run --out).")],
) -> None:
    """Rebuild the table and charts of a sweep from its stored results."""
    try:
        written = report(out)
    except ValueError as exc:
        console.print(f"[red]error[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    for path in written:
        console.print(str(path), highlight=False)
    typer.echo((out / "table.md").read_text(encoding="utf-8"))


def plan_region(
    region: Annotated[Path, typer.Argument(help="Region file (TOML) listing the counties.")],
    out: Annotated[
        Path,
        typer.Option(help="Output folder: <county>/plan.json, summary.*", callback=out_folder),
    ],
    cluster: Annotated[
        str | None,
        typer.Option(help="Address of a running dask.distributed scheduler (tcp://host:8786)."),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Local worker processes.")] = 2,
) -> None:
    """Plan the day of every county of a region in parallel; one plan each and a summary."""
    from dispatch.region import run_region

    if not region.is_file():
        console.print(f"[red]error[/red] {region}: no such region file", highlight=False)
        raise typer.Exit(2)
    with _bar("counties") as bar:
        task = bar.add_task("", total=None)

        def progress(done: int, total: int, result: object) -> None:
            text = "" if result is None else f"{getattr(result, 'name', '')}"
            bar.update(task, completed=done, total=total, description=text)

        try:
            outcome = run_region(region, out, workers=workers, cluster=cluster, progress=progress)
        except ScenarioError as exc:
            bar.stop()
            for p in exc.problems:
                console.print(f"[red]error[/red] {p}", highlight=False, soft_wrap=True)
            console.print("[red]Invalid region file: nothing was planned.[/red]")
            raise typer.Exit(2) from None
        except (ValueError, OSError) as exc:
            bar.stop()
            console.print(f"[red]error[/red] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
    for r in outcome.results:
        if r.status != "ok":
            console.print(
                f"[red]failed[/red] {r.name}: {r.reason}", highlight=False, soft_wrap=True
            )
    typer.echo((out / "summary.md").read_text(encoding="utf-8"))


def register(app: typer.Typer) -> None:
    """Add `scenarios run|report` and `plan-region` to the project's command line."""
    app.add_typer(scenarios_app, name="scenarios")
    app.command("plan-region")(plan_region)
