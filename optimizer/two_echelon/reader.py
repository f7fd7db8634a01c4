"""Reader of the unified 2E-CVRP file format (Breunig, Schmid, Hartl & Vidal 2016)."""

from __future__ import annotations

import math
from pathlib import Path

from optimizer.two_echelon.model import Point, TwoEchelonInstance

_SECTIONS = ("trucks", "city freighters", "stores", "customers")


def read_2e(path: Path) -> TwoEchelonInstance:
    """Read a unified-format file (comment lines start with '!'; CRLF accepted).

    Data lines, in order: trucks `count,capacity,cost/dist,fixed`; city freighters
    `max per satellite,total,capacity,cost/dist,fixed`; stores `x,y` of the depot then
    `x,y[,handling]` per satellite; customers `x,y,demand`, whitespace-separated.
    Raises ValueError naming the file and line of the first problem found.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read: {exc}") from exc
    rows = [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("!")
    ]
    if len(rows) < len(_SECTIONS):
        raise ValueError(
            f"{path}: no {_SECTIONS[len(rows)]} line (expected {len(_SECTIONS)} data lines: "
            + ", ".join(_SECTIONS)
            + ")"
        )
    if len(rows) > len(_SECTIONS):
        raise ValueError(f"{path}: line {rows[4][0]}: unexpected data after the customers line")
    where = [f"{path}: line {number}" for number, _ in rows]
    truck = _values(where[0], "".join(rows[0][1].split()), "ppnn", "trucks")
    cf = _values(where[1], "".join(rows[1][1].split()), "pppnn", "city freighters")

    stores = rows[2][1].split()
    if len(stores) < 2:
        raise ValueError(f"{where[2]}: stores need the depot and at least one satellite")
    depot = _values(where[2], stores[0], "cc", "depot")
    satellites: list[Point] = []
    handling: list[float] = []
    for k, token in enumerate(stores[1:], start=1):
        kinds = "ccn" if token.count(",") == 2 else "cc"
        values = _values(where[2], token, kinds, f"satellite {k}")
        satellites.append((values[0], values[1]))
        handling.append(values[2] if len(values) == 3 else 0.0)

    capacity = int(cf[2])
    customers: list[Point] = []
    demand: list[int] = []
    for k, token in enumerate(rows[3][1].split(), start=1):
        x, y, amount = _values(where[3], token, "cci", f"customer {k}")
        if amount > capacity:
            raise ValueError(
                f"{where[3]}: customer {k}: demand {int(amount)} exceeds the city freighter "
                f"capacity {capacity} (customers are not split)"
            )
        customers.append((x, y))
        demand.append(int(amount))
    return TwoEchelonInstance(
        name=path.stem,
        depot=(depot[0], depot[1]),
        satellites=satellites,
        customers=customers,
        demand=demand,
        truck_count=int(truck[0]),
        truck_capacity=int(truck[1]),
        truck_cost_per_dist=truck[2],
        truck_fixed=truck[3],
        freighters_per_satellite=int(cf[0]),
        freighters_total=int(cf[1]),
        freighter_capacity=capacity,
        freighter_cost_per_dist=cf[3],
        freighter_fixed=cf[4],
        satellite_handling=handling,
    )


def _values(where: str, token: str, kinds: str, what: str) -> list[float]:
    """Comma-separated numbers of `token`; kinds per value: c any, n >= 0, i whole >= 0,
    p whole >= 1."""
    parts = token.split(",")
    if len(parts) != len(kinds):
        raise ValueError(
            f"{where}: {what}: expected {len(kinds)} comma-separated values, got {token!r}"
        )
    values = []
    for part, kind in zip(parts, kinds, strict=True):
        try:
            value = float(part)
        except ValueError:
            raise ValueError(f"{where}: {what}: {part!r} is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"{where}: {what}: {part!r} is not finite")
        if kind in "ip" and not value.is_integer():
            raise ValueError(f"{where}: {what}: {part!r} is not a whole number")
        if (kind in "ni" and value < 0) or (kind == "p" and value < 1):
            bound = "at least 1" if kind == "p" else "non-negative"
            raise ValueError(f"{where}: {what}: {part!r} must be {bound}")
        values.append(value)
    return values
