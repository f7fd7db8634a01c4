"""Consolidation: a day's parcels become one demand per (service point, cold chain)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from dispatch.parcel import Parcel


@dataclass
class StopDemand:
    """Everything one vehicle visit to `point_id` hands over and collects (g, ml).

    Cold and ambient parcels of one point are separate demands: they ride different vehicles.
    `parcels` lists all tracking numbers (sorted); `pickup_ids` is the subset that are pickups
    and `carrier_of` maps each tracking number to its carrier (both added so that a demand
    can be split and still be described).
    """

    point_id: str
    cold: bool
    delivery_g: int
    delivery_ml: int
    pickup_g: int
    pickup_ml: int
    parcels: list[str]
    by_carrier: dict[str, int]
    pickup_ids: frozenset[str] = frozenset()
    carrier_of: dict[str, str] = field(default_factory=dict)


class ParcelTooLargeError(ValueError):
    """Parcels that alone exceed the capacity: no split can carry them (remove them first)."""

    def __init__(self, point_id: str, tracking_nos: list[str]) -> None:
        self.point_id = point_id
        self.tracking_nos = tracking_nos
        super().__init__(
            f"{len(tracking_nos)} parcel(s) at {point_id} exceed the vehicle capacity: "
            + ", ".join(tracking_nos[:10])
        )


def consolidate(parcels: Sequence[Parcel]) -> list[StopDemand]:
    """Sum parcels per (point_id, cold); ordered by point id, ambient before cold."""
    groups: dict[tuple[str, bool], list[Parcel]] = {}
    for p in parcels:
        groups.setdefault((p.point_id, p.cold), []).append(p)
    sizes = {p.tracking_no: (p.weight_g, p.volume_ml) for p in parcels}
    return [
        _demand(
            point_id,
            cold,
            [p.tracking_no for p in group],
            sizes,
            frozenset(p.tracking_no for p in group if p.kind == "pickup"),
            {p.tracking_no: p.carrier for p in group},
        )
        for (point_id, cold), group in sorted(groups.items())
    ]


def split_to_fit(
    stop: StopDemand,
    capacity_g: int,
    capacity_ml: int,
    parcel_sizes: Mapping[str, tuple[int, int]],
) -> list[StopDemand]:
    """Split a demand into chunks whose deliveries and whose pickups each fit one vehicle.

    First-fit decreasing: parcels by size (largest share of either capacity first) go into
    the first chunk with room for their kind. A demand that fits is returned unchanged as the
    only chunk. Raises ParcelTooLargeError listing every parcel that alone exceeds the
    capacity; `parcel_sizes` maps tracking number -> (g, ml).
    """
    if (
        stop.delivery_g <= capacity_g
        and stop.delivery_ml <= capacity_ml
        and stop.pickup_g <= capacity_g
        and stop.pickup_ml <= capacity_ml
    ):
        return [stop]
    too_large = [
        t
        for t in stop.parcels
        if parcel_sizes[t][0] > capacity_g or parcel_sizes[t][1] > capacity_ml
    ]
    if too_large:
        raise ParcelTooLargeError(stop.point_id, too_large)

    def share(t: str) -> float:
        g, ml = parcel_sizes[t]
        return max(g / capacity_g, ml / capacity_ml)

    # per chunk: [delivery_g, delivery_ml, pickup_g, pickup_ml], and its parcels
    loads: list[list[int]] = []
    members: list[list[str]] = []
    for t in sorted(stop.parcels, key=lambda t: (-share(t), t)):
        g, ml = parcel_sizes[t]
        k = 2 if t in stop.pickup_ids else 0
        for load, chunk in zip(loads, members, strict=True):
            if load[k] + g <= capacity_g and load[k + 1] + ml <= capacity_ml:
                load[k] += g
                load[k + 1] += ml
                chunk.append(t)
                break
        else:
            load = [0, 0, 0, 0]
            load[k], load[k + 1] = g, ml
            loads.append(load)
            members.append([t])
    return [
        _demand(
            stop.point_id,
            stop.cold,
            chunk,
            parcel_sizes,
            stop.pickup_ids.intersection(chunk),
            {t: stop.carrier_of[t] for t in chunk if t in stop.carrier_of},
        )
        for chunk in members
    ]


def _demand(
    point_id: str,
    cold: bool,
    tracking_nos: list[str],
    sizes: Mapping[str, tuple[int, int]],
    pickup_ids: frozenset[str],
    carrier_of: dict[str, str],
) -> StopDemand:
    """A StopDemand with its sums and carrier counts computed from the parcels."""
    ordered = sorted(tracking_nos)
    deliveries = [sizes[t] for t in ordered if t not in pickup_ids]
    pickups = [sizes[t] for t in ordered if t in pickup_ids]
    return StopDemand(
        point_id=point_id,
        cold=cold,
        delivery_g=sum(g for g, _ in deliveries),
        delivery_ml=sum(ml for _, ml in deliveries),
        pickup_g=sum(g for g, _ in pickups),
        pickup_ml=sum(ml for _, ml in pickups),
        parcels=ordered,
        by_carrier=dict(sorted(Counter(carrier_of[t] for t in ordered if t in carrier_of).items())),
        pickup_ids=pickup_ids,
        carrier_of={t: carrier_of[t] for t in ordered if t in carrier_of},
    )
