"""Scan events through the API: a simulated day recomputed independently, idempotency,
refusals per index, drivers' rights, the trace, a re-plan in the middle of the day and the
failed deliveries handed to the next day's carry-over (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.auth import create_key
from tests.api.conftest import Keys, make_client
from tests.api.scan_day import Day, Scan, at, legs, plan_day, simulate, store_day, store_plan

DAY = dt.date(2026, 3, 9)
TOLERANCE_S = 1800  # the on-time tolerance the README states


@pytest.fixture(scope="module")
def day(county, tmp_path_factory: pytest.TempPathFactory) -> Day:
    return plan_day(county, tmp_path_factory.mktemp("scan-day"), 160, seed=5, date=DAY)


def upload(
    client: TestClient, keys: Keys, scans: list[Scan], batch: int = 50, seed: int = 1
) -> list[dict[str, Any]]:
    """Upload the scans by each driver's own key, in random order, in batches."""
    order = list(scans)
    random.Random(seed).shuffle(order)
    per_vehicle: dict[str | None, list[Scan]] = defaultdict(list)
    for s in order:
        per_vehicle[s.vehicle_id].append(s)
    answers = []
    for vehicle, mine in per_vehicle.items():
        header = keys.header("driver", vehicle) if vehicle else keys.dispatcher
        for k in range(0, len(mine), batch):
            body = {"events": [s.event for s in mine[k : k + batch]]}
            r = client.post("/v1/scans", json=body, headers=header)
            assert r.status_code == 200, r.text
            answers.append(r.json())
    return answers


