"""2E-CVRP instance and solution: points in instance units, whole demands and capacities."""

from __future__ import annotations

from dataclasses import dataclass, field

Point = tuple[float, float]


@dataclass
class TwoEchelonInstance:
    """A 2E-CVRP instance. Points are (x, y) in instance units; demands and capacities whole.

    Costs per distance multiply Euclidean length; fixed costs are per used vehicle;
    `satellite_handling[s]` is the cost per unit of demand passing through satellite s.
    """

    name: str
    depot: Point
    satellites: list[Point]
    customers: list[Point]
    demand: list[int]
    truck_count: int
    truck_capacity: int
    truck_cost_per_dist: float
    truck_fixed: float
    freighters_per_satellite: int
    freighters_total: int
    freighter_capacity: int
    freighter_cost_per_dist: float
    freighter_fixed: float
    satellite_handling: list[float]


@dataclass
class TwoEchelonSolution:
    """Truck routes (satellite indices, with the amount delivered at each visit in
    `first_loads`), freighter routes as (satellite, customer indices), total cost (instance
    units) and whether `validate_2e` found no fault. `stats` holds search counters."""

    cost: float
    first: list[list[int]]
    first_loads: list[list[int]]
    second: list[tuple[int, list[int]]]
    valid: bool
    stats: dict[str, float] = field(default_factory=dict)
