"""Errors of the HTTP service and the one place that maps them to HTTP status codes.

Handlers and stores raise the domain errors below (or dispatch's ManifestError, FleetError,
EventError); `install` turns each into its status code and an `ErrorBody`. A lost or
read-only database answers 503 with Retry-After. Anything unexpected answers 500 with a
short error id only; its traceback is logged once per distinct failure, not per retry.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any, ClassVar, get_args

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.schemas import ErrorBody, FieldError, VroomErrorBody
from dispatch.fleet import FleetError
from dispatch.parcel import InputError, ManifestError
from dispatch.plan import EventType
from dispatch.replan import EventError

log = logging.getLogger("ruraldispatch.api")

#: Errors listed in one 422 answer (error_count gives the total).
MAX_ERRORS_SHOWN = 1000
#: Seconds a client is asked to wait when the database is unavailable.
DB_RETRY_AFTER_S = 5


class ApiError(Exception):
    """An error with an HTTP status; `detail` is a sentence the client can act on."""

    status: ClassVar[int] = 400
    description: ClassVar[str] = "bad request"

    def __init__(self, detail: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """The JSON body (an ErrorBody)."""
        return {"detail": self.detail}


class BadRequest(ApiError):
    """The body could not be read as the declared content type."""

    status = 400
    description = "the body could not be parsed (not UTF-8, or not the declared format)"


class Unauthorized(ApiError):
    """No key, or a key that is malformed, unknown or revoked."""

    status = 401
    description = "missing, invalid or revoked API key"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, {"WWW-Authenticate": "Bearer"})


class Forbidden(ApiError):
    """The key's role (or a driver's vehicle) does not allow this."""

    status = 403
    description = "the key's role or vehicle may not do this"


class NotFound(ApiError):
    """No such plan, route or manifest."""

    status = 404
    description = "no such resource"


class Conflict(ApiError):
    """The resource is not in a state that allows this (e.g. a plan not done yet)."""

    status = 409
    description = "the resource is not in a state that allows this"


class TooLarge(ApiError):
    """The body (or a manifest's rows) exceeds its limit."""

    status = 413
    description = "the body is larger than its limit (see the README's Limits)"


class Invalid(ApiError):
    """A request value fails a check: 422 naming each field."""

    status = 422
    description = "invalid request: `errors` names each field (or file, row and field)"

    def __init__(self, errors: list[FieldError] | FieldError) -> None:
        self.errors = errors if isinstance(errors, list) else [errors]
        first = self.errors[0]
        detail = f"{first.field}: {first.message}"
        if len(self.errors) > 1:
            detail += f" (and {len(self.errors) - 1} more)"
        super().__init__(detail)

    @classmethod
    def field(cls, field: str, message: str) -> Invalid:
        """One field at fault."""
        return cls(FieldError(field=field, message=message))

    def body(self) -> dict[str, Any]:
        shown = self.errors[:MAX_ERRORS_SHOWN]
        return {
            "detail": self.detail,
            "errors": [e.model_dump(exclude_none=True) for e in shown],
            "error_count": len(self.errors),
        }


class RateLimited(ApiError):
    """Too many failed authentications from this key or address."""

    status = 429
    description = "too many failed authentications; retry after Retry-After seconds"

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail, {"Retry-After": str(max(1, retry_after_s))})


class Unavailable(ApiError):
    """The database is unreachable or read-only, or the solver is busy."""

    status = 503
    description = "the database is unavailable or read-only; retry after Retry-After seconds"

    def __init__(self, detail: str, retry_after_s: int = DB_RETRY_AFTER_S) -> None:
        super().__init__(detail, {"Retry-After": str(retry_after_s)})


class VroomRejected(ApiError):
    """A VROOM problem the solver refused (VROOM code 2 input, 3 routing)."""

    status = 422
    description = "VROOM input (code 2) or routing (code 3) error"

    def __init__(self, code: int, error: str) -> None:
        super().__init__(error)
        self.code = code

    def body(self) -> dict[str, Any]:
        return {"detail": self.detail, "code": self.code, "error": self.detail}


def input_errors(errors: Iterable[InputError]) -> Invalid:
    """422 naming file, row and field of each input error."""
    return Invalid([FieldError(**asdict(e)) for e in errors])


class InternalError(Exception):
    """Unexpected failure: answered with an error id; `message` goes to the log only."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


# --- OpenAPI ---------------------------------------------------------------------------------

_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}},
    429: {
        "Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait"},
    },
    503: {
        "Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait"},
    },
}


def responses(*errors: type[ApiError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the errors a route may answer."""
    out: dict[int | str, dict[str, Any]] = {}
    for error in errors:
        model = VroomErrorBody if error is VroomRejected else ErrorBody
        entry: dict[str, Any] = {"model": model, "description": error.description}
        if error.status in _HEADERS:
            entry["headers"] = _HEADERS[error.status]
        out[error.status] = entry
    return out


