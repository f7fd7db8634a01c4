"""Service points: the hub, town service stations and village service points."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PointKind = Literal["hub", "station", "village"]


@dataclass(frozen=True)
class ServicePoint:
    """A place vehicles stop at. WGS-84 lon/lat; opening hours in seconds since midnight.

    `point_id`: "HUB" for the hub, the town's 9-digit NBS code for a town station, the
    12-digit NBS code for a village or community. `max_vclass` is the largest vehicle class
    the access road admits ("tricycle" < "van" < "truck"). `assumed` flags a position that is
    not a published fact (the hub, synthetic village positions).
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
