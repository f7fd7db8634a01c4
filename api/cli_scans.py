"""Command-line scans: `scans import FILE.csv` into a service database, judged as the API
judges them, and `scans carry-over PLAN_ID` (the plan as the next day takes it over)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli_outputs import out_file
from api.cli_service import DB_HELP, _open_db
from api.db import default_db_url
from dispatch.encodings import ACCEPTED, decode_text

#: Columns of a scan CSV; the first four are required. `vehicle_id` (a driver's scan) or
#: `station_id` (a station crew's) say who scanned; neither: the hub.
SCAN_COLUMNS = (
    "event_id",
    "tracking_no",
    "event",
    "time",
    "reason",
    "lon",
    "lat",
    "crs",
    "vehicle_id",
    "station_id",
)
_REQUIRED = SCAN_COLUMNS[:4]
#: Events stored per transaction while importing.
IMPORT_BATCH = 500


def _rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(row number, non-empty fields) of a scan CSV; exit 2 naming file and field."""
    try:
        text = decode_text(path.read_bytes())
    except OSError as exc:
        typer.echo(f"error: {path}: cannot read: {exc.strerror}", err=True)
        raise typer.Exit(2) from None
    if text is None:
        typer.echo(f"error: {path}: not {ACCEPTED}", err=True)
        raise typer.Exit(2)
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in _REQUIRED if c not in header]
    unknown = [c for c in header if c not in SCAN_COLUMNS]
    if missing or unknown:
        what = f"missing {', '.join(missing)}" if missing else f"unknown {', '.join(unknown)}"
        typer.echo(f"error: {path}: row 0: header: {what} (columns: {', '.join(SCAN_COLUMNS)})")
        raise typer.Exit(2)
    return [
        (n, {k.strip(): v.strip() for k, v in row.items() if k and v and v.strip()})
        for n, row in enumerate(reader, 1)
    ]


def import_(
    file: Annotated[
        Path, typer.Argument(help="scan events CSV (UTF-8 or GBK), columns as the API's")
    ],
    db: str = typer.Option(None, help=DB_HELP),
    county: Annotated[
        Path | None, typer.Option(help="county folder the database serves (default: Yongchuan)")
    ] = None,
) -> None:
    """Import scan events from CSV, judged as POST /v1/scans judges them.

    A malformed row (bad time, event, reason or position) stops the import with exit 2 and
    nothing stored. Events refused by the rules (times, unknown parcels, rights) are listed
    by row, the others stored (exit 3 when any was refused); re-importing is idempotent.
    """
    from pydantic import ValidationError

    from api import day_store, scan_store
    from api.day_store import DayFactsCache
    from api.routes.scans import to_event, zone_of
    from api.schemas import ScanEventIn
    from dispatch.scan_events import ScanEvent, Scanner
    from dispatch.workspace import Workspace

    rows = _rows(file)
    events: list[tuple[int, Scanner, ScanEvent]] = []
    errors: list[str] = []
    ws = Workspace.load(county)
    zone = zone_of(ws)
    for n, row in rows:
        who = Scanner("dispatcher")
        if row.get("vehicle_id"):
            who = Scanner("driver", vehicle_id=row.pop("vehicle_id"))
        elif row.get("station_id"):
            who = Scanner("station", station_id=row.pop("station_id"))
        row.pop("station_id", None)
        try:
            events.append((n, who, to_event(ScanEventIn.model_validate(row), zone)))
        except ValidationError as exc:
            for problem in exc.errors():
                field = ".".join(str(p) for p in problem["loc"]) or "row"
                errors.append(f"{file}: row {n}: {field}: {problem['msg']}")
    if errors:
        for line in errors[:100]:
            typer.echo(f"error: {line}", err=True)
        typer.echo(f"{len(errors)} invalid row(s): nothing was imported", err=True)
        raise typer.Exit(2)
    engine = _open_db(db or default_db_url())
    book = DayFactsCache()

    def versions(day: Any) -> list[Any]:
        return book.versions(engine, ws, day_store.released_plan_ids(engine, day))

    counts = {"stored": 0, "duplicate": 0, "refused": 0}
    try:
        groups: dict[Scanner, list[tuple[int, ScanEvent]]] = {}
        for n, who, e in events:
            groups.setdefault(who, []).append((n, e))
        for who, mine in groups.items():
            for k in range(0, len(mine), IMPORT_BATCH):
                chunk = mine[k : k + IMPORT_BATCH]
                results = scan_store.ingest(
                    engine, [e for _, e in chunk], who, "cli-import", versions
                )
                for (n, _), result in zip(chunk, results, strict=True):
                    counts[result.status] += 1
                    if result.status == "refused":
                        typer.echo(f"refused {file}: row {n}: {result.detail}")
    finally:
        engine.dispose()
    typer.echo(
        f"{counts['stored']} stored, {counts['duplicate']} already stored, "
        f"{counts['refused']} refused"
    )
    if counts["refused"]:
        raise typer.Exit(3)


def carry_over(
    plan_id: Annotated[str, typer.Argument(help="a done plan's id (the day to hand on)")],
    out: Annotated[
        Path, typer.Option(help="where to write the plan with its carry-over", callback=out_file)
    ],
    returns: Annotated[
        Path | None, typer.Option(help="where to write the return list (JSON)", callback=out_file)
    ] = None,
    db: str = typer.Option(None, help=DB_HELP),
    county: Annotated[
        Path | None, typer.Option(help="county folder the database serves (default: Yongchuan)")
    ] = None,
) -> None:
    """Write a stored plan as the next day takes it over: its carry_over extended by the
    failures its day's scans re-attempt (use it with `plan --carry-over`), and the refused
    and damaged parcels to return to their carriers (`--returns`)."""
    from api.day_store import DayFactsCache, next_day_carry_over
    from dispatch.workspace import Workspace

    ws = Workspace.load(county)
    engine = _open_db(db or default_db_url())
    book = DayFactsCache()
    try:
        handed = next_day_carry_over(engine, ws, book, plan_id)
        back = book.with_actuals(engine, ws, plan_id, None, lambda a: a.returns())
    except LookupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    out.write_text(json.dumps(handed, ensure_ascii=False, indent=1), encoding="utf-8")
    if returns is not None:
        returns.write_text(json.dumps(back, ensure_ascii=False, indent=1), encoding="utf-8")
    failed = sum(1 for c in handed["carry_over"] if c.get("why") == "failed")
    typer.echo(
        f"{out}: {len(handed['carry_over'])} carried over ({failed} after a failure), "
        f"{len(back)} to return to their carriers"
    )


def register(app: typer.Typer) -> None:
    """Add `scans import` and `scans carry-over` to the project's command line."""
    scans = typer.Typer(help="Scan events of drivers and station crews", no_args_is_help=True)
    scans.command("import")(import_)
    scans.command("carry-over")(carry_over)
    app.add_typer(scans, name="scans")
