"""docs/plan.schema.json: generated from the model, committed, and what plans must pass."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from dispatch.plan_schema import SCHEMA_PATH, schema_text
from tests.dispatch.plan_fixture import make_plan, route
from tests.dispatch.plan_json import SCHEMA, assert_schema_valid

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_schema_is_the_generated_one() -> None:
    assert SCHEMA == ROOT / SCHEMA_PATH
    assert SCHEMA.read_text(encoding="utf-8") == schema_text(), (
        "docs/plan.schema.json is out of date: run `python -m dispatch.plan_schema`"
    )
    check = [sys.executable, "-m", "dispatch.plan_schema", "--check"]
    assert subprocess.run(check, cwd=ROOT, capture_output=True).returncode == 0


def test_the_check_reports_a_stale_file(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / SCHEMA_PATH).write_text("{}\n", encoding="utf-8")
    check = [sys.executable, "-m", "dispatch.plan_schema", "--check"]
    done = subprocess.run(
        check, cwd=tmp_path, capture_output=True, text=True, env={"PYTHONPATH": str(ROOT)}
    )
    assert done.returncode == 1 and "out of date" in done.stderr


def test_the_hand_written_plan_passes() -> None:
    assert_schema_valid(make_plan())


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p.pop("kpis"),
        lambda p: p.update(status="done"),
        lambda p: route(p, "R001").update(echelon=3),
        lambda p: route(p, "R001")["stops"][0].update(load="P1"),
        lambda p: route(p, "R001").update(colour="red"),
        lambda p: p["carry_over"][0].update(why="lost"),
        lambda p: p["kpis"]["towns"][0].pop("direct"),
    ],
)
def test_a_broken_plan_fails(change: object) -> None:
    plan = copy.deepcopy(make_plan())
    change(plan)  # type: ignore[operator]
    with pytest.raises(AssertionError):
        assert_schema_valid(plan)


def test_the_schema_names_every_part() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["title"] == "Plan"
    assert {"Route", "Stop", "Vehicle", "Unassigned", "Kpis", "Driver", "Held"} <= set(
        schema["$defs"]
    )
    assert "break" in schema["$defs"]["Route"]["properties"]
