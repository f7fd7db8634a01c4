"""Stored manifests and their parcels: idempotent by content hash, all-or-nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db import Manifest, ParcelRow, iso_utc, reading, writing
from dispatch.manifest import PARCEL_FIELDS
from dispatch.parcel import InputError, ManifestError, Parcel

_CHUNK = 500
#: Attempts of an upload that keeps losing races to concurrent uploads.
_RACE_RETRIES = 5
#: the stored fields of a parcel: what its manifest columns fill, and where it was read
_FIELDS = [*PARCEL_FIELDS, "source", "row"]
_PARCELS = cast(Table, ParcelRow.__table__)  # Core insert: several times faster than the ORM


def content_hash(data: bytes) -> str:
    """Hex SHA-256 of an upload's bytes."""
    return hashlib.sha256(data).hexdigest()


def manifest_info(m: Manifest) -> dict[str, Any]:
    """The JSON view of a stored manifest."""
    return {
        "manifest_id": m.manifest_id,
        "parcels": m.parcels,
        "carrier": m.carrier,
        "date": m.date.isoformat(),
        "filename": m.filename,
        "created_at": iso_utc(m.created_at),
    }


def find_manifest(engine: Engine, sha256: str) -> dict[str, Any] | None:
    """The stored manifest with content hash `sha256`, if any."""
    with reading(engine) as session:
        m = session.scalars(select(Manifest).where(Manifest.content_sha256 == sha256)).first()
        return manifest_info(m) if m else None


def list_manifests(engine: Engine, date: dt.date | None) -> list[dict[str, Any]]:
    """Stored manifests (of `date` if given), oldest first."""
    query = select(Manifest).order_by(Manifest.created_at, Manifest.manifest_id)
    if date is not None:
        query = query.where(Manifest.date == date)
    with reading(engine) as session:
        return [manifest_info(m) for m in session.scalars(query)]


def _carrier(parcels: Sequence[Parcel]) -> str:
    """The manifest's carrier, or "mixed" when it holds parcels of several carriers."""
    names = {p.carrier for p in parcels}
    return names.pop() if len(names) == 1 else "mixed"


def _clashes(
    session: Session, date: dt.date, parcels: Sequence[Parcel], filename: str
) -> list[InputError]:
    """Rows whose tracking number repeats in the upload or is stored for `date` already."""
    errors: list[InputError] = []
    counts = Counter(p.tracking_no for p in parcels)
    seen: set[str] = set()
    for p in parcels:
        if counts[p.tracking_no] > 1 and p.tracking_no in seen:
            errors.append(
                InputError(filename, p.row, "tracking_no", f"{p.tracking_no} repeats in this file")
            )
        seen.add(p.tracking_no)
    stored: dict[str, str] = {}
    numbers = list(counts)
    for i in range(0, len(numbers), _CHUNK):
        rows = session.execute(
            select(ParcelRow.tracking_no, ParcelRow.manifest_id).where(
                ParcelRow.date == date, ParcelRow.tracking_no.in_(numbers[i : i + _CHUNK])
            )
        )
        stored.update({t: m for t, m in rows})
    for p in parcels:
        if p.tracking_no in stored:
            errors.append(
                InputError(
                    filename,
                    p.row,
                    "tracking_no",
                    f"{p.tracking_no} is already in manifest {stored[p.tracking_no]} "
                    f"for {date.isoformat()}",
                )
            )
    return errors


def store_manifest(
    engine: Engine,
    data: bytes,
    filename: str,
    parcels: Sequence[Parcel],
    date: dt.date | None = None,
) -> tuple[dict[str, Any], bool]:
    """Store a parsed manifest in one transaction; (info, created).

    The same bytes again return the stored manifest with created False. The manifest's date is
    `date`, else the earliest due date of its parcels. Raises ManifestError (nothing stored)
    when it has no parcels or a tracking number is already stored for that date. Of several
    concurrent uploads sharing tracking numbers exactly one is stored; the others get the
    ManifestError naming their rows.
    """
    sha = content_hash(data)
    if not parcels:
        raise ManifestError([InputError(filename, 0, "tracking_no", "the manifest has no parcels")])
    day = date or min(p.due_date for p in parcels)
    for _attempt in range(_RACE_RETRIES):
        try:
            return _store_once(engine, sha, data, filename, parcels, day)
        except IntegrityError:
            # A concurrent upload committed first: the same bytes (answer with it), or
            # clashing tracking numbers (the next attempt's check names the rows).
            found = find_manifest(engine, sha)
            if found is not None:
                return found, False
    raise RuntimeError(f"{filename}: storing kept clashing with concurrent uploads")


def _store_once(
    engine: Engine,
    sha: str,
    data: bytes,
    filename: str,
    parcels: Sequence[Parcel],
    day: dt.date,
) -> tuple[dict[str, Any], bool]:
    """One attempt of store_manifest in one transaction."""
    with writing(engine) as session:
        existing = session.scalars(select(Manifest).where(Manifest.content_sha256 == sha)).first()
        if existing is not None:
            return manifest_info(existing), False
        errors = _clashes(session, day, parcels, filename)
        if errors:
            raise ManifestError(errors)
        m = Manifest(
            manifest_id=f"m_{sha[:16]}",
            content_sha256=sha,
            filename=filename[:255],
            carrier=_carrier(parcels),
            date=day,
            parcels=len(parcels),
            size_bytes=len(data),
        )
        session.add(m)
        session.flush()
        session.execute(insert(_PARCELS), [_row(m.manifest_id, day, p) for p in parcels])
        return manifest_info(m), True


def _row(manifest_id: str, date: dt.date, p: Parcel) -> dict[str, Any]:
    """A parcels-table row for `p`."""
    row = {name: getattr(p, name) for name in _FIELDS}
    row["manifest_id"] = manifest_id
    row["date"] = date
    return row


def missing_manifests(engine: Engine, manifest_ids: Iterable[str]) -> list[str]:
    """The ids in `manifest_ids` that are not stored."""
    ids = set(manifest_ids)
    with reading(engine) as session:
        found = set(
            session.scalars(select(Manifest.manifest_id).where(Manifest.manifest_id.in_(ids)))
        )
    return sorted(ids - found)


def load_parcels(
    session: Session, manifest_ids: Sequence[str], tracking_nos: Iterable[str] | None = None
) -> list[Parcel]:
    """The parcels of `manifest_ids` in upload order (only `tracking_nos` if given)."""
    columns = [getattr(ParcelRow, name) for name in _FIELDS]
    query = select(*columns).where(ParcelRow.manifest_id.in_(list(manifest_ids)))
    if tracking_nos is None:
        rows = session.execute(query.order_by(ParcelRow.id)).all()
    else:
        wanted = list(tracking_nos)
        rows = []
        for i in range(0, len(wanted), _CHUNK):
            chunk = wanted[i : i + _CHUNK]
            rows.extend(session.execute(query.where(ParcelRow.tracking_no.in_(chunk))).all())
    return [Parcel(**dict(zip(_FIELDS, r, strict=True))) for r in rows]
