"""Consolidation into stop demands and splitting demands that exceed a vehicle."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.consolidate import ParcelTooLargeError, consolidate, split_to_fit
from dispatch.parcel import Kind, Parcel

DAY = dt.date(2026, 3, 5)


def parcel(
    no: str,
    point: str,
    g: int,
    ml: int,
    *,
    kind: Kind = "delivery",
    cold: bool = False,
    carrier: str = "中通快递",
) -> Parcel:
    return Parcel(no, carrier, kind, point, g, ml, cold, DAY)


PARCELS = [
    parcel("A3", "500118104001", 1000, 4000),
    parcel("A1", "500118104001", 500, 2000, carrier="圆通速递"),
    parcel("A2", "500118104001", 7000, 14000, kind="pickup"),
    parcel("C1", "500118104001", 2000, 6000, cold=True),
    parcel("B1", "500118104", 300, 900, carrier="顺丰速运"),
]


def test_consolidate_sums_per_point_and_cold() -> None:
    stops = consolidate(PARCELS)
    assert [(s.point_id, s.cold) for s in stops] == [
        ("500118104", False),
        ("500118104001", False),
        ("500118104001", True),
    ]
    village = stops[1]
    assert (village.delivery_g, village.delivery_ml) == (1500, 6000)
    assert (village.pickup_g, village.pickup_ml) == (7000, 14000)
    assert village.parcels == ["A1", "A2", "A3"]
    assert village.pickup_ids == {"A2"}
    assert village.by_carrier == {"中通快递": 2, "圆通速递": 1}
    assert stops[2].by_carrier == {"中通快递": 1} and stops[2].delivery_g == 2000


def test_consolidate_is_order_independent() -> None:
    assert consolidate(PARCELS) == consolidate(list(reversed(PARCELS)))


def test_fitting_stop_is_returned_whole() -> None:
    stop = consolidate(PARCELS)[1]
    sizes = {p.tracking_no: (p.weight_g, p.volume_ml) for p in PARCELS}
    assert split_to_fit(stop, 10_000, 20_000, sizes) == [stop]


def test_oversized_parcel_is_reported() -> None:
    stop = consolidate(PARCELS)[1]
    sizes = {p.tracking_no: (p.weight_g, p.volume_ml) for p in PARCELS}
    with pytest.raises(ParcelTooLargeError) as info:
        split_to_fit(stop, 5000, 20_000, sizes)
    assert info.value.tracking_nos == ["A2"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 800),
            st.integers(0, 1000),
            st.booleans(),
            st.sampled_from(["中通快递", "韵达快递", "京东物流"]),
        ),
        min_size=1,
        max_size=40,
    ),
    st.integers(800, 3000),
    st.integers(1000, 4000),
)
def test_split_chunks_fit_and_partition(items, cap_g, cap_ml) -> None:
    parcels = [
        parcel(
            f"T{i:03d}",
            "500118104001",
            g,
            ml,
            kind="pickup" if pick else "delivery",
            carrier=carrier,
        )
        for i, (g, ml, pick, carrier) in enumerate(items)
    ]
    [stop] = consolidate(parcels)
    sizes = {p.tracking_no: (p.weight_g, p.volume_ml) for p in parcels}
    chunks = split_to_fit(stop, cap_g, cap_ml, sizes)
    assert sorted(t for c in chunks for t in c.parcels) == stop.parcels
    for c in chunks:
        assert c.delivery_g <= cap_g and c.delivery_ml <= cap_ml
        assert c.pickup_g <= cap_g and c.pickup_ml <= cap_ml
        assert sum(c.by_carrier.values()) == len(c.parcels)
        assert (c.point_id, c.cold) == (stop.point_id, stop.cold)
    assert sum(c.delivery_g + c.pickup_g for c in chunks) == stop.delivery_g + stop.pickup_g
    total = {k: sum(c.by_carrier.get(k, 0) for c in chunks) for k in stop.by_carrier}
    assert total == stop.by_carrier
    # first-fit decreasing never needs more than about twice the lower bound of chunks
    bound = max(
        -(-stop.delivery_g // cap_g),
        -(-stop.delivery_ml // cap_ml),
        -(-stop.pickup_g // cap_g),
        -(-stop.pickup_ml // cap_ml),
        1,
    )
    assert len(chunks) <= 2 * bound + 1
