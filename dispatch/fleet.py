"""Fleet: vehicle types and vehicles, read from a TOML file (default: the Yongchuan fleet)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

VehicleClass = Literal["tricycle", "van", "truck"]

#: Size order of vehicle classes: a road admitting a class admits every smaller one.
CLASS_RANK: dict[str, int] = {"tricycle": 0, "van": 1, "truck": 2}


@dataclass(frozen=True)
class VehicleType:
    """A kind of vehicle. Capacities in g / ml, costs in fen, speeds in km/h."""

    name: str
    label: str
    vclass: VehicleClass
    capacity_g: int
    capacity_ml: int
    cold: bool = False
    fixed_cost_fen: int = 0
    cost_per_km_fen: int = 0
    cost_per_hour_fen: int = 0
    speed_factor: float = 1.0
    max_speed_kph: float | None = None


@dataclass(frozen=True)
class FleetVehicle:
    """One physical vehicle based at `depot` (a point id), with a shift window (s)."""

    vehicle_id: str
    vtype: str
    depot: str
    shift_start_s: int
    shift_end_s: int
    max_trips: int = 1


@dataclass(frozen=True)
class Settings:
    """Operating rules (seconds unless stated)."""

    sort_time_s: int = 1800
    service_stop_s: int = 300
    service_parcel_s: int = 6
    reload_s: int = 1200
    max_shift_s: int = 10 * 3600
    lunch_earliest_s: int = 11 * 3600 + 1800
    lunch_latest_s: int = 13 * 3600 + 1800
    lunch_duration_s: int = 1800
    defer_penalty_fen: int = 2000
    drop_penalty_fen: int = 1_000_000


@dataclass
class Fleet:
    """Vehicle types, vehicles and settings."""

    types: dict[str, VehicleType]
    vehicles: list[FleetVehicle]
    settings: Settings = field(default_factory=Settings)

    def vtype(self, vehicle: FleetVehicle) -> VehicleType:
        """The type of `vehicle`."""
        return self.types[vehicle.vtype]
