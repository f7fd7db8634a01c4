"""Jobs: the parcels one vehicle handles at one point in one visit.

A job drops deliveries and loads pickups at its point. Parcels of one point are grouped by
cold chain and by whether they may be deferred, and split so every job fits the largest
vehicle that may serve it (a stop too big for one vehicle becomes several jobs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from dispatch.parcel import Parcel


@dataclass
class Job:
    """Parcels served together at `point_id`: `deliveries` dropped, `pickups` loaded.

    `ready_s`/`due_s` narrow the point's opening hours for this job (s since midnight).
    """

    point_id: str
    deliveries: list[Parcel] = field(default_factory=list)
    pickups: list[Parcel] = field(default_factory=list)
    cold: bool = False
    deferrable: bool = False
    ready_s: int = 0
    due_s: int = 86_400

    @property
    def parcels(self) -> list[Parcel]:
        """Deliveries then pickups."""
        return self.deliveries + self.pickups

    @property
    def delivery_g(self) -> int:
        """Weight dropped here (g)."""
        return sum(p.weight_g for p in self.deliveries)

    @property
    def delivery_ml(self) -> int:
        """Volume dropped here (ml)."""
        return sum(p.volume_ml for p in self.deliveries)

    @property
    def pickup_g(self) -> int:
        """Weight loaded here (g)."""
        return sum(p.weight_g for p in self.pickups)

    @property
    def pickup_ml(self) -> int:
        """Volume loaded here (ml)."""
        return sum(p.volume_ml for p in self.pickups)


def _fits(job: Job, parcel: Parcel, cap_g: int, cap_ml: int) -> bool:
    """True when `parcel` can join `job` with both directions within (cap_g, cap_ml)."""
    if parcel.kind == "delivery":
        return (
            job.delivery_g + parcel.weight_g <= cap_g
            and job.delivery_ml + parcel.volume_ml <= cap_ml
        )
    return job.pickup_g + parcel.weight_g <= cap_g and job.pickup_ml + parcel.volume_ml <= cap_ml


def make_jobs(
    parcels: Iterable[Parcel],
    capacity: Callable[[str, bool], tuple[int, int]],
    deferrable: Callable[[Parcel], bool],
) -> tuple[list[Job], list[Parcel]]:
    """Group parcels into jobs per (point, cold, deferrable), each fitting one vehicle.

    `capacity(point_id, cold)` gives the largest (g, ml) a vehicle that may serve the job
    carries. Parcels larger than that on their own are returned as the second value.
    Jobs are packed first-fit decreasing by volume, so splits are few and balanced.
    """
    groups: dict[tuple[str, bool, bool], list[Parcel]] = {}
    for p in parcels:
        groups.setdefault((p.point_id, p.cold, deferrable(p)), []).append(p)
    jobs: list[Job] = []
    oversize: list[Parcel] = []
    for (point_id, cold, defer), members in sorted(groups.items()):
        cap_g, cap_ml = capacity(point_id, cold)
        bins: list[Job] = []
        for p in sorted(members, key=lambda q: (-q.volume_ml, -q.weight_g, q.tracking_no)):
            if p.weight_g > cap_g or p.volume_ml > cap_ml:
                oversize.append(p)
                continue
            target = next((b for b in bins if _fits(b, p, cap_g, cap_ml)), None)
            if target is None:
                target = Job(point_id=point_id, cold=cold, deferrable=defer)
                bins.append(target)
            (target.deliveries if p.kind == "delivery" else target.pickups).append(p)
        jobs.extend(bins)
    return jobs, oversize
