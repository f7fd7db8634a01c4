"""`ruraldispatch scans import` and `scans carry-over`, then `plan --carry-over` on the file."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.api.conftest import Keys, make_client
from tests.api.live import ROOT
from tests.api.scan_day import Day, plan_day, simulate, store_day

DAY = dt.date(2026, 3, 12)


@pytest.fixture(scope="module")
def day(county, tmp_path_factory: pytest.TempPathFactory) -> Day:
    return plan_day(county, tmp_path_factory.mktemp("cli-day"), 80, seed=9, date=DAY)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from api.cli import main; main()", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def write_csv(
    path: Path, rows: list[dict[str, str]], encoding: str = "utf-8", extra: tuple[str, ...] = ()
) -> None:
    columns = ["event_id", "tracking_no", "event", "time", "reason", "vehicle_id", *extra]
    with path.open("w", newline="", encoding=encoding) as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        writer.writerows(rows)


def test_gbk_csv_is_read_as_manifests_are(sqlite_url: str, tmp_path: Path) -> None:
    """A scan CSV saved by Excel in China (GBK) imports as the UTF-8 one would."""
    row = {
        "event_id": "scan-1",
        "tracking_no": "永川-甲-0001",
        "event": "delivered",
        "time": "2026-03-12T10:00:00+08:00",
    }
    noted = tmp_path / "noted.csv"
    write_csv(noted, [{**row, "备注": "放门卫"}], encoding="gbk", extra=("备注",))
    with pytest.raises(UnicodeDecodeError):
        noted.read_bytes().decode("utf-8")
    done = run("scans", "import", str(noted), "--db", sqlite_url)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{noted}: row 0: header: unknown 备注" in done.stdout + done.stderr
    scans = tmp_path / "scans.csv"
    write_csv(scans, [row], encoding="gbk")
    done = run("scans", "import", str(scans), "--db", sqlite_url)
    assert done.returncode == 3, done.stdout + done.stderr
    assert f"{scans}: row 1: no released plan for 2026-03-12" in done.stdout
    assert "0 stored, 0 already stored, 1 refused" in done.stdout


@pytest.mark.slow
def test_import_then_plan_the_next_day(sqlite_url: str, county, day: Day, tmp_path: Path) -> None:
    scans, truth = simulate(day, county.hub_id, fail_share=0.2, open_share=0.0, seed=4)
    rows = [
        {
            **{k: str(v) for k, v in s.event.items()},
            "reason": s.event.get("reason", ""),
            "vehicle_id": s.vehicle_id or "",
        }
        for s in scans
    ]
    with make_client(sqlite_url) as client:
        _, plan_id = store_day(client, Keys(client).dispatcher, day)
    bad = tmp_path / "bad.csv"
    write_csv(bad, [*rows[:3], {**rows[3], "time": "yesterday"}])
    done = run("scans", "import", str(bad), "--db", sqlite_url)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{bad}: row 4: time:" in done.stderr and "nothing was imported" in done.stderr
    good = tmp_path / "scans.csv"
    foreign = {**rows[0], "event_id": "x-1", "tracking_no": "NOT-A-PARCEL"}
    write_csv(good, [*rows, foreign])
    done = run("scans", "import", str(good), "--db", sqlite_url)
    assert done.returncode == 3, done.stdout + done.stderr
    assert f"{len(rows)} stored, 0 already stored, 1 refused" in done.stdout
    assert f"row {len(rows) + 1}: NOT-A-PARCEL is not in the released plan" in done.stdout
    again = run("scans", "import", str(good), "--db", sqlite_url)
    assert f"0 stored, {len(rows)} already stored, 1 refused" in again.stdout

    handed = tmp_path / "handed.json"
    back = tmp_path / "returns.json"
    done = run(
        "scans",
        "carry-over",
        plan_id,
        "--out",
        str(handed),
        "--returns",
        str(back),
        "--db",
        sqlite_url,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    previous = json.loads(handed.read_text(encoding="utf-8"))
    retry = {t for t, (reason, _) in truth.failed.items() if reason not in ("refused", "damaged")}
    failed = {c["tracking_no"] for c in previous["carry_over"] if c["why"] == "failed"}
    assert failed == retry
    returned = json.loads(back.read_text(encoding="utf-8"))
    assert {r["tracking_no"] for r in returned} == set(truth.failed) - retry

    tomorrow = plan_day(county, tmp_path, 20, seed=12, date=DAY + dt.timedelta(days=1))
    manifest = tmp_path / "tomorrow.csv"
    manifest.write_bytes(tomorrow.csv)
    out = tmp_path / "next"
    done = run(
        "plan",
        str(manifest),
        "--out",
        str(out),
        "--carry-over",
        str(handed),
        "--date",
        str(tomorrow.date),
        "--time-limit",
        "8",
        "--mode",
        "via_station",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert retry <= {c["parcel_id"] for c in plan["carried_in"]}
