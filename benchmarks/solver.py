"""Solver-quality benchmark on textbook instances, optionally against PyVRP and VROOM.

    python -m benchmarks.solver ../shared/benchdata/cvrplib-x --format vrplib \\
        --time-limit 10 --filter 'X-n1*' --limit 6 --peers --out x.csv

For each instance in DIR: our cost (instance units, double precision), the gap to the best
known solution (BKS) in `--bks` (default DIR/bks.csv; for Solomon DIR/bks_distance_only.csv
when present, since our objective is distance only), time and validity. With `--peers`,
PyVRP and VROOM (optional `bench` extra, imported only here) solve the same instance with the
same time budget in the same run, and their routes are costed by the same function.

PyVRP reads VRPLIB files itself (`pyvrp.read`, round_func="round" = CVRPLIB's nint); for
Solomon it gets our integer matrices (distances ×1000 rounded, durations ×1000 rounded up).
VROOM always gets our integer matrices: durations for time, distances as its cost matrix.
"""

from __future__ import annotations

import csv
import fnmatch
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal, cast

import typer
from rich.console import Console
from rich.table import Table

from optimizer.formats import TextbookInstance, read_problem, solve_instance
from optimizer.validate import validate

Format = Literal["vrplib", "solomon"]
PeerResult = tuple[float, int] | None


@dataclass
class Row:
    """One instance's results; costs in instance units, gaps in percent above BKS."""

    instance: str
    n: int
    bks: float | None
    bks_vehicles: int | None
    cost: float | None
    vehicles: int | None
    gap: float | None
    time_s: float
    valid: bool
    pyvrp: float | None = None
    pyvrp_gap: float | None = None
    vroom: float | None = None
    vroom_gap: float | None = None
    notes: list[str] = field(default_factory=list)


