"""Storage: SQLAlchemy 2 tables, engines and sessions (SQLite file by default, PostgreSQL by URL).

Schema changes go through Alembic (`api/migrations`); `migrate(engine)` applies them at start-up.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.pool import NullPool

#: Database used when neither `--db` nor RURALDISPATCH_DB says otherwise.
DEFAULT_DB_URL = "sqlite:///./ruraldispatch.sqlite3"

#: SQLite waits this long (ms) for another writer before giving up.
SQLITE_BUSY_TIMEOUT_MS = 15_000


def default_db_url() -> str:
    """The database URL from RURALDISPATCH_DB, else a SQLite file in the working directory."""
    return os.environ.get("RURALDISPATCH_DB", DEFAULT_DB_URL)


def utcnow() -> dt.datetime:
    """Now, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


def iso_utc(moment: dt.datetime) -> str:
    """ISO-8601 with offset; naive values (SQLite drops the zone) are UTC."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).isoformat()


class Base(DeclarativeBase):
    """Declarative base of every table."""


class ApiKey(Base):
    """An API key: only the SHA-256 of `key_id:secret` is stored, never the secret."""

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    vehicle_id: Mapped[str | None] = mapped_column(String(64))
    station_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Manifest(Base):
    """One uploaded manifest; `content_sha256` makes uploads of the same bytes idempotent."""

    __tablename__ = "manifests"

    manifest_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    content_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    carrier: Mapped[str] = mapped_column(String(64))
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    parcels: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ParcelRow(Base):
    """A parcel of a manifest (units as dispatch.parcel.Parcel: g, ml).

    A tracking number appears at most once per manifest date across all manifests.
    """

    __tablename__ = "parcels"
    __table_args__ = (
        UniqueConstraint("date", "tracking_no", name="uq_parcels_date_tracking"),
        Index("ix_parcels_manifest", "manifest_id"),
        Index("ix_parcels_tracking", "tracking_no"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    manifest_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("manifests.manifest_id", ondelete="CASCADE")
    )
    date: Mapped[dt.date] = mapped_column(Date)
    tracking_no: Mapped[str] = mapped_column(String(64))
    carrier: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    point_id: Mapped[str] = mapped_column(String(32))
    weight_g: Mapped[int] = mapped_column(Integer)
    volume_ml: Mapped[int] = mapped_column(Integer)
    cold: Mapped[bool] = mapped_column(Boolean)
    due_date: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(255))
    row: Mapped[int] = mapped_column(Integer)


class ServedCounty(Base):
    """The county this database serves (one row): a server for another county is refused."""

    __tablename__ = "served_county"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identity: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(255))
    claimed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FleetVersion(Base):
    """A fleet set through PUT /v1/fleet (TOML text); the newest one is in force."""

    __tablename__ = "fleet_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    toml: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PlanJob(Base):
    """A plan job and, once done, its plan JSON (stored as text, served as is).

    `request` holds what the worker needs: manifest_ids, time_limit_s, mode and, for a
    re-plan, events. `progress` is 0..1; `best_cost_fen` the best cost found so far.
    `released_at` is set once a dispatcher released the done plan to drivers and stations
    (`released_by`: the releasing key's id).
    """

    __tablename__ = "plans"
    #: Covers the look-up of a day's released plans (migration 0005): the rows hold the
    #: plan JSON, which SQLite would otherwise read through to reach released_at.
    __table_args__ = (
        Index("ix_plans_released", "status", "date", "released_at", "created_at", "plan_id"),
    )

    plan_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    best_cost_fen: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    fleet_toml: Mapped[str | None] = mapped_column(Text)
    version_of: Mapped[str | None] = mapped_column(String(32))
    plan_json: Mapped[str | None] = mapped_column(Text)
    worker_pid: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    released_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    released_by: Mapped[str | None] = mapped_column(String(32))


def make_engine(url: str, *, pooled: bool = True) -> Engine:
    """An engine for `url`. SQLite gets WAL, a busy timeout, foreign keys and full sync.

    SQLite write transactions opened through `writing(engine)` start with BEGIN IMMEDIATE so a
    read-then-write transaction never fails on a stale snapshot when another process wrote.
    """
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            poolclass=None if pooled else NullPool,
        )
        _sqlite_pragmas(engine)
        return engine
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if not pooled:
        kwargs["poolclass"] = NullPool
    return create_engine(url, **kwargs)


def _ensure_sqlite_dir(url: str) -> None:
    """Create the directory of a SQLite file URL if it is missing."""
    path = url.split(":///", 1)[-1].split("?", 1)[0]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(engine: Engine) -> None:
    """Per-connection SQLite settings and explicit BEGIN (pysqlite's own is bypassed)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    """A read session (rolled back at the end)."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


@contextmanager
def writing(engine: Engine) -> Iterator[Session]:
    """A write transaction: committed when the block ends, rolled back on any exception."""
    bind = engine.execution_options(sqlite_immediate=True)
    with Session(bind, expire_on_commit=False) as session, session.begin():
        yield session


class ScanRow(Base):
    """A scan event as accepted (dispatch.scan_events): one row per client-made `event_id`.

    `day`/`time_s` are the local date and seconds since local midnight of `event_time`;
    `seq` numbers the day's events in commit order (ScanDay hands them out), so a reader can
    fetch what is new since it last looked. lon/lat WGS-84 degrees.
    """

    __tablename__ = "scan_events"
    __table_args__ = (
        Index("ix_scan_events_tracking_day", "tracking_no", "day"),
        Index("ix_scan_events_day_seq", "day", "seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    day: Mapped[dt.date] = mapped_column(Date)
    seq: Mapped[int] = mapped_column(Integer)
    tracking_no: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(String(32))
    event_time: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    time_s: Mapped[float] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    key_id: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))
    vehicle_id: Mapped[str | None] = mapped_column(String(64))
    station_id: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ScanDay(Base):
    """Per day with scans: the last `seq` handed out (the day's revision) and the count."""

    __tablename__ = "scan_days"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
