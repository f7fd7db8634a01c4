"""Command-line commands of the HTTP service: `serve` and `keys create|list|revoke`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import Engine

from api.db import default_db_url

DB_HELP = "database URL (default: $RURALDISPATCH_DB or sqlite:///./ruraldispatch.sqlite3)"


def _open_db(url: str) -> Engine:
    """An engine on a migrated database at `url`; a wrong URL or an unreachable database
    ends the command with one line and exit code 2."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

    from api.db import make_engine
    from api.migrate import migrate

    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        shown = "(unparsable URL)"
    try:
        engine = make_engine(url)
        migrate(engine)
        return engine
    except (ArgumentError, NoSuchModuleError, DBAPIError, OSError, ValueError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        why = reason[0] if reason else type(exc).__name__
        typer.echo(f"error: cannot open the database {shown}: {why}", err=True)
        raise typer.Exit(2) from None


def serve(
    host: str = typer.Option("127.0.0.1", help="interface to listen on"),
    port: int = typer.Option(8000, min=0, max=65535, help="TCP port"),
    db: str = typer.Option(None, help=DB_HELP),
    solvers: int = typer.Option(None, help="plan jobs solved at the same time (one process each)"),
    limit: list[str] = typer.Option(  # noqa: B008
        [], help="change a limit: NAME=VALUE (README: Limits), repeatable"
    ),
    county: Annotated[
        Path | None,
        typer.Option(help="county folder served (default: the embedded Yongchuan); one per server"),
    ] = None,
) -> None:
    """Run the HTTP API for one county (OpenAPI docs at /docs)."""
    import logging

    import uvicorn

    from api.app import create_app
    from api.county_store import CountyMismatch, claim_county
    from api.limits import Limits
    from dispatch.workspace import CountyError, county_of

    try:
        limits = Limits().with_settings([*limit, *([f"solvers={solvers}"] if solvers else [])])
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    url = db or default_db_url()
    engine = _open_db(url)
    try:
        served = county_of(county)
        claim_county(engine, served.settings.identity, served.name)
    except CountyError as exc:
        for problem in exc.problems:
            typer.echo(f"{'warning' if problem.warning else 'error'} {problem}", err=True)
        raise typer.Exit(2) from exc
    except CountyMismatch as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    _check_listen(host, port)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(name)s: %(message)s")
    app = create_app(url, limits=limits, county=county)
    uvicorn.run(app, host=host, port=port, log_level="info")


def _check_listen(host: str, port: int) -> None:
    """Exit 2 with one line when `host:port` cannot be listened on (the port is in use, the
    address is not this machine's), before the server starts."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            probe.bind(address)
    except OSError as exc:
        typer.echo(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
        raise typer.Exit(2) from None


def _check_vehicle(engine: Engine, vehicle: str, county: Path | None) -> None:
    """Exit 2 unless `vehicle` is in the fleet in force (the last one PUT, else the county's):
    a mistyped id would make a key that reads no sheet."""
    from api.fleet_store import current_fleet_toml
    from dispatch.fleet import fleet_for_county, fleet_text_for_county
    from dispatch.workspace import county_of

    served = county_of(county)
    text = current_fleet_toml(engine)
    fleet = fleet_text_for_county(text, served) if text else fleet_for_county(served)
    if vehicle not in {v.vehicle_id for v in fleet.vehicles}:
        typer.echo(f"error: --vehicle {vehicle} is not a vehicle of the fleet in force", err=True)
        raise typer.Exit(2)


def _check_station(station: str, county: Path | None) -> None:
    """Exit 2 unless `station` is a town station of the county (the embedded one by default)."""
    from dispatch.workspace import CountyError, county_of

    try:
        points = {p.point_id: p for p in county_of(county).points}
    except CountyError as exc:
        for problem in exc.problems:
            typer.echo(f"error {problem}", err=True)
        raise typer.Exit(2) from exc
    point = points.get(station)
    if point is None or point.kind != "station":
        what = f"a {point.kind}" if point is not None else "not a point of the county"
        typer.echo(f"error: --station {station} is {what}, not a town station", err=True)
        raise typer.Exit(2)


def create(
    role: str = typer.Option(..., help="dispatcher, planner, driver or station"),
    vehicle: str = typer.Option(None, help="vehicle id a driver key may read"),
    station: str = typer.Option(None, help="point id of the station a station key may read"),
    db: str = typer.Option(None, help=DB_HELP),
    county: Annotated[
        Path | None,
        typer.Option(help="county folder the station is in (default: the embedded Yongchuan)"),
    ] = None,
) -> None:
    """Create an API key; the key is printed once, as the last line."""
    from api.auth import create_key

    if station and role == "station":
        _check_station(station, county)
    engine = _open_db(db or default_db_url())
    try:
        if vehicle and role == "driver":
            _check_vehicle(engine, vehicle, county)
        key = create_key(engine, role, vehicle, station)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    bound = f" for vehicle {vehicle}" if vehicle else f" for station {station}" if station else ""
    typer.echo(f"created a {role} key{bound}:")
    typer.echo(key)


def list_(db: str = typer.Option(None, help=DB_HELP)) -> None:
    """List keys: id, role, vehicle or station, created, revoked (never the secrets)."""
    from api.key_store import list_keys

    engine = _open_db(db or default_db_url())
    try:
        keys = list_keys(engine)
    finally:
        engine.dispose()
    typer.echo(f"{'key id':<16}  {'role':<10}  {'vehicle/station':<16}  {'created':<25}  revoked")
    for k in keys:
        bound = k.vehicle_id or k.station_id or "-"
        typer.echo(
            f"{k.key_id:<16}  {k.role:<10}  {bound:<16}  {k.created_at:<25}  {k.revoked_at or '-'}"
        )


def revoke(
    key_id: str = typer.Argument(..., help="the key id (`keys list`; rdk_<key id>_...)"),
    db: str = typer.Option(None, help=DB_HELP),
) -> None:
    """Revoke a key: it fails from its next request on, also on a running server."""
    from api.key_store import revoke_key

    engine = _open_db(db or default_db_url())
    try:
        done = revoke_key(engine, key_id.removeprefix("rdk_").split("_")[0])
    finally:
        engine.dispose()
    if not done:
        typer.echo(f"error: no active key {key_id}", err=True)
        raise typer.Exit(2)
    typer.echo(f"revoked key {key_id}")


def register(app: typer.Typer) -> None:
    """Add `serve` and `keys create|list|revoke` to the project's command line."""
    app.command("serve")(serve)
    keys = typer.Typer(help="API keys (stored hashed)", no_args_is_help=True)
    keys.command("create")(create)
    keys.command("list")(list_)
    keys.command("revoke")(revoke)
    app.add_typer(keys, name="keys")


def main() -> None:
    """Entry point of `python -m api.cli_service`."""
    app = typer.Typer(no_args_is_help=True)
    register(app)
    app()


if __name__ == "__main__":
    main()
