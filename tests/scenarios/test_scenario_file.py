"""Scenario files: the shipped six resolve as described; bad files are refused with file, key
and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from dispatch.scenarios.model import ScenarioError
from dispatch.scenarios.scenario_file import load_scenario, load_scenarios
from tests.scenarios.conftest import write_scenario

SHIPPED = Path(__file__).resolve().parents[2] / "benchmarks" / "scenarios"


def test_the_six_shipped_scenarios() -> None:
    files = sorted(SHIPPED.glob("*.toml"))
    scenarios = {s.name: s for s in load_scenarios(files)}
    assert set(scenarios) == {
        "baseline", "double11", "produce_growth", "cold_chain", "hill_tricycles", "hub_ganqiao",
    }  # fmt: skip
    base = scenarios["baseline"]
    assert base.demand.sizes() == (10_000, 0.05) and base.time_limit_s == 30.0
    peak = scenarios["double11"]
    assert peak.demand.sizes()[0] == 40_000 and len(peak.fleet.vehicles) == 183
    total, share = scenarios["produce_growth"].demand.sizes()
    assert round(total * share) == 1_500 and round(total * (1 - share)) == 9_500
    stations = {v.depot for v in base.fleet.vehicles} - {"HUB"}
    assert scenarios["cold_chain"].cold_rooms == stations > base.cold_rooms
    cold_vehicles = [v for v in scenarios["cold_chain"].fleet.vehicles if v.vtype.endswith("cold")]
    assert {v.depot for v in cold_vehicles} >= stations
    hill = scenarios["hill_tricycles"].fleet
    banqiao = [v.vtype for v in hill.vehicles if v.depot == "500118117"]  # 板桥镇
    assert banqiao == ["etricycle"] * 3
    hub = scenarios["hub_ganqiao"].hub
    assert hub is not None and hub.assumed and "港桥" in hub.name


def test_closed_station_vehicles_are_off_and_removals_apply(tmp_path: Path) -> None:
    extra = """
[stations]
closed = ["来苏镇"]
cold_rooms_remove = ["中山路街道"]
[[fleet.remove]]
type = "truck76"
[[fleet.vehicles]]
id_prefix = "HIRED-V"
count = 2
type = "van"
shift = "07:00-18:00"
[fleet.types.van]
cost_per_km_fen = 150
"""
    sc = load_scenario(write_scenario(tmp_path, "what_if", extra=extra))
    laisu = {v.vehicle_id for v in sc.fleet.vehicles if v.depot == "500118111"}
    assert laisu and sc.fleet.off == laisu
    assert "500118001" not in sc.cold_rooms
    assert not [v for v in sc.fleet.vehicles if v.vtype == "truck76"]
    assert [v.vehicle_id for v in sc.fleet.vehicles if v.vehicle_id.startswith("HIRED")] == [
        "HIRED-V01", "HIRED-V02",
    ]  # fmt: skip
    assert sc.fleet.types["van"].cost_per_km_fen == 150
    assert sc.fleet.types["van"].capacity_g == 800_000  # the rest of the type is kept


@pytest.mark.parametrize(
    ("extra", "key", "reason"),
    [
        ("speed = 3", "planning.speed", "unknown key"),  # lands in the template's [planning]
        ("colour = 1", "colour", "unknown key"),
        ('[stations]\nclosed = ["火星镇"]', "stations.closed[0]", "not a town or station"),
        ("multiplier = -2", "demand.multiplier", "between 0 and 100"),
        ("[hub]\nlon = 105.87\nlat = 29.04", "hub.assumed", "say true"),
        ("[hub]\nlon = 116.4\nlat = 39.9\nassumed = true", "hub", "outside"),
        ('[[fleet.remove]]\ntype = "hovercraft"', "fleet.remove[0].type", "unknown vehicle type"),
        ("[fleet.types.van]\ncapacity_kg = -5", "fleet.types.van.capacity_kg", "must be > 0"),
        ('[fleet]\nfile = "nowhere.toml"', "fleet.file", "cannot read"),
    ],
)
def test_bad_values_are_named_by_file_key_and_reason(
    tmp_path: Path, extra: str, key: str, reason: str
) -> None:
    in_demand = key.startswith("demand.")
    path = write_scenario(
        tmp_path,
        "bad",
        extra="" if key == "colour" or in_demand else extra,
        demand=extra if in_demand else "",
    )
    if key == "colour":  # a top-level key goes before the first table
        path.write_text(extra + "\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    found = [(p.file, p.key) for p in err.value.problems if reason in p.reason]
    assert found == [("bad.toml", key)], err.value.problems


def test_every_file_is_checked_and_names_unique(tmp_path: Path) -> None:
    a = write_scenario(tmp_path, "same")
    other = tmp_path / "other"
    other.mkdir()
    b = write_scenario(other, "same")
    c = write_scenario(tmp_path, "broken", mode="teleport")
    with pytest.raises(ScenarioError) as err:
        load_scenarios([a, b, c])
    keys = {(p.file, p.key) for p in err.value.problems}
    assert keys == {("same.toml", "scenario.name"), ("broken.toml", "planning.mode")}
