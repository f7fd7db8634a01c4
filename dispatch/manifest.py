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
import io
import json
import math
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dispatch.parcel import InputError, Kind, ManifestError, Parcel
from geodata.areas import ServiceAreas
from geodata.county import County
from geodata.crs import gcj02_to_wgs84, wgs84_to_gcj02

MANIFEST_COLUMNS = (
    "tracking_no",
    "carrier",
    "kind",
    "point_id",
    "lon",
    "lat",
    "crs",
    "weight_kg",
    "volume_l",
    "cold",
    "due_date",
)
REQUIRED_COLUMNS = ("tracking_no", "carrier", "kind", "weight_kg", "volume_l", "due_date")
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


@dataclass
class _Row:
    """A row whose fields are valid; `lonlat` (WGS-84) is set when it still needs locating."""

    row: int
    tracking_no: str
    carrier: str
    kind: Kind
    point_id: str
    lonlat: tuple[float, float] | None
    weight_g: int
    volume_ml: int
    cold: bool
    due_date: dt.date


def parse_manifest(
    data: bytes, filename: str, county: County, areas: ServiceAreas
) -> tuple[list[Parcel], list[InputError]]:
    """Parse and check one manifest; returns the valid parcels and every error found.

    Never raises for bad content: every problem is an InputError naming file, row and field.
    """
    errors: list[InputError] = []
    text = _decode(data)
    if text is None:
        return [], [InputError(filename, 0, "file", "not UTF-8 or GB18030/GBK text")]
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
    The file is encoded fully in memory first, so a failure leaves nothing half-written.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(MANIFEST_COLUMNS)
    modes: tuple[CoordMode, ...] = ("point_id", "wgs84", "gcj02")
    for p in parcels:
        mode = modes[zlib.crc32(p.tracking_no.encode()) % 3] if coords == "mixed" else coords
        point_id = lon = lat = crs = ""
        if mode == "point_id":
            point_id = p.point_id
        else:
            if positions is not None and p.tracking_no in positions:
                x, y = positions[p.tracking_no]
            else:
                pt = county.point(p.point_id)
                x, y = pt.lon, pt.lat
            if mode == "gcj02":
                x, y = wgs84_to_gcj02(x, y)
            lon, lat, crs = f"{x:.6f}", f"{y:.6f}", mode
        writer.writerow(
            (
                p.tracking_no,
                p.carrier,
                p.kind,
                point_id,
                lon,
                lat,
                crs,
                _milli(p.weight_g),
                _milli(p.volume_ml),
                "1" if p.cold else "0",
                p.due_date.isoformat(),
            )
        )
    path.write_bytes(out.getvalue().encode(encoding))


def _milli(value: int) -> str:
    """Integer thousandths as an exact decimal string: 1500 -> "1.5", 2000 -> "2"."""
    whole, frac = divmod(value, 1000)
    return f"{whole}.{frac:03d}".rstrip("0").rstrip(".")


def _decode(data: bytes) -> str | None:
    """UTF-8 (BOM stripped) if it decodes, else GB18030 (a superset of GBK), else None."""
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return None


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
            r.point_id = found or ""
    parcels = [
        Parcel(
            tracking_no=r.tracking_no,
            carrier=r.carrier,
            kind=r.kind,
            point_id=r.point_id,
            weight_g=r.weight_g,
            volume_ml=r.volume_ml,
            cold=r.cold,
            due_date=r.due_date,
            source=filename,
            row=r.row,
        )
        for r in rows
        if r.point_id in targets
    ]
    errors.sort(key=lambda e: e.row)
    return parcels, errors


def _check_record(
    row: int,
    rec: _Record,
    filename: str,
    targets: set[str],
    hub_id: str,
    seen: dict[str, int],
    errors: list[InputError],
) -> _Row | None:
    """Check one record's fields; append its errors and return None if any."""
    n_before = len(errors)

    def bad(field: str, message: str) -> None:
        errors.append(InputError(filename, row, field, message))

    tracking_no = rec["tracking_no"].strip()
    if not tracking_no:
        bad("tracking_no", "empty tracking number")
    elif len(tracking_no) > MAX_TEXT or not tracking_no.isprintable():
        bad("tracking_no", f"not printable or longer than {MAX_TEXT} characters")
    elif tracking_no in seen:
        bad("tracking_no", f"duplicate tracking number (also in row {seen[tracking_no]})")
    else:
        seen[tracking_no] = row
    carrier = rec["carrier"].strip()
    if not carrier:
        bad("carrier", "empty carrier")
    elif len(carrier) > MAX_TEXT or not carrier.isprintable():
        bad("carrier", f"not printable or longer than {MAX_TEXT} characters")
    kind = _KINDS.get(rec["kind"].strip().lower())
    if kind is None:
        bad("kind", f"{rec['kind']!r} is not delivery or pickup")
    weight_g = _milli_units(rec["weight_kg"], "weight_kg", bad, positive=True)
    volume_ml = _milli_units(rec["volume_l"], "volume_l", bad, positive=False)
    cold_text = rec.get("cold", "").strip().lower()
    if cold_text not in _TRUE and cold_text not in _FALSE:
        bad("cold", f"{rec['cold']!r} is not 0/1 or true/false")
    due_date = _date(rec["due_date"], bad)
    point_id, lonlat = _where(rec, targets, hub_id, bad)
    if len(errors) > n_before:
        return None
    assert kind is not None and due_date is not None
    return _Row(
        row=row,
        tracking_no=tracking_no,
        carrier=carrier,
        kind=kind,
        point_id=point_id,
        lonlat=lonlat,
        weight_g=weight_g,
        volume_ml=volume_ml,
        cold=cold_text in _TRUE,
        due_date=due_date,
    )


def _milli_units(text: str, field: str, bad: _Bad, *, positive: bool) -> int:
    """Decimal kg or litres -> integer g or ml (rounded); 0 and an error if invalid."""
    try:
        value = float(text.strip())
    except ValueError:
        bad(field, f"{text!r} is not a number")
        return 0
    if not math.isfinite(value) or value < 0:
        bad(field, f"{text!r} must be a non-negative number")
        return 0
    if value > 1e9:
        bad(field, f"{text!r} is too large")
        return 0
    milli = round(value * 1000)
    if positive and milli <= 0:
        bad(field, f"{text!r} rounds to 0; must be more than 0")
    return milli


def _date(text: str, bad: _Bad) -> dt.date | None:
    """An ISO date (YYYY-MM-DD), or None after reporting the error."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        bad("due_date", f"{text!r} is not an ISO date (YYYY-MM-DD)")
        return None


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
