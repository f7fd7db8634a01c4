"""Deterministic synthetic positions for villages and communities, which have no public coordinates.

Each village is placed near its town seat, inside the district and inside its town's Voronoi cell
among the town seats (so it is nearest its own town's region). Communities (社区) sit close to the
seat (urban, 0.5-3 km); villages (村) further out (2-9 km, scaled by the cell's size). Randomness
comes only from a generator seeded with the village's own id (a numeric id such as a 12-digit NBS
code is its own seed, any other id seeds with the first 8 bytes of its SHA-256).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Point
from shapely.geometry.base import BaseGeometry

_EDGE_MARGIN_M = 150.0  # keep villages this far inside their cell and the district
_MIN_SPACING_M = 300.0  # keep villages this far from the seat and from each other
_TRIES_NEAR = 40  # polar draws around the seat before falling back to uniform draws in the cell
_TRIES_UNIFORM = 2000


@dataclass(frozen=True)
class VillageSeed:
    """What placement needs to know about one village: its id, its town's id and its type."""

    code12: str
    town_code9: str
    community: bool


def town_cells(
    seats_xy: Sequence[tuple[float, float]], boundary_utm: BaseGeometry
) -> list[BaseGeometry]:
    """Voronoi cell of each town seat (projected metres, same order), clipped to the district."""
    extent = boundary_utm.envelope.buffer(50_000.0)
    cells = shapely.voronoi_polygons(MultiPoint(list(seats_xy)), extend_to=extent, ordered=True)
    return [cell.intersection(boundary_utm) for cell in cells.geoms]


def _ranges(community: bool, cell_radius_m: float) -> tuple[float, float]:
    """Distance range (m) from the seat for a community or a village in a cell of that size."""
    if community:
        return 500.0, max(800.0, min(3000.0, 0.45 * cell_radius_m))
    low = float(np.clip(0.35 * cell_radius_m, 2000.0, 5000.0))
    return low, float(np.clip(1.1 * cell_radius_m, low + 1000.0, 9000.0))


def place_villages(
    seeds: Sequence[VillageSeed],
    seats_xy: dict[str, tuple[float, float]],
    boundary_utm: BaseGeometry,
) -> dict[str, tuple[float, float]]:
    """Projected position (m) for every village code, deterministic given the inputs."""
    codes = list(seats_xy)
    cells = dict(zip(codes, town_cells([seats_xy[c] for c in codes], boundary_utm), strict=True))
    placed: dict[str, tuple[float, float]] = {}
    for town in codes:
        members = [s for s in seeds if s.town_code9 == town]
        taken = [seats_xy[town]]
        for group in (True, False):
            ring = [s for s in members if s.community is group]
            for i, seed in enumerate(ring):
                xy = _place_one(seed, i, len(ring), seats_xy[town], cells[town], taken)
                placed[seed.code12] = xy
                taken.append(xy)
    return placed


def _seed_number(text: str) -> int:
    """A stable non-negative integer for an id: the id itself when it is all digits."""
    if text.isascii() and text.isdigit():
        return int(text)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def _place_one(
    seed: VillageSeed,
    rank: int,
    ring_size: int,
    seat: tuple[float, float],
    cell: BaseGeometry,
    taken: list[tuple[float, float]],
) -> tuple[float, float]:
    """One village: spread around the seat at a stratified angle, redrawn until it fits."""
    rng = np.random.default_rng(_seed_number(seed.code12))
    inner = cell.buffer(-_EDGE_MARGIN_M)
    if inner.is_empty:
        inner = cell
    shapely.prepare(inner)
    low, high = _ranges(seed.community, math.sqrt(cell.area / math.pi))
    rotation = (_seed_number(seed.town_code9) % 360) * math.pi / 180.0
    angle = rotation + 2.0 * math.pi * (rank + rng.uniform(-0.35, 0.35)) / max(ring_size, 1)
    radius = rng.uniform(low, high)

    def fits(x: float, y: float) -> bool:
        if not inner.contains(Point(x, y)):
            return False
        return all(math.hypot(x - tx, y - ty) >= _MIN_SPACING_M for tx, ty in taken)

    for attempt in range(_TRIES_NEAR):
        x, y = seat[0] + radius * math.cos(angle), seat[1] + radius * math.sin(angle)
        if fits(x, y):
            return x, y
        angle = rng.uniform(0.0, 2.0 * math.pi)
        radius = rng.uniform(low, high) * (0.97**attempt)
    minx, miny, maxx, maxy = inner.bounds
    for _ in range(_TRIES_UNIFORM):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if fits(x, y):
            return x, y
    point = inner.representative_point()
    return point.x, point.y
