"""Stored fleets: every PUT /v1/fleet adds a version; the newest is in force."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine

from api.db import FleetVersion, reading, writing


def current_fleet_toml(engine: Engine) -> str | None:
    """The TOML of the newest stored fleet, or None when the default fleet is in force."""
    with reading(engine) as session:
        latest = session.scalars(
            select(FleetVersion).order_by(FleetVersion.id.desc()).limit(1)
        ).first()
        return latest.toml if latest else None


def store_fleet(engine: Engine, text: str) -> int:
    """Store a checked fleet (TOML); its version number."""
    with writing(engine) as session:
        version = FleetVersion(toml=text)
        session.add(version)
        session.flush()
        return version.id
