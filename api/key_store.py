"""Stored API keys: only a digest of each secret; a revoked key keeps its row, not its digest.

Revoking overwrites the digest with `revoked:<ISO time>`, which no secret can match, so the
key stops working at its next request and `keys list` still shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from api.db import ApiKey, iso_utc, reading, utcnow, writing

REVOKED = "revoked:"


@dataclass(frozen=True)
class StoredKey:
    """A key as `keys list` shows it (never its secret)."""

    key_id: str
    role: str
    vehicle_id: str | None
    station_id: str | None
    created_at: str
    revoked_at: str | None


def add_key(
    engine: Engine,
    key_id: str,
    digest: str,
    role: str,
    vehicle_id: str | None,
    station_id: str | None = None,
) -> None:
    """Store a new key's digest."""
    with writing(engine) as session:
        session.add(
            ApiKey(
                key_id=key_id,
                secret_sha256=digest,
                role=role,
                vehicle_id=vehicle_id,
                station_id=station_id,
            )
        )


def key_row(engine: Engine, key_id: str) -> ApiKey | None:
    """The stored key `key_id`, revoked or not, or None."""
    with reading(engine) as session:
        return session.get(ApiKey, key_id)


def is_revoked(row: ApiKey) -> bool:
    """True when the key was revoked."""
    return row.secret_sha256.startswith(REVOKED)


def list_keys(engine: Engine) -> list[StoredKey]:
    """Every key, oldest first."""
    with reading(engine) as session:
        rows = session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.key_id)).all()
    return [
        StoredKey(
            key_id=r.key_id,
            role=r.role,
            vehicle_id=r.vehicle_id,
            station_id=r.station_id,
            created_at=iso_utc(r.created_at),
            revoked_at=r.secret_sha256[len(REVOKED) :] if is_revoked(r) else None,
        )
        for r in rows
    ]


def revoke_key(engine: Engine, key_id: str) -> bool:
    """Revoke key `key_id`; False when no such key is active."""
    with writing(engine) as session:
        result = session.execute(
            update(ApiKey)
            .where(ApiKey.key_id == key_id, ApiKey.secret_sha256.not_like(f"{REVOKED}%"))
            .values(secret_sha256=REVOKED + iso_utc(utcnow())[:19])
        )
        return bool(getattr(result, "rowcount", 0))
