"""The typed plan model: read by attribute, a bad field named by its path, JSON unchanged."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from dispatch.plan import Break, Plan, PlanFormatError, Route, load_plan, read_plan
from tests.dispatch.plan_fixture import HUB, S, make_plan, route


def test_reads_the_plan() -> None:
    view = read_plan(make_plan())
    assert (view.plan_id, view.date, view.status, view.mode) == (
        "2024-05-20-test",
        dt.date(2024, 5, 20),
        "feasible",
        "via_station",
    )
    assert [r.route_id for r in view.routes] == ["R001", "R002", "R003"]
    r1 = view.route("R001")
    assert (r1.vehicle_id, r1.echelon, r1.trip, r1.depot, r1.distance_m) == ("T1", 1, 1, HUB, 42000)
    assert r1.stops[0].load == ["P1", "P2", "P3", "P4"]
    assert [s.point_id for s in r1.visits] == [S, "500118001202"]
    vehicle = view.vehicle("VAN1")
    assert vehicle is not None and vehicle.capacity_g == 20_000
    assert view.unassigned[0].code == "deferred_capacity"
    assert view.parcel_ids() == {"P1", "P2", "P3", "P4", "P5", "P6"}
    assert view.skipped_rows() == frozenset()
    assert route_of(view, "R003").break_ == Break(start_s=41400, end_s=43200)
    with pytest.raises(KeyError, match="R999"):
        view.route("R999")


def route_of(plan: Plan, route_id: str) -> Route:
    return plan.route(route_id)


def test_json_round_trip_is_unchanged() -> None:
    """Reading a plan and writing it again gives the same JSON, key order included."""
    raw = make_plan()
    raw["routes"][0]["ended"] = "breakdown"
    raw["version_of"] = "abc"
    raw["events"] = [{"time_s": 30000, "type": "breakdown", "vehicle_id": "T1"}]
    raw["invalid_rows"] = [{"file": "a.csv", "row": 3, "field": "kind", "message": "bad"}]
    again = read_plan(raw).to_json()
    assert json.dumps(again, ensure_ascii=False) == json.dumps(raw, ensure_ascii=False)


def _broken(change: Any) -> dict[str, Any]:
    plan = make_plan()
    change(plan)
    return plan


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.pop("routes"), r"^routes: missing"),
        (lambda p: p.update(colour="red"), r"^colour: Extra inputs are not permitted"),
        (
            lambda p: p["kpis"].update(parcels="6"),
            r"^kpis\.parcels: Input should be a valid integer",
        ),
        (
            lambda p: route(p, "R003").update({"break": {"start_s": 1}}),
            r"^routes\[2\]\.break\.end_s: missing",
        ),
        (lambda p: p.update(date="20 May"), r"^date: "),
        (
            lambda p: route(p, "R002")["stops"][1].pop("arrival_s"),
            r"routes\[1\]\.stops\[1\]\.arrival_s: missing",
        ),
        (
            lambda p: route(p, "R002")["stops"][1].update(drop="P1"),
            r"routes\[1\]\.stops\[1\]\.drop: Input should be a valid list",
        ),
        (
            lambda p: route(p, "R003").update(trip=True),
            r"routes\[2\]\.trip: Input should be a valid integer",
        ),
        (
            lambda p: route(p, "R003").update(route_id="R001"),
            r"routes\[2\]\.route_id: 'R001' appears twice",
        ),
        (
            lambda p: route(p, "R003").update(stops=[]),
            r"routes\[2\]\.stops: List should have at least 2 items",
        ),
        (
            lambda p: p["unassigned"].append(7),
            r"unassigned\[1\]: Input should be a valid dictionary",
        ),
        (
            lambda p: p.update(invalid_rows=[{"file": "a.csv", "field": "kind"}]),
            r"invalid_rows\[0\]\.row: missing",
        ),
    ],
)
def test_bad_fields_are_named(change: Any, message: str) -> None:
    with pytest.raises(PlanFormatError, match=message):
        read_plan(_broken(change))


def test_not_an_object() -> None:
    with pytest.raises(PlanFormatError, match=r"^plan: expected an object"):
        read_plan([1, 2])


def test_load_plan_names_the_file(tmp_path: Path) -> None:
    good = tmp_path / "plan.json"
    good.write_text(json.dumps(make_plan(), ensure_ascii=False), encoding="utf-8")
    assert load_plan(good).plan_id == "2024-05-20-test"
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(PlanFormatError, match=r"bad\.json: not JSON"):
        load_plan(bad)
    gbk = tmp_path / "gbk.json"
    gbk.write_bytes('{"x": "中文"}'.encode("gbk"))
    with pytest.raises(PlanFormatError, match=r"gbk\.json: not UTF-8"):
        load_plan(gbk)
    partial = tmp_path / "partial.json"
    partial.write_text('{"plan_id": "x"}', encoding="utf-8")
    with pytest.raises(PlanFormatError, match=r"partial\.json: date: missing"):
        load_plan(partial)
    with pytest.raises(PlanFormatError, match="cannot read"):
        load_plan(tmp_path / "absent.json")
