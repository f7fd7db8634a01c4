"""Two-echelon CVRP benchmark on the unified-format instances (Breunig et al. 2016).

    python -m benchmarks.two_echelon ../shared/benchdata/2e-cvrp --sets 2a 2b 3 \\
        --time-limit 10 --out 2e.csv

For each instance in DIR/instances: our two-echelon cost (`optimizer.two_echelon.solve_2e`,
checked by `validate_2e`), the single-echelon baseline (the city freighters serving every
customer straight from the depot, `solve_single_echelon`), their ratio, and the best known
solution (BKS) from DIR/bks.csv where it has one, with our gap to it. Costs are in instance
units (Euclidean, double precision); gaps in percent. Medians per set follow the table.
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from optimizer.two_echelon import read_2e, solve_2e, solve_single_echelon, validate_2e

#: Set names on the command line → file-name prefixes (Set 6a files are named `Set6_*`).
SET_PREFIXES = {
    "2a": "Set2a_",
    "2b": "Set2b_",
    "2c": "Set2c_",
    "3": "Set3_",
    "4a": "Set4a_",
    "4b": "Set4b_",
    "5": "Set5_",
    "6a": "Set6_",
    "6b": "Set6b_",
}


@dataclass
class Row:
    """One instance's results (costs in instance units, gap in percent above BKS)."""

    instance: str
    set: str
    n: int
    satellites: int
    cost: float | None
    valid: bool
    baseline: float | None
    ratio: float | None
    bks: float | None
    gap: float | None
    time_s: float
    notes: str = ""


def load_bks(path: Path) -> dict[str, float]:
    """instance → BKS cost, for the rows of a bks.csv that have one."""
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        return {
            r["instance"]: float(r["bks_cost"]) for r in csv.DictReader(handle) if r["bks_cost"]
        }


def instance_files(folder: Path, sets: list[str], limit: int | None) -> list[tuple[str, Path]]:
    """(set, file) for the chosen sets, in set order then by name; at most `limit` per set."""
    chosen = []
    for name in sets:
        files = sorted(folder.glob(f"{SET_PREFIXES[name]}*.dat"))
        chosen += [(name, f) for f in files[:limit]]
    return chosen


def run(set_name: str, path: Path, limit_s: float, baseline_s: float, bks: dict[str, float]) -> Row:
    """Solve one instance both ways and validate the two-echelon solution."""
    inst = read_2e(path)
    solution = solve_2e(inst, limit_s)
    faults = validate_2e(inst, solution)
    baseline = solve_single_echelon(inst, baseline_s) if baseline_s > 0 else math.inf
    cost = solution.cost if not faults else None
    best = bks.get(path.stem)
    return Row(
        instance=path.stem,
        set=set_name,
        n=len(inst.customers),
        satellites=len(inst.satellites),
        cost=cost,
        valid=not faults,
        baseline=baseline if math.isfinite(baseline) else None,
        ratio=cost / baseline if cost is not None and math.isfinite(baseline) else None,
        bks=best,
        gap=100.0 * (cost - best) / best if cost is not None and best else None,
        time_s=solution.stats.get("time_s", 0.0),
        notes="; ".join(faults[:3]),
    )


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def render(rows: list[Row]) -> Table:
    """A rich table of the rows."""
    table = Table(title="2E-CVRP (cost in instance units; ratio = ours / single-echelon)")
    for name in ("instance", "n", "sats", "ours", "valid", "1-echelon", "ratio", "BKS", "gap %"):
        table.add_column(name, justify="left" if name == "instance" else "right")
    for r in rows:
        table.add_row(
            r.instance,
            str(r.n),
            str(r.satellites),
            _fmt(r.cost),
            "yes" if r.valid else "NO",
            _fmt(r.baseline),
            _fmt(r.ratio, 3),
            _fmt(r.bks),
            _fmt(r.gap),
        )
    return table


def summary(rows: list[Row]) -> Table:
    """Per set: instances, valid, median ratio, median gap where a BKS exists."""
    table = Table(title="medians per set")
    for name in ("set", "instances", "valid", "median ratio", "median gap %", "with BKS"):
        table.add_column(name, justify="right")
    for name in dict.fromkeys(r.set for r in rows):
        subset = [r for r in rows if r.set == name]
        ratios = [r.ratio for r in subset if r.ratio is not None]
        gaps = [r.gap for r in subset if r.gap is not None]
        table.add_row(
            name,
            str(len(subset)),
            str(sum(r.valid for r in subset)),
            _fmt(statistics.median(ratios) if ratios else None, 3),
            _fmt(statistics.median(gaps) if gaps else None),
            str(len(gaps)),
        )
    return table


def write_csv(rows: list[Row], out: Path) -> None:
    """One line per instance with every field."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(asdict(rows[0]).keys()))
        writer.writeheader()
        writer.writerows(asdict(r) for r in rows)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the instances, print the tables, write the CSV; exit status."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.two_echelon", description=__doc__)
    parser.add_argument("folder", type=Path, help="2e-cvrp folder (instances/ and bks.csv)")
    parser.add_argument("--sets", nargs="+", choices=list(SET_PREFIXES), default=["2a"])
    parser.add_argument("--time-limit", type=float, default=10.0, help="s per 2E solve")
    parser.add_argument(
        "--baseline-time", type=float, help="s per single-echelon solve (default: --time-limit)"
    )
    parser.add_argument("--limit", type=int, help="at most N instances per set")
    parser.add_argument("--out", type=Path, help="write results CSV")
    args = parser.parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 160)
    folder: Path = args.folder
    instances = folder / "instances" if (folder / "instances").is_dir() else folder
    bks = load_bks(folder / "bks.csv")
    baseline_s = args.time_limit if args.baseline_time is None else args.baseline_time
    rows = []
    for set_name, path in instance_files(instances, args.sets, args.limit):
        row = run(set_name, path, args.time_limit, baseline_s, bks)
        console.print(
            f"{row.instance}: ours {_fmt(row.cost)} 1-echelon {_fmt(row.baseline)} "
            f"ratio {_fmt(row.ratio, 3)} gap {_fmt(row.gap)}"
            + (f" [{row.notes}]" if row.notes else ""),
            markup=False,
        )
        rows.append(row)
    if not rows:
        console.print(f"no instances of sets {args.sets} in {instances}")
        return 1
    console.print(render(rows))
    console.print(summary(rows))
    if args.out is not None:
        write_csv(rows, args.out)
        console.print(f"wrote {args.out}")
    return 0 if all(r.valid for r in rows) else 2


if __name__ == "__main__":
    sys.exit(main())
