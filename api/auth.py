"""API keys and roles: keys are `rdk_<key id>_<secret>`; only sha256(key id:secret) is stored.

Roles: dispatcher (everything), planner (reads plans, KPIs, fleet, network; solves VROOM),
driver (the released plans' sheets of its own vehicle only), station (the released plans'
loading lists of its station and the sheets of routes that start or transfer there).

Every request's key is checked against the database (so a revoked key fails at its next
request), before the request body is read (api.gate). Failed authentications are
rate-limited without locking anyone else out (FailedAuthLimiter).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from api.errors import Forbidden, RateLimited, Unauthorized
from api.key_store import add_key, is_revoked, key_row
from api.limits import Limits

ROLES = ("dispatcher", "planner", "driver", "station")
_PREFIX = "rdk_"
#: Keys and addresses remembered by the limiter (memory bound).
_MAX_TRACKED = 10_000


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key id, its role and, for a driver, its vehicle; for a station
    key, its station's point id."""

    key_id: str
    role: str
    vehicle_id: str | None
    station_id: str | None = None


def _digest(key_id: str, secret: str) -> str:
    """Hex SHA-256 of the secret salted with its key id."""
    return hashlib.sha256(f"{key_id}:{secret}".encode()).hexdigest()


def create_key(
    engine: Engine, role: str, vehicle_id: str | None = None, station_id: str | None = None
) -> str:
    """Store a new key for `role` (a driver needs `vehicle_id`, a station `station_id`) and
    return it in clear once. The caller checks that the station exists in the county."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if role == "driver" and not vehicle_id:
        raise ValueError("a driver key needs --vehicle (the vehicle id it may read)")
    if role != "driver" and vehicle_id:
        raise ValueError("--vehicle is only for driver keys")
    if role == "station" and not station_id:
        raise ValueError("a station key needs --station (the station's point id)")
    if role != "station" and station_id:
        raise ValueError("--station is only for station keys")
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    add_key(engine, key_id, _digest(key_id, secret), role, vehicle_id, station_id)
    return f"{_PREFIX}{key_id}_{secret}"


def _split(key: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed key, else None."""
    if not key.startswith(_PREFIX) or len(key) > 200:
        return None
    key_id, sep, secret = key[len(_PREFIX) :].partition("_")
    if not sep or not key_id or not secret or not key_id.isalnum() or len(key_id) > 32:
        return None
    return key_id, secret


def verify_key(engine: Engine, key: str) -> Principal | None:
    """The principal of `key`, or None when it is malformed, unknown or revoked."""
    parts = _split(key)
    if parts is None:
        return None
    row = key_row(engine, parts[0])
    if row is None or is_revoked(row):
        return None
    if not hmac.compare_digest(row.secret_sha256, _digest(*parts)):
        return None
    return Principal(
        key_id=row.key_id, role=row.role, vehicle_id=row.vehicle_id, station_id=row.station_id
    )


class FailedAuthLimiter:
    """Rate limit of failed authentications, per key and per client address.

    A key that failed `auth_key_failures` times within `auth_window_s` is refused with 429
    without a database look-up (a phone retrying a revoked key). An address whose failures
    used more than `auth_address_keys` distinct keys in the window gets 429 instead of 401
    for each further failure (someone guessing keys). A valid key is never refused, so the
    other drivers of a station behind the same address keep working.
    """

    def __init__(self, limits: Limits) -> None:
        self.window_s = limits.auth_window_s
        self.per_key = limits.auth_key_failures
        self.per_address = limits.auth_address_keys
        self._key_failures: dict[str, list[float]] = {}
        self._address_keys: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()

    def check(self, digest: str) -> None:
        """Raise RateLimited (429) when this key failed too often to be tried now."""
        now = time.monotonic()
        with self._lock:
            failures = [t for t in self._key_failures.get(digest, []) if t > now - self.window_s]
        if len(failures) >= self.per_key:
            wait = failures[-self.per_key] + self.window_s - now
            raise RateLimited("this key failed too often; it is refused for now", int(wait) + 1)

    def failed(self, address: str, digest: str) -> RateLimited | None:
        """Record a failed authentication; the 429 to answer when the address is limited."""
        now = time.monotonic()
        with self._lock:
            if len(self._key_failures) > _MAX_TRACKED or len(self._address_keys) > _MAX_TRACKED:
                self._key_failures.clear()
                self._address_keys.clear()
            failures = self._key_failures.setdefault(digest, [])
            failures.append(now)
            del failures[: -self.per_key]
            tried = self._address_keys.setdefault(address, {})
            for old in [d for d, t in tried.items() if t <= now - self.window_s]:
                del tried[old]
            tried[digest] = now
            if len(tried) <= self.per_address:
                return None
            wait = min(tried.values()) + self.window_s - now
        return RateLimited("too many failed keys from this address; slow down", int(wait) + 1)


def bearer_key(authorization: str) -> str:
    """The key of an `Authorization: Bearer KEY` header value (401 when absent)."""
    scheme, _, key = authorization.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("missing API key: send Authorization: Bearer KEY")
    return key.strip()


async def authenticate(
    engine: Engine, limiter: FailedAuthLimiter, authorization: str, address: str
) -> Principal:
    """The principal of a request's Authorization header: 401 invalid, 429 rate-limited."""
    key = bearer_key(authorization)
    digest = hashlib.sha256(key.encode()).hexdigest()
    limiter.check(digest)
    principal = await run_in_threadpool(verify_key, engine, key) if _split(key) else None
    if principal is None:
        limited = limiter.failed(address, digest)
        raise limited or Unauthorized("invalid or revoked API key")
    return principal


_bearer = HTTPBearer(auto_error=False, description="an API key: `ruraldispatch keys create`")


def require(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting callers of `roles` (403 otherwise); api.gate authenticated them."""

    async def dependency(
        request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> Principal:
        principal = getattr(request.state, "principal", None)
        if not isinstance(principal, Principal):
            raise Unauthorized("missing API key: send Authorization: Bearer KEY")
        if principal.role not in roles:
            raise Forbidden(f"role {principal.role} may not do this (needs {' or '.join(roles)})")
        return principal

    return dependency


Dispatcher = Annotated[Principal, Depends(require("dispatcher"))]
"""A caller with the dispatcher role."""
Reader = Annotated[Principal, Depends(require("dispatcher", "planner"))]
"""A dispatcher or planner."""
SheetReader = Annotated[Principal, Depends(require("dispatcher", "planner", "driver", "station"))]
"""Any role; drivers and stations are further limited to released plans and their own
vehicle's or station's routes (api.visibility)."""
