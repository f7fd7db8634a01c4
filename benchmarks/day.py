"""Whole-day benchmark: `ruraldispatch demo` end to end, wall time, peak RSS, plan KPIs.

    python -m benchmarks.day --parcels 10000 --modes auto direct [--time-limit 30] [--fleet F]

Each run is a separate `ruraldispatch demo` process (cold start included), so wall time and
peak RSS are what a dispatcher's machine sees. Prints a table and writes CSV with --csv.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


def run_demo(
    parcels: int, mode: str, time_limit: float, seed: int, fleet: Path | None = None
) -> dict[str, Any]:
    """One demo run in a child process; returns wall s, peak RSS MB and the plan's KPIs."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.perf_counter()
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                "from api.cli import main; main()",
                "demo",
                "--out",
                str(out),
                "--parcels",
                str(parcels),
                "--seed",
                str(seed),
                "--mode",
                mode,
                "--time-limit",
                str(time_limit),
                *(["--fleet", str(fleet)] if fleet else []),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if proc.returncode != 0:
            raise RuntimeError(f"demo failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    k = plan["kpis"]
    return {
        "parcels": parcels,
        "mode": mode,
        "wall_s": round(wall, 1),
        "peak_rss_mb": round(max(rss, before) / 1024),
        "status": plan["status"],
        "cost_yuan": round(k["cost_fen"] / 100, 2),
        "km": round(k["distance_m"] / 1000, 1),
        "vehicle_h": k["vehicle_hours"],
        "cost_per_parcel_yuan": round(k["cost_per_parcel_fen"] / 100, 3),
        "routes_e1": k["echelon_1"]["routes"],
        "routes_e2": k["echelon_2"]["routes"],
        "vehicles": k["vehicles_used"],
        "unassigned": k["unassigned"],
        "deferred": k["deferred"],
    }


def main(argv: list[str] | None = None) -> None:
    """Run the demo for each (parcels, mode) and print the results."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--parcels", type=int, nargs="+", default=[10_000])
    ap.add_argument("--modes", nargs="+", default=["auto", "direct"])
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--csv", type=Path)
    ap.add_argument("--fleet", type=Path, help="fleet TOML (what-if); default: the packaged one")
    args = ap.parse_args(argv)
    rows = [
        run_demo(n, m, args.time_limit, args.seed, args.fleet)
        for n in args.parcels
        for m in args.modes
    ]
    table = Table(title="ruraldispatch demo, end to end")
    for col in rows[0]:
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(*(str(v) for v in r.values()))
    Console().print(table)
    if args.csv:
        with args.csv.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)


if __name__ == "__main__":
    main()
