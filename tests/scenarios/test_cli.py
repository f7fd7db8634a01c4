"""`ruraldispatch scenarios run|report` end to end, as a planner runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.scenarios.conftest import write_scenario


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from api.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_bad_scenario_file_is_refused_before_any_plan_starts(tmp_path: Path) -> None:
    good = write_scenario(tmp_path, "baseline")
    bad = write_scenario(tmp_path, "bad", mode="teleport", extra='[stations]\nclosed = ["火星镇"]')
    out = tmp_path / "sweep"
    r = cli("scenarios", "run", str(good), str(bad), "--out", str(out))
    assert r.returncode == 2, r.stderr
    assert "bad.toml: planning.mode: expected one of auto, via_station, direct" in r.stderr
    assert "bad.toml: stations.closed[0]: '火星镇' is not a town or station" in r.stderr
    assert "nothing was planned" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()


def test_run_then_report_rebuilds_the_same_table_and_charts(tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path, "baseline", title="基线", mode="direct")
    out = tmp_path / "sweep"
    args = ["--replicas", "1", "--deterministic", "--solution-limit", "10", "--workers", "1"]
    r = cli("scenarios", "run", str(scenario), "--out", str(out), *args)
    assert r.returncode == 0, r.stderr
    assert "| baseline 基线 | 1 |" in r.stdout and "1 plans made, 0 kept from before" in r.stderr
    table = (out / "table.csv").read_text(encoding="utf-8")
    charts = ["cost_per_parcel.png", "utilisation.png", "km_by_echelon.png"]
    for name in charts:
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
        (out / name).unlink()
    (out / "table.csv").unlink()
    assert len(list((out / "plans" / "baseline").glob("seed0.json"))) == 1
    r = cli("scenarios", "report", str(out))
    assert r.returncode == 0, r.stderr
    assert (out / "table.csv").read_text(encoding="utf-8") == table
    assert all((out / name).exists() for name in charts)
    r = cli("scenarios", "report", str(tmp_path))
    assert r.returncode == 2 and "not a finished sweep's folder" in r.stderr
