from __future__ import annotations

import math

import pytest
from shapely.geometry import Point

from geodata.county import County, load_county
from geodata.crs import to_utm
from geodata.placement import VillageSeed, place_villages


def _ground_m(a_lon: float, a_lat: float, b_lon: float, b_lat: float) -> float:
    x, y = to_utm([a_lon, b_lon], [a_lat, b_lat])
    return math.hypot(x[0] - x[1], y[0] - y[1])


def test_counts_order_and_ids(county: County) -> None:
    kinds = [p.kind for p in county.points]
    assert kinds == ["hub"] + ["station"] * 23 + ["village"] * 267
    ids = [p.point_id for p in county.points]
    assert len(set(ids)) == len(ids)
    assert ids[0] == "HUB"
    assert ids[1:24] == sorted(ids[1:24]) and all(len(i) == 9 for i in ids[1:24])
    assert ids[24:] == sorted(ids[24:]) and all(len(i) == 12 for i in ids[24:])
    assert all(p.town_id == p.point_id[:9] for p in county.points[1:])


def test_names_are_official(county: County) -> None:
    assert county.point("500118100").name == "青峰镇供销社服务站"
    assert county.point("500118001001").name == "中山路社区"
    villages = [p for p in county.points if p.kind == "village"]
    assert sum(p.name.endswith("社区") for p in villages) == 60
    assert all(p.name and not p.name.endswith("委员会") for p in villages)


def test_lookup(county: County) -> None:
    assert county.index("HUB") == 0
    assert county.point(county.points[100].point_id) is county.points[100]
    with pytest.raises(KeyError):
        county.point("nope")
    with pytest.raises(KeyError):
        county.index("500118999")


def test_all_points_inside_district(county: County) -> None:
    assert all(county.boundary.contains(Point(p.lon, p.lat)) for p in county.points)


def test_service_attributes(county: County) -> None:
    hub, stations = county.points[0], county.points[1:24]
    villages = county.points[24:]
    assert (hub.open_s, hub.close_s, hub.assumed) == (5 * 3600, 22 * 3600, True)
    assert all((s.open_s, s.close_s, s.max_vclass) == (25200, 72000, "truck") for s in stations)
    assert all((v.open_s, v.close_s, v.assumed) == (28800, 68400, True) for v in villages)
    assert sum(s.cold_storage for s in stations) == 9
    assert county.point("500118118").cold_storage  # 朱沱镇, 20 villages
    assert not county.point("500118115").cold_storage  # 永荣镇, 6 villages
    trucks = {v.point_id for v in villages if v.max_vclass == "truck"}
    assert trucks and all(t[:9] in {"500118001", "500118002", "500118003"} for t in trucks)
    assert {v.max_vclass for v in villages} == {"truck", "van"}
    assert {s.point_id for s in stations if s.assumed} == {"500118004", "500118007"}


def test_villages_nearest_their_own_seat(county: County) -> None:
    stations = county.points[1:24]
    for v in county.points[24:]:
        nearest = min(stations, key=lambda s: _ground_m(s.lon, s.lat, v.lon, v.lat))
        assert nearest.point_id == v.town_id, v


def test_communities_closer_than_villages(county: County) -> None:
    for v in county.points[24:]:
        seat = county.point(v.town_id)
        metres = _ground_m(seat.lon, seat.lat, v.lon, v.lat)
        if v.name.endswith("社区"):
            assert 300 <= metres <= 3000, v
        else:
            assert 1000 <= metres <= 9000, v


def test_placement_is_deterministic_and_seeded_per_code() -> None:
    square = Point(0, 0).buffer(20_000, cap_style="square")
    seats = {"500118100": (-5000.0, 0.0), "500118102": (6000.0, 1000.0)}
    seeds = [VillageSeed(f"500118100{k:03d}", "500118100", k == 1) for k in range(1, 8)]
    seeds += [VillageSeed(f"500118102{k:03d}", "500118102", False) for k in range(1, 5)]
    first = place_villages(seeds, seats, square)
    assert first == place_villages(seeds, seats, square)
    assert len(set(first.values())) == len(seeds)
    for seed in seeds:
        x, y = first[seed.code12]
        own = math.dist((x, y), seats[seed.town_code9])
        other = min(math.dist((x, y), s) for c, s in seats.items() if c != seed.town_code9)
        assert own < other and square.contains(Point(x, y))
    renumbered = [
        VillageSeed(s.code12.replace("500118102", "500118199"), "500118102", False)
        if s.town_code9 == "500118102"
        else s
        for s in seeds
    ]
    moved = place_villages(renumbered, seats, square)
    assert moved["500118100001"] == first["500118100001"]
    assert moved["500118199001"] != first["500118102001"]


def test_hub_can_move_but_not_outside() -> None:
    moved = load_county((105.90, 29.30))
    assert (moved.points[0].lon, moved.points[0].lat) == (105.90, 29.30)
    default = load_county()
    assert (default.points[0].lon, default.points[0].lat) == (105.93, 29.34)  # points.csv
    assert moved.points[1:] == default.points[1:]
    with pytest.raises(ValueError, match="outside"):
        load_county((110.0, 30.0))
