"""Solver-quality benchmark: our engines and the portfolio against PyVRP and VROOM.

Suite mode, the README table (DATA is the benchdata folder; rural instances are generated):

    python -m benchmarks.solver ../shared/benchdata --suite readme --time-limit 30 \\
        --workers 2 --peers --out solver.csv

Folder mode, one folder of one format:

    python -m benchmarks.solver ../shared/benchdata/cvrplib-x --format vrplib \\
        --time-limit 10 --filter 'X-n1*' --limit 6 --peers --out x.csv

Sets of the suite, chosen by a fixed rule (never by results): CVRPLIB X with 100 to 400
customers, every tenth by name (`--suite full`: every fifth); Solomon's first instance of
each class C1 C2 R1 R2 RC1 RC2 (full: all 56); Gehring & Homberger 200, every thirtieth by
name (full: every fifth); rural-clustered CVRP and VRPTW (`benchmarks.rural_instances`),
seeds 1 to 5 (full: 1 to 10).

For each instance every engine of `--engines` (default portfolio, ortools, pyvrp: ours, via
`optimizer.portfolio` with `--workers` processes from one pool kept for the whole run) gets
`--time-limit` seconds. With `--peers`, in the same run and one at a time: PyVRP through its
own readers and defaults in one process (VRPLIB files with `pyvrp.read`, round_func
"round"; Solomon files parsed by `vrplib`, PyVRP's companion library, written back as
VRPLIB and read by `pyvrp.read` with round_func "exact", ×1000 rounded), once for the time
limit (equal wall time) and once for `workers` times it (equal CPU time: the portfolio keeps
`workers` processes busy, PyVRP one); VROOM (pyvroom, exploration level 5) on our integer
matrices with `workers` threads for the time limit (equal wall and CPU time). Every route set
is costed by the same double-precision function, ours validated by `optimizer.validate`.

Ratios are the portfolio's cost over the best peer's: at equal wall time (PyVRP at the time
limit, VROOM) and at equal CPU time (PyVRP at `workers` times the limit, VROOM). Gaps are
to the best-known values the data ships: CVRPLIB's table for X; for Solomon the best-known
*distance* (`bks_distance_only.csv`, old heuristic values, beatable: a negative gap means
beaten); for Homberger SINTEF's hierarchical table (vehicles first, so distance gaps can be
negative there too). Rural instances have no BKS.
"""

from __future__ import annotations

import csv
import fnmatch
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal, cast

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from benchmarks.rural_instances import generate, write
from optimizer.formats import TextbookInstance, read_problem, solve_instance
from optimizer.portfolio import ENGINES, EnginePool
from optimizer.validate import validate

Format = Literal["vrplib", "solomon"]
PeerResult = tuple[float, int] | None

#: Targets of issue 9 (2 cores, 30 s): ratio of the portfolio to the best peer on rural sets
#: at equal wall and equal CPU time, median gap to BKS on X and Solomon (percent).
RURAL_WALL_TARGET = 0.99
RURAL_CPU_TARGET = 1.00
MEDIAN_GAP_TARGET = 1.0


@dataclass
class Case:
    """One instance file of a set, with its best-known cost if the data ships one."""

    set: str
    path: Path
    fmt: Format
    bks: float | None = None


@dataclass
class Run:
    """One solver's result on an instance: cost in instance units (None: no valid answer)."""

    cost: float | None
    time_s: float
    winner: str = ""
    note: str = ""


@dataclass
class Row:
    """Every solver's result on one instance."""

    set: str
    instance: str
    n: int
    bks: float | None
    ours: dict[str, Run] = field(default_factory=dict)
    peers: dict[str, Run] = field(default_factory=dict)

    def lead(self) -> Run | None:
        """The portfolio's run, or the first engine's when the portfolio did not run."""
        if "portfolio" in self.ours:
            return self.ours["portfolio"]
        return next(iter(self.ours.values()), None)

    def ratio(self, cpu: bool) -> float | None:
        """Lead cost over the best peer at equal wall time, or at equal CPU time."""
        lead = self.lead()
        names = ("pyvrp_cpu" if cpu else "pyvrp", "vroom")
        costs = [c for name in names if (run := self.peers.get(name)) and (c := run.cost)]
        if lead is None or lead.cost is None or not costs:
            return None
        return lead.cost / min(costs)


