"""Changes of a re-plan against its base: per route stops added, removed, re-timed; whose
sheets changed."""

from __future__ import annotations

from dispatch.plan import read_plan
from dispatch.plan_changes import RETIME_S, StopChange, plan_changes
from tests.dispatch.plan_fixture import A, B, S, make_plan, route


def test_an_identical_plan_changes_nothing() -> None:
    plan = make_plan()
    changes = plan_changes(read_plan(plan), read_plan(make_plan()))
    assert [r.status for r in changes.routes] == ["unchanged"] * 3
    assert changes.drivers_changed == []


def test_stops_added_removed_and_retimed_per_route() -> None:
    old = make_plan()
    new = make_plan()
    new["plan_id"] = "v2"
    van = route(new, "R002")
    van["route_id"] = "R004"  # re-planned routes get fresh ids: paired by vehicle and trip
    dropped = van["stops"].pop(2)  # B no longer visited by the van ...
    van["stops"][1]["drop"] = [*van["stops"][1]["drop"], *dropped["drop"]]
    van["stops"][2]["arrival_s"] += RETIME_S  # ... and it is back a minute later
    truck = route(new, "R003")
    truck["stops"][1]["arrival_s"] += RETIME_S - 1  # less than a minute: not re-timed
    changes = plan_changes(read_plan(old), read_plan(new))
    by_old = {r.old_route_id: r for r in changes.routes}
    moved = by_old["R002"]
    assert (moved.new_route_id, moved.status) == ("R004", "changed")
    assert moved.removed == [StopChange(B, 31400, None)]
    assert moved.added == []
    assert moved.retimed == [StopChange(S, 32700, 32700 + RETIME_S)]
    assert by_old["R003"].status == "unchanged"
    assert by_old["R001"].status == "unchanged"
    assert changes.drivers_changed == ["VAN1"]


def test_routes_added_and_dropped_and_parcels_moved() -> None:
    old = make_plan()
    new = make_plan()
    new["routes"] = [r for r in new["routes"] if r["route_id"] != "R003"]
    feeder = route(new, "R001")
    feeder["stops"][2]["drop"] = []  # P4 now goes with the van from the station
    feeder["stops"][1]["drop"].append("P4")
    extra = dict(route(new, "R002"), route_id="R009", trip=2)
    extra["stops"] = [dict(s) for s in extra["stops"]]
    new["routes"].append(extra)
    changes = plan_changes(read_plan(old), read_plan(new))
    statuses = {(r.old_route_id, r.new_route_id): r.status for r in changes.routes}
    assert statuses[("R003", None)] == "removed"
    assert statuses[(None, "R009")] == "added"
    assert statuses[("R001", "R001")] == "changed"
    r001 = next(r for r in changes.routes if r.new_route_id == "R001")
    assert (r001.added, r001.removed, r001.retimed) == ([], [], [])
    assert r001.parcels_changed == 1  # P4 is handed over elsewhere
    added = next(r for r in changes.routes if r.new_route_id == "R009")
    assert [s.point_id for s in added.added] == [S, A, B, S]
    assert changes.drivers_changed == ["T1", "VAN1"]
    assert changes.as_json()["routes"][0]["vehicle_id"] == "T1"
