"""Whole-day benchmark: `ruraldispatch demo` end to end, wall time, peak RSS, plan KPIs, targets.

    python -m benchmarks.day --parcels 10000 --seeds 0 1 2 --modes auto direct [--time-limit 30]
    python -m benchmarks.day --parcels 40000 --seeds 0 --modes auto direct \\
        --fleet benchmarks/fleets/peak_double11.toml

Each run is a separate `ruraldispatch demo` process (cold start included), so wall time is what
a dispatcher's machine sees from the command's start to the validated outputs on disk. Peak RSS
is the largest sum of resident memory over the whole process tree (the command and the second
process `auto` starts), sampled every 50 ms during that run alone. Cost is the route cost plus
the fleet's penalties for parcels left behind, deferred or held, as the plan's validator
recomputes it. With `auto` and `direct` both given, the targets of issue 8 are checked per
(parcels, seed) and printed.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from dispatch.fleet import fleet_for_county, load_fleet
from dispatch.plan import Plan, load_plan
from geodata.county import load_county

#: Targets on the 10,000-parcel day (issue 8).
MAX_WALL_S = 30.0
MAX_RSS_MB = 2048.0
MIN_VIA_SHARE = 0.8
MAX_COST_RATIO = 0.9


@dataclass(frozen=True)
class Run:
    """One demo run: what it cost, how long it took, what it did."""

    parcels: int
    seed: int
    mode: str
    chosen: str
    wall_s: float
    peak_rss_mb: float
    route_cost_yuan: float
    cost_yuan: float  # route cost plus penalties
    km: float
    vehicle_h: float
    routes_e1: int
    routes_e2: int
    via_share: float
    left_today: int
    deferred: int
    held: int
    yuan_per_parcel: float


def _tree_rss(proc: psutil.Process) -> int:
    """Resident bytes of a process and all its descendants (0 for those already gone)."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):  # it may have ended since it was listed
            total += p.memory_info().rss
    return total


