"""plan-region: several counties' days in parallel, one plan each and a summary; a county
with bad manifests is reported and the others go on; a bad region file plans nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest

from dispatch.demo import generate_day, write_demo_manifests
from dispatch.region import load_region, run_region
from dispatch.scenarios.model import ScenarioError
from geodata.county import load_county, load_county_dir

KARHULA = Path(__file__).resolve().parents[1] / "geodata" / "data" / "karhula"
DAY = dt.date(2026, 11, 30)

REGION = """
[region]
name = "测试片区"
date = "2026-11-30"
mode = "via_station"
time_limit_s = 2

[[counties]]
name = "yongchuan"
manifests = ["yongchuan/manifests/*.csv"]

[[counties]]
name = "karhula"
folder = "{karhula}"
manifests = ["karhula/manifests/*.csv"]

[[counties]]
name = "karhula_bad"
folder = "{karhula}"
manifests = ["bad/manifests/*.csv"]
"""


def _manifests(folder: Path, county_dir: Path | None, parcels: int = 40) -> None:
    county = load_county_dir(county_dir) if county_dir else load_county()
    write_demo_manifests(generate_day(county, parcels, seed=3, date=DAY), folder, county)


def test_counties_planned_in_parallel_and_a_bad_one_reported(tmp_path: Path) -> None:
    _manifests(tmp_path / "yongchuan", None)
    _manifests(tmp_path / "karhula", KARHULA)
    _manifests(tmp_path / "bad", KARHULA)
    broken = sorted((tmp_path / "bad" / "manifests").glob("*.csv"))[0]
    lines = broken.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace(",", ",-5,", 1)  # a shifted row: fields in the wrong columns
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    region = tmp_path / "region.toml"
    region.write_text(REGION.format(karhula=KARHULA), encoding="utf-8")
    out = tmp_path / "out"
    outcome = run_region(region, out)
    status = {r.name: r.status for r in outcome.results}
    assert status == {"yongchuan": "ok", "karhula": "ok", "karhula_bad": "failed"}
    bad = outcome.results[2]
    assert "ManifestError" in bad.reason and broken.name in bad.reason
    for name, hub in (("yongchuan", "HUB"), ("karhula", "HUB")):
        plan = json.loads((out / name / "plan.json").read_text(encoding="utf-8"))
        assert plan["kpis"]["parcels"] == 40 and plan["routes"]
        assert all(r["stops"][0]["point_id"] in {hub} | {r["depot"]} for r in plan["routes"])
    karhula = json.loads((out / "karhula" / "plan.json").read_text(encoding="utf-8"))
    assert karhula["kpis"]["county"] == "Karhula"  # planned on its own real OSM roads
    assert not (out / "karhula_bad").exists()
    rows = list(csv.DictReader(io.StringIO((out / "summary.csv").read_text(encoding="utf-8"))))
    assert [r["county"] for r in rows] == ["yongchuan", "karhula", "karhula_bad"]
    assert rows[0]["parcels"] == "40" and rows[2]["status"] == "failed" and rows[2]["reason"]


def test_a_bad_region_file_is_refused_with_file_key_and_reason(tmp_path: Path) -> None:
    region = tmp_path / "region.toml"
    region.write_text(
        '[region]\ndate = "2026-11-30"\nspeed = 2\n'
        '[[counties]]\nname = "a"\nmanifests = ["none/*.csv"]\n'
        '[[counties]]\nname = "b"\nfolder = "nowhere"\nmanifests = []\nmode = "fly"\n',
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as err:
        load_region(region)
    keys = {(p.file, p.key) for p in err.value.problems}
    assert keys == {
        ("region.toml", "region.speed"),
        ("region.toml", "counties[0].manifests[0]"),
        ("region.toml", "counties[1].folder"),
    }
