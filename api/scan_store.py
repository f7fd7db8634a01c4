"""Stored scan events: idempotent batch ingest, and reads by parcel and by day.

A batch is judged event by event (dispatch.scan_events) and every event that passes is
stored in one transaction, committed before the answer is sent: an acknowledged event is on
disk (SQLite runs with synchronous=FULL). Re-sending an event (same client-made id, same
content) answers `duplicate` and stores nothing. Concurrent batches touching one parcel are
serialised by a transaction-scoped advisory lock per (day, tracking number) on PostgreSQL;
SQLite serialises every write transaction (BEGIN IMMEDIATE). Each day's events are numbered
in commit order (`seq`, from the day's row in `scan_days`, locked last and briefly), so
readers can fetch only what is new.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from api.db import ScanDay, ScanRow, reading, utcnow, writing
from dispatch.actuals import FoldedScan
from dispatch.day_facts import DayFacts
from dispatch.scan_events import (
    Judged,
    ScanEvent,
    Scanner,
    check_event,
    check_order,
    step,
)

_CHUNK = 400
#: Transactions tried per batch when a concurrent one makes it fail (see ingest).
_ATTEMPTS = 3
Status = Literal["stored", "duplicate", "refused"]


@dataclass(frozen=True)
class ScanResult:
    """What became of one event of a batch (by its index in the batch)."""

    index: int
    event_id: str
    status: Status
    detail: str | None = None


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def row_event(row: ScanRow) -> ScanEvent:
    """A stored row as a ScanEvent."""
    return ScanEvent(
        event_id=row.event_id,
        tracking_no=row.tracking_no,
        event=row.event,
        time=_aware(row.event_time),
        day=row.day,
        time_s=row.time_s,
        reason=row.reason,
        lon=row.lon,
        lat=row.lat,
        vehicle_id=row.vehicle_id,
        station_id=row.station_id,
    )


def row_scanner(row: ScanRow) -> Scanner:
    """Who scanned a stored row."""
    return Scanner(role=row.role, vehicle_id=row.vehicle_id, station_id=row.station_id)


def ingest(
    engine: Engine,
    events: Sequence[ScanEvent],
    scanner: Scanner,
    key_id: str,
    versions_of: Callable[[dt.date], list[DayFacts]],
    now: dt.datetime | None = None,
) -> list[ScanResult]:
    """Judge and store a batch; one result per event, in batch order.

    `versions_of(day)` gives the day's released plan versions, oldest first (the last is
    in force). Refused events are not stored; the others are, in one transaction.
    """
    now = now or utcnow()
    results: dict[int, ScanResult] = {}
    pending: list[tuple[int, ScanEvent, int, DayFacts]] = []
    days: dict[dt.date, list[DayFacts]] = {}
    for i, e in enumerate(events):
        if e.day not in days:
            days[e.day] = versions_of(e.day)
        versions = days[e.day]
        facts = versions[-1] if versions else None
        vehicles = {v for f in versions for v in f.vehicles_of(e.tracking_no)}
        why = check_event(e, facts, vehicles, scanner, now)
        if why is not None or facts is None:
            results[i] = ScanResult(i, e.event_id, "refused", why)
            continue
        kind = facts.parcels[e.tracking_no].parcel.kind
        pending.append((i, e, step(e.event, kind, scanner, facts.depots, facts.hub_id), facts))
    for attempt in range(_ATTEMPTS):
        if not pending:
            break
        try:
            with writing(engine) as session:
                results.update(_store(session, pending, scanner, key_id, now))
            break
        except (IntegrityError, OperationalError) as exc:
            # the same event id sent at once for another parcel (its unique key), or a
            # deadlock or serialisation failure: judge the batch again against what won
            if attempt == _ATTEMPTS - 1 or not _retryable(exc):
                raise
    return [results[i] for i in range(len(events))]


def _retryable(exc: Exception) -> bool:
    """A unique-key clash, deadlock or serialisation failure (worth judging again)."""
    if isinstance(exc, IntegrityError):
        return True
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return code in ("40P01", "40001")


def _store(
    session: Session,
    pending: Sequence[tuple[int, ScanEvent, int, DayFacts]],
    scanner: Scanner,
    key_id: str,
    now: dt.datetime,
) -> dict[int, ScanResult]:
    """The transaction of a batch: lock its parcels, judge against what is stored, insert."""
    parcels = sorted({(e.day, e.tracking_no) for _, e, _, _ in pending})
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        keys = sorted({_lock_key(day, t) for day, t in parcels})
        session.execute(
            text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k"),
            {"keys": keys},
        )
    by_id = {r.event_id: r for r in _rows_by_id(session, [e.event_id for _, e, _, _ in pending])}
    known: dict[tuple[dt.date, str], list[Judged]] = defaultdict(list)
    facts_of = {(e.day, e.tracking_no): f for _, e, _, f in pending}
    for row in _rows_of_parcels(session, parcels):
        facts = facts_of[(row.day, row.tracking_no)]
        kind = facts.parcels[row.tracking_no].parcel.kind
        position = step(row.event, kind, row_scanner(row), facts.depots, facts.hub_id)
        known[(row.day, row.tracking_no)].append(Judged(row_event(row), position))
    results: dict[int, ScanResult] = {}
    accepted: dict[str, ScanEvent] = {}
    for i, e, position, _ in pending:
        twin = accepted.get(e.event_id) or (
            row_event(by_id[e.event_id]) if e.event_id in by_id else None
        )
        if twin is not None:
            if twin.same_as(e):
                results[i] = ScanResult(i, e.event_id, "duplicate")
            else:
                results[i] = ScanResult(
                    i, e.event_id, "refused", "event id already used for a different event"
                )
            continue
        new = Judged(e, position)
        why = check_order(new, known[(e.day, e.tracking_no)])
        if why is not None:
            results[i] = ScanResult(i, e.event_id, "refused", why)
            continue
        known[(e.day, e.tracking_no)].append(new)
        accepted[e.event_id] = e
        results[i] = ScanResult(i, e.event_id, "stored")
    if accepted:
        _insert(session, list(accepted.values()), scanner, key_id, now)
    return results


def _lock_key(day: dt.date, tracking_no: str) -> int:
    """A signed 64-bit advisory lock key for one parcel of one day."""
    digest = hashlib.blake2b(f"{day.isoformat()}|{tracking_no}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _rows_by_id(session: Session, event_ids: Sequence[str]) -> list[ScanRow]:
    rows: list[ScanRow] = []
    unique = sorted(set(event_ids))
    for k in range(0, len(unique), _CHUNK):
        chunk = unique[k : k + _CHUNK]
        rows += session.scalars(select(ScanRow).where(ScanRow.event_id.in_(chunk))).all()
    return rows


def _rows_of_parcels(session: Session, parcels: Sequence[tuple[dt.date, str]]) -> list[ScanRow]:
    """Stored rows of these (day, tracking number) pairs: looked up by tracking number and day
    (the index's order; SQLite does not use an index for a row-value IN), then filtered."""
    wanted = set(parcels)
    days = sorted({day for day, _ in parcels})
    numbers = sorted({t for _, t in parcels})
    rows: list[ScanRow] = []
    for k in range(0, len(numbers), _CHUNK):
        chunk = numbers[k : k + _CHUNK]
        rows += session.scalars(
            select(ScanRow).where(ScanRow.tracking_no.in_(chunk), ScanRow.day.in_(days))
        ).all()
    return [r for r in rows if (r.day, r.tracking_no) in wanted]


def _insert(
    session: Session,
    events: Sequence[ScanEvent],
    scanner: Scanner,
    key_id: str,
    now: dt.datetime,
) -> None:
    """Insert accepted events, numbering each day's in commit order (day rows locked last)."""
    per_day: dict[dt.date, list[ScanEvent]] = defaultdict(list)
    for e in events:
        per_day[e.day].append(e)
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = []
    for day in sorted(per_day):
        mine = per_day[day]
        upsert = (
            dialect_insert(ScanDay)
            .values(day=day, seq=len(mine))
            .on_conflict_do_update(
                index_elements=[ScanDay.day], set_={"seq": ScanDay.seq + len(mine)}
            )
            .returning(ScanDay.seq)
        )
        last = int(session.execute(upsert).scalar_one())
        for k, e in enumerate(mine):
            rows.append(
                {
                    "event_id": e.event_id,
                    "day": day,
                    "seq": last - len(mine) + 1 + k,
                    "tracking_no": e.tracking_no,
                    "event": e.event,
                    "reason": e.reason,
                    "event_time": e.time.astimezone(dt.UTC),
                    "time_s": e.time_s,
                    "lon": e.lon,
                    "lat": e.lat,
                    "key_id": key_id,
                    "role": scanner.role,
                    "vehicle_id": scanner.vehicle_id,
                    "station_id": scanner.station_id,
                    "received_at": now,
                }
            )
    session.connection().execute(insert(ScanRow), rows)  # Core executemany: no ORM bookkeeping


def events_of(engine: Engine, tracking_no: str) -> list[ScanRow]:
    """Every stored event of a tracking number, by day and time."""
    with reading(engine) as session:
        return list(
            session.scalars(
                select(ScanRow)
                .where(ScanRow.tracking_no == tracking_no)
                .order_by(ScanRow.day, ScanRow.time_s, ScanRow.seq)
            )
        )


def day_revisions(engine: Engine, days: Iterable[dt.date]) -> dict[dt.date, int]:
    """The last seq of each of `days` that has scans."""
    wanted = sorted(set(days))
    if not wanted:
        return {}
    with reading(engine) as session:
        rows = session.execute(
            select(ScanDay.day, ScanDay.seq).where(ScanDay.day.in_(wanted))
        ).all()
    return {day: int(seq) for day, seq in rows}


def events_since(
    engine: Engine, day: dt.date, after_seq: int
) -> tuple[list[FoldedScan], int | None]:
    """The day's events numbered after `after_seq`, in seq order, as plan-against-actual
    folds them, and the last number."""
    columns = (
        ScanRow.tracking_no,
        ScanRow.event,
        ScanRow.time_s,
        ScanRow.reason,
        ScanRow.vehicle_id,
        ScanRow.seq,
    )
    with engine.connect() as conn:
        rows = conn.execute(
            select(*columns)
            .where(ScanRow.day == day, ScanRow.seq > after_seq)
            .order_by(ScanRow.seq)
        ).all()
    events = [FoldedScan(r[0], r[1], r[2], r[3], r[4]) for r in rows]
    return events, (int(rows[-1][5]) if rows else None)
