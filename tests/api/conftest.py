"""Fixtures of the HTTP API tests: databases (SQLite, PostgreSQL), apps, keys, manifests."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api.app import create_app
from api.auth import create_key
from dispatch.demo import generate_day
from dispatch.manifest import write_manifest_csv
from geodata.county import load_county

PG_ENV = "RURALDISPATCH_TEST_PG_URL"
DAY = dt.date(2026, 3, 5)


def _pg_base_url() -> str:
    """The PostgreSQL URL from the environment, or skip saying why."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set: PostgreSQL storage tests skipped")
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:
        pytest.skip(f"PostgreSQL at {PG_ENV} is unreachable ({type(exc).__name__}): skipped")
    return url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped afterwards."""
    base = _pg_base_url()
    schema = f"rd_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs on a fresh SQLite file and on a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'rd.sqlite3'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file (tests that are not about storage engines)."""
    return f"sqlite:///{tmp_path / 'rd.sqlite3'}"


def make_client(url: str, **kwargs: Any) -> TestClient:
    """A TestClient over a fresh app on `url` (enter it to run the lifespan)."""
    return TestClient(create_app(url, preload_workspace=False, **kwargs))


def state(client: TestClient) -> Any:
    """The app state (engine, jobs) behind a TestClient."""
    return client.app.state  # type: ignore[attr-defined]


class Keys:
    """Bearer headers for each role, created in the app's database."""

    def __init__(self, client: TestClient) -> None:
        self.engine = state(client).engine
        self.dispatcher = self.header("dispatcher")
        self.planner = self.header("planner")

    def header(self, role: str, vehicle: str | None = None) -> dict[str, str]:
        """A fresh key of `role` as an Authorization header."""
        return {"Authorization": f"Bearer {create_key(self.engine, role, vehicle)}"}


@pytest.fixture(scope="session")
def county():
    """The embedded county."""
    return load_county()


@pytest.fixture(scope="session")
def manifest_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory for generated manifests."""
    return tmp_path_factory.mktemp("manifests")


def manifest_bytes(county, folder: Path, n: int, seed: int, *, encoding: str = "utf-8") -> bytes:
    """A generated manifest of `n` parcels due on DAY as CSV bytes."""
    parcels = generate_day(county, n, seed=seed, date=DAY)
    path = folder / f"m{n}-{seed}-{encoding}.csv"
    write_manifest_csv(parcels, path, county, encoding=encoding)
    return path.read_bytes()
