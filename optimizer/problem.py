"""Integer vehicle-routing problem and solution: the optimizer's whole vocabulary.

Units: metres, seconds, grams, millilitres, fen. Locations are indices 0..n-1 into the
matrices; any location that is a vehicle's start or end is a depot and is never visited as a
customer. The optimizer knows nothing of parcels, carriers or towns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]

#: Sentinel penalty meaning "this node must be served".
MANDATORY = -1
#: The default planning horizon (s): one day from midnight.
DAY_S = 86_400


@dataclass(frozen=True)
class Break:
    """A driver break of `duration` seconds starting within [earliest, latest] (s)."""

    earliest: int
    latest: int
    duration: int


@dataclass(frozen=True)
class Vehicle:
    """One vehicle (or one trip of a multi-trip vehicle).

    Capacities in grams and millilitres; costs in fen (per km of distance, per hour of route
    span from start to end); shift window and maximum span in seconds since midnight;
    `max_distance` is the longest route in metres (a charge or a tank), None for no limit.
    Trips of one physical vehicle share a `group` id and are chained in list order: trip k+1
    starts no earlier than trip k ends plus `reload_s`.
    """

    start: int
    end: int
    capacity_g: int
    capacity_ml: int
    profile: int = 0
    fixed_cost: int = 0
    cost_per_km: int = 1000
    cost_per_hour: int = 0
    shift_start: int = 0
    shift_end: int = 86_400
    max_duration: int | None = None
    max_distance: int | None = None
    lunch: Break | None = None
    group: int | None = None
    reload_s: int = 0


@dataclass
class Problem:
    """A vehicle-routing problem on integer matrices.

    `distances[p]` / `durations[p]`: (n, n) int64 matrices of travel profile p (m, s).
    `delivery[i]`: (grams, ml) loaded at the vehicle's start and dropped at i.
    `pickup[i]`: (grams, ml) collected at i and carried to the vehicle's end.
    `pairs`: (p, d) shipments: picked at p (amount `pickup[p]`), dropped at d (amount
    `delivery[d]`) by the same vehicle, p before d; those amounts do not touch the depot load.
    `time_windows[i]`: (open, close) for the start of service at i (s).
    `service[i]`: service time at i (s).
    `allowed[i]`: vehicle indices that may serve i, or None for all.
    `penalty[i]`: cost (fen) of leaving i unserved, or MANDATORY.
    """

    distances: list[IntArray]
    durations: list[IntArray]
    delivery: IntArray
    pickup: IntArray
    time_windows: IntArray
    service: IntArray
    vehicles: list[Vehicle]
    penalty: IntArray
    allowed: list[frozenset[int] | None] = field(default_factory=list)
    pairs: list[tuple[int, int]] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        distances: Sequence[npt.ArrayLike],
        vehicles: Sequence[Vehicle],
        *,
        durations: Sequence[npt.ArrayLike] | None = None,
        delivery: npt.ArrayLike | None = None,
        pickup: npt.ArrayLike | None = None,
        time_windows: npt.ArrayLike | None = None,
        horizon_s: int = DAY_S,
        service: npt.ArrayLike | None = None,
        penalty: int | npt.ArrayLike = MANDATORY,
        allowed: Sequence[frozenset[int] | None] | None = None,
        pairs: Sequence[tuple[int, int]] = (),
    ) -> Problem:
        """The one way to make a Problem: int64 arrays, sizes taken from `distances[0]`.

        Omitted parts default to nothing: zero travel times, no delivery or pickup, service
        0 s, every window [0, `horizon_s`]. `delivery` and `pickup` are (n, 2) (grams, ml)
        or (n,) grams; `penalty` is one value for every node (default MANDATORY) or (n,).
        """
        matrices = [_ints(m) for m in distances]
        n = int(matrices[0].shape[0]) if matrices else 0
        zeros = np.zeros(n, dtype=np.int64)
        return cls(
            distances=matrices,
            durations=(
                [np.zeros_like(m) for m in matrices]
                if durations is None
                else [_ints(m) for m in durations]
            ),
            delivery=_amounts(delivery, zeros),
            pickup=_amounts(pickup, zeros),
            time_windows=(
                np.tile(np.array([0, horizon_s], dtype=np.int64), (n, 1))
                if time_windows is None
                else _ints(time_windows)
            ),
            service=zeros.copy() if service is None else _ints(service),
            vehicles=list(vehicles),
            penalty=(
                np.full(n, penalty, dtype=np.int64)
                if isinstance(penalty, int | np.integer)
                else _ints(penalty)
            ),
            allowed=[] if allowed is None else list(allowed),
            pairs=list(pairs),
        )

    @property
    def n(self) -> int:
        """Number of locations (depots and customers)."""
        return int(self.distances[0].shape[0])

    def depots(self) -> set[int]:
        """Locations used as a start or end by any vehicle."""
        return {v.start for v in self.vehicles} | {v.end for v in self.vehicles}

    def customers(self) -> list[int]:
        """Locations to visit, in index order."""
        depots = self.depots()
        return [i for i in range(self.n) if i not in depots]

    def may_serve(self, vehicle: int, node: int) -> bool:
        """True when `vehicle` is allowed at `node`."""
        if not self.allowed:
            return True
        allowed = self.allowed[node]
        return allowed is None or vehicle in allowed


def _ints(values: npt.ArrayLike) -> IntArray:
    return np.asarray(values, dtype=np.int64)


def _amounts(values: npt.ArrayLike | None, zeros: IntArray) -> IntArray:
    """(n, 2) grams and millilitres from (n, 2), from (n,) grams, or zeros from None."""
    if values is None:
        return np.zeros((len(zeros), 2), dtype=np.int64)
    array = _ints(values)
    return np.stack([array, zeros], axis=1) if array.ndim == 1 else array


@dataclass
class Route:
    """One vehicle's route: customer nodes in order and the start of service at each (s).

    `times` has len(nodes) + 2 entries: departure from start, service start at each node,
    arrival at end. `lunch_start` is the start of the driver's break, if any (s).
    """

    vehicle: int
    nodes: list[int]
    times: list[int]
    lunch_start: int | None = None


@dataclass(frozen=True)
class EngineRun:
    """One engine's candidate in a solve: which engine, its cost (fen) and unserved count when
    it returned a valid solution (else None and a `note` saying why), its wall time (s)."""

    engine: str
    cost: int | None
    unserved: int | None
    time_s: float
    note: str = ""


@dataclass
class Solution:
    """A solver's answer: one Route per used vehicle, unserved nodes, objective (fen).

    `engine` names what produced the routes ("ortools", "pyvrp", or "pyvrp+ortools" for
    PyVRP on a relaxed problem repaired by OR-Tools); `runs` lists every candidate of a
    portfolio solve, the winner included.
    """

    routes: list[Route]
    unserved: list[int]
    cost: int
    status: str = "feasible"
    solve_time_s: float = 0.0
    stats: dict[str, float] = field(default_factory=dict)
    engine: str = ""
    runs: list[EngineRun] = field(default_factory=list)
