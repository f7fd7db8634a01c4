"""Jobs: the parcels one vehicle handles at one point in one visit, and the role of that visit.

A job drops deliveries and loads pickups at its point. Parcels of one point are grouped by
cold chain and by whether they may be deferred, and split so every job fits the largest
vehicle that may serve it (a stop too big for one vehicle becomes several jobs). Jobs are
immutable: a plan that changes a job makes a new one.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from dispatch.parcel import Parcel


class Role(enum.Enum):
    """What a visit is for in the three-tier network."""

    FEED = "feed"  # echelon 1: the hub drops a town's village parcels at its station
    STATION = "station"  # echelon 1: parcels addressed to a station itself, both ways
    DIRECT = "direct"  # echelon 1: a hub vehicle serves a village itself
    VILLAGE = "village"  # echelon 2: a station vehicle serves a village of its town
    COLLECT = "collect"  # echelon 1: the hub fetches produce waiting at a station


@dataclass(frozen=True)
class Job:
    """Parcels served together at `point_id`: `deliveries` dropped, `pickups` loaded.

    `ready_s`/`due_s` narrow the point's opening hours for this job (s since midnight).
    """

    point_id: str
    role: Role
    deliveries: tuple[Parcel, ...] = ()
    pickups: tuple[Parcel, ...] = ()
    cold: bool = False
    deferrable: bool = False
    ready_s: int = 0
    due_s: int = 86_400
    delivery_g: int = field(init=False)
    delivery_ml: int = field(init=False)
    pickup_g: int = field(init=False)
    pickup_ml: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "delivery_g", sum(p.weight_g for p in self.deliveries))
        object.__setattr__(self, "delivery_ml", sum(p.volume_ml for p in self.deliveries))
        object.__setattr__(self, "pickup_g", sum(p.weight_g for p in self.pickups))
        object.__setattr__(self, "pickup_ml", sum(p.volume_ml for p in self.pickups))

    @property
    def parcels(self) -> tuple[Parcel, ...]:
        """Deliveries then pickups."""
        return self.deliveries + self.pickups

    def without(self, tracking_nos: set[str]) -> Job:
        """The same job without the given parcels."""
        return replace(
            self,
            deliveries=tuple(p for p in self.deliveries if p.tracking_no not in tracking_nos),
            pickups=tuple(p for p in self.pickups if p.tracking_no not in tracking_nos),
        )


@dataclass
class _Bin:
    """A job being packed: its parcels and running totals (g, ml) per direction."""

    deliveries: list[Parcel] = field(default_factory=list)
    pickups: list[Parcel] = field(default_factory=list)
    out_g: int = 0
    out_ml: int = 0
    in_g: int = 0
    in_ml: int = 0

    def fits(self, p: Parcel, cap_g: int, cap_ml: int) -> bool:
        if p.kind == "delivery":
            return self.out_g + p.weight_g <= cap_g and self.out_ml + p.volume_ml <= cap_ml
        return self.in_g + p.weight_g <= cap_g and self.in_ml + p.volume_ml <= cap_ml

    def add(self, p: Parcel) -> None:
        if p.kind == "delivery":
            self.deliveries.append(p)
            self.out_g += p.weight_g
            self.out_ml += p.volume_ml
        else:
            self.pickups.append(p)
            self.in_g += p.weight_g
            self.in_ml += p.volume_ml


def make_jobs(
    parcels: Iterable[Parcel],
    role: Role,
    capacity: Callable[[str, bool], tuple[int, int]],
    deferrable: Callable[[Parcel], bool],
    *,
    at: str | None = None,
    ready_s: int = 0,
    due_s: int = 86_400,
) -> tuple[list[Job], list[Parcel]]:
    """Group parcels into jobs per (point, cold, deferrable), each fitting one vehicle.

    The job's point is the parcel's own point, or `at` for every parcel (a station the hub
    feeds or collects from). `capacity(point_id, cold)` gives the largest (g, ml) a vehicle
    that may serve the job carries; parcels larger than that on their own are returned as the
    second value. Jobs are packed first-fit decreasing by volume, so splits are few.
    """
    groups: dict[tuple[str, bool, bool], list[Parcel]] = {}
    for p in parcels:
        groups.setdefault((at or p.point_id, p.cold, deferrable(p)), []).append(p)
    jobs: list[Job] = []
    oversize: list[Parcel] = []
    for (point_id, cold, defer), members in sorted(groups.items()):
        cap_g, cap_ml = capacity(point_id, cold)
        bins: list[_Bin] = []
        for p in sorted(members, key=lambda q: (-q.volume_ml, -q.weight_g, q.tracking_no)):
            if p.weight_g > cap_g or p.volume_ml > cap_ml:
                oversize.append(p)
                continue
            target = next((b for b in bins if b.fits(p, cap_g, cap_ml)), None)
            if target is None:
                target = _Bin()
                bins.append(target)
            target.add(p)
        jobs += [
            Job(
                point_id=point_id,
                role=role,
                deliveries=tuple(b.deliveries),
                pickups=tuple(b.pickups),
                cold=cold,
                deferrable=defer,
                ready_s=ready_s,
                due_s=due_s,
            )
            for b in bins
        ]
    return jobs, oversize
