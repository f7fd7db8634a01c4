"""The FastAPI application factory of the dispatcher's HTTP service."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import errors
from api.auth import FailedAuthLimiter
from api.county_store import claim_county
from api.day_store import DayFactsCache, warm_up
from api.db import default_db_url, make_engine
from api.deps import Caches, serve_county, workspace
from api.gate import Gate
from api.jobs import JobManager
from api.limits import Limits
from api.migrate import migrate
from api.routes import (
    assessment,
    driver,
    fleet,
    kpis,
    manifests,
    me,
    network,
    parcels,
    plans,
    scans,
    sheets,
    ui,
    vroom,
)


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
    limits: Limits | None = None,
    preload_workspace: bool = True,
    county: Path | None = None,
) -> FastAPI:
    """The app on `db_url` (default: RURALDISPATCH_DB or ./ruraldispatch.sqlite3) serving the
    county folder `county` (None: the embedded Yongchuan); one county per server.

    At start-up the schema is migrated, the database's county checked (CountyMismatch if it
    was made for another county), jobs a previous process left unfinished are marked failed,
    and the plan-job supervisor starts with `limits.solvers` solver processes.
    """
    from dispatch.workspace import county_of

    url = db_url or default_db_url()
    limits = limits or Limits()
    engine = make_engine(url)
    served = county_of(county)  # reads the county's files (not its roads): fails early
    serve_county(county)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        migrate(engine)
        claim_county(engine, served.settings.identity, served.name)
        app.state.jobs.start()
        if preload_workspace:
            threading.Thread(
                target=warm_up,
                args=(engine, workspace, app.state.day_facts),
                name="warm-up",
                daemon=True,
            ).start()
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
    app.state.limits = limits
    app.state.jobs = JobManager(engine, url, limits, county=county)
    app.state.caches = Caches()
    app.state.day_facts = DayFactsCache()
    app.state.vroom_slots = asyncio.Semaphore(vroom.MAX_CONCURRENT)
    app.state.ingest_slots = asyncio.Semaphore(scans.INGEST_SLOTS)
    errors.install(app)
    for module in (
        manifests,
        plans,
        sheets,
        fleet,
        network,
        kpis,
        vroom,
        me,
        ui,
        scans,
        parcels,
        assessment,
        driver,
    ):
        app.include_router(module.router)
    app.include_router(driver.page_router)
    app.add_middleware(Gate, engine=engine, limits=limits, limiter=FailedAuthLimiter(limits))
    app.add_middleware(ServerTiming)
    return app
