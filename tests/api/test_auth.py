"""Keys and roles: every endpoint refuses a missing/invalid key (401) and a wrong role (403)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from api.auth import create_key, verify_key
from api.db import ApiKey, reading
from api.limits import Limits
from tests.api.conftest import Keys, make_client, state

ALL = ("dispatcher", "planner", "driver", "station")
DP = ("dispatcher", "planner")
ENDPOINTS = [
    ("POST", "/v1/manifests", ("dispatcher",)),
    ("GET", "/v1/manifests", ("dispatcher",)),
    ("POST", "/v1/plans", ("dispatcher",)),
    ("GET", "/v1/plans", ALL),
    ("GET", "/v1/plans/p_x", DP),
    ("DELETE", "/v1/plans/p_x", ("dispatcher",)),
    ("POST", "/v1/plans/p_x/replan", ("dispatcher",)),
    ("POST", "/v1/plans/p_x/release", ("dispatcher",)),
    ("GET", "/v1/plans/p_x/routes", ALL),
    ("GET", "/v1/plans/p_x/changes", DP),
    ("GET", "/v1/plans/p_x/routes/R001/loading.csv", ALL),
    ("GET", "/v1/plans/p_x/routes/R001/loading.pdf", ALL),
    ("GET", "/v1/plans/p_x/plan.xlsx", DP),
    ("GET", "/v1/plans/p_x/routes/R001/sheet.csv", ALL),
    ("GET", "/v1/plans/p_x/routes/R001/sheet.geojson", ALL),
    ("GET", "/v1/plans/p_x/routes/R001/sheet.pdf", ALL),
    ("GET", "/v1/plans/p_x/routes/R001/sheet.gpx", ALL),
    ("GET", "/v1/network/points", DP),
    ("GET", "/v1/network/roads", DP),
    ("GET", "/v1/plans/p_x/map", DP),
    ("GET", "/v1/me", ALL),
    ("GET", "/v1/fleet", DP),
    ("PUT", "/v1/fleet", ("dispatcher",)),
    ("GET", "/v1/kpis?from=2026-03-01&to=2026-03-02", DP),
    ("POST", "/v1/vroom", DP),
]


def test_auth_matrix(db_url: str) -> None:
    no_rate_limit = Limits(auth_key_failures=1000, auth_address_keys=1000)
    with make_client(db_url, limits=no_rate_limit) as client:
        keys = Keys(client)
        by_role = {
            "dispatcher": keys.dispatcher,
            "planner": keys.planner,
            "driver": keys.header("driver", "HUB-V01"),
            "station": {
                "Authorization": f"Bearer {create_key(keys.engine, 'station', None, '500118001')}"
            },
        }
        for method, path, allowed in ENDPOINTS:
            assert client.request(method, path).status_code == 401, (method, path)
            bad = {"Authorization": "Bearer rdk_0000_nope"}
            assert client.request(method, path, headers=bad).status_code == 401, (method, path)
            mangled = by_role["dispatcher"]["Authorization"][:-2] + "xx"
            r = client.request(method, path, headers={"Authorization": mangled})
            assert r.status_code == 401, (method, path)
            assert "detail" in r.json()
            for role, header in by_role.items():
                # Admitted roles get past auth (and then 404/409/422 for the dummy ids and
                # empty bodies); other roles get 403.
                r = client.request(method, path, headers=header, json={})
                if role in allowed:
                    assert r.status_code not in (401, 403), (method, path, role, r.text)
                else:
                    assert r.status_code == 403, (method, path, role, r.text)
                    assert role in r.json()["detail"]


def test_keys_are_stored_hashed(sqlite_url: str) -> None:
    with make_client(sqlite_url) as client:
        engine = state(client).engine
        key = create_key(engine, "driver", "HUB-V02")
        principal = verify_key(engine, key)
        assert principal is not None
        assert (principal.role, principal.vehicle_id) == ("driver", "HUB-V02")
        with reading(engine) as session:
            stored = session.scalars(select(ApiKey)).all()
        secret = key.split("_", 2)[2]
        assert all(secret not in (row.secret_sha256 + row.key_id) for row in stored)
        assert verify_key(engine, key + "x") is None


@pytest.mark.parametrize(
    ("role", "vehicle"), [("driver", None), ("planner", "HUB-V01"), ("admin", None)]
)
def test_create_key_refuses_bad_roles(sqlite_url: str, role: str, vehicle: str | None) -> None:
    with make_client(sqlite_url) as client, pytest.raises(ValueError):
        create_key(state(client).engine, role, vehicle)
