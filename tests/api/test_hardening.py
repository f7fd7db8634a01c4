"""Each finding of the hardening review (issue 12), reproduced through the API."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import socket
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from api.limits import Limits
from api.manifest_store import store_manifest
from dispatch.parcel import ManifestError
from dispatch.service import Workspace, parse_manifest_bytes
from tests.api.conftest import DAY, Keys, make_client, manifest_bytes, state
from tests.api.live import cli

HEADER = "tracking_no,carrier,kind,point_id,lon,lat,crs,weight_kg,volume_l,cold,due_date\n"
VILLAGE = "500118001001"


def _post_csv(client: TestClient, keys: Keys, data: bytes, **headers: str | bytes):
    h = {**keys.dispatcher, "Content-Type": "text/csv", **headers}
    return client.post("/v1/manifests", content=data, headers=h)


def _fields(r) -> set[str]:
    return {e["field"] for e in r.json()["errors"]}


def _done_plan(client: TestClient, keys: Keys, ids: list[str], **request: object) -> dict:
    body = {"date": DAY.isoformat(), "manifest_ids": ids, "time_limit_s": 1, **request}
    plan_id = client.post("/v1/plans", json=body, headers=keys.dispatcher).json()["plan_id"]
    deadline = time.monotonic() + 120
    while True:
        job = client.get(f"/v1/plans/{plan_id}", headers=keys.planner).json()
        if job["status"] not in ("queued", "running"):
            assert job["status"] == "done", job
            return dict(job)
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_bodies_are_capped_and_refused_before_the_key(sqlite_url: str) -> None:
    with make_client(sqlite_url) as client:
        keys = Keys(client)
        big = b"[" * (25 * 1024 * 1024)
        r = client.post("/v1/vroom", content=big, headers={"Content-Type": "application/json"})
        assert r.status_code == 401
        r = client.post("/v1/vroom", content=big, headers={**keys.planner, "Content-Type": "x"})
        assert r.status_code == 413 and "vroom_mb" in r.json()["detail"]
        bad = b'{"date": "2026-03-05", "manifest_ids": ["' + b"x" * 200_000 + b'"]}'
        json_ = {**keys.dispatcher, "Content-Type": "application/json"}
        r = client.post("/v1/plans", content=bad, headers=json_)
        assert r.status_code == 422 and len(r.content) < 2000  # the input is not echoed
        assert _fields(r) == {"body.manifest_ids[0]"}
        r = client.post("/v1/plans", content=b"[" * 300_000, headers=keys.dispatcher)
        assert r.status_code == 413 and "256 KB" in r.json()["detail"]
    with make_client(sqlite_url, limits=Limits(json_kb=1)) as client:
        keys = Keys(client)
        body = {"date": DAY.isoformat(), "manifest_ids": ["m_" + "a" * 60] * 20}
        assert client.post("/v1/plans", json=body, headers=keys.dispatcher).status_code == 413


def test_numbers_lists_and_fleet_are_bounded(db_url: str) -> None:
    with make_client(db_url) as client:
        keys = Keys(client)
        default = client.get("/v1/fleet", headers=keys.planner).text
        vtype = re.search(r"^type = \"([^\"]+)\"", default, re.M).group(1)  # type: ignore[union-attr]
        types = default.split("[[vehicles]]")[0]
        many = types + "".join(
            f'[[vehicles]]\nid_prefix = "X{i}-"\ncount = 1000\ntype = "{vtype}"\n'
            'depot = "HUB"\nshift = "07:00-18:00"\n'
            for i in range(10)
        )
        cases = {
            many: "vehicles",
            types: "vehicles",
            default.replace("max_trips = 1", "max_trips = 1000000", 1): "max_trips",
            re.sub(r"capacity_kg = [0-9.]+", "capacity_kg = 1e308", default, count=1): "capacity",
            "a = " + "[" * 100_000: "toml",
        }
        for text, field in cases.items():
            r = client.put("/v1/fleet", content=text.encode(), headers=keys.dispatcher)
            assert r.status_code == 422, (field, r.text[:300])
            assert field in r.json()["detail"], r.json()["detail"]
        plan = {"date": DAY.isoformat(), "manifest_ids": ["m_x"]}
        for limit in ("1e-300", "NaN", "Infinity", "-1", "3601"):
            raw = f'{{"date": "2026-03-05", "manifest_ids": ["m_x"], "time_limit_s": {limit}}}'
            r = client.post(
                "/v1/plans",
                content=raw.encode(),
                headers={**keys.dispatcher, "Content-Type": "application/json"},
            )
            assert r.status_code == 422 and _fields(r) == {"body.time_limit_s"}, (limit, r.text)
        many_ids = {**plan, "manifest_ids": [f"m_{i}" for i in range(70_000)]}
        r = client.post("/v1/plans", json=many_ids, headers=keys.dispatcher)
        assert r.status_code == 413  # 70,000 ids do not fit the JSON body cap
        r = client.post(
            "/v1/plans", json={**plan, "manifest_ids": ["m_1"] * 1001}, headers=keys.dispatcher
        )
        assert r.status_code == 422 and _fields(r) == {"body.manifest_ids"}
        r = client.post(
            "/v1/plans", json={**plan, "manifest_ids": ["m\x00"]}, headers=keys.dispatcher
        )
        assert r.status_code == 422
        for path in ("/v1/plans/p_%00x", "/v1/plans/" + "p" * 65):
            r = client.get(path, headers=keys.planner)
            assert r.status_code == 422 and _fields(r) == {"path.plan_id"}, r.text
        r = _post_csv(client, keys, b"x", **{"X-Filename": "a" * 300 + ".csv"})
        assert r.status_code == 422 and _fields(r) == {"X-Filename"}
        r = client.post("/v1/manifests", params={"filename": "a\x00.csv"}, headers=keys.dispatcher)
        assert r.status_code == 422
        problem = {
            "vehicles": [{"id": 1, "start": [105.9, 29.35], "capacity": [1e300]}],
            "jobs": [{"id": 1, "location": [105.91, 29.36], "delivery": [1e300]}],
        }
        r = client.post("/v1/vroom", json=problem, headers=keys.planner)
        assert r.status_code == 422
        assert _fields(r) == {"body.vehicles[0].capacity[0]", "body.jobs[0].delivery[0]"}


def _clashing_uploads(n: int) -> list[bytes]:
    """`n` different manifests that share tracking numbers T0..T4."""
    shared = "".join(f"T{i},中通,delivery,{VILLAGE},,,,1,1,0,{DAY}\n" for i in range(5))
    return [
        (HEADER + shared + f"U{k},中通,delivery,{VILLAGE},,,,1,1,0,{DAY}\n").encode()
        for k in range(n)
    ]


def test_concurrent_clashing_uploads_one_wins(db_url: str) -> None:
    with make_client(db_url) as client:
        engine = state(client).engine
        ws = Workspace.default()
        uploads = _clashing_uploads(20)
        outcomes: list[object] = []
        start = threading.Barrier(len(uploads))

        def upload(k: int, data: bytes) -> None:
            parcels = parse_manifest_bytes(ws, data, f"u{k}.csv")
            start.wait()
            try:
                outcomes.append(store_manifest(engine, data, f"u{k}.csv", parcels))
            except ManifestError as exc:
                outcomes.append(exc)

        threads = [threading.Thread(target=upload, args=(k, d)) for k, d in enumerate(uploads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        refused = [o for o in outcomes if isinstance(o, ManifestError)]
        assert len(outcomes) == 20 and len(refused) == 19
        for exc in refused:
            assert {(e.row, e.field) for e in exc.errors} == {
                (r, "tracking_no") for r in range(1, 6)
            }
        keys = Keys(client)
        assert len(client.get("/v1/manifests", headers=keys.dispatcher).json()["manifests"]) == 1


def test_replan_events_are_checked_and_sheets_are_formula_safe(
    sqlite_url: str, county, manifest_dir: Path
) -> None:
    rows = list(
        csv.DictReader(
            io.StringIO(manifest_bytes(county, manifest_dir, 30, 31).decode("utf-8-sig"))
        )
    )
    for i, row in enumerate(rows):
        row["carrier"] = ("=1+1", "+cmd|' /C calc'!A0", "@SUM(A1)", "-2+3")[i % 4]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    with make_client(sqlite_url) as client:
        keys = Keys(client)
        mid = _post_csv(client, keys, out.getvalue().encode()).json()["manifest_id"]
        late = _post_csv(client, keys, manifest_bytes(county, manifest_dir, 5, 32)).json()
        job = _done_plan(client, keys, [mid])
        plan_id, route = job["plan_id"], job["plan"]["routes"][0]
        cells = []
        for r in job["plan"]["routes"]:
            sheet = client.get(
                f"/v1/plans/{plan_id}/routes/{r['route_id']}/sheet.csv", headers=keys.planner
            )
            text = sheet.text.lstrip("\ufeff")
            cells += [c for row in csv.reader(io.StringIO(text)) for c in row]
        assert any("=1+1" in c for c in cells)
        assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]

        vid = route["vehicle_id"]
        tomorrow = (DAY + dt.timedelta(days=1)).isoformat()
        bad = {
            "events[0].time": {
                "type": "breakdown",
                "vehicle_id": vid,
                "time": f"{tomorrow}T09:30:00+08:00",
            },
            "events[0].vehicle_id": {"type": "breakdown", "vehicle_id": "NO-VAN", "time_s": 36000},
            "events[0].time_s": {"type": "breakdown", "vehicle_id": vid, "time_s": 90000},
            "events[0]": {"type": "breakdown", "vehicle_id": vid},
            "events[0].manifest_id": {"type": "late_parcels", "manifest_id": "m_nope"},
            "events[0].point_id": {"type": "point_closed", "point_id": "HUB"},
        }
        for field, event in bad.items():
            r = client.post(
                f"/v1/plans/{plan_id}/replan", json={"events": [event]}, headers=keys.dispatcher
            )
            assert r.status_code == 422, (field, r.text)
            assert field in {f.replace("body.", "") for f in _fields(r)}, (field, r.text)
        good = [
            {"type": "breakdown", "vehicle_id": vid, "time": f"{DAY}T01:30:00Z"},
            {"type": "late_parcels", "manifest_id": late["manifest_id"]},
        ]
        r = client.post(
            f"/v1/plans/{plan_id}/replan",
            json={"events": good, "time_limit_s": 1},
            headers=keys.dispatcher,
        )
        assert r.status_code == 202, r.text


def test_utf8_file_names(sqlite_url: str, county, manifest_dir: Path) -> None:
    with make_client(sqlite_url) as client:
        keys = Keys(client)
        for seed, header in (
            (41, quote("中通-早班.csv")),
            (42, "UTF-8''" + quote("圆通 晚班.csv")),
        ):
            r = _post_csv(
                client,
                keys,
                manifest_bytes(county, manifest_dir, 5, seed),
                **{"X-Filename": header},
            )
            assert r.status_code == 201, r.text
        raw = "韵达.csv".encode()  # raw UTF-8 bytes in the header
        r = _post_csv(
            client, keys, manifest_bytes(county, manifest_dir, 5, 43), **{"X-Filename": raw}
        )
        assert r.status_code == 201, r.text
        names = {
            m["filename"]
            for m in client.get("/v1/manifests", headers=keys.dispatcher).json()["manifests"]
        }
        assert names == {"中通-早班.csv", "圆通 晚班.csv", "韵达.csv"}


def test_keys_list_revoke_and_failed_auth_rate_limit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rd.sqlite3'}"
    with make_client(url) as client:
        keys = Keys(client)
        phone = keys.header("driver", "HUB-V01")
        drivers = [keys.header("driver", f"HUB-V0{i}") for i in range(2, 6)]
        assert client.get("/v1/plans/p_x/routes/R1/sheet.csv", headers=phone).status_code == 404
        key_id = phone["Authorization"].split("_")[1]
        listed = cli("keys", "list", "--db", url)
        assert listed.returncode == 0 and key_id in listed.stdout and "rdk_" not in listed.stdout
        revoked = cli("keys", "revoke", key_id, "--db", url)
        assert revoked.returncode == 0, revoked.stderr
        assert re.search(
            rf"{key_id}.*revoked|{key_id}.*\d{{4}}-\d\d-\d\dT",
            cli("keys", "list", "--db", url).stdout,
        )
        assert cli("keys", "revoke", key_id, "--db", url).returncode == 2
        # revoked: refused at the very next request, then rate-limited; others keep working
        codes = [
            client.get("/v1/plans/p_x/routes/R1/sheet.csv", headers=phone).status_code
            for _ in range(8)
        ]
        assert codes[0] == 401 and codes[-1] == 429, codes
        r = client.get("/v1/plans/p_x/routes/R1/sheet.csv", headers=phone)
        assert int(r.headers["Retry-After"]) >= 1
        for header in drivers:  # the station's other drivers, same address
            for _ in range(3):
                assert (
                    client.get("/v1/plans/p_x/routes/R1/sheet.csv", headers=header).status_code
                    == 404
                )
        # many distinct unknown keys from one address: 429 for them, valid keys still work
        guesses = [
            client.get("/v1/fleet", headers={"Authorization": f"Bearer rdk_{i:08x}_x"}).status_code
            for i in range(40)
        ]
        assert guesses[0] == 401 and guesses[-1] == 429
        assert client.get("/v1/fleet", headers=keys.planner).status_code == 200
        assert (
            client.get("/v1/plans/p_x/routes/R1/sheet.csv", headers=drivers[0]).status_code == 404
        )


def test_wrong_database_url_at_start_up_is_one_line() -> None:
    for url in ("postgresql+psycopg://nobody@127.0.0.1:1/nothing", "nosuchdb://x", "not a url"):
        done = cli("serve", "--db", url, "--port", "1")
        assert done.returncode == 2, done
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: cannot open the database"), lines
        assert "Traceback" not in done.stdout + done.stderr


def test_a_port_in_use_or_out_of_range_is_one_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'rd.sqlite3'}"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        busy = cli("serve", "--db", db, "--port", port)
    assert busy.returncode == 2, busy
    assert busy.stderr.strip().splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]
    wrong = cli("serve", "--db", db, "--port", "99999")
    assert wrong.returncode == 2, wrong
    assert "65535" in wrong.stderr and "Traceback" not in wrong.stdout + wrong.stderr


@pytest.mark.slow
def test_job_memory_cap_and_hard_stop(
    sqlite_url: str, county, manifest_dir: Path, tmp_path: Path
) -> None:
    small, big = (
        manifest_bytes(county, manifest_dir, 30, 51),
        manifest_bytes(county, manifest_dir, 3000, 52),
    )
    # A 3,000-parcel `auto` job's worker tree (the worker and the second process auto starts)
    # holds more than a 30-parcel `via_station` job's single worker, and takes longer than 3 s;
    # the small job is given a longer time limit, so a longer hard stop.
    for limits, reason in (
        (Limits(job_memory_mb=300), "memory"),
        (Limits(job_overhead_s=3, job_time_factor=1), "hard stop"),
    ):
        url = f"sqlite:///{tmp_path / reason.replace(' ', '_')}.sqlite3"
        with make_client(url, limits=limits) as client:
            keys = Keys(client)
            ids = [_post_csv(client, keys, data).json()["manifest_id"] for data in (big, small)]
            body = {"date": DAY.isoformat(), "manifest_ids": ids[:1], "time_limit_s": 1}
            heavy = client.post("/v1/plans", json=body, headers=keys.dispatcher).json()["plan_id"]
            job = _done_or_failed(client, keys, heavy)
            assert job["status"] == "failed" and reason in job["error"], job
            reaped = time.monotonic() + 5
            while state(client).jobs.worker_pid(heavy) is not None:  # its group was killed
                assert time.monotonic() < reaped
                time.sleep(0.1)
            assert client.get("/v1/manifests", headers=keys.dispatcher).status_code == 200
            small_job = {"mode": "via_station", "time_limit_s": 30}
            assert _done_plan(client, keys, ids[1:], **small_job)["status"] == "done"


def _done_or_failed(client: TestClient, keys: Keys, plan_id: str) -> dict:
    deadline = time.monotonic() + 180
    while True:
        job = client.get(f"/v1/plans/{plan_id}", headers=keys.planner).json()
        if job["status"] in ("done", "failed"):
            return dict(job)
        assert time.monotonic() < deadline
        time.sleep(0.3)
