"""Loading lists: the depot's load by drop stop, last stop first, weight and volume per stop."""

from __future__ import annotations

import csv
import dataclasses
import io

import pytest

from dispatch.loading_list import LOADING_COLUMNS, loading_csv_text, loading_list
from dispatch.plan import read_plan
from dispatch.route_sheet import route_sheet
from tests.dispatch.plan_fixture import PARCELS, POINTS, B, S, make_plan, route

PARCEL_MAP = {p.tracking_no: p for p in PARCELS}


def test_reverse_stop_order_with_weight_and_volume() -> None:
    plan = read_plan(make_plan())
    ll = loading_list(route_sheet(plan, "R001", POINTS, PARCEL_MAP), PARCEL_MAP, plan.vehicle("T1"))
    # R001 drops P1-P3 at the station S (stop 1), P4 at village B (stop 2): B is loaded first
    assert [(e.order, e.seq, e.point_id) for e in ll.entries] == [(1, 2, B), (2, 1, S)]
    b, s = ll.entries
    assert [g.tracking_nos for g in b.parcels.groups] == [("P4",)]
    assert (b.parcels.weight_g, b.parcels.volume_ml) == (5000, 10000)
    assert s.parcels.counts_text() == "中通 2，圆通 1"
    assert (s.parcels.weight_g, s.parcels.volume_ml, s.parcels.cold_count) == (6000, 15000, 1)
    assert (ll.count, ll.weight_g, ll.volume_ml) == (4, 11000, 25000)
    assert ll.capacity is not None and ll.capacity.capacity_g == 1_000_000


def test_a_trip_that_loads_nothing_at_the_depot_has_an_empty_list() -> None:
    plan = read_plan(make_plan())
    ll = loading_list(route_sheet(plan, "R003", POINTS, PARCEL_MAP), PARCEL_MAP)
    assert ll.entries == ()
    assert ll.count == 0


def test_loaded_but_never_dropped_is_refused() -> None:
    raw = make_plan()
    route(raw, "R001")["stops"][2]["drop"] = []
    plan = read_plan(raw)
    with pytest.raises(ValueError, match="R001: loaded but never dropped: P4"):
        loading_list(route_sheet(plan, "R001", POINTS, PARCEL_MAP), PARCEL_MAP)


def test_a_route_cut_by_a_breakdown_lists_what_is_still_on_board_at_its_end() -> None:
    raw = make_plan()
    cut = route(raw, "R001")
    cut["stops"] = [*cut["stops"][:2], dict(cut["stops"][1], seq=2, drop=[])]  # stuck past S
    cut["ended"] = "breakdown"
    plan = read_plan(raw)
    ll = loading_list(route_sheet(plan, "R001", POINTS, PARCEL_MAP), PARCEL_MAP)
    assert [(e.seq, [t for g in e.parcels.groups for t in g.tracking_nos]) for e in ll.entries] == [
        (2, ["P4"]),
        (1, ["P1", "P3", "P2"]),
    ]
    del cut["ended"]  # the same stops without the breakdown are a broken plan
    with pytest.raises(ValueError, match="loaded but never dropped: P4"):
        loading_list(route_sheet(read_plan(raw), "R001", POINTS, PARCEL_MAP), PARCEL_MAP)


def test_loading_csv() -> None:
    parcels = dict(PARCEL_MAP)
    parcels["P4"] = dataclasses.replace(PARCELS[3], carrier="@evil")
    plan = read_plan(make_plan())
    text = loading_csv_text(loading_list(route_sheet(plan, "R001", POINTS, parcels), parcels))
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == list(LOADING_COLUMNS)
    first = dict(zip(LOADING_COLUMNS, rows[1], strict=True))
    assert first["装车顺序 Load order"] == "1"
    assert first["站点 Stop"] == "双竹村服务点"
    assert first["按快递公司 By carrier"] == "'@evil 1"
    assert (first["重量kg Weight kg"], first["体积L Volume L"]) == ("5.0", "10.0")
    second = dict(zip(LOADING_COLUMNS, rows[2], strict=True))
    assert second["运单号 Tracking numbers"] == "P1 P3 P2"
    assert second["冷链件数 Cold"] == "1"
