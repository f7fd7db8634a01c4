"""Rural-clustered benchmark instances: a hub, towns, villages clustered around the towns.

Deterministic per seed. Each seed gives one CVRP file in VRPLIB format and one VRPTW file in
Solomon format on the same geography, so every solver reads the same file.

Units: one coordinate unit is 100 m (a county about 60 km across, 600 units); Solomon
travel time equals distance, so one time unit is the 10 s a van needs for 100 m at 36 km/h.
The day runs 07:00 (t = 0) to 19:00 (t = 4320). Demand is parcels; a van carries 300.

    python -m benchmarks.rural_instances OUT --seed 1 --seed 2
    → OUT/cvrp/rural-n270-s1.vrp, OUT/vrptw/RURAL-S1.txt, ...
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated

import numpy as np
import numpy.typing as npt
import typer

from optimizer.problem import Break, Problem, Vehicle

GRID = 600  #: county extent (units of 100 m)
CAPACITY = 300  #: parcels per van
FLEET = 25  #: vans in the Solomon file
DAY_END = 4320  #: 19:00 in 10 s units after 07:00
STATION_HOURS = (90, 3330)  #: town stations open 07:15-16:15
MORNING = (60, 1800)  #: 07:10-12:00
AFTERNOON = (1800, 3900)  #: 12:00-17:50
DAY_START_S = 7 * 3600  #: t = 0 is 07:00
#: The day problem's vans: 150 fen/km, 3000 fen/h, 50 yuan a day, 1 kg a parcel.
VAN = Vehicle(
    start=0,
    end=0,
    capacity_g=CAPACITY * 1000,
    capacity_ml=0,
    fixed_cost=5_000,
    cost_per_km=150,
    cost_per_hour=3_000,
    shift_start=DAY_START_S,
    shift_end=DAY_START_S + DAY_END * 10,
)
#: A driver's 30-minute lunch break starting between 11:30 and 13:00.
LUNCH = Break(11 * 3600 + 1800, 13 * 3600, 1800)


@dataclass
class RuralInstance:
    """Hub (row 0), towns, then villages: integer coordinates, demand, service, window."""

    name: str
    xy: npt.NDArray[np.int64]
    demand: npt.NDArray[np.int64]
    service: npt.NDArray[np.int64]
    windows: npt.NDArray[np.int64]
    towns: int


def _spread(
    rng: np.random.Generator, centre: np.ndarray, count: int, low: float, high: float, gap: float
) -> list[np.ndarray]:
    """`count` points in an annulus [low, high] around `centre`, at least `gap` apart."""
    points: list[np.ndarray] = []
    while len(points) < count:
        angle, radius = rng.uniform(0, 2 * math.pi), math.sqrt(rng.uniform(low**2, high**2))
        p = centre + radius * np.array([math.cos(angle), math.sin(angle)])
        if np.all((p >= 0) & (p <= GRID)) and all(np.hypot(*(p - q)) >= gap for q in points):
            points.append(p)
    return points


def generate(seed: int, towns: int = 20, villages: int = 250) -> RuralInstance:
    """One rural instance: deterministic for (seed, towns, villages)."""
    rng = np.random.default_rng(seed)
    hub = np.array([GRID / 2, GRID / 2]) + rng.normal(0, 20, size=2)
    town_xy = _spread(rng, hub, towns, 40, 270, 60)
    weights = rng.lognormal(0, 0.5, size=towns)
    per_town = rng.multinomial(villages, weights / weights.sum())
    village_xy: list[np.ndarray] = []
    taken = {tuple(np.rint(p).astype(int)) for p in [hub, *town_xy]}
    for town, count in zip(town_xy, per_town, strict=True):
        placed = 0
        while placed < count:
            p = np.clip(town + rng.normal(0, 25, size=2), 0, GRID)
            key = tuple(np.rint(p).astype(int))
            if key not in taken:
                taken.add(key)
                village_xy.append(p)
                placed += 1
    xy = np.rint(np.array([hub, *town_xy, *village_xy])).astype(np.int64)
    n = len(xy)

    demand = np.zeros(n, dtype=np.int64)
    demand[1 : towns + 1] = rng.integers(40, 121, size=towns)
    demand[towns + 1 :] = np.clip(np.rint(rng.lognormal(2.3, 0.6, size=villages)), 2, 60)
    service = np.zeros(n, dtype=np.int64)
    service[1 : towns + 1] = 90  # 15 min hand-over at a station
    service[towns + 1 :] = 12 + demand[towns + 1 :]  # 2 min + 10 s per parcel

    back = np.ceil(np.hypot(*(xy - xy[0]).T)).astype(np.int64)
    windows = np.tile(np.array([0, DAY_END], dtype=np.int64), (n, 1))
    windows[1 : towns + 1] = STATION_HOURS
    choice = rng.random(villages)
    for k in range(villages):
        if choice[k] < 0.2:
            windows[towns + 1 + k] = MORNING
        elif choice[k] < 0.4:
            windows[towns + 1 + k] = AFTERNOON
    for i in range(1, n):  # reachable from the hub and back before the day ends
        latest = DAY_END - service[i] - back[i]
        windows[i, 1] = min(windows[i, 1], latest)
        windows[i, 0] = min(max(windows[i, 0], 0), windows[i, 1])
        windows[i, 1] = max(windows[i, 1], back[i])
    return RuralInstance(f"rural-n{n - 1}-s{seed}", xy, demand, service, windows, towns)


def day_problem(inst: RuralInstance, lunch: bool = True) -> Problem:
    """The VRPTW as the day planner's kind of Problem: metres, seconds since midnight, grams,
    vans with a fixed, per-km and hourly cost and (with `lunch`) a lunch break each."""
    exact = np.hypot(*(inst.xy[:, None, :] - inst.xy[None, :, :]).transpose(2, 0, 1))
    return Problem.build(
        [np.rint(exact * 100).astype(np.int64)],
        [replace(VAN, lunch=LUNCH if lunch else None)] * FLEET,
        durations=[np.ceil(exact * 10 - 1e-9).astype(np.int64)],
        delivery=inst.demand * 1000,
        time_windows=inst.windows * 10 + DAY_START_S,
        service=inst.service * 10,
    )


def vrplib_text(inst: RuralInstance) -> str:
    """The CVRP as a VRPLIB file (EUC_2D, depot 1)."""
    n = len(inst.xy)
    lines = [
        f"NAME : {inst.name}",
        f"COMMENT : ruraldispatch rural-clustered CVRP, 1 hub, {inst.towns} towns",
        "TYPE : CVRP",
        f"DIMENSION : {n}",
        "EDGE_WEIGHT_TYPE : EUC_2D",
        f"CAPACITY : {CAPACITY}",
        "NODE_COORD_SECTION",
        *(f"{i + 1} {x} {y}" for i, (x, y) in enumerate(inst.xy)),
        "DEMAND_SECTION",
        *(f"{i + 1} {d}" for i, d in enumerate(inst.demand)),
        "DEPOT_SECTION",
        "1",
        "-1",
        "EOF",
    ]
    return "\n".join(lines) + "\n"


def solomon_text(inst: RuralInstance) -> str:
    """The VRPTW as a Solomon file (25 vans; times in 10 s units from 07:00)."""
    header = [
        inst.name.upper().replace("RURAL-", "RURAL-TW-"),
        "",
        "VEHICLE",
        "NUMBER     CAPACITY",
        f"  {FLEET}         {CAPACITY}",
        "",
        "CUSTOMER",
        "CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME",
        "",
    ]
    rows = [
        f"{i:5d} {x:9d} {y:9d} {d:9d} {lo:11d} {hi:10d} {s:9d}"
        for i, ((x, y), d, (lo, hi), s) in enumerate(
            zip(inst.xy, inst.demand, inst.windows, inst.service, strict=True)
        )
    ]
    return "\n".join(header + rows) + "\n"


def write(inst: RuralInstance, out: Path) -> tuple[Path, Path]:
    """Write OUT/cvrp/NAME.vrp and OUT/vrptw/NAME.txt; returns both paths."""
    cvrp = out / "cvrp" / f"{inst.name}.vrp"
    vrptw = out / "vrptw" / f"{inst.name.upper()}.txt"
    for path, text in ((cvrp, vrplib_text(inst)), (vrptw, solomon_text(inst))):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="ascii")
    return cvrp, vrptw


def main(
    out: Annotated[Path, typer.Argument(help="output folder")],
    seed: Annotated[list[int] | None, typer.Option(help="seeds (repeatable)")] = None,
    towns: int = 20,
    villages: int = 250,
) -> None:
    """Write rural-clustered CVRP (VRPLIB) and VRPTW (Solomon) instances."""
    for s in seed or [1, 2, 3]:
        for path in write(generate(s, towns, villages), out):
            typer.echo(path)


if __name__ == "__main__":
    typer.run(main)