#: Every /v1 route may answer these (authentication, rate limit, failures).
COMMON = responses(Unauthorized, Forbidden, RateLimited, Unavailable) | {
    500: {"model": ErrorBody, "description": "unexpected failure: quote error_id"}
}
#: Routes with parameters or a body answer 422 when a value fails its check.
INVALID = responses(Invalid)
#: Routes that read a body: too large, or not parseable.
BODY = responses(TooLarge, BadRequest)


# --- Handlers --------------------------------------------------------------------------------


class _OnceLog:
    """Logs each distinct failure's traceback once; its id is stable across retries."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()

    def error_id(self, exc: BaseException) -> str:
        """A short id for `exc` by type and place; the traceback is logged the first time."""
        frames = traceback.extract_tb(exc.__traceback__)
        where = "|".join(f"{f.filename}:{f.lineno}" for f in frames[-6:])
        digest = hashlib.sha256(f"{type(exc).__qualname__}|{where}".encode()).hexdigest()
        error_id = f"e_{digest[:10]}"
        with self._lock:
            count = self._seen.get(error_id, 0) + 1
            self._seen[error_id] = count
            if len(self._seen) > 10_000:
                self._seen.clear()
        if count == 1:
            log.error("internal error %s", error_id, exc_info=exc)
        return error_id


class _DbOutageLog:
    """One log line per database outage (at most one a minute), not one per request."""

    def __init__(self, every_s: float = 60.0) -> None:
        self.every_s = every_s
        self._last = float("-inf")
        self._lock = threading.Lock()

    def note(self, exc: BaseException) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last < self.every_s:
                return
            self._last = now
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        log.warning(
            "database unavailable (%s: %s); answering 503 until it returns",
            type(exc).__name__,
            reason[0][:200] if reason else "",
        )


ONCE = _OnceLog()
DB_OUTAGE = _DbOutageLog()

#: SQLSTATE codes of a database that is read-only, shutting down or out of connections.
_UNAVAILABLE_SQLSTATES = {"25006", "57P01", "57P02", "57P03", "53300", "53100", "53200"}


def database_unavailable(exc: BaseException) -> bool:
    """True when `exc` means the database is unreachable, read-only or overloaded."""
    if isinstance(exc, DisconnectionError | PoolTimeout):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate and (sqlstate in _UNAVAILABLE_SQLSTATES or sqlstate.startswith("08")):
        return True
    if type(exc).__name__ in ("OperationalError", "InterfaceError") and sqlstate is None:
        # Connection failures (PostgreSQL) and a locked, read-only, full or unreadable file
        # (SQLite); a missing table or bad SQL is a bug, not an outage.
        text = str(orig).lower()
        return not ("no such" in text or "syntax" in text)
    return False


def error_response(error: ApiError) -> JSONResponse:
    """The JSON answer of a domain error."""
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def internal_response(exc: BaseException) -> JSONResponse:
    """500 with an error id (or 503 when the database is unavailable)."""
    if database_unavailable(exc):
        DB_OUTAGE.note(exc)
        return error_response(Unavailable("the database is unavailable; retry later"))
    error_id = ONCE.error_id(exc)
    return JSONResponse(
        {"detail": "internal error; quote the error id when reporting it", "error_id": error_id},
        status_code=500,
    )


def _field(loc: Iterable[Any]) -> str:
    """A validation error location as `body.events[0].time_s` (union tags left out)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in _UNION_TAGS or "[" in str(part):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out or "body"


#: Tags of discriminated unions that pydantic puts into error locations.
_UNION_TAGS = set(get_args(EventType))


def validation_error(exc: RequestValidationError) -> Invalid:
    """422 naming each field; the input is never echoed back."""
    errors = []
    for e in exc.errors():
        message = str(e.get("msg", "invalid value"))
        if e.get("type") == "json_invalid":
            message = f"not valid JSON: {e.get('ctx', {}).get('error', '')}".rstrip(": ")
        errors.append(FieldError(field=_field(e.get("loc", ())), message=message[:300]))
    return Invalid(errors or [FieldError(field="body", message="invalid request")])


def install(app: FastAPI) -> None:
    """Register the handlers mapping every error to its status code and body."""

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(validation_error(exc))

    @app.exception_handler(ManifestError)
    async def invalid_manifest(_: Request, exc: ManifestError) -> JSONResponse:
        return error_response(input_errors(exc.errors))

    @app.exception_handler(FleetError)
    async def invalid_fleet(_: Request, exc: FleetError) -> JSONResponse:
        return error_response(input_errors(exc.errors))

    @app.exception_handler(EventError)
    async def invalid_event(_: Request, exc: EventError) -> JSONResponse:
        field, _sep, message = str(exc).partition(": ")
        return error_response(Invalid.field(field, message or str(exc)))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Raised by the framework itself: unknown path (404), method (405), unparsable body.
        detail = exc.detail if isinstance(exc.detail, str) else "bad request"
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(DBAPIError)
    async def database_error(_: Request, exc: DBAPIError) -> JSONResponse:
        return internal_response(exc)
