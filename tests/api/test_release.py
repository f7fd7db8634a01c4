"""Plan release and the station role: drivers and stations read released plans only, a
driver its vehicle's routes, a station the routes that start or transfer there and the
loading lists of the trips leaving it; the plan's workbook and loading lists over HTTP."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.auth import create_key
from tests.api.conftest import DAY, Keys, make_client, manifest_bytes, state
from tests.api.test_plans import TERMINAL, start, upload, wait_for


def _stations_used(plan: dict[str, Any]) -> list[str]:
    """Stations that are the depot of an echelon-2 route."""
    return sorted({r["depot"] for r in plan["routes"] if r["echelon"] == 2})


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A running app with one done via-station plan (module-wide: planning takes seconds)."""
    from geodata.county import load_county

    folder = tmp_path_factory.mktemp("release")
    client = make_client(f"sqlite:///{folder / 'rd.sqlite3'}")
    with client:
        keys = Keys(client)
        data = manifest_bytes(load_county(), folder, 250, seed=21)
        mid = upload(client, keys, data, "a.csv")
        body = {
            "date": DAY.isoformat(),
            "manifest_ids": [mid],
            "time_limit_s": 3,
            "mode": "via_station",
        }
        r = client.post("/v1/plans", json=body, headers=keys.dispatcher)
        assert r.status_code == 202, r.text
        job = wait_for(client, keys, r.json()["plan_id"], TERMINAL)
        assert job["status"] == "done", job
        assert _stations_used(job["plan"]), "the via-station plan should use a station"
        yield client, keys, job["plan"]


def test_drivers_and_stations_see_released_plans_only(day: Any) -> None:
    client, keys, plan = day
    pid = plan["plan_id"]
    route = plan["routes"][0]
    driver = keys.header("driver", route["vehicle_id"])
    station = _station_key(client, plan)
    sheet = f"/v1/plans/{pid}/routes/{route['route_id']}/sheet.csv"

    def listed(header: dict[str, str]) -> list[str]:
        r = client.get("/v1/plans", headers=header)
        assert r.status_code == 200, r.text
        return [p["plan_id"] for p in r.json()["plans"]]

    if client.get(f"/v1/plans/{pid}", headers=keys.planner).json()["released_at"] is None:
        assert listed(driver) == [] and listed(station) == []
        refused = client.get(sheet, headers=driver)
        assert refused.status_code == 403
        assert "not released" in refused.json()["detail"]
        assert client.get(f"/v1/plans/{pid}/routes", headers=station).status_code == 403
        assert client.post(f"/v1/plans/{pid}/release", headers=keys.planner).status_code == 403
        assert client.post(f"/v1/plans/{pid}/release", headers=driver).status_code == 403
    first = client.post(f"/v1/plans/{pid}/release", headers=keys.dispatcher)
    assert first.status_code == 200, first.text
    again = client.post(f"/v1/plans/{pid}/release", headers=keys.dispatcher)
    assert again.json() == first.json()
    assert first.json()["released_by"] == keys.dispatcher["Authorization"].split("_")[1]
    head = client.get(f"/v1/plans/{pid}", headers=keys.planner).json()
    assert head["released_at"] == first.json()["released_at"]
    assert listed(driver) == [pid] and listed(station) == [pid]
    assert client.get(sheet, headers=driver).status_code == 200
    assert client.post("/v1/plans/p_nope/release", headers=keys.dispatcher).status_code == 404


def _station_key(client: TestClient, plan: dict[str, Any], index: int = 0) -> dict[str, str]:
    engine = state(client).engine
    station = _stations_used(plan)[index]
    return {"Authorization": f"Bearer {create_key(engine, 'station', None, station)}"}


def test_release_refuses_a_plan_not_done(sqlite_url: str, county, manifest_dir: Path) -> None:
    with make_client(sqlite_url) as client:
        keys = Keys(client)
        mid = upload(client, keys, manifest_bytes(county, manifest_dir, 30, seed=5), "c.csv")
        plan_id = start(client, keys, [mid], 30)
        assert client.delete(f"/v1/plans/{plan_id}", headers=keys.dispatcher).status_code == 200
        r = client.post(f"/v1/plans/{plan_id}/release", headers=keys.dispatcher)
        assert r.status_code == 409
        assert "cancelled" in r.json()["detail"]