def gap(cost: float | None, bks: float | None) -> float | None:
    """Percent above BKS."""
    if cost is None or not bks:
        return None
    return 100.0 * (cost - bks) / bks


def load_bks(path: Path) -> dict[str, float]:
    """instance → BKS cost from a bks.csv table."""
    with path.open(newline="", encoding="utf-8") as handle:
        return {
            r["instance"]: float(r["bks_cost"]) for r in csv.DictReader(handle) if r["bks_cost"]
        }


def _bks_table(folder: Path, names: list[str]) -> dict[str, float]:
    path = next((folder / n for n in names if (folder / n).is_file()), None)
    return load_bks(path) if path else {}


def x_cases(data: Path, step: int) -> list[Case]:
    """CVRPLIB X with 100 to 400 customers, every `step`-th by name."""
    folder = data / "cvrplib-x"
    bks = _bks_table(folder, ["bks.csv"])
    files = sorted(
        p for p in folder.glob("X-n*.vrp") if 100 <= int(p.stem.split("-")[1][1:]) - 1 <= 400
    )
    return [Case("cvrplib-x", p, "vrplib", bks.get(p.stem)) for p in files[::step]]


def solomon_cases(data: Path, every_instance: bool) -> list[Case]:
    """Solomon 100: the first instance of each class by name, or all of them."""
    folder = data / "solomon"
    bks = _bks_table(folder, ["bks_distance_only.csv", "bks.csv"])
    files = sorted(folder.glob("*.txt"))
    if not every_instance:
        first: dict[str, Path] = {}
        for p in files:
            first.setdefault(p.stem[:-2], p)  # class: C101 -> C1, RC205 -> RC2
        files = sorted(first.values())
    return [Case("solomon", p, "solomon", bks.get(p.stem)) for p in files]


def homberger_cases(data: Path, step: int) -> list[Case]:
    """Gehring & Homberger 200, every `step`-th by name."""
    folder = data / "homberger"
    bks = _bks_table(folder, ["bks.csv"])
    files = sorted((folder / "instances").glob("*.txt"))
    return [Case("homberger", p, "solomon", bks.get(p.stem)) for p in files[::step]]


def rural_cases(out: Path, seeds: range) -> list[Case]:
    """Rural-clustered CVRP and VRPTW of each seed, written to `out`."""
    cvrp, vrptw = [], []
    for seed in seeds:
        a, b = write(generate(seed), out)
        cvrp.append(Case("rural-cvrp", a, "vrplib"))
        vrptw.append(Case("rural-vrptw", b, "solomon"))
    return cvrp + vrptw


def suite_cases(data: Path, suite: str, rural_dir: Path) -> list[Case]:
    """The cases of the `readme` or `full` suite (see the module doc)."""
    full = suite == "full"
    return [
        *x_cases(data, 5 if full else 10),
        *solomon_cases(data, full),
        *homberger_cases(data, 5 if full else 30),
        *rural_cases(rural_dir, range(1, 11 if full else 6)),
    ]


def folder_cases(folder: Path, fmt: Format, pattern: str, bks: Path | None) -> list[Case]:
    """Files in `folder` matching any of the comma-separated globs, by size then name."""
    suffix = ".vrp" if fmt == "vrplib" else ".txt"
    names = ["bks_distance_only.csv", "bks.csv"] if fmt == "solomon" else ["bks.csv"]
    table = load_bks(bks) if bks else _bks_table(folder, names)
    globs = [g.strip() for g in pattern.split(",") if g.strip()]
    files = [
        p
        for p in folder.iterdir()
        if p.suffix == suffix and any(fnmatch.fnmatch(p.name, g) for g in globs)
    ]
    files.sort(key=lambda p: (p.stat().st_size, p.name))
    return [Case(folder.name, p, fmt, table.get(p.stem)) for p in files]