def run_demo(
    parcels: int, mode: str, time_limit: float, seed: int, fleet: Path | None = None
) -> Run:
    """One demo run in a child process; wall time, peak tree RSS and the plan's figures."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        args = [
            sys.executable,
            "-c",
            "from api.cli import main; main()",
            "demo",
            "--out", str(out),
            "--parcels", str(parcels),
            "--seed", str(seed),
            "--mode", mode,
            "--time-limit", str(time_limit),
            "--date", "2026-11-30",
            *(["--fleet", str(fleet)] if fleet else []),
        ]  # fmt: skip
        started = time.perf_counter()
        child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        watched = psutil.Process(child.pid)
        peak = 0
        while child.poll() is None:
            peak = max(peak, _tree_rss(watched))
            time.sleep(0.05)
        wall = time.perf_counter() - started
        _, err = child.communicate()
        if child.returncode != 0:
            raise RuntimeError(f"demo failed ({child.returncode}):\n{err[-3000:]}")
        plan = load_plan(out / "plan.json")
    return _figures(plan, parcels, seed, mode, wall, peak / 2**20, fleet)


def _figures(
    plan: Plan,
    parcels: int,
    seed: int,
    mode: str,
    wall: float,
    rss_mb: float,
    fleet_file: Path | None,
) -> Run:
    k = plan.kpis
    settings = load_fleet(fleet_file).settings
    penalties = settings.drop_penalty_fen * k.left_today + settings.defer_penalty_fen * (
        k.deferred + k.held
    )
    return Run(
        parcels=parcels,
        seed=seed,
        mode=mode,
        chosen=plan.mode,
        wall_s=round(wall, 1),
        peak_rss_mb=round(rss_mb),
        route_cost_yuan=round(k.cost_fen / 100, 2),
        cost_yuan=round((k.cost_fen + penalties) / 100, 2),
        km=round(k.distance_m / 1000, 1),
        vehicle_h=k.vehicle_hours,
        routes_e1=k.echelon_1.routes,
        routes_e2=k.echelon_2.routes,
        via_share=round(via_share(plan, fleet_file), 4),
        left_today=k.left_today,
        deferred=k.deferred,
        held=k.held,
        yuan_per_parcel=round(k.cost_per_parcel_fen / 100, 3),
    )


def via_share(plan: Plan, fleet_file: Path | None) -> float:
    """Share of the parcels delivered to villages of towns whose station has working vehicles
    that an echelon-2 route dropped."""
    county = load_county()
    town = {p.point_id: p.town_id for p in county.points}
    kind = {p.point_id: p.kind for p in county.points}
    staffed = {v.depot for v in fleet_for_county(county, fleet_file).vehicles}
    staffed = {v.depot for v in plan.vehicles if v.available} & staffed
    via = total = 0
    for r in plan.routes:
        for s in r.stops[1:]:
            point = s.point_id
            if kind[point] == "village" and town[point] in staffed:
                total += len(s.drop)
                via += len(s.drop) if r.echelon == 2 else 0
    return via / total if total else 1.0


def targets(runs: list[Run]) -> list[tuple[str, str, str]]:
    """(case, target, measured and met?) for every (parcels, seed) with auto and direct runs."""
    rows: list[tuple[str, str, str]] = []
    by = {(r.parcels, r.seed, r.mode): r for r in runs}
    for (n, seed, mode), auto in sorted(by.items()):
        if mode != "auto":
            continue
        case = f"{n:,} parcels, seed {seed}"
        direct = by.get((n, seed, "direct"))
        checks: list[tuple[str, str, bool]] = []
        if direct is not None:
            ratio = auto.cost_yuan / direct.cost_yuan
            checks.append(
                (f"cost <= {MAX_COST_RATIO} x direct", f"{ratio:.3f}", ratio <= MAX_COST_RATIO)
            )
        checks += [
            ("nothing due today left behind", str(auto.left_today), auto.left_today == 0),
            (
                f"via stations >= {MIN_VIA_SHARE:.0%}",
                f"{auto.via_share:.1%}",
                auto.via_share >= MIN_VIA_SHARE,
            ),
            (f"wall <= {MAX_WALL_S:.0f} s", str(auto.wall_s), auto.wall_s <= MAX_WALL_S),
            (
                f"peak RSS <= {MAX_RSS_MB:.0f} MB",
                f"{auto.peak_rss_mb:.0f}",
                auto.peak_rss_mb <= MAX_RSS_MB,
            ),
        ]
        rows += [(case, target, f"{value} {_ok(met)}") for target, value, met in checks]
    return rows


def _ok(met: bool) -> str:
    return "met" if met else "MISSED"


def _console(tables: list[Table]) -> Console:
    """The terminal's console, or when piped (`| tee`) one as wide as the widest table
    (characters), where rich would squash the columns into 80."""
    if sys.stdout.isatty():
        return Console()
    wide = Console(width=1000)
    return Console(width=max(Measurement.get(wide, wide.options, t).maximum for t in tables))


def main(argv: list[str] | None = None) -> None:
    """Run the demo for each (parcels, seed, mode) and print the results and targets."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--parcels", type=int, nargs="+", default=[10_000])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--modes", nargs="+", default=["auto", "direct"])
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--csv", type=Path)
    ap.add_argument("--fleet", type=Path, help="fleet TOML (what-if); default: the packaged one")
    args = ap.parse_args(argv)
    runs = [
        run_demo(n, m, args.time_limit, seed, args.fleet)
        for n in args.parcels
        for seed in args.seeds
        for m in args.modes
    ]
    table = Table(title="ruraldispatch demo, end to end")
    for col in asdict(runs[0]):
        table.add_column(col, justify="right")
    for r in runs:
        table.add_row(*(str(v) for v in asdict(r).values()))
    tables = [table]
    checks = targets(runs)
    if checks:
        t = Table(title="targets")
        for col in ("case", "target", "measured"):
            t.add_column(col)
        for row in checks:
            t.add_row(*row)
        tables.append(t)
    console = _console(tables)
    for t in tables:
        console.print(t)
    if args.csv:
        with args.csv.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(asdict(runs[0])))
            w.writeheader()
            w.writerows(asdict(r) for r in runs)


if __name__ == "__main__":
    main()
