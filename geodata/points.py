"""Service points: the hub, town service stations and village service points."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PointKind = Literal["hub", "station", "village"]
POINT_KINDS: tuple[PointKind, ...] = ("hub", "station", "village")
#: Vehicle classes a road may admit, smallest first ("tricycle" < "van" < "truck").
VEHICLE_CLASSES = ("tricycle", "van", "truck")


@dataclass(frozen=True)
class ServicePoint:
    """A place vehicles stop at. WGS-84 lon/lat; opening hours in seconds since midnight.

    `point_id` comes from the county's points file (Yongchuan: "HUB" for the hub, the town's
    9-digit NBS code for a town station, the 12-digit NBS code for a village or community).
    A station's id is its town's id (`town_id`); the hub belongs to no town (""). `max_vclass`
    is the largest vehicle class the access road admits ("tricycle" < "van" < "truck").
    `assumed` flags a position that is not a published fact; `placed` one that was computed
    by `geodata.placement` because the county gave none (placed points are also assumed).
    """

    point_id: str
    name: str
    kind: PointKind
    town_id: str
    lon: float
    lat: float
    open_s: int
    close_s: int
    max_vclass: str = "truck"
    cold_storage: bool = False
    assumed: bool = False
    placed: bool = False
