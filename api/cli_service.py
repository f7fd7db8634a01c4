"""Command-line commands of the HTTP service: `serve` and `keys create`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.db import default_db_url

DB_HELP = "database URL (default: $RURALDISPATCH_DB or sqlite:///./ruraldispatch.sqlite3)"


def serve(
    host: str = typer.Option("127.0.0.1", help="interface to listen on"),
    port: int = typer.Option(8000, help="TCP port"),
    db: str = typer.Option(None, help=DB_HELP),
    solvers: int = typer.Option(1, help="plan jobs solved at the same time (one process each)"),
    county: Annotated[
        Path | None,
        typer.Option(help="county folder served (default: the embedded Yongchuan); one per server"),
    ] = None,
) -> None:
    """Run the HTTP API for one county (OpenAPI docs at /docs)."""
    import uvicorn

    from api.app import create_app
    from api.county_store import CountyMismatch, claim_county
    from api.db import make_engine
    from api.migrate import migrate
    from dispatch.workspace import CountyError, county_of

    url = db or default_db_url()
    try:
        served = county_of(county)
        engine = make_engine(url)
        try:
            migrate(engine)
            claim_county(engine, served.settings.identity, served.name)
        finally:
            engine.dispose()
    except CountyError as exc:
        for problem in exc.problems:
            typer.echo(f"{'warning' if problem.warning else 'error'} {problem}", err=True)
        raise typer.Exit(2) from exc
    except CountyMismatch as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    app = create_app(url, max_workers=solvers, county=county)
    uvicorn.run(app, host=host, port=port, log_level="info")


def create(
    role: str = typer.Option(..., help="dispatcher, planner or driver"),
    vehicle: str = typer.Option(None, help="vehicle id a driver key may read"),
    db: str = typer.Option(None, help=DB_HELP),
) -> None:
    """Create an API key; the key is printed once, as the last line."""
    from api.auth import create_key
    from api.db import make_engine
    from api.migrate import migrate

    engine = make_engine(db or default_db_url())
    try:
        migrate(engine)
        key = create_key(engine, role, vehicle)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    typer.echo(f"created a {role} key{f' for vehicle {vehicle}' if vehicle else ''}:")
    typer.echo(key)


def register(app: typer.Typer) -> None:
    """Add `serve` and `keys create` to the project's command line."""
    app.command("serve")(serve)
    keys = typer.Typer(help="API keys (stored hashed)", no_args_is_help=True)
    keys.command("create")(create)
    app.add_typer(keys, name="keys")


def main() -> None:
    """Entry point of `python -m api.cli_service`."""
    app = typer.Typer(no_args_is_help=True)
    register(app)
    app()


if __name__ == "__main__":
    main()
