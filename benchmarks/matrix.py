"""Travel-matrix benchmark: all service points, each vehicle profile, uncached.

python -m benchmarks.matrix [--network FILE] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from dispatch.workspace import Workspace, profile_of
from geodata.matrix import clear_memory_cache, travel_matrix


def main(argv: list[str] | None = None) -> None:
    """Time travel_matrix for every distinct vehicle profile of the default fleet."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--network", type=Path)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    os.environ["RURALDISPATCH_CACHE"] = ""  # no disk cache: measure the computation
    ws = Workspace.default(args.network)
    g = ws.network.graph
    table = Table(
        title=f"Matrix for {len(ws.points)} points on {ws.network_source} "
        f"({g.number_of_nodes():,} nodes, {g.number_of_edges():,} edges)"
    )
    for col in ("profile", "median s", "max s", "mean km", "mean min"):
        table.add_column(col, justify="right")
    seen = set()
    for vt in ws.fleet.types.values():
        prof = profile_of(vt)
        if prof in seen:
            continue
        seen.add(prof)
        times = []
        for _ in range(args.repeat):
            clear_memory_cache()
            started = time.perf_counter()
            m = travel_matrix(ws.network, prof)
            times.append(time.perf_counter() - started)
        table.add_row(
            f"{vt.name} (x{prof.speed_factor}, cap {prof.max_speed_kph})",
            f"{statistics.median(times):.3f}",
            f"{max(times):.3f}",
            f"{m.distance_m.mean() / 1000:.1f}",
            f"{m.duration_s.mean() / 60:.1f}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
