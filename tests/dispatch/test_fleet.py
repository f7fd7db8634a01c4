"""Fleet TOML loading: the packaged default, station expansion, overrides, errors, round trip."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dispatch.fleet import (
    FleetError,
    fleet_for_county,
    fleet_text_for_county,
    fleet_to_toml,
    load_fleet,
    load_fleet_text,
)
from geodata.county import load_county_dir

SMALL = """
[settings]
sort_time_min = 15
load_min = 10
unload_min = 5
max_shift_h = 9.5
lunch = "12:00-13:00"
lunch_min = 45
station_deadline = "09:45"

[types.van]
label = "面包车"
class = "van"
capacity_kg = 800
capacity_m3 = 5
fixed_cost_yuan = 120
cost_per_km_fen = 120

[types.trike]
label = "电动三轮车"
class = "tricycle"
capacity_kg = 300
capacity_m3 = 2
speed_factor = 0.6
max_speed_kph = 30

[types.trike_cold]
label = "冷藏三轮车"
class = "tricycle"
capacity_kg = 200
capacity_m3 = 1.2
cold = true

[[vehicles]]
id_prefix = "HUB-V"
count = 3
type = "van"
depot = "HUB"
shift = "07:00-18:00"
max_trips = 3

[station_default]
shift = "08:00-17:30"
max_trips = 2
vehicles = [{ type = "van", count = 1 }, { type = "trike", count = 2 }]

[[stations]]
id = "500118104"
vehicles = [{ type = "trike", count = 1, shift = "09:00-12:00" }]