def routes_ok(inst: TextbookInstance, routes: list[list[int]]) -> bool:
    """Every customer exactly once and no route over capacity (time windows: peers' own)."""
    problem = inst.problem
    visited = sorted(n for r in routes for n in r)
    capacity = problem.vehicles[0].capacity_g
    loads_ok = all(sum(int(problem.delivery[n, 0]) for n in r) <= capacity for r in routes)
    return visited == problem.customers() and loads_ok


def run_ours(inst: TextbookInstance, limit_s: float, engine: str, pool: EnginePool) -> Run:
    """One of our engines, validated independently."""
    started = time.monotonic()
    solution = solve_instance(inst, limit_s, engine=engine, pool=pool)
    elapsed = time.monotonic() - started
    errors = validate(inst.problem, solution)
    routes = [r.nodes for r in solution.routes if r.nodes]
    if errors or solution.unserved or solution.status == "failed":
        notes = errors[:1] + [f"{len(solution.unserved)} unserved"] * bool(solution.unserved)
        notes += [f"{r.engine}: {r.note}" for r in solution.runs if r.note]
        return Run(None, elapsed, solution.engine, "; ".join(notes))
    return Run(inst.cost(routes), elapsed, solution.engine)


@contextmanager
def _vrplib_copy(path: Path, fmt: Format) -> Iterator[Path]:
    """`path` itself for VRPLIB; a Solomon file parsed by vrplib and written as VRPLIB."""
    if fmt == "vrplib":
        yield path
        return
    import vrplib

    raw = vrplib.read_instance(path, instance_format="solomon", compute_edge_weights=False)
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / f"{path.stem}.vrp"
        vrplib.write_instance(
            copy,
            {
                "NAME": raw["name"],
                "TYPE": "VRPTW",
                "DIMENSION": len(raw["node_coord"]),
                "EDGE_WEIGHT_TYPE": "EUC_2D",
                "CAPACITY": raw["capacity"],
                "VEHICLES": raw["vehicles"],
                "NODE_COORD_SECTION": raw["node_coord"],
                "DEMAND_SECTION": raw["demand"],
                "DEPOT_SECTION": np.array([1]),
                "SERVICE_TIME_SECTION": raw["service_time"],
                "TIME_WINDOW_SECTION": raw["time_window"],
            },
        )
        yield copy


def run_pyvrp(path: Path, inst: TextbookInstance, limit_s: float) -> PeerResult:
    """PyVRP with its own reader and defaults for `limit_s` seconds; (cost, routes) or None."""
    import pyvrp
    from pyvrp.stop import MaxRuntime

    with _vrplib_copy(path, inst.fmt) as copy:
        data = pyvrp.read(copy, round_func="round" if inst.fmt == "vrplib" else "exact")
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


def _peer(run: Callable[[], PeerResult]) -> Run:
    started = time.monotonic()
    try:
        result = run()
    except Exception as exc:  # a peer's failure is reported, not fatal
        return Run(None, time.monotonic() - started, note=f"{type(exc).__name__}: {exc}")
    elapsed = time.monotonic() - started
    return Run(result[0] if result else None, elapsed, note="" if result else "no valid answer")


def benchmark(
    cases: list[Case],
    limit_s: float,
    workers: int,
    engines: list[str],
    peers: bool,
    report: Callable[[Row], None] = lambda row: None,
) -> list[Row]:
    """Run every case; `report` sees each row as it is done."""
    rows = []
    with EnginePool(workers) as pool:
        for case in cases:
            inst = read_problem(case.path, case.fmt)
            row = Row(case.set, case.path.stem, inst.problem.n - 1, case.bks)
            for engine in engines:
                row.ours[engine] = run_ours(inst, limit_s, engine, pool)
            if peers:
                row.peers["pyvrp"] = _peer(partial(run_pyvrp, case.path, inst, limit_s))
                cpu_limit = workers * limit_s
                row.peers["pyvrp_cpu"] = _peer(partial(run_pyvrp, case.path, inst, cpu_limit))
                row.peers["vroom"] = _peer(partial(run_vroom, inst, limit_s, workers))
            report(row)
            rows.append(row)
    return rows


