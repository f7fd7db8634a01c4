"""Carrier manifests: read CSV/JSON files into checked parcels, and write them back as CSV.

One manifest per carrier and day. Columns (CSV header or JSON keys, case-insensitive):

- ``tracking_no``, ``carrier``: non-empty printable text (at most 64 characters); tracking
  numbers are unique across all the manifests of a day.
- ``kind``: ``delivery`` (hub -> point) or ``pickup`` (point -> hub); 派件/揽件 also accepted.
- where: ``point_id`` (a town station's 9-digit or a village/community's 12-digit NBS code), or,
  when it is empty, ``lon``/``lat`` with ``crs`` ``wgs84`` (default) or ``gcj02`` (what Chinese
  map apps give). A coordinate is converted to WGS-84 and assigned to the service area it lies
  in. When ``point_id`` is given, any ``lon``/``lat`` on the row is ignored.
- ``weight_kg``: decimal kilograms, > 0 after rounding to grams.
- ``volume_l``: decimal litres, >= 0 (0 = negligible, e.g. a document envelope), rounded to ml.
- ``cold``: 0/1 or true/false (optional column; empty = 0).
- ``due_date``: ISO date, e.g. 2026-03-05 (later than the plan date = may be deferred).

Required columns: tracking_no, carrier, kind, weight_kg, volume_l, due_date, and point_id or
both lon and lat. Other columns are ignored. CSV: UTF-8 with or without BOM, or GBK/GB18030
(what Excel in China writes); comma-separated (tab or semicolon detected from the header).
JSON: a list of records, or an object ``{"parcels": [records]}``; values may be strings,
numbers, booleans or null. Row 1 is the first data row (first JSON record); row 0 is the
header / the file itself.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import math
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from dispatch.atomic import write_atomic
from dispatch.encodings import ACCEPTED, decode_text
from dispatch.parcel import InputError, Kind, ManifestError, Parcel
from geodata.areas import ServiceAreas
from geodata.county import County
from geodata.crs import gcj02_to_wgs84, wgs84_to_gcj02

MAX_TEXT = 64

_KINDS: dict[str, Kind] = {
    "delivery": "delivery",
    "pickup": "pickup",
    "派件": "delivery",
    "揽件": "pickup",
}
_CRS = {"": "wgs84", "wgs84": "wgs84", "wgs-84": "wgs84", "epsg:4326": "wgs84"}
_CRS |= {"gcj02": "gcj02", "gcj-02": "gcj02"}
_TRUE = {"1", "true", "yes"}
_FALSE = {"", "0", "false", "no"}

CoordMode = Literal["point_id", "wgs84", "gcj02", "mixed"]
_Record = dict[str, str]
_Bad = Callable[[str, str], None]  # reports (field, message) for the current row
_Report = Callable[[str], None]  # reports a message about the current column


@dataclass(frozen=True)
class Place:
    """How a written row names its place: a point id, or lon/lat text in a crs."""

    point_id: str = ""
    lon: str = ""
    lat: str = ""
    crs: str = ""


@dataclass(frozen=True)
class Column:
    """One manifest column: its name, whether the header must have it, the Parcel field it
    fills, how a cell is read (`parse`: text -> value, or None after reporting the problem)
    and how a parcel's value is written back (`write`).

    The place columns (point_id, lon, lat, crs) have no `parse`: they are read together
    (`point_id`, else `lon`/`lat` in `crs`, located in the county's service areas) into
    Parcel.point_id. Everything else about a column lives here: the header check, the row
    checks, the Parcel built, the CSV writer and the stored parcels (api.db, api.manifest_store)
    follow this table.
    """

    name: str
    required: bool
    field: str | None
    parse: Callable[[str, _Report], Any] | None
    write: Callable[[Parcel, Place], str]


def _text(what: str) -> Callable[[str, _Report], str | None]:
    """Non-empty printable text of at most MAX_TEXT characters."""

    def parse(text: str, report: _Report) -> str | None:
        value = text.strip()
        if not value:
            report(f"empty {what}")
        elif len(value) > MAX_TEXT or not value.isprintable():
            report(f"not printable or longer than {MAX_TEXT} characters")
        else:
            return value
        return None

    return parse


def _kind(text: str, report: _Report) -> Kind | None:
    kind = _KINDS.get(text.strip().lower())
    if kind is None:
        report(f"{text!r} is not delivery or pickup")
    return kind


def _flag(text: str, report: _Report) -> bool | None:
    value = text.strip().lower()
    if value not in _TRUE and value not in _FALSE:
        report(f"{text!r} is not 0/1 or true/false")
        return None
    return value in _TRUE


def _date(text: str, report: _Report) -> dt.date | None:
    """An ISO date (YYYY-MM-DD), or None after reporting the error."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        report(f"{text!r} is not an ISO date (YYYY-MM-DD)")
        return None


def _kilo(text: str, report: _Report) -> int | None:
    return _milli_units(text, report, positive=True)


def _kilo_or_zero(text: str, report: _Report) -> int | None:
    return _milli_units(text, report, positive=False)


#: The manifest's columns, in the order the writer puts them.
COLUMNS: tuple[Column, ...] = (
    Column(
        "tracking_no", True, "tracking_no", _text("tracking number"), lambda p, _: p.tracking_no
    ),
    Column("carrier", True, "carrier", _text("carrier"), lambda p, _: p.carrier),
    Column("kind", True, "kind", _kind, lambda p, _: p.kind),
    Column("point_id", False, "point_id", None, lambda _, where: where.point_id),
    Column("lon", False, None, None, lambda _, where: where.lon),
    Column("lat", False, None, None, lambda _, where: where.lat),
    Column("crs", False, None, None, lambda _, where: where.crs),
    Column("weight_kg", True, "weight_g", _kilo, lambda p, _: _milli(p.weight_g)),
    Column("volume_l", True, "volume_ml", _kilo_or_zero, lambda p, _: _milli(p.volume_ml)),
    Column("cold", False, "cold", _flag, lambda p, _: "1" if p.cold else "0"),
    Column("due_date", True, "due_date", _date, lambda p, _: p.due_date.isoformat()),
)
MANIFEST_COLUMNS = tuple(c.name for c in COLUMNS)
REQUIRED_COLUMNS = tuple(c.name for c in COLUMNS if c.required)
#: Parcel fields a manifest fills (the others, `source` and `row`, say where it was read)
PARCEL_FIELDS = tuple(c.field for c in COLUMNS if c.field is not None)


def parse_manifest(
    data: bytes, filename: str, county: County, areas: ServiceAreas
) -> tuple[list[Parcel], list[InputError]]:
    """Parse and check one manifest; returns the valid parcels and every error found.

    Never raises for bad content: every problem is an InputError naming file, row and field.
    """
    errors: list[InputError] = []
    text = decode_text(data)
    if text is None:
        return [], [InputError(filename, 0, "file", f"not {ACCEPTED}")]
    if not text.strip():
        return [], [InputError(filename, 0, "file", "file is empty")]
    if filename.lower().endswith(".json") or text.lstrip().startswith(("[", "{")):
        records = _json_records(text, filename, errors)
    else:
        records = _csv_records(text, filename, errors)
    return _check(records, filename, county, areas, errors)


def read_manifests(
    paths: Sequence[Path], county: County, areas: ServiceAreas, skip_invalid: bool = False
) -> tuple[list[Parcel], list[InputError]]:
    """Read several manifests (errors name each file by its base name).

    Tracking numbers must be unique across the files; a repeat is an error on the later row.
    Raises ManifestError with every error unless `skip_invalid`, which returns the valid
    parcels together with the errors.
    """
    parcels: list[Parcel] = []
    errors: list[InputError] = []
    first_seen: dict[str, tuple[str, int]] = {}
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            errors.append(InputError(path.name, 0, "file", f"cannot read: {exc.strerror}"))
            continue
        file_parcels, file_errors = parse_manifest(data, path.name, county, areas)
        errors.extend(file_errors)
        for parcel in file_parcels:
            seen = first_seen.get(parcel.tracking_no)
            if seen is not None:
                msg = f"duplicate tracking number (also in {seen[0]} row {seen[1]})"
                errors.append(InputError(parcel.source, parcel.row, "tracking_no", msg))
                continue
            first_seen[parcel.tracking_no] = (parcel.source, parcel.row)
            parcels.append(parcel)
    if errors and not skip_invalid:
        raise ManifestError(errors)
    return parcels, errors


def write_manifest_csv(
    parcels: Sequence[Parcel],
    path: Path,
    county: County,
    coords: CoordMode = "mixed",
    *,
    positions: Mapping[str, tuple[float, float]] | None = None,
    encoding: str = "utf-8",
) -> None:
    """Write parcels as a manifest CSV with every column of MANIFEST_COLUMNS.

    `coords` says how each row names its place: by point_id, by WGS-84 or GCJ-02 lon/lat, or
    "mixed" (a stable third of the rows each way, chosen from the tracking number).
    `positions` gives a WGS-84 (lon, lat) per tracking number for coordinate rows (default:
    the point's own position). `encoding` e.g. "utf-8", "utf-8-sig" (Excel) or "gbk".
    The file is encoded fully in memory first and replaced atomically: a failure leaves
    nothing half-written.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(MANIFEST_COLUMNS)
    modes: tuple[CoordMode, ...] = ("point_id", "wgs84", "gcj02")
    for p in parcels:
        mode = modes[zlib.crc32(p.tracking_no.encode()) % 3] if coords == "mixed" else coords
        if mode == "point_id":
            place = Place(point_id=p.point_id)
        else:
            if positions is not None and p.tracking_no in positions:
                x, y = positions[p.tracking_no]
            else:
                pt = county.point(p.point_id)
                x, y = pt.lon, pt.lat
            if mode == "gcj02":
                x, y = wgs84_to_gcj02(x, y)
            place = Place(lon=f"{x:.6f}", lat=f"{y:.6f}", crs=mode)
        writer.writerow([c.write(p, place) for c in COLUMNS])
    write_atomic(path, out.getvalue().encode(encoding))


def _milli(value: int) -> str:
    """Integer thousandths as an exact decimal string: 1500 -> "1.5", 2000 -> "2"."""
    whole, frac = divmod(value, 1000)
    return f"{whole}.{frac:03d}".rstrip("0").rstrip(".")


def _csv_records(
    text: str, filename: str, errors: list[InputError]
) -> Iterator[tuple[int, _Record]]:
    """Yield (row, record) from CSV text; header problems and broken quoting go to `errors`."""
    first_line = text.split("\n", 1)[0]
    delimiter = ","
    if "," not in first_line:
        delimiter = "\t" if "\t" in first_line else ";" if ";" in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    row = 0
    try:
        header = [h.strip().lstrip("\ufeff").lower() for h in next(reader, [])]
        if not _check_header(header, filename, errors):
            return
        width = len(header)
        for row, values in enumerate(reader, start=1):
            if not any(v.strip() for v in values):
                continue  # blank line
            if len(values) > width and any(v.strip() for v in values[width:]):
                msg = f"{len(values)} fields but the header has {width}"
                errors.append(InputError(filename, row, "row", msg))
                continue
            values = values + [""] * (width - len(values))
            yield row, dict(zip(header, values, strict=False))
    except csv.Error as exc:
        errors.append(InputError(filename, row + 1, "row", f"unreadable CSV: {exc}"))


def _check_header(header: list[str], filename: str, errors: list[InputError]) -> bool:
    """Record missing and repeated columns; True if rows can be read."""
    ok = True
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            errors.append(InputError(filename, 0, name, "column appears twice"))
            ok = False
        seen.add(name)
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if "point_id" not in seen:
        missing += [c for c in ("lon", "lat") if c not in seen]
    for name in missing:
        errors.append(InputError(filename, 0, name, "missing column"))
    return ok and not missing


def _json_records(
    text: str, filename: str, errors: list[InputError]
) -> Iterator[tuple[int, _Record]]:
    """Yield (row, record) from a JSON list of records or {"parcels": [records]}."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, or an int too long
        errors.append(InputError(filename, 0, "file", f"invalid JSON: {exc}"))
        return
    if isinstance(doc, dict):
        doc = doc.get("parcels")
    if not isinstance(doc, list):
        msg = 'expected a list of records or {"parcels": [...]}'
        errors.append(InputError(filename, 0, "parcels", msg))
        return
    for row, item in enumerate(doc, start=1):
        if not isinstance(item, dict):
            errors.append(InputError(filename, row, "record", "expected an object"))
            continue
        record: _Record = {}
        bad = False
        for key, value in item.items():
            name = str(key).strip().lower()
            if value is None:
                record[name] = ""
            elif isinstance(value, bool):
                record[name] = "true" if value else "false"
            elif isinstance(value, str | int | float):
                record[name] = str(value)
            else:
                errors.append(InputError(filename, row, name, "expected a string or number"))
                record[name] = ""
                bad = True
        missing = [c for c in REQUIRED_COLUMNS if c not in record]
        if "point_id" not in record:
            missing += [c for c in ("lon", "lat") if c not in record]
        for name in missing:
            errors.append(InputError(filename, row, name, "missing field"))
        if not bad and not missing:
            yield row, record


def _check(
    records: Iterator[tuple[int, _Record]],
    filename: str,
    county: County,
    areas: ServiceAreas,
    errors: list[InputError],
) -> tuple[list[Parcel], list[InputError]]:
    """Validate every record, locate coordinate rows in one batch, build the parcels."""
    targets = {p.point_id for p in county.points if p.kind in ("station", "village")}
    seen: dict[str, int] = {}
    rows: list[_Row] = []
    for row, rec in records:
        checked = _check_record(row, rec, filename, targets, county.hub_id, seen, errors)
        if checked is not None:
            rows.append(checked)
    pending = [r for r in rows if r.lonlat is not None]
    if pending:
        lons = [r.lonlat[0] for r in pending if r.lonlat is not None]
        lats = [r.lonlat[1] for r in pending if r.lonlat is not None]
        for r, found in zip(pending, areas.locate_many(lons, lats), strict=True):
            if found is None or found not in targets:
                lon, lat = r.lonlat or (math.nan, math.nan)
                where = "outside the county" if found is None else f"in the area of {found}"
                msg = f"location {lon:.6f},{lat:.6f} (WGS-84) is {where}, no service point"
                errors.append(InputError(filename, r.row, "lon", msg))
            r.values["point_id"] = found or ""
    parcels = [
        Parcel(**r.values, source=filename, row=r.row)
        for r in rows
        if r.values["point_id"] in targets
    ]
    errors.sort(key=lambda e: e.row)
    return parcels, errors


@dataclass
class _Row:
    """A row whose fields are valid: Parcel field values (point_id "" while `lonlat`, in
    WGS-84, still needs locating)."""

    row: int
    values: dict[str, Any]
    lonlat: tuple[float, float] | None


def _check_record(
    row: int,
    rec: _Record,
    filename: str,
    targets: set[str],
    hub_id: str,
    seen: dict[str, int],
    errors: list[InputError],
) -> _Row | None:
    """Check one record's fields (COLUMNS); append its errors and return None if any."""
    n_before = len(errors)

    def bad(field: str, message: str) -> None:
        errors.append(InputError(filename, row, field, message))

    values: dict[str, Any] = {}
    for column in COLUMNS:
        if column.parse is None or column.field is None:
            continue  # the place, read below
        name = column.name
        values[column.field] = column.parse(rec.get(name, ""), functools.partial(bad, name))
        if name == "tracking_no" and values["tracking_no"] is not None:
            tracking_no = values["tracking_no"]
            if tracking_no in seen:
                bad(name, f"duplicate tracking number (also in row {seen[tracking_no]})")
            else:
                seen[tracking_no] = row
    values["point_id"], lonlat = _where(rec, targets, hub_id, bad)
    if len(errors) > n_before:
        return None
    return _Row(row, values, lonlat)


def _milli_units(text: str, report: _Report, *, positive: bool) -> int | None:
    """Decimal kg or litres -> integer g or ml (rounded); None after reporting if invalid."""
    try:
        value = float(text.strip())
    except ValueError:
        report(f"{text!r} is not a number")
        return None
    if not math.isfinite(value) or value < 0:
        report(f"{text!r} must be a non-negative number")
        return None
    if value > 1e9:
        report(f"{text!r} is too large")
        return None
    milli = round(value * 1000)
    if positive and milli <= 0:
        report(f"{text!r} rounds to 0; must be more than 0")
        return None
    return milli


def _where(
    rec: _Record, targets: set[str], hub_id: str, bad: _Bad
) -> tuple[str, tuple[float, float] | None]:
    """The row's point id, or ("", WGS-84 lon/lat) still to be located."""
    point_id = rec.get("point_id", "").strip()
    if point_id:
        if point_id in targets:
            return point_id, None
        if point_id.upper() == hub_id.upper():
            bad("point_id", "the hub is not a delivery or pickup point")
        elif "e+" in point_id.lower():
            bad("point_id", f"{point_id!r} looks mangled by Excel; format the column as text")
        else:
            bad("point_id", f"unknown point {point_id!r}")
        return "", None
    lon_text, lat_text = rec.get("lon", "").strip(), rec.get("lat", "").strip()
    if not lon_text and not lat_text:
        bad("point_id", "neither point_id nor lon/lat given")
        return "", None
    crs = _CRS.get(rec.get("crs", "").strip().lower())
    if crs is None:
        bad("crs", f"unknown crs {rec['crs']!r} (use wgs84 or gcj02)")
    lon = _coordinate(lon_text, "lon", 180.0, bad)
    lat = _coordinate(lat_text, "lat", 90.0, bad)
    if lon is None or lat is None or crs is None:
        return "", None
    if crs == "gcj02":
        lon, lat = gcj02_to_wgs84(lon, lat)
    return "", (lon, lat)


def _coordinate(text: str, field: str, limit: float, bad: _Bad) -> float | None:
    """A finite decimal degree within ±limit, or None after reporting the error."""
    try:
        value = float(text)
    except ValueError:
        bad(field, f"{text!r} is not a number")
        return None
    if not math.isfinite(value) or abs(value) > limit:
        bad(field, f"{text!r} is not a valid {field}")
        return None
    return value
