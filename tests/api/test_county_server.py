"""One county per server: the county is stated, plans run on its roads, and a database made
for one county refuses to serve another (also one that held data before counties existed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from api.county_store import CountyMismatch
from api.db import make_engine
from api.migrate import alembic_config
from tests.api.conftest import DAY, Keys, make_client
from tests.api.test_cli import run
from tests.api.test_plans import TERMINAL, start, upload, wait_for

KARHULA = Path(__file__).parents[1] / "geodata" / "data" / "karhula"


def _manifest() -> bytes:
    rows = ["tracking_no,carrier,kind,point_id,weight_kg,volume_l,cold,due_date"]
    points = ["RK", "ML", "RK-1", "RK-2", "RK-3", "ML-1", "ML-2", "ML-4"]
    for i, point in enumerate(points * 2):
        rows.append(f"PO{i:06d},Posti,delivery,{point},1.5,6,0,{DAY.isoformat()}")
    return ("\n".join(rows) + "\n").encode("utf-8")


def test_a_server_serves_its_county_and_refuses_another(sqlite_url: str) -> None:
    with make_client(sqlite_url, county=KARHULA) as client:
        keys = Keys(client)
        body = client.get("/v1/network/points", headers=keys.planner).json()
        county = body["county"]
        assert (county["name"], county["code"], county["hub_id"]) == (
            "Karhula",
            "FI-KOTKA-KARHULA",
            "HUB",
        )
        assert county["time_zone"] == "Europe/Helsinki" and county["placed_points"] == 1
        assert county["network"].endswith("karhula.osm.pbf")
        assert "OpenStreetMap" in county["attribution"]
        assert {p["point_id"] for p in body["points"] if p["placed"]} == {"ML-4"}
        plan_id = start(client, keys, [upload(client, keys, _manifest(), "posti.csv")], 2)
        job = wait_for(client, keys, plan_id, TERMINAL)
        assert job["status"] == "done", job
        assert job["plan"]["kpis"]["county"] == "Karhula"
        assert job["plan"]["kpis"]["network"].endswith("karhula.osm.pbf")
    with pytest.raises(CountyMismatch, match="serves Karhula"), make_client(sqlite_url):
        pass  # the embedded Yongchuan on Karhula's database
    refused = run("serve", "--db", sqlite_url, "--port", "0")
    assert refused.returncode == 2 and "serves Karhula (FI-KOTKA-KARHULA)" in refused.stderr


def test_a_database_used_before_counties_served_yongchuan(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = make_engine(url)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(
            text("INSERT INTO fleet_versions (toml, created_at) VALUES ('', '2026-01-01')")
        )
    engine.dispose()
    old = pytest.raises(CountyMismatch, match="serves 永川区 \\(500118\\)")
    with old, make_client(url, county=KARHULA):
        pass
    with make_client(url) as client:  # the embedded county is the one it served
        assert client.get("/v1/network/points", headers=Keys(client).planner).status_code == 200