#: Column labels of the peers' runs.
PEER_LABELS = {"pyvrp": "PyVRP", "pyvrp_cpu": "PyVRP x workers", "vroom": "VROOM"}


def _labelled(row: Row) -> dict[str, Run]:
    """Every run of a row under its label: "ours <engine>" and the peers' names."""
    ours = {f"ours {name}": run for name, run in row.ours.items()}
    return ours | {PEER_LABELS[name]: run for name, run in row.peers.items()}


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def render(rows: list[Row]) -> Table:
    """A rich table: each solver's cost and gap, the winner, the ratios to the best peer."""
    peers = bool(rows[0].peers)
    table = Table(title="solver benchmark (cost in instance units, gap % over BKS)")
    columns = ["set", "instance", "n", "BKS"]
    for name in _labelled(rows[0]):
        columns += [name, "gap %"]
    columns += ["winner", "wall ratio", "CPU ratio"] if peers else ["winner"]
    for name in columns:
        table.add_column(name, justify="left" if name in ("set", "instance") else "right")
    for r in rows:
        cells = [r.set, r.instance, str(r.n), _fmt(r.bks)]
        for run in _labelled(r).values():
            cells += [_fmt(run.cost), _fmt(gap(run.cost, r.bks))]
        lead = r.lead()
        cells.append(lead.winner if lead else "-")
        if peers:
            cells += [_fmt(r.ratio(cpu=False), 4), _fmt(r.ratio(cpu=True), 4)]
        table.add_row(*cells)
    return table


def summary(rows: list[Row]) -> list[str]:
    """Per set: median and worst gap of each solver, ratios, and the issue's targets."""
    lines = []
    for name in dict.fromkeys(r.set for r in rows):
        subset = [r for r in rows if r.set == name]
        parts = []
        for solver in _labelled(subset[0]):
            gaps = [
                g
                for r in subset
                if (run := _labelled(r).get(solver)) and (g := gap(run.cost, r.bks)) is not None
            ]
            if gaps:
                parts.append(f"{solver} median {statistics.median(gaps):.2f} %")
        walls = [x for r in subset if (x := r.ratio(cpu=False)) is not None]
        cpus = [x for r in subset if (x := r.ratio(cpu=True)) is not None]
        if walls:
            parts.append(f"wall ratio max {max(walls):.4f}")
        if cpus:
            parts.append(f"CPU ratio max {max(cpus):.4f}")
        lines.append(f"{name} ({len(subset)}): " + ", ".join(parts))
        lines += _targets(name, subset, walls, cpus)
    return lines


def _targets(name: str, rows: list[Row], walls: list[float], cpus: list[float]) -> list[str]:
    if name.startswith("rural") and walls and cpus:
        ok = max(walls) <= RURAL_WALL_TARGET and max(cpus) <= RURAL_CPU_TARGET
        return [
            f"  target wall <= {RURAL_WALL_TARGET} and CPU <= {RURAL_CPU_TARGET} on every "
            f"instance: {'met' if ok and len(walls) == len(rows) else 'MISSED'}"
        ]
    if name in ("cvrplib-x", "solomon"):
        gaps = [g for r in rows if (lead := r.lead()) and (g := gap(lead.cost, r.bks)) is not None]
        if gaps:
            ok = statistics.median(gaps) <= MEDIAN_GAP_TARGET and len(gaps) == len(rows)
            return [f"  target median gap <= {MEDIAN_GAP_TARGET} %: {'met' if ok else 'MISSED'}"]
    return []