def expected(day: Day, truth: Any, town_of: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Per town, recomputed from the plan and the simulation's truth alone."""
    rows: dict[str, dict[str, Any]] = defaultdict(
        lambda: {
            "deliveries": 0,
            "delivered": 0,
            "on_time": 0,
            "pickups": 0,
            "collected": 0,
            "failed": Counter(),
            "open": 0,
        }
    )
    by_id = day.by_id
    for t, chain in legs(day.plan).items():
        p = by_id[t]
        row = rows[town_of[p.point_id]]
        if p.kind == "delivery":
            row["deliveries"] += 1
            if t in truth.delivered_s:
                row["delivered"] += 1
                arrival = next(g["drop_s"] for g in reversed(chain) if g["to"] == p.point_id)
                row["on_time"] += truth.delivered_s[t] <= arrival + TOLERANCE_S
        else:
            row["pickups"] += 1
            row["collected"] += t in truth.collected_s
        if t in truth.failed:
            row["failed"][truth.failed[t][0]] += 1
        row["open"] += t in truth.open
    return rows


def planned_equal_shares(plan: dict[str, Any]) -> dict[str, float]:
    """Each parcel's planned cost: every route's cost shared equally among the parcels it
    loads or drops away from its depot."""
    share: dict[str, float] = defaultdict(float)
    for r in plan["routes"]:
        handled = {t for s in r["stops"][1:-1] for t in (*s["load"], *s["drop"])}
        for t in handled:
            share[t] += r["cost_fen"] / len(handled)
    return share


def check_assessment(
    day: Day, truth: Any, town_of: dict[str, str], got: dict[str, Any], xlsx: bytes
) -> None:
    """The assessment against figures recomputed from the plan and the truth."""
    import io

    from openpyxl import load_workbook

    rows = expected(day, truth, town_of)
    share = planned_equal_shares(day.plan)
    cost: dict[str, float] = defaultdict(float)
    produce_g: dict[str, int] = defaultdict(int)
    for t in legs(day.plan):
        p = day.by_id[t]
        cost[town_of[p.point_id]] += share[t]
        if t in truth.collected_s:
            produce_g[town_of[p.point_id]] += p.weight_g
    assert got["days"] == [DAY.isoformat()]
    towns = {t["town_id"]: t for t in got["towns"]}
    assert set(towns) == set(rows)
    for town, w in rows.items():
        g = towns[town]
        carried = w["deliveries"] + w["pickups"]
        assert g["delivered"] == w["delivered"] and g["collected"] == w["collected"]
        assert g["on_time_share"] == (
            round(w["on_time"] / w["deliveries"], 4) if w["deliveries"] else None
        )
        assert g["failure_rate"] == {r: round(n / carried, 4) for r, n in w["failed"].items()}
        assert g["planned_cost_per_parcel_fen"] == round(cost[town] / carried)
        assert g["produce_shipped"] == w["collected"]
        assert g["produce_shipped_kg"] == round(produce_g[town] / 1000, 3)
    sheet = load_workbook(io.BytesIO(xlsx)).active
    assert sheet.title == "乡镇考核"
    header = [c.value for c in sheet[3]]
    assert header[:5] == [
        "乡镇编码 Town ID",
        "乡镇 Town",
        "送达 Delivered",
        "揽收 Collected",
        "准时率 On-time share",
    ]
    first = got["towns"][0]
    assert [c.value for c in sheet[4]][:4] == [
        first["town_id"],
        first["name"],
        first["delivered"],
        first["collected"],
    ]


def check_settlement(day: Day, truth: Any, got: dict[str, Any], xlsx: bytes) -> None:
    """Per carrier counts from the truth; the shares add up to the routes' cost."""
    import io

    from openpyxl import load_workbook

    carried: Counter[str] = Counter()
    delivered: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for t in legs(day.plan):
        c = day.by_id[t].carrier
        carried[c] += 1
        delivered[c] += t in truth.delivered_s
        failed[c] += t in truth.failed
    carriers = {c["carrier"]: c for c in got["carriers"]}
    assert set(carriers) == set(carried)
    for c, row in carriers.items():
        assert row["carried"] == carried[c]
        assert row["delivered"] == delivered[c]
        assert row["failed_total"] == failed[c]
    route_cost = sum(
        r["cost_fen"]
        for r in day.plan["routes"]
        if any(s["load"] or s["drop"] for s in r["stops"][1:-1])
    )
    assert abs(sum(c["cost_fen"] for c in got["carriers"]) - route_cost) <= len(carriers)
    assert "1/3 by weight" in got["rule"]
    book = load_workbook(io.BytesIO(xlsx))
    assert book.sheetnames == ["承运商结算", "分乡镇"]
    assert book["承运商结算"].cell(row=4, column=1).value == got["carriers"][0]["carrier"]


def test_simulated_day_matches_an_independent_count(db_url: str, county, day: Day) -> None:
    town_of = {p.point_id: p.town_id for p in county.points}
    scans, truth = simulate(day, county.hub_id, fail_share=0.15, late_routes=0.3)
    assert truth.failed and truth.open and truth.delivered_s
    with make_client(db_url) as client:
        keys = Keys(client)
        store_day(client, keys.dispatcher, day)
        answers = upload(client, keys, scans)
        refused = [r for a in answers for r in a["results"] if r["status"] != "stored"]
        assert refused == []
        assert sum(a["stored"] for a in answers) == len(scans)
        r = client.get("/v1/actuals", params={"date": DAY.isoformat()}, headers=keys.planner)
        assert r.status_code == 200, r.text
        report = r.json()
        period = {"from": (DAY - dt.timedelta(days=3)).isoformat(), "to": DAY.isoformat()}
        r = client.get("/v1/assessment", params=period, headers=keys.planner)
        assert r.status_code == 200, r.text
        assessment = r.json()
        xlsx = client.get(
            "/v1/assessment", params={**period, "format": "xlsx"}, headers=keys.planner
        )
        assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
        settlement = client.get("/v1/settlement", params=period, headers=keys.planner).json()
        settlement_xlsx = client.get(
            "/v1/settlement", params={**period, "format": "xlsx"}, headers=keys.planner
        )
        bad = client.get(
            "/v1/assessment",
            params={"from": "2026-03-09", "to": "2026-03-01"},
            headers=keys.planner,
        )
        assert bad.status_code == 422
    check_assessment(day, truth, town_of, assessment, xlsx.content)
    check_settlement(day, truth, settlement, settlement_xlsx.content)
    # the assessment adds up the towns' rows alone; over one day they are the report's
    by_town = {row["town_id"]: row for row in report["towns"]}
    for town in assessment["towns"]:
        row = by_town[town["town_id"]]
        for k in ("delivered", "on_time", "collected", "open", "failed", "planned_deliveries"):
            assert town[k] == row[k], (town["town_id"], k)
    want = expected(day, truth, town_of)
    got = {row["town_id"]: row for row in report["towns"]}
    assert set(got) == set(want)
    for town, w in want.items():
        g = got[town]
        assert g["planned_deliveries"] == w["deliveries"], town
        assert g["delivered"] == w["delivered"], town
        assert g["on_time"] == w["on_time"], town
        assert g["planned_pickups"] == w["pickups"], town
        assert g["collected"] == w["collected"], town
        assert g["failed"] == dict(w["failed"]), town
        assert g["open"] == w["open"], town
        carried = w["deliveries"] + w["pickups"]
        for reason, n in w["failed"].items():
            assert g["failure_rate"][reason] == round(n / carried, 4)
    late = sum(w["delivered"] - w["on_time"] for w in want.values())
    assert late > 0, "the simulation made some deliveries late"
    returns = {(x["tracking_no"], x["reason"]) for x in report["returns"]}
    assert returns == {
        (t, reason) for t, (reason, _) in truth.failed.items() if reason in ("refused", "damaged")
    }


def test_batches_are_idempotent_and_refused_per_index(db_url: str, county, day: Day) -> None:
    scans, _ = simulate(day, county.hub_id, fail_share=0.0, open_share=0.0)
    vehicle = scans[0].vehicle_id
    mine = [s for s in scans if s.vehicle_id == vehicle]
    chains = legs(day.plan)
    other = next(
        s for s in scans if vehicle not in {g["vehicle"] for g in chains[s.event["tracking_no"]]}
    )
    with make_client(db_url) as client:
        keys = Keys(client)
        mid, _ = store_day(client, keys.dispatcher, day)
        later = DAY + dt.timedelta(days=3)  # a plan made but not released: not scanned against
        store_plan(client, later, {**day.plan, "date": later.isoformat()}, [mid], released=False)
        driver = keys.header("driver", vehicle)
        body = {"events": [s.event for s in mine]}
        first = client.post("/v1/scans", json=body, headers=driver).json()
        assert first["stored"] == len(mine) and first["refused"] == 0
        again = client.post("/v1/scans", json=body, headers=driver).json()
        assert again["duplicates"] == len(mine) and again["stored"] == 0
        # a new phone key of the same driver re-sends its queue: still duplicates
        resent = client.post("/v1/scans", json=body, headers=keys.header("driver", vehicle))
        assert resent.json()["duplicates"] == len(mine)
        delivered = next(s for s in mine if s.event["event"] == "delivered")
        loaded = next(
            s
            for s in mine
            if s.event["event"] == "loaded"
            and s.event["tracking_no"] == delivered.event["tracking_no"]
        )
        late_time = dt.datetime.fromisoformat(delivered.event["time"]) + dt.timedelta(hours=2)
        bad = [
            {**mine[0].event, "time": at(DAY, 3600)},  # same id, other content
            {**other.event, "event_id": uuid.uuid4().hex},  # another vehicle's parcel
            {**delivered.event, "event_id": uuid.uuid4().hex, "tracking_no": "NO-SUCH-1"},
            {  # delivered a second time
                **delivered.event,
                "event_id": uuid.uuid4().hex,
                "time": late_time.isoformat(),
            },
            {  # failed long after it was delivered
                **delivered.event,
                "event_id": uuid.uuid4().hex,
                "event": "failed",
                "reason": "recipient_absent",
                "time": late_time.isoformat(),
            },
            {  # in the future
                **loaded.event,
                "event_id": uuid.uuid4().hex,
                "time": (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat(),
            },
            {  # failed without a reason
                **delivered.event,
                "event_id": uuid.uuid4().hex,
                "event": "failed",
            },
            {  # a day without a released plan
                **loaded.event,
                "event_id": uuid.uuid4().hex,
                "time": at(DAY + dt.timedelta(days=3), 40_000),
            },
        ]
        good = {  # loaded again (another crew scan), within the tolerance: fine
            **loaded.event,
            "event_id": uuid.uuid4().hex,
        }
        r = client.post("/v1/scans", json={"events": [*bad, good]}, headers=driver)
        assert r.status_code == 200, r.text
        out = r.json()
        statuses = [x["status"] for x in out["results"]]
        assert statuses == ["refused"] * len(bad) + ["stored"], out
        details = [x["detail"] for x in out["results"][: len(bad)]]
        assert "different event" in details[0]
        assert f"vehicle {vehicle}" in details[1]
        assert "not in the released plan" in details[2]
        assert "already delivered" in details[3]
        assert "after delivered" in details[4]
        assert "in the future" in details[5]
        assert "needs a reason" in details[6]
        assert "no released plan" in details[7]
        # by their own times: unloaded at a station two hours after it was delivered
        t2 = next(
            t
            for t, c in chains.items()
            if len(c) == 2
            and vehicle not in {g["vehicle"] for g in c}
            and day.by_id[t].kind == "delivery"
        )
        first = {
            "event_id": uuid.uuid4().hex,
            "tracking_no": t2,
            "event": "delivered",
            "time": at(DAY, 43_200),
        }
        then = {
            "event_id": uuid.uuid4().hex,
            "tracking_no": t2,
            "event": "unloaded_at_station",
            "time": at(DAY, 43_200 + 7200),
        }
        r = client.post("/v1/scans", json={"events": [first, then]}, headers=keys.dispatcher)
        assert [x["status"] for x in r.json()["results"]] == ["stored", "refused"]
        assert (
            "delivered at 12:00:00 is before unloaded_at_station at 14:00:00"
            in (r.json()["results"][1]["detail"])
        )
        t = delivered.event["tracking_no"]
        # schema errors refuse the batch (a client bug, not data): 422 naming the field
        r = client.post(
            "/v1/scans",
            json={"events": [{**good, "time": "2026-03-09T10:00:00"}]},
            headers=driver,
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"].startswith("body.events[0]")
        planner = client.post("/v1/scans", json={"events": [good]}, headers=keys.planner)
        assert planner.status_code == 403
        # a station crew scans what passes its station, and only that
        station_parcel, station = next(
            (t, c[0]["to"])
            for t, c in chains.items()
            if len(c) == 2 and day.by_id[t].kind == "delivery"
        )
        crew = {"Authorization": "Bearer " + create_key(keys.engine, "station", None, station)}
        away = next(
            t
            for t, c in chains.items()
            if station not in {p for g in c for p in (g["from"], g["to"])}
            and day.by_id[t].point_id != station
        )
        unload = {
            "event_id": uuid.uuid4().hex,
            "event": "unloaded_at_station",
            "time": at(DAY, chains[station_parcel][0]["drop_s"]),
        }
        r = client.post(
            "/v1/scans",
            json={
                "events": [
                    {**unload, "tracking_no": station_parcel},
                    {**unload, "event_id": uuid.uuid4().hex, "tracking_no": away},
                ]
            },
            headers=crew,
        )
        assert [x["status"] for x in r.json()["results"]] == ["stored", "refused"], r.text
        assert f"does not pass station {station}" in r.json()["results"][1]["detail"]
        trace = client.get(f"/v1/parcels/{t}", headers=driver)
        assert trace.status_code == 200
        assert (
            client.get(f"/v1/parcels/{other.event['tracking_no']}", headers=driver).status_code
            == 403
        )


def test_trace_and_order_of_arrival(db_url: str, county, day: Day) -> None:
    """A loaded scan arriving after the delivered one is judged by its time."""
    scans, _ = simulate(day, county.hub_id, fail_share=0.0, open_share=0.0)
    by_parcel: dict[str, list[Scan]] = defaultdict(list)
    for s in scans:
        by_parcel[s.event["tracking_no"]].append(s)
    t, chain = next((t, c) for t, c in legs(day.plan).items() if len(c) == 2)
    mine = by_parcel[t]
    with make_client(db_url) as client:
        keys = Keys(client)
        store_day(client, keys.dispatcher, day)
        for s in reversed(mine):  # last event first
            r = client.post(
                "/v1/scans", json={"events": [s.event]}, headers=keys.header("driver", s.vehicle_id)
            )
            assert r.json()["stored"] == 1, r.text
        trace = client.get(f"/v1/parcels/{t}", headers=keys.dispatcher).json()
        assert client.get("/v1/parcels/NOPE", headers=keys.dispatcher).status_code == 404
    (d,) = trace["days"]
    assert [(g["route_id"], g["vehicle_id"]) for g in d["planned"]] == [
        (g["route"], g["vehicle"]) for g in chain
    ]
    assert d["planned"][0]["from_point"] == county.hub_id
    assert d["planned"][0]["from_name"]
    assert [x["event"] for x in d["scans"]] == [s.event["event"] for s in mine]
    assert trace["now"]["state"] == "delivered"
    assert trace["now"]["point_id"] == day.by_id[t].point_id


def test_replan_mid_day_keeps_scans_on_their_parcels(db_url: str, county, day: Day) -> None:
    """Scans before a re-plan and after it (on the new plan's vehicles) land on the parcels."""
    from dispatch.plan import read_plan
    from dispatch.service import replan
    from dispatch.workspace import Workspace

    ws = Workspace.load()
    chains = legs(day.plan)
    # a vehicle breaks down before its first trip, after other vehicles have left
    starts = sorted(r["stops"][0]["arrival_s"] for r in day.plan["routes"])
    e2 = min(
        (r for r in day.plan["routes"] if r["stops"][0]["arrival_s"] >= starts[0] + 1800),
        key=lambda r: (-len(r["stops"][0]["load"]), r["route_id"]),
    )
    cut_s = e2["stops"][0]["arrival_s"] - 60
    event = {"type": "breakdown", "vehicle_id": e2["vehicle_id"], "time_s": cut_s}
    new = replan(ws, read_plan(day.plan), day.parcels, [event], time_limit_s=4).to_json()
    new_chains = legs(new)
    moved = [
        t
        for t in e2["stops"][0]["load"]
        if t in new_chains
        and new_chains[t][-1]["vehicle"] != e2["vehicle_id"]
        and new_chains[t][-1]["to"] == day.by_id[t].point_id
    ]
    assert moved, "the re-plan gives the broken-down van's parcels to other vehicles"
    before = [
        (t, chains[t][0])
        for t in chains
        if chains[t][0]["load_s"] < cut_s
        and t in new_chains
        and e2["vehicle_id"] not in {g["vehicle"] for g in chains[t]}
    ][:5]
    with make_client(db_url) as client:
        keys = Keys(client)
        mid, first_id = store_day(client, keys.dispatcher, day)
        for t, g in before:  # the morning's loads, scanned on the first plan's vehicles
            r = client.post(
                "/v1/scans",
                json={
                    "events": [
                        {
                            "event_id": uuid.uuid4().hex,
                            "tracking_no": t,
                            "event": "loaded",
                            "time": at(DAY, g["load_s"]),
                        }
                    ]
                },
                headers=keys.header("driver", g["vehicle"]),
            )
            assert r.json()["stored"] == 1, r.text
        store_plan(client, DAY, new, [mid], version_of=first_id)
        # the broken-down vehicle's driver scans one of its parcels (before it broke down):
        # it was on its vehicle in a released version of the day
        late_upload = {
            "event_id": uuid.uuid4().hex,
            "tracking_no": e2["stops"][0]["load"][0],
            "event": "loaded",
            "time": at(DAY, cut_s - 120),
        }
        r = client.post(
            "/v1/scans",
            json={"events": [late_upload]},
            headers=keys.header("driver", e2["vehicle_id"]),
        )
        assert r.json()["stored"] == 1, r.text
        for t in moved[:5]:
            g = new_chains[t][-1]
            r = client.post(
                "/v1/scans",
                json={
                    "events": [
                        {
                            "event_id": uuid.uuid4().hex,
                            "tracking_no": t,
                            "event": "delivered",
                            "time": at(DAY, g["drop_s"]),
                        }
                    ]
                },
                headers=keys.header("driver", g["vehicle"]),
            )
            assert r.json()["stored"] == 1, r.text
        for t, _g in before:
            trace = client.get(f"/v1/parcels/{t}", headers=keys.dispatcher).json()
            (d,) = trace["days"]
            assert [x["event"] for x in d["scans"]] == ["loaded"]
            assert d["plan_id"] != first_id  # shown against the plan now in force
        for t in moved[:5]:
            trace = client.get(f"/v1/parcels/{t}", headers=keys.dispatcher).json()
            assert trace["now"]["state"] == "delivered"
            assert trace["days"][0]["planned"][-1]["vehicle_id"] == new_chains[t][-1]["vehicle"]
        report = client.get("/v1/actuals", params={"date": DAY.isoformat()}, headers=keys.planner)
        assert report.json()["total"]["delivered"] == len(moved[:5])


def test_failures_go_to_the_next_day(db_url: str, county, day: Day, tmp_path: Path) -> None:
    """Absent recipients and unknown addresses are carried over with their attempt count
    (through the same carry_over_plan_id as held produce); refused and damaged parcels are
    listed for the return run, not carried. The next day's plan is made by a real job."""
    from api.day_store import next_day_carry_over
    from api.deps import workspace
    from tests.api.test_plans import TERMINAL, wait_for

    scans, truth = simulate(day, county.hub_id, fail_share=0.2, open_share=0.0, seed=3)
    retry = {t for t, (reason, _) in truth.failed.items() if reason not in ("refused", "damaged")}
    back = {t for t, (reason, _) in truth.failed.items() if reason in ("refused", "damaged")}
    assert retry and back
    next_day = DAY + dt.timedelta(days=1)
    tomorrow = plan_day(county, tmp_path, 30, seed=8, date=next_day)
    with make_client(db_url) as client:
        keys = Keys(client)
        _, plan_id = store_day(client, keys.dispatcher, day)
        upload(client, keys, scans)
        r = client.get("/v1/actuals", params={"date": DAY.isoformat()}, headers=keys.planner)
        assert {x["tracking_no"] for x in r.json()["returns"]} == back
        r = client.post(
            "/v1/manifests",
            content=tomorrow.csv,
            headers={**keys.dispatcher, "Content-Type": "text/csv", "X-Filename": "d2.csv"},
        )
        body = {
            "date": next_day.isoformat(),
            "manifest_ids": [r.json()["manifest_id"]],
            "time_limit_s": 4,
            "mode": "via_station",
            "carry_over_plan_id": plan_id,
        }
        r = client.post("/v1/plans", json=body, headers=keys.dispatcher)
        assert r.status_code == 202, r.text
        job = wait_for(client, keys, r.json()["plan_id"], TERMINAL, timeout=180)
        assert job["status"] == "done", job
        t = sorted(retry)[0]
        trace = client.get(f"/v1/parcels/{t}", headers=keys.dispatcher).json()
        assert [d["date"] for d in trace["days"]] == [DAY.isoformat()]  # not released yet
        released = client.post(f"/v1/plans/{job['plan_id']}/release", headers=keys.dispatcher)
        assert released.status_code == 200, released.text
        carried = {c["parcel_id"]: c["at"] for c in job["plan"]["carried_in"]}
        handed = {c["tracking_no"] for c in day.plan["carry_over"]}
        assert set(carried) == retry | handed
        assert not back & set(carried)
        for t in retry:
            vehicle = truth.failed[t][1]
            depot = next(v["depot"] for v in day.plan["vehicles"] if v["vehicle_id"] == vehicle)
            want = day.by_id[t].point_id if day.by_id[t].kind == "pickup" else depot
            assert carried[t] == want, t
        trace = client.get(f"/v1/parcels/{t}", headers=keys.dispatcher).json()
        assert [d["date"] for d in trace["days"]] == [DAY.isoformat(), next_day.isoformat()]
        assert trace["days"][0]["scans"][-1]["event"] == "failed"
        assert trace["now"]["state"] == "failed_awaiting_reattempt"
        # it fails again the next day: its carry-over entry says two attempts
        planned = trace["days"][1]["planned"]
        if day.by_id[t].kind == "delivery":
            g = next(leg for leg in planned if leg["to_point"] == trace["point_id"])
            when = g["drop_s"]
        else:
            g, when = planned[0], planned[0]["load_s"]
        again = {
            "event_id": uuid.uuid4().hex,
            "tracking_no": t,
            "event": "failed",
            "reason": truth.failed[t][0],
            "time": at(next_day, when),
        }
        r = client.post(
            "/v1/scans", json={"events": [again]}, headers=keys.header("driver", g["vehicle_id"])
        )
        assert r.json()["stored"] == 1, r.text
        state = client.app.state  # type: ignore[attr-defined]
        handed_on = next_day_carry_over(state.engine, workspace(), state.day_facts, job["plan_id"])
        entry = next(c for c in handed_on["carry_over"] if c["tracking_no"] == t)
        assert entry["why"] == "failed" and entry["attempts"] == 2