[station_cold]
vehicles = [{ type = "trike_cold", count = 1, max_trips = 1 }]
"""

STATIONS = ["500118001", "500118104"]


def test_default_fleet_loads_and_carries_a_big_day() -> None:
    fleet = load_fleet(station_ids=STATIONS, cold_station_ids=["500118001"])
    hub = [v for v in fleet.vehicles if v.depot == "HUB"]
    assert {fleet.types[v.vtype].vclass for v in hub} == {"truck", "van"}
    assert any(fleet.types[v.vtype].cold for v in hub)
    hub_vans = [v for v in hub if fleet.types[v.vtype].vclass == "van"]
    # single-echelon: hub vans alone (with their trips) carry 15 t and 70 m3
    assert sum(fleet.types[v.vtype].capacity_g * v.max_trips for v in hub_vans) >= 15_000_000
    assert sum(fleet.types[v.vtype].capacity_ml * v.max_trips for v in hub_vans) >= 70_000_000
    for sid in STATIONS:
        assert 1 <= sum(v.depot == sid for v in fleet.vehicles) <= 6
    assert "500118001-R1" in {v.vehicle_id for v in fleet.vehicles}
    assert "500118104-R1" not in {v.vehicle_id for v in fleet.vehicles}
    assert fleet.types["truck42"].label == "4.2米厢式货车"
    assert fleet.types["truck42"].capacity_g == 2_000_000


def test_settings_in_humane_units() -> None:
    s = load_fleet_text(SMALL).settings
    assert (s.sort_time_s, s.load_s, s.unload_s, s.max_shift_s) == (900, 600, 300, 34_200)
    assert (s.lunch_earliest_s, s.lunch_latest_s, s.lunch_duration_s) == (43_200, 46_800, 2700)
    assert s.station_deadline_s == 35_100
    assert s.service_stop_s == 300  # not given: the Settings default


def test_types_convert_units() -> None:
    types = load_fleet_text(SMALL).types
    assert types["van"].capacity_ml == 5_000_000
    assert types["van"].fixed_cost_fen == 12_000
    assert types["trike_cold"].capacity_ml == 1_200_000 and types["trike_cold"].cold
    assert types["trike"].max_speed_kph == 30 and types["van"].max_speed_kph is None


def test_station_fleets_expand_with_overrides_and_cold() -> None:
    fleet = load_fleet_text(SMALL, station_ids=STATIONS, cold_station_ids=["500118104"])
    by_id = {v.vehicle_id: v for v in fleet.vehicles}
    assert [v for v in by_id if v.startswith("HUB")] == ["HUB-V01", "HUB-V02", "HUB-V03"]
    assert [v for v in by_id if v.startswith("500118001")] == [
        "500118001-V1",
        "500118001-E1",
        "500118001-E2",
    ]
    assert [v for v in by_id if v.startswith("500118104")] == ["500118104-E1", "500118104-R1"]
    e1 = by_id["500118104-E1"]
    assert (e1.shift_start_s, e1.shift_end_s, e1.max_trips) == (32_400, 43_200, 2)
    r1 = by_id["500118104-R1"]
    assert (r1.shift_start_s, r1.shift_end_s, r1.max_trips) == (28_800, 63_000, 1)
    assert by_id["500118001-V1"].depot == "500118001"


def test_without_station_ids_only_explicit_vehicles() -> None:
    assert [v.depot for v in load_fleet_text(SMALL).vehicles] == ["HUB"] * 3


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("capacity_kg = 800", "capacity_kgs = 800", "types.van.capacity_kgs"),
        ("capacity_kg = 800", "capacity_kg = -800", "types.van.capacity_kg"),
        ('class = "van"', 'class = "bus"', "types.van.class"),
        ('type = "van"\ndepot', 'type = "lorry"\ndepot', "vehicles[0].type"),
        ('shift = "07:00-18:00"', 'shift = "18:00-07:00"', "vehicles[0].shift"),
        ("max_trips = 3", "max_trips = 0", "vehicles[0].max_trips"),
        ('lunch = "12:00-13:00"', 'lunch = "noon"', "settings.lunch"),
        ("load_min = 10", "load_mins = 10", "settings.load_mins"),
        ('station_deadline = "09:45"', "station_deadline = 9.75", "settings.station_deadline"),
        ('id = "500118104"', 'id = " "', "stations[0].id"),
        ('shift = "08:00-17:30"', 'shift = "8-17"', "station_default.shift"),
        ('{ type = "trike", count = 1,', '{ type = "trike", count = "one",', "count"),
        ("[station_cold]", "[station_colds]", "station_colds"),
    ],
)
def test_bad_key_errors_name_file_and_key(old: str, new: str, key: str) -> None:
    assert old in SMALL
    with pytest.raises(FleetError) as info:
        load_fleet_text(SMALL.replace(old, new, 1), "mine.toml", station_ids=STATIONS)
    assert all(e.file == "mine.toml" for e in info.value.errors)
    assert any(e.field.endswith(key) for e in info.value.errors), info.value.errors
    assert key in str(info.value)


def test_syntax_error_and_duplicate_ids(tmp_path: Path) -> None:
    bad = tmp_path / "broken.toml"
    bad.write_text("[types\n", encoding="utf-8")
    with pytest.raises(FleetError, match=r"broken\.toml"):
        load_fleet(bad)
    twice = SMALL + '\n[[vehicles]]\nid = "HUB-V02"\ntype = "van"\ndepot = "HUB"\n'
    twice += 'shift = "07:00-18:00"\n'
    with pytest.raises(FleetError, match="HUB-V02"):
        load_fleet_text(twice)


def test_station_sections_checked_without_stations() -> None:
    text = SMALL.replace('{ type = "trike", count = 2 }', '{ type = "trik", count = 2 }')
    with pytest.raises(FleetError, match=r"station_default\.vehicles\[1\]\.type"):
        load_fleet_text(text)


def test_unknown_depot_when_stations_known() -> None:
    text = SMALL.replace('depot = "HUB"', 'depot = "500118777"')
    with pytest.raises(FleetError, match=r"vehicles\[0\]\.depot"):
        load_fleet_text(text, station_ids=STATIONS)


def test_toml_round_trip(tmp_path: Path) -> None:
    fleet = load_fleet_text(SMALL, station_ids=STATIONS, cold_station_ids=["500118104"])
    path = tmp_path / "fleet.toml"
    path.write_text(fleet_to_toml(fleet), encoding="utf-8")
    assert load_fleet(path) == fleet
    default = load_fleet(station_ids=STATIONS, cold_station_ids=STATIONS)
    assert load_fleet_text(fleet_to_toml(default)) == default
    # written out explicitly, the same stations add nothing on reading back (PUT /v1/fleet)
    assert load_fleet_text(fleet_to_toml(default), station_ids=STATIONS) == default


def test_the_default_fleet_serves_any_county_at_its_own_hub(tmp_path: Path) -> None:
    folder = tmp_path / "county"
    shutil.copytree(Path(__file__).parents[1] / "geodata" / "data" / "karhula", folder)
    points = folder / "points.csv"
    points.write_text(points.read_text(encoding="utf-8").replace("HUB,", "K-HUB,"), "utf-8")
    toml = folder / "county.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("network = ", "# network = "))
    county = load_county_dir(folder)
    assert county.hub_id == "K-HUB"
    fleet = fleet_for_county(county)
    depots = {v.depot for v in fleet.vehicles}
    assert depots == {"K-HUB", "RK", "ML"}
    assert sum(v.depot == "K-HUB" for v in fleet.vehicles) == 23  # 4 + 2 + 1 + 12 + 4
    assert {v.vehicle_id for v in fleet.vehicles if v.depot == "RK"} == {
        "RK-V1",
        "RK-E1",
        "RK-R1",  # RK keeps a cold room
    }
    with pytest.raises(FleetError, match=r"vehicles\[0\]\.depot"):
        fleet_text_for_county(SMALL, county)  # SMALL bases its vans at "HUB"
