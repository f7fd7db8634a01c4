"""Road-closure benchmark: applying a closure (closing the roads, the travel matrices of every
vehicle profile recomputed around it) against recomputing the matrices from scratch, and
re-planning a day after a `road_closed` event. Times are CPU seconds of this process (the
work is single-threaded; CPU time is what other jobs on a shared machine do not inflate),
with wall seconds for the re-plan.

python -m benchmarks.closures [--network FILE] [--repeat 5] [--parcels 2000] [--time-limit 10]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from dispatch import service
from dispatch.demo import generate_day
from dispatch.workspace import Workspace, profile_of
from geodata.closures import Closure, parse_closures
from geodata.matrix import (
    TravelProfile,
    affected,
    clear_memory_cache,
    full_matrix,
    travel_matrix,
)

DAY = dt.date(2026, 11, 28)


def scenarios(ws: Workspace) -> dict[str, list[Closure]]:
    """A hill road between a station and its first village, a landslide 300 m around that
    village, and a flood 3 km around a station (cuts its town off)."""
    station = next(p for p in ws.points if p.kind == "station")
    village = next(p for p in ws.points if p.kind == "village" and p.town_id == station.point_id)
    records: dict[str, dict[str, Any]] = {
        "road station-village": {"from": station.point_id, "to": village.point_id},
        "landslide 300 m": {"near": village.point_id, "radius_m": 300},
        "flood 3 km": {"near": station.point_id, "radius_m": 3000},
    }
    return {name: parse_closures([rec], "benchmark") for name, rec in records.items()}


def profiles(ws: Workspace) -> list[TravelProfile]:
    """The distinct travel profiles of the fleet's vehicle types."""
    return list(dict.fromkeys(profile_of(t) for t in ws.fleet.types.values()))


def apply_once(ws: Workspace, closures: list[Closure]) -> tuple[float, Workspace]:
    """Seconds to close the roads and recompute every profile's matrix around them (the open
    matrices already in memory, as in a running service; the roads' geometry is indexed at
    the first closure of a process, so the first is slower)."""
    ws.open._with.clear()
    clear_memory_cache()
    for prof in profiles(ws):
        travel_matrix(ws.network, prof)  # the open matrices, as a running service has them
    started = time.process_time()
    closed = ws.with_closures(closures)
    for prof in profiles(ws):
        travel_matrix(closed.network, prof)
    return time.process_time() - started, closed


def main(argv: list[str] | None = None) -> None:
    """Time closures on the default county, then a re-plan after a road closes."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--network", type=Path)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--parcels", type=int, default=2000)
    ap.add_argument("--time-limit", type=float, default=10.0)
    args = ap.parse_args(argv)
    os.environ["RURALDISPATCH_CACHE"] = ""  # no disk cache: measure the computation
    ws = Workspace.default(args.network)
    g = ws.network.graph
    table = Table(
        title=f"Closures on {ws.network_source} ({len(ws.points)} points, "
        f"{g.number_of_nodes():,} nodes, {g.number_of_edges():,} edges, "
        f"{len(profiles(ws))} profiles)"
    )
    for col in (
        "closure",
        "edges",
        "cut off",
        "rows+cols",
        "first CPU s",
        "next CPU s (median)",
        "from scratch CPU s",
    ):
        table.add_column(col, justify="right")
    for name, closures in scenarios(ws).items():
        times: list[float] = []
        closed = ws
        for _ in range(args.repeat):
            took, closed = apply_once(ws, closures)
            times.append(took)
        scratch: list[float] = []
        for _ in range(args.repeat):
            started = time.process_time()
            for prof in profiles(ws):
                full_matrix(closed.network, prof)
            scratch.append(time.process_time() - started)
        todo = affected(closed.network, profiles(ws)[0])
        table.add_row(
            name,
            f"{len(closed.network.closed)}",
            f"{len(closed.cut_off())}",
            f"{len(todo.rows)}+{len(todo.columns)} of {len(ws.points)}",
            f"{times[0]:.3f}",
            f"{statistics.median(times[1:] or times):.3f}",
            f"{statistics.median(scratch):.3f}",
        )
    Console().print(table)

    parcels = generate_day(ws.county, n_parcels=args.parcels, seed=1, date=DAY)
    plan = service.plan_day(ws, parcels, date=DAY, time_limit_s=args.time_limit, mode="via_station")
    station = next(p for p in ws.points if p.kind == "station")
    event = {
        "type": "road_closed",
        "near": station.point_id,
        "radius_m": 3000,
        "label": "flood",
        "time_s": 10 * 3600,
    }
    ws.open._with.clear()  # no closed roads or matrices left from the table above
    clear_memory_cache()
    for prof in profiles(ws):
        travel_matrix(ws.network, prof)
    started, cpu = time.perf_counter(), time.process_time()
    new = service.replan(ws, plan, parcels, [event], time_limit_s=args.time_limit / 2)
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    k = new.kpis.closures
    assert k is not None
    Console().print(
        f"Re-plan of a {args.parcels}-parcel day after a road_closed event at 10:00 "
        f"(flood 3 km around {station.point_id}, {len(k.cut_off)} points cut off, "
        f"time limit {args.time_limit / 2:.1f} s): {took:.2f} s wall ({cpu:.2f} s CPU), "
        f"closures applied in {k.apply_s:.3f} s wall; "
        f"{sum(1 for u in new.unassigned if u.code == 'road_closed')} parcels road_closed"
    )


if __name__ == "__main__":
    main()