def load_bks(path: Path) -> dict[str, tuple[float, int | None]]:
    """instance → (BKS cost, BKS vehicles or None) from a bks.csv table."""
    table: dict[str, tuple[float, int | None]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for rec in csv.DictReader(handle):
            if rec.get("bks_cost"):
                vehicles = rec.get("vehicles") or ""
                table[rec["instance"]] = (
                    float(rec["bks_cost"]),
                    int(vehicles) if vehicles.strip() else None,
                )
    return table


def default_bks(folder: Path, fmt: Format) -> Path | None:
    """The BKS table next to the instances, preferring the distance-only one for Solomon."""
    names = ["bks_distance_only.csv", "bks.csv"] if fmt == "solomon" else ["bks.csv"]
    return next((folder / n for n in names if (folder / n).is_file()), None)


def instance_files(folder: Path, fmt: Format, pattern: str, limit: int | None) -> list[Path]:
    """Files in `folder` matching any of the comma-separated globs, by size then name."""
    suffix = ".vrp" if fmt == "vrplib" else ".txt"
    globs = [g.strip() for g in pattern.split(",") if g.strip()]
    files = [
        p
        for p in folder.iterdir()
        if p.suffix == suffix and any(fnmatch.fnmatch(p.name, g) for g in globs)
    ]
    files.sort(key=lambda p: (p.stat().st_size, p.name))
    return files[:limit] if limit else files


def gap(cost: float | None, bks: float | None) -> float | None:
    """Percent above BKS."""
    if cost is None or not bks:
        return None
    return 100.0 * (cost - bks) / bks


def routes_ok(inst: TextbookInstance, routes: list[list[int]]) -> bool:
    """Every customer exactly once and no route over capacity (time windows: peers' own)."""
    problem = inst.problem
    visited = sorted(n for r in routes for n in r)
    capacity = problem.vehicles[0].capacity_g
    loads_ok = all(sum(int(problem.delivery[n, 0]) for n in r) <= capacity for r in routes)
    return visited == problem.customers() and loads_ok


def run_ours(inst: TextbookInstance, limit_s: float, workers: int) -> Row:
    """Our portfolio solve, validated independently."""
    started = time.monotonic()
    solution = solve_instance(inst, limit_s, workers)
    elapsed = time.monotonic() - started
    errors = validate(inst.problem, solution)
    routes = [r.nodes for r in solution.routes if r.nodes]
    valid = not errors and not solution.unserved
    return Row(
        instance=inst.name,
        n=inst.problem.n - 1,
        bks=None,
        bks_vehicles=None,
        cost=inst.cost(routes) if valid else None,
        vehicles=len(routes) if valid else None,
        gap=None,
        time_s=elapsed,
        valid=valid,
        notes=errors[:2] + ([f"{len(solution.unserved)} unserved"] if solution.unserved else []),
    )


def run_pyvrp(path: Path, inst: TextbookInstance, limit_s: float) -> PeerResult:
    """PyVRP (HGS) for `limit_s` seconds; (cost, routes) or None when infeasible."""
    import pyvrp
    from pyvrp.stop import MaxRuntime

    if inst.fmt == "vrplib":
        data = pyvrp.read(path, round_func="round")
    else:
        problem = inst.problem
        model = pyvrp.Model()
        veh = problem.vehicles[0]
        locations = [model.add_location(float(x), float(y)) for x, y in inst.coords]
        depot = model.add_depot(locations[0], tw_early=veh.shift_start, tw_late=veh.shift_end)
        for i in problem.customers():
            model.add_client(
                locations[i],
                delivery=[int(problem.delivery[i, 0])],
                service_duration=int(problem.service[i]),
                tw_early=int(problem.time_windows[i, 0]),
                tw_late=int(problem.time_windows[i, 1]),
            )
        model.add_vehicle_type(
            num_available=len(problem.vehicles),
            capacity=[veh.capacity_g],
            start_depot=depot,
            end_depot=depot,
            tw_early=veh.shift_start,
            tw_late=veh.shift_end,
        )
        dist, dur = problem.distances[0], problem.durations[0]
        for a, frm in enumerate(locations):
            for b, to in enumerate(locations):
                model.add_edge(frm, to, distance=int(dist[a, b]), duration=int(dur[a, b]))
        data = model.data()
    result = pyvrp.solve(data, stop=MaxRuntime(limit_s), display=False)
    if not result.is_feasible():
        return None
    # client activities carry client numbers; locations number the depot(s) first
    routes = [
        [int(a.idx) + data.num_depots for a in route if a.is_client()]
        for route in result.best.routes()
    ]
    return (inst.cost(routes), len(routes)) if routes_ok(inst, routes) else None


def run_vroom(inst: TextbookInstance, limit_s: float, threads: int) -> PeerResult:
    """VROOM (pyvroom, exploration level 5) on our integer matrices; (cost, routes) or None."""
    import vroom

    problem = inst.problem
    veh = problem.vehicles[0]
    data = vroom.Input()
    data.set_durations_matrix("car", problem.durations[0])
    data.set_costs_matrix("car", problem.distances[0])
    for k in range(len(problem.vehicles)):
        data.add_vehicle(
            vroom.Vehicle(
                k + 1,
                start=veh.start,
                end=veh.end,
                capacity=[veh.capacity_g],
                time_window=vroom.TimeWindow(veh.shift_start, veh.shift_end),
            )
        )
    for i in problem.customers():
        data.add_job(
            vroom.Job(
                i,
                location=i,
                default_service=int(problem.service[i]),
                delivery=[int(problem.delivery[i, 0])],
                time_windows=[
                    vroom.TimeWindow(
                        int(problem.time_windows[i, 0]), int(problem.time_windows[i, 1])
                    )
                ],
            )
        )
    solution = data.solve(
        exploration_level=5, nb_threads=threads, timeout=timedelta(seconds=limit_s)
    )
    frame = solution.routes
    if int(solution.summary.unassigned):
        return None
    jobs = frame[frame["type"] == "job"]
    routes = [list(map(int, g["id"])) for _, g in jobs.groupby("vehicle_id", sort=True)]
    return (inst.cost(routes), len(routes)) if routes_ok(inst, routes) else None


def _peer(name: str, run: Callable[[], PeerResult], row: Row) -> PeerResult:
    try:
        return run()
    except Exception as exc:  # a peer's failure is reported, not fatal
        row.notes.append(f"{name}: {type(exc).__name__}: {exc}")
        return None


def benchmark(
    folder: Path,
    fmt: Format,
    limit_s: float,
    workers: int,
    bks_path: Path | None,
    peers: bool,
    limit: int | None,
    pattern: str,
    report: Callable[[Row], None] = lambda row: None,
) -> list[Row]:
    """Run every matching instance; `report` sees each row as it is done."""
    bks = load_bks(bks_path) if bks_path else {}
    rows = []
    for path in instance_files(folder, fmt, pattern, limit):
        inst = read_problem(path, fmt)
        row = run_ours(inst, limit_s, workers)
        row.instance = path.stem
        row.bks, row.bks_vehicles = bks.get(path.stem, (None, None))
        row.gap = gap(row.cost, row.bks)
        if peers:
            ran = _peer("pyvrp", partial(run_pyvrp, path, inst, limit_s), row)
            row.pyvrp = ran[0] if ran else None
            ran = _peer("vroom", partial(run_vroom, inst, limit_s, workers), row)
            row.vroom = ran[0] if ran else None
            row.pyvrp_gap, row.vroom_gap = gap(row.pyvrp, row.bks), gap(row.vroom, row.bks)
        report(row)
        rows.append(row)
    return rows


def _fmt(value: float | int | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def render(rows: list[Row], peers: bool) -> Table:
    """A rich table of the rows."""
    table = Table(title="solver benchmark (cost in instance units, gap % over BKS)")
    columns = ["instance", "n", "BKS", "veh*", "ours", "veh", "gap %", "time s", "valid"]
    if peers:
        columns += ["PyVRP", "gap %", "VROOM", "gap %", "ours/PyVRP", "ours/VROOM"]
    for name in columns:
        table.add_column(name, justify="left" if name == "instance" else "right")
    for r in rows:
        cells = [
            r.instance,
            str(r.n),
            _fmt(r.bks),
            _fmt(r.bks_vehicles),
            _fmt(r.cost),
            _fmt(r.vehicles),
            _fmt(r.gap),
            _fmt(r.time_s, 1),
            "yes" if r.valid else "NO",
        ]
        if peers:
            cells += [
                _fmt(r.pyvrp),
                _fmt(r.pyvrp_gap),
                _fmt(r.vroom),
                _fmt(r.vroom_gap),
                _fmt(r.cost / r.pyvrp if r.cost and r.pyvrp else None, 4),
                _fmt(r.cost / r.vroom if r.cost and r.vroom else None, 4),
            ]
        table.add_row(*cells)
    return table


def write_csv(rows: list[Row], out: Path) -> None:
    """All fields of all rows, one line per instance."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(asdict(rows[0]).keys()))
        writer.writeheader()
        for r in rows:
            rec: dict[str, Any] = asdict(r)
            rec["notes"] = " | ".join(r.notes)
            writer.writerow(rec)


def gap_summary(rows: list[Row], attr: str) -> str:
    """'median x %, worst y % (k instances)' over rows that have the gap."""
    gaps = [g for r in rows if (g := getattr(r, attr)) is not None]
    if not gaps:
        return "no gaps"
    return f"median {statistics.median(gaps):.2f} %, worst {max(gaps):.2f} % ({len(gaps)})"


def main(
    folder: Annotated[Path, typer.Argument(help="folder of instance files")],
    fmt: Annotated[str, typer.Option("--format", help="vrplib or solomon")] = "vrplib",
    bks: Annotated[Path | None, typer.Option(help="BKS csv (default: next to files)")] = None,
    time_limit: Annotated[float, typer.Option(help="seconds per instance and solver")] = 30.0,
    workers: Annotated[int, typer.Option(help="portfolio processes / VROOM threads")] = 1,
    peers: Annotated[bool, typer.Option(help="also run PyVRP and VROOM")] = False,
    limit: Annotated[int | None, typer.Option(help="at most N instances")] = None,
    filter_: Annotated[str, typer.Option("--filter", help="file globs, comma-separated")] = "*",
    out: Annotated[Path | None, typer.Option(help="write results CSV")] = None,
) -> None:
    """Run the benchmark, print a table, the median and worst gap, and write the CSV."""
    if fmt not in ("vrplib", "solomon"):
        raise typer.BadParameter("--format must be vrplib or solomon")
    console = Console(width=None if sys.stdout.isatty() else 200)
    kind = cast(Format, fmt)
    bks_path = bks if bks is not None else default_bks(folder, kind)
    console.print(f"BKS table: {bks_path or 'none'}")

    def report(row: Row) -> None:
        console.print(
            f"{row.instance}: ours {_fmt(row.cost)} gap {_fmt(row.gap)} %"
            + (f", PyVRP {_fmt(row.pyvrp)}, VROOM {_fmt(row.vroom)}" if peers else "")
            + (f" [{'; '.join(row.notes)}]" if row.notes else ""),
            markup=False,
        )

    rows = benchmark(folder, kind, time_limit, workers, bks_path, peers, limit, filter_, report)
    if not rows:
        console.print("no instances matched")
        raise typer.Exit(1)
    console.print(render(rows, peers))
    console.print(f"ours:  {gap_summary(rows, 'gap')}")
    if peers:
        console.print(f"PyVRP: {gap_summary(rows, 'pyvrp_gap')}")
        console.print(f"VROOM: {gap_summary(rows, 'vroom_gap')}")
    if out is not None:
        write_csv(rows, out)
        console.print(f"wrote {out}")


if __name__ == "__main__":
    typer.run(main)
