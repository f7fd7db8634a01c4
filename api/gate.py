"""The outermost middleware: who is calling and how big the body is, before any work.

For every request under /v1 the API key is checked (401, or 429 when failed authentications
are rate-limited) before a byte of the body is read. Then the body is read up to its cap
(`Limits.body_cap`): a declared Content-Length over the cap is refused at once, a streamed
body as soon as it passes the cap (413); the app then reads the buffered body. Errors nobody
handled become 500 with an error id (503 when the database is unavailable), never a
traceback in the answer.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import FailedAuthLimiter, authenticate
from api.errors import ONCE, ApiError, TooLarge, error_response, internal_response
from api.limits import Limits, size_text


class _ClientGone(Exception):
    """The client disconnected while sending its body."""


async def read_body(receive: Receive, headers: Headers, cap: int, name: str) -> bytes:
    """The whole request body; TooLarge as soon as it (or its declared length) passes `cap`."""
    too_large = TooLarge(f"body larger than {size_text(cap)} (limit {name}); split it")
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > cap:
            raise too_large
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive channel that gives `body` once, then passes on (e.g. a disconnect)."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class Gate:
    """Authenticate, cap the body, and turn unhandled errors into 500 with an error id."""

    def __init__(
        self, app: ASGIApp, *, engine: Engine, limits: Limits, limiter: FailedAuthLimiter
    ) -> None:
        self.app = app
        self.engine = engine
        self.limits = limits
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            headers = Headers(scope=scope)
            path: str = scope["path"]
            if path == "/v1" or path.startswith("/v1/"):
                client = scope.get("client") or ("unknown", 0)
                scope.setdefault("state", {})["principal"] = await authenticate(
                    self.engine, self.limiter, headers.get("authorization", ""), str(client[0])
                )
            cap, name = self.limits.body_cap(scope["method"], path)
            body = await read_body(receive, headers, cap, name)
            await self.app(scope, _replay(body, receive), tracked)
        except _ClientGone:
            return
        except ApiError as exc:
            if not started:
                await error_response(exc)(scope, receive, send)
        except Exception as exc:
            if started:
                ONCE.error_id(exc)
            else:
                await internal_response(exc)(scope, receive, send)
