"""Files a user plausibly mixes up: header-only manifests, another day's or another county's
plan for validate, sheets and replan. Each is refused with one line naming the files (exit 2),
never an empty plan or one error per parcel."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.api.test_cli import DAY, GOOD, HEADER, run

KARHULA = Path(__file__).resolve().parents[1] / "geodata" / "data" / "karhula"
NEXT_DAY = "ZT900,中通快递,delivery,500118118201,,,,1.5,4,0,2026-11-29\n"
BREAKDOWN = '{"type":"breakdown","vehicle_id":"HUB-V01","time":"2026-11-28T09:30:00+08:00"}'


@pytest.fixture(scope="module")
def one_parcel_day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A planned day of one parcel: its folder holds day.csv and out/plan.json."""
    folder = tmp_path_factory.mktemp("one")
    (folder / "day.csv").write_text(HEADER + GOOD, encoding="utf-8")
    r = run(
        "plan", str(folder / "day.csv"), "--out", str(folder / "out"),
        "--date", DAY, "--mode", "direct", "--time-limit", "5",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    return folder


def test_header_only_manifests_plan_nothing(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text(HEADER, encoding="utf-8")
    r = run("plan", str(empty), "--out", str(tmp_path / "out"), "--date", DAY)
    assert r.returncode == 2, r.stderr
    assert "empty.csv: row 0: tracking_no: the manifest has no parcels" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()


def test_validate_names_another_days_manifests(one_parcel_day: Path, tmp_path: Path) -> None:
    other = tmp_path / "next.csv"
    other.write_text(HEADER + NEXT_DAY, encoding="utf-8")
    plan = one_parcel_day / "out" / "plan.json"
    r = run("validate", str(plan), str(other))
    assert r.returncode == 2, r.stdout + r.stderr
    assert "none of the plan's 1 parcels is in the manifests given (next.csv" in r.stderr
    assert f"the plan is for {DAY}" in r.stderr
    assert r.stdout == ""  # no violation lines


def test_replan_names_the_manifests_not_the_events(one_parcel_day: Path, tmp_path: Path) -> None:
    other = tmp_path / "next.csv"
    other.write_text(HEADER + NEXT_DAY, encoding="utf-8")
    plan = one_parcel_day / "out" / "plan.json"
    r = run("replan", str(plan), str(other), "--event", BREAKDOWN, "--out", str(tmp_path / "v2"))
    assert r.returncode == 2, r.stderr
    assert "none of the plan's 1 parcels is in the manifests given (next.csv" in r.stderr
    assert "--event" not in r.stderr
    assert not (tmp_path / "v2").exists()


def test_sheets_names_another_days_manifests(one_parcel_day: Path, tmp_path: Path) -> None:
    other = tmp_path / "next.csv"
    other.write_text(HEADER + NEXT_DAY, encoding="utf-8")
    plan = one_parcel_day / "out" / "plan.json"
    r = run("sheets", str(plan), str(other), "--out", str(tmp_path / "papers"))
    assert r.returncode == 2, r.stderr
    assert "none of the plan's 1 parcels is in the manifests given (next.csv" in r.stderr
    assert not (tmp_path / "papers").exists()


@pytest.mark.parametrize("command", ["validate", "sheets"])
def test_another_countys_plan_names_the_county(
    command: str, one_parcel_day: Path, tmp_path: Path
) -> None:
    plan = one_parcel_day / "out" / "plan.json"
    out = ["--out", str(tmp_path / "papers")] if command == "sheets" else []
    r = run(command, str(plan), str(one_parcel_day / "day.csv"), "--county", str(KARHULA), *out)
    assert r.returncode == 2, r.stderr
    assert f"{plan}: a plan for 永川区, not Karhula: give its county folder (--county)" in r.stderr
    assert "unknown point" not in r.stderr


def test_a_late_batch_named_like_a_manifest_is_told_to_rename(
    one_parcel_day: Path, tmp_path: Path
) -> None:
    late = tmp_path / "day.csv"  # the carrier's late file, named as its morning one
    late.write_text(HEADER + GOOD.replace("ZT001", "ZT777"), encoding="utf-8")
    event = json.dumps({"type": "late_parcels", "manifest": str(late)})
    plan, day = one_parcel_day / "out" / "plan.json", one_parcel_day / "day.csv"
    r = run("replan", str(plan), str(day), "--event", event, "--out", str(tmp_path / "v2"))
    assert r.returncode == 2, r.stderr
    assert f"{late}: a late batch has the same file name as the plan's manifest {day}" in r.stderr
    event = json.dumps({"type": "late_parcels", "manifest": str(day)})
    r = run("replan", str(plan), str(day), "--event", event, "--out", str(tmp_path / "v2"))
    assert r.returncode == 2 and "a late batch is also one of the plan's manifests" in r.stderr


def test_the_same_days_manifests_still_validate(one_parcel_day: Path) -> None:
    plan = one_parcel_day / "out" / "plan.json"
    r = run("validate", str(plan), str(one_parcel_day / "day.csv"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(plan.read_text(encoding="utf-8"))["kpis"]["parcels"] == 1
