"""A real uvicorn server on loopback: the morning end to end, then kill -9 and restart."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.api.conftest import DAY, manifest_bytes
from tests.api.live import cli, new_key, server, wait_for

pytestmark = pytest.mark.slow


def _key(db_url: str, role: str) -> str:
    return new_key(db_url, role)


def _worker_pid(db_url: str, plan_id: str) -> int | None:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        pid = conn.execute(
            text("select worker_pid from plans where plan_id = :p"), {"p": plan_id}
        ).scalar()
    engine.dispose()
    return int(pid) if pid is not None else None


def _gone(pid: int, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


def test_morning_then_kill_9_and_restart(db_url: str, county, manifest_dir: Path) -> None:
    assert cli("keys", "create", "--role", "driver", "--db", db_url).returncode == 2
    key = _key(db_url, "dispatcher")
    auth = {"Authorization": f"Bearer {key}"}
    data = manifest_bytes(county, manifest_dir, 150, seed=21)
    with server(db_url) as (base, proc), httpx.Client(base_url=base, headers=auth) as c:
        r = c.post("/v1/manifests", content=data, headers={"Content-Type": "text/csv"})
        assert r.status_code == 201, r.text
        mid = r.json()["manifest_id"]
        body = {"date": DAY.isoformat(), "manifest_ids": [mid], "time_limit_s": 2}
        plan_id = c.post("/v1/plans", json=body).json()["plan_id"]
        done = wait_for(c, plan_id, ("done", "failed"))
        assert done["status"] == "done", done
        route_id = done["plan"]["routes"][0]["route_id"]
        sheet = c.get(f"/v1/plans/{plan_id}/routes/{route_id}/sheet.csv")
        assert sheet.status_code == 200
        assert sheet.content
        long_id = c.post("/v1/plans", json={**body, "time_limit_s": 300}).json()["plan_id"]
        wait_for(c, long_id, ("running",))
        time.sleep(0.5)
        worker = _worker_pid(db_url, long_id)
        assert worker is not None
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert _gone(worker, 10), "orphaned solver kept running after the server died"
    with server(db_url) as (base, _), httpx.Client(base_url=base, headers=auth) as c:
        listed = c.get("/v1/manifests").json()["manifests"]
        assert [m["manifest_id"] for m in listed] == [mid]
        again = c.get(f"/v1/plans/{plan_id}").json()
        assert again["status"] == "done"
        assert again["plan"] == done["plan"]
        assert c.get(f"/v1/plans/{plan_id}/routes/{route_id}/sheet.csv").content == sheet.content
        lost = c.get(f"/v1/plans/{long_id}").json()
        assert lost["status"] == "failed"
        assert "server restarted" in lost["error"]