def test_route_index_and_papers_per_role(day: Any) -> None:
    client, keys, plan = day
    pid = plan["plan_id"]
    assert client.post(f"/v1/plans/{pid}/release", headers=keys.dispatcher).status_code == 200
    station_id = _stations_used(plan)[0]
    station = _station_key(client, plan)
    everything = client.get(f"/v1/plans/{pid}/routes", headers=keys.planner).json()
    assert [r["route_id"] for r in everything["routes"]] == [r["route_id"] for r in plan["routes"]]

    starts = {r["route_id"] for r in plan["routes"] if r["depot"] == station_id}
    transfers = {
        r["route_id"]
        for r in plan["routes"]
        if any(s["point_id"] == station_id and (s["load"] or s["drop"]) for s in r["stops"][1:])
    }
    assert starts and transfers, "a via-station plan feeds the station and leaves from it"
    seen = client.get(f"/v1/plans/{pid}/routes", headers=station).json()["routes"]
    assert {r["route_id"] for r in seen} == starts | transfers
    other = next(
        r for r in plan["routes"] if r["route_id"] not in starts | transfers
    )  # the hub's direct runs or another station's van
    base = f"/v1/plans/{pid}/routes"
    assert client.get(f"{base}/{other['route_id']}/sheet.pdf", headers=station).status_code == 403
    for r in seen:
        links = r["links"]
        assert client.get(links["csv"], headers=station).status_code == 200
        if r["route_id"] in starts and links["loading_csv"]:
            loading = client.get(links["loading_csv"], headers=station)
            assert loading.status_code == 200, loading.text
            rows = list(csv.reader(io.StringIO(loading.content.decode("utf-8-sig"))))
            assert rows[0][0].startswith("装车顺序")
            seqs = [int(row[1]) for row in rows[1:]]
            assert seqs == sorted(seqs, reverse=True), "last stop's parcels are loaded first"
        elif r["route_id"] not in starts:
            assert links["loading_csv"] is None  # a feeder's loading list is the hub's
    feeder = sorted(transfers - starts)[0]
    refused = client.get(f"{base}/{feeder}/loading.csv", headers=station)
    assert refused.status_code == 403
    assert station_id in refused.json()["detail"]
    assert client.get(f"{base}/{feeder}/loading.pdf", headers=keys.planner).content[:4] == b"%PDF"

    van = next(r for r in plan["routes"] if r["route_id"] in starts)
    driver = keys.header("driver", van["vehicle_id"])
    mine = client.get(f"/v1/plans/{pid}/routes", headers=driver).json()["routes"]
    assert {r["vehicle_id"] for r in mine} == {van["vehicle_id"]}
    assert client.get(f"{base}/{feeder}/loading.csv", headers=driver).status_code == 403


def test_plan_workbook_over_http(day: Any) -> None:
    from openpyxl import load_workbook

    client, keys, plan = day
    pid = plan["plan_id"]
    r = client.get(f"/v1/plans/{pid}/plan.xlsx", headers=keys.planner)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(r.content), read_only=True)
    assert len(book.sheetnames) == len(plan["routes"]) + 2  # summary, routes, unassigned
    driver = keys.header("driver", plan["routes"][0]["vehicle_id"])
    assert client.get(f"/v1/plans/{pid}/plan.xlsx", headers=driver).status_code == 403
    assert client.get("/v1/plans/p_nope/plan.xlsx", headers=keys.planner).status_code == 404


def test_station_keys_need_a_station_of_the_county(tmp_path: Path) -> None:
    from api.cli import app

    db = f"sqlite:///{tmp_path / 'rd.sqlite3'}"
    runner = CliRunner()
    village = "500118001201"
    bad = runner.invoke(
        app, ["keys", "create", "--role", "station", "--station", village, "--db", db]
    )
    assert bad.exit_code == 2
    assert "not a town station" in bad.output
    missing = runner.invoke(app, ["keys", "create", "--role", "station", "--db", db])
    assert missing.exit_code == 2 and "--station" in missing.output
    ok = runner.invoke(
        app, ["keys", "create", "--role", "station", "--station", "500118001", "--db", db]
    )
    assert ok.exit_code == 0, ok.output
    assert ok.output.strip().splitlines()[-1].startswith("rdk_")
    listed = runner.invoke(app, ["keys", "list", "--db", db])
    assert "500118001" in listed.output and "station" in listed.output


def test_driver_keys_need_a_vehicle_of_the_fleet(tmp_path: Path) -> None:
    from api.cli import app

    db = f"sqlite:///{tmp_path / 'rd.sqlite3'}"
    runner = CliRunner()
    typo = runner.invoke(
        app, ["keys", "create", "--role", "driver", "--vehicle", "HUB-R1", "--db", db]
    )
    assert typo.exit_code == 2
    assert "--vehicle HUB-R1 is not a vehicle of the fleet in force" in typo.output
    ok = runner.invoke(
        app, ["keys", "create", "--role", "driver", "--vehicle", "HUB-R01", "--db", db]
    )
    assert ok.exit_code == 0, ok.output
    assert "HUB-R1 " not in runner.invoke(app, ["keys", "list", "--db", db]).output
