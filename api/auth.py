"""API keys and roles: keys are `rdk_<key id>_<secret>`; only sha256(key id:secret) is stored.

Roles: dispatcher (everything), planner (reads plans, KPIs, fleet, network; solves VROOM),
driver (route sheets of its own vehicle only).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from api.db import ApiKey, reading, writing

ROLES = ("dispatcher", "planner", "driver")
_PREFIX = "rdk_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key id, its role and, for a driver, its vehicle."""

    key_id: str
    role: str
    vehicle_id: str | None


def _digest(key_id: str, secret: str) -> str:
    """Hex SHA-256 of the secret salted with its key id."""
    return hashlib.sha256(f"{key_id}:{secret}".encode()).hexdigest()


def create_key(engine: Engine, role: str, vehicle_id: str | None = None) -> str:
    """Store a new key for `role` (a driver needs `vehicle_id`) and return it in clear once."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if role == "driver" and not vehicle_id:
        raise ValueError("a driver key needs --vehicle (the vehicle id it may read)")
    if role != "driver" and vehicle_id:
        raise ValueError("--vehicle is only for driver keys")
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    with writing(engine) as session:
        session.add(
            ApiKey(
                key_id=key_id,
                secret_sha256=_digest(key_id, secret),
                role=role,
                vehicle_id=vehicle_id,
            )
        )
    return f"{_PREFIX}{key_id}_{secret}"


def verify_key(engine: Engine, key: str) -> Principal | None:
    """The principal of `key`, or None when it is malformed or unknown."""
    if not key.startswith(_PREFIX):
        return None
    key_id, sep, secret = key[len(_PREFIX) :].partition("_")
    if not sep or not key_id or not secret:
        return None
    with reading(engine) as session:
        row = session.get(ApiKey, key_id)
    if row is None or not hmac.compare_digest(row.secret_sha256, _digest(key_id, secret)):
        return None
    return Principal(key_id=row.key_id, role=row.role, vehicle_id=row.vehicle_id)


class KeyCache:
    """Keys verified in the last `ttl_s` seconds, by digest, so reads skip the key lookup."""

    def __init__(self, ttl_s: float = 30.0) -> None:
        self.ttl_s = ttl_s
        self._seen: dict[str, tuple[float, Principal]] = {}

    def get(self, key: str) -> Principal | None:
        """The cached principal of `key`, if verified recently."""
        hit = self._seen.get(hashlib.sha256(key.encode()).hexdigest())
        return hit[1] if hit and hit[0] > time.monotonic() else None

    def put(self, key: str, principal: Principal) -> None:
        """Remember a verified key."""
        if len(self._seen) > 10_000:
            self._seen.clear()
        digest = hashlib.sha256(key.encode()).hexdigest()
        self._seen[digest] = (time.monotonic() + self.ttl_s, principal)


def require(*roles: str) -> Callable[[Request], Awaitable[Principal]]:
    """A FastAPI dependency admitting a valid bearer key of one of `roles` (401 / 403)."""

    async def dependency(request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise HTTPException(
                401,
                "missing API key: send Authorization: Bearer KEY",
                headers={"WWW-Authenticate": "Bearer"},
            )
        key = key.strip()
        cache: KeyCache = request.app.state.key_cache
        principal = cache.get(key)
        if principal is None:
            principal = await run_in_threadpool(verify_key, request.app.state.engine, key)
            if principal is not None:
                cache.put(key, principal)
        if principal is None:
            raise HTTPException(401, "invalid API key", headers={"WWW-Authenticate": "Bearer"})
        if principal.role not in roles:
            raise HTTPException(
                403, f"role {principal.role} may not do this (needs {' or '.join(roles)})"
            )
        return principal

    return dependency


Dispatcher = Annotated[Principal, Depends(require("dispatcher"))]
"""A caller with the dispatcher role."""
Reader = Annotated[Principal, Depends(require("dispatcher", "planner"))]
"""A dispatcher or planner."""
SheetReader = Annotated[Principal, Depends(require("dispatcher", "planner", "driver"))]
"""A dispatcher, planner or driver (drivers are further limited to their vehicle)."""