def write_csv(rows: list[Row], out: Path) -> None:
    """One line per instance: every solver's cost, gap, time and note, winner, ratios."""
    out.parent.mkdir(parents=True, exist_ok=True)
    records: list[dict[str, Any]] = []
    for r in rows:
        rec: dict[str, Any] = {"set": r.set, "instance": r.instance, "n": r.n, "bks": r.bks}
        runs = [(f"ours_{n}", run) for n, run in r.ours.items()]
        runs += [(f"peer_{n}", run) for n, run in r.peers.items()]
        for name, run in runs:
            rec[f"{name}_cost"] = run.cost
            rec[f"{name}_gap"] = gap(run.cost, r.bks)
            rec[f"{name}_time_s"] = round(run.time_s, 2)
            rec[f"{name}_note"] = run.note
        lead = r.lead()
        rec["winner"] = lead.winner if lead else ""
        rec["wall_ratio"] = r.ratio(cpu=False)
        rec["cpu_ratio"] = r.ratio(cpu=True)
        records.append(rec)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)


def main(
    folder: Annotated[Path, typer.Argument(help="benchdata folder (--suite) or instance folder")],
    suite: Annotated[str | None, typer.Option(help="readme | full (see the module doc)")] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="vrplib or solomon (folder mode)")
    ] = "vrplib",
    bks: Annotated[Path | None, typer.Option(help="BKS csv (folder mode)")] = None,
    time_limit: Annotated[float, typer.Option(help="seconds per instance and solver")] = 30.0,
    workers: Annotated[int, typer.Option(help="our processes / VROOM threads")] = 2,
    engines: Annotated[str, typer.Option(help="ours, comma-separated")] = "portfolio,ortools,pyvrp",
    peers: Annotated[bool, typer.Option(help="also run PyVRP and VROOM")] = False,
    sets: Annotated[str | None, typer.Option(help="suite sets to run, comma-separated")] = None,
    limit: Annotated[int | None, typer.Option(help="at most N instances")] = None,
    filter_: Annotated[str, typer.Option("--filter", help="file globs, comma-separated")] = "*",
    out: Annotated[Path | None, typer.Option(help="write results CSV")] = None,
) -> None:
    """Run the benchmark, print a table and per-set summaries, and write the CSV."""
    chosen = [e.strip() for e in engines.split(",") if e.strip()]
    if not chosen or any(e not in ENGINES for e in chosen):
        raise typer.BadParameter(f"--engines must name some of {', '.join(ENGINES)}")
    console = Console(width=None if sys.stdout.isatty() else 220)
    with tempfile.TemporaryDirectory() as rural_dir:
        if suite is not None:
            if suite not in ("readme", "full"):
                raise typer.BadParameter("--suite must be readme or full")
            cases = suite_cases(folder, suite, Path(rural_dir))
            if sets:
                wanted = {s.strip() for s in sets.split(",")}
                cases = [c for c in cases if c.set in wanted]
            globs = [g.strip() for g in filter_.split(",") if g.strip()]
            cases = [c for c in cases if any(fnmatch.fnmatch(c.path.name, g) for g in globs)]
        else:
            if fmt not in ("vrplib", "solomon"):
                raise typer.BadParameter("--format must be vrplib or solomon")
            cases = folder_cases(folder, cast(Format, fmt), filter_, bks)
        cases = cases[:limit] if limit else cases

        def report(row: Row) -> None:
            runs = _labelled(row)
            parts = [f"{name} {_fmt(run.cost)}" for name, run in runs.items()]
            notes = [f"{name}: {run.note}" for name, run in runs.items() if run.note]
            console.print(
                f"{row.set} {row.instance}: "
                + ", ".join(parts)
                + (f" [{'; '.join(notes)}]" * bool(notes)),
                markup=False,
            )

        rows = benchmark(cases, time_limit, workers, chosen, peers, report)
    if not rows:
        console.print("no instances matched")
        raise typer.Exit(1)
    console.print(render(rows))
    for line in summary(rows):
        console.print(line, markup=False)
    if out is not None:
        write_csv(rows, out)
        console.print(f"wrote {out}")


if __name__ == "__main__":
    typer.run(main)
