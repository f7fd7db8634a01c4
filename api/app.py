"""The FastAPI application factory of the dispatcher's HTTP service."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import routes_data, routes_manifests, routes_plans, routes_vroom
from api.auth import KeyCache
from api.county_store import claim_county
from api.db import default_db_url, make_engine
from api.deps import Lru, serve_county, workspace
from api.jobs import JobManager
from api.migrate import migrate

#: Largest manifest upload (bytes) and most rows per manifest.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000


class ServerTiming:
    """ASGI middleware adding `Server-Timing: app;dur=<ms>` (time inside the app) to responses."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                ms = (time.perf_counter() - started) * 1000
                headers = [
                    *message.get("headers", []),
                    (b"server-timing", f"app;dur={ms:.2f}".encode()),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, timed_send)


def create_app(
    db_url: str | None = None,
    *,
    max_workers: int = 1,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    max_rows: int = MAX_ROWS,
    preload_workspace: bool = True,
    county: Path | None = None,
) -> FastAPI:
    """The app on `db_url` (default: RURALDISPATCH_DB or ./ruraldispatch.sqlite3) serving the
    county folder `county` (None: the embedded Yongchuan); one county per server.

    At start-up the schema is migrated, the database's county checked (CountyMismatch if it
    was made for another county), jobs a previous process left unfinished are marked failed,
    and the plan-job supervisor starts with `max_workers` solver processes.
    """
    from dispatch.workspace import county_of

    url = db_url or default_db_url()
    engine = make_engine(url)
    served = county_of(county)  # reads the county's files (not its roads): fails early
    serve_county(county)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        migrate(engine)
        claim_county(engine, served.settings.identity, served.name)
        app.state.jobs.start()
        if preload_workspace:
            threading.Thread(target=workspace, name="load-workspace", daemon=True).start()
        try:
            yield
        finally:
            app.state.jobs.stop()
            engine.dispose()

    app = FastAPI(
        title="ruraldispatch",
        version="1.0",
        summary=f"Dispatch for the unified rural delivery company of {served.name}",
        lifespan=lifespan,
    )
    app.state.db_url = url
    app.state.engine = engine
    app.state.jobs = JobManager(engine, url, max_workers=max_workers, county=county)
    app.state.plans = Lru(8)
    app.state.results = Lru(512)
    app.state.key_cache = KeyCache()
    app.state.vroom_slots = asyncio.Semaphore(routes_vroom.MAX_CONCURRENT)
    app.state.max_upload_bytes = max_upload_bytes
    app.state.max_rows = max_rows

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(
            {"detail": f"internal error: {type(exc).__name__}: {exc}"}, status_code=500
        )

    for module in (routes_manifests, routes_plans, routes_data, routes_vroom):
        app.include_router(module.router)
    app.add_middleware(ServerTiming)
    return app
