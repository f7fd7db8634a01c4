"""Road closures on the command line: `--closures FILE` on demo, plan and validate, and the
`replan` command with a `road_closed` event."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geodata.county import load_county
from geodata.crs import great_circle_m
from tests.api.test_cli import DAY, run

VILLAGE = "500118001001"  # 中山路社区
STATION = "500118001"

CLOSURES_TOML = f"""
[[closure]]
near = "{VILLAGE}"
radius_m = 300
label = "山体滑坡"
"""


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("closed")
    (folder / "closures.toml").write_text(CLOSURES_TOML, encoding="utf-8")
    out = folder / "out"
    r = run(
        "demo",
        "--out",
        str(out),
        "--parcels",
        "300",
        "--seed",
        "7",
        "--time-limit",
        "8",
        "--mode",
        "via_station",
        "--date",
        DAY,
        "--closures",
        str(folder / "closures.toml"),
    )
    assert r.returncode == 0, r.stderr
    return out


def test_demo_plans_around_the_closures_and_validate_applies_them_again(day: Path) -> None:
    plan = json.loads((day / "plan.json").read_text(encoding="utf-8"))
    assert plan["closures"] == [{"near": VILLAGE, "radius_m": 300.0, "label": "山体滑坡"}]
    assert plan["kpis"]["closures"]["cut_off"] == [VILLAGE]
    assert VILLAGE not in {s["point_id"] for r in plan["routes"] for s in r["stops"]}
    manifests = [str(m) for m in sorted((day / "manifests").glob("*.csv"))]
    r = run("validate", str(day / "plan.json"), *manifests)
    assert r.returncode == 0, r.stdout + r.stderr
    # the map draws the routes around the closed roads: none within 300 m of the landslide
    where = next(p for p in load_county().points if p.point_id == VILLAGE)
    geo = json.loads((day / "routes.geojson").read_text(encoding="utf-8"))
    lines = [f for f in geo["features"] if f["geometry"]["type"] == "LineString"]
    nearest = min(
        great_circle_m(lon, lat, where.lon, where.lat)
        for f in lines
        for lon, lat in f["geometry"]["coordinates"]
    )
    assert nearest > 280


def test_replan_after_a_road_closes(day: Path, tmp_path: Path) -> None:
    plan = json.loads((day / "plan.json").read_text(encoding="utf-8"))
    at = min(r["stops"][0]["arrival_s"] for r in plan["routes"] if r["echelon"] == 2) + 60
    events = tmp_path / "events.json"
    events.write_text(
        json.dumps(
            [
                {
                    "type": "road_closed",
                    "near": STATION,
                    "radius_m": 400,
                    "label": "塌方",
                    "time_s": at,
                }
            ]
        ),
        encoding="utf-8",
    )
    manifests = [str(m) for m in sorted((day / "manifests").glob("*.csv"))]
    out = tmp_path / "v2"
    args = ["--event", f"@{events}", "--out", str(out), "--time-limit", "3"]
    r = run("replan", str(day / "plan.json"), *manifests, *args)
    assert r.returncode == 0, r.stderr
    new = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert new["version_of"] == plan["plan_id"]
    assert STATION in new["kpis"]["closures"]["cut_off"]
    assert (out / "routes.geojson").is_file()
    r = run("validate", str(out / "plan.json"), *manifests)
    assert r.returncode == 0, r.stdout + r.stderr
    # an event naming no known point is refused with its field, nothing written
    events.write_text(json.dumps([{"type": "road_closed", "near": "NOPE", "radius_m": 50}]))
    r = run("replan", str(day / "plan.json"), *manifests, *args[:2], "--out", str(tmp_path / "x"))
    assert r.returncode == 2
    assert "events[0].near: unknown point 'NOPE'" in r.stderr
    assert not (tmp_path / "x").exists()


def test_bad_closure_files_exit_2_naming_file_row_and_field(day: Path, tmp_path: Path) -> None:
    manifests = [str(m) for m in sorted((day / "manifests").glob("*.csv"))]
    bad = tmp_path / "closures.csv"
    bad.write_text(f"from,to,near,radius_m,label\n,,{VILLAGE},-3,x\n{VILLAGE},NOPE,,,y\n")
    out = tmp_path / "out"
    r = run("plan", *manifests, "--out", str(out), "--closures", str(bad), "--date", DAY)
    assert r.returncode == 2
    text = " ".join(r.stderr.split())
    assert "closures.csv: row 1: radius_m: must be between 1 and 20,000 m" in text
    assert not out.exists()
    bad.write_text(f"from,to,near,radius_m,label\n{VILLAGE},NOPE,,,y\n")
    r = run("plan", *manifests, "--out", str(out), "--closures", str(bad), "--date", DAY)
    assert r.returncode == 2
    assert "closures.csv: row 1: to: unknown point 'NOPE'" in " ".join(r.stderr.split())
    r = run("validate", str(day / "plan.json"), *manifests, "--closures", str(tmp_path / "no"))
    assert r.returncode == 2 and "file not found" in r.stderr
