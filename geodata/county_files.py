"""The files of a county folder: `county.toml`, `points.csv` and the optional outline GeoJSON.

Each reader checks every value and returns what it could read plus every problem found, named
by file, row and field; `geodata.county` assembles the county from them. The format is
documented in the README ("County folders").
"""

from __future__ import annotations

import csv
import json
import math
import tomllib
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from geodata.crs import gcj02_to_wgs84
from geodata.points import POINT_KINDS, VEHICLE_CLASSES, PointKind
from geodata.problems import Problem
from geodata.roadclass import class_speeds

SETTINGS_FILE = "county.toml"
POINTS_FILE = "points.csv"
DEFAULT_TIME_ZONE = "Asia/Shanghai"
#: A point farther than this (m) from the nearest drivable road is refused.
DEFAULT_MAX_ACCESS_M = 2000.0
#: Roads of an OSM extract are kept this far (m) outside the county outline.
DEFAULT_CLIP_MARGIN_M = 5000.0

POINT_COLUMNS = (
    "id",
    "name",
    "kind",
    "town",
    "lon",
    "lat",
    "crs",
    "hours",
    "max_vehicle",
    "cold_room",
)
OPTIONAL_COLUMNS = ("assumed", "note")
_SETTINGS_KEYS = {
    "name",
    "code",
    "time_zone",
    "outline",
    "network",
    "fleet",
    "max_access_m",
    "clip_margin_m",
    "attribution",
    "speeds_kph",
}
_CRS = {"": "wgs84", "wgs84": "wgs84", "wgs-84": "wgs84", "epsg:4326": "wgs84"}
_CRS |= {"gcj02": "gcj02", "gcj-02": "gcj02"}
_TRUE = {"yes", "true", "1"}
_Bad = Callable[[str, str], None]  # reports (field, message)
_FALSE = {"", "no", "false", "0"}


@dataclass(frozen=True)
class CountySettings:
    """What `county.toml` says: names, time zone, file paths (absolute), road settings (m)."""

    name: str = ""
    code: str = ""
    time_zone: str = DEFAULT_TIME_ZONE
    outline_file: Path | None = None
    network_file: Path | None = None
    fleet_file: Path | None = None
    max_access_m: float = DEFAULT_MAX_ACCESS_M
    clip_margin_m: float = DEFAULT_CLIP_MARGIN_M
    attribution: str = ""
    speeds_kph: dict[str, float] = field(default_factory=dict)

    @property
    def identity(self) -> str:
        """What names the county for a database: its code, else its name."""
        return self.code or self.name


@dataclass(frozen=True)
class PointRow:
    """One checked row of `points.csv`; lon/lat are WGS-84, None when the county left them out."""

    row: int
    point_id: str
    name: str
    kind: PointKind
    town_id: str
    lon: float | None
    lat: float | None
    open_s: int
    close_s: int
    max_vclass: str
    cold_storage: bool
    assumed: bool

    @property
    def lonlat(self) -> tuple[float, float]:
        """(lon, lat) of a row that gives its position; ValueError for one that does not."""
        if self.lon is None or self.lat is None:
            raise ValueError(f"point {self.point_id} has no position")
        return self.lon, self.lat


def read_settings(folder: Path) -> tuple[CountySettings, list[Problem]]:
    """`county.toml` of `folder` (file names resolved against the folder)."""
    problems: list[Problem] = []

    def bad(key: str, message: str) -> None:
        problems.append(Problem(SETTINGS_FILE, 0, key, message))

    path = folder / SETTINGS_FILE
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        bad("file", f"missing: a county folder needs {SETTINGS_FILE}")
        return CountySettings(), problems
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        bad("file", f"cannot read: {exc}")
        return CountySettings(), problems
    for key in doc:
        if key not in _SETTINGS_KEYS:
            bad(key, f"unknown key (known: {', '.join(sorted(_SETTINGS_KEYS))})")
    name = _text(doc, "name", bad, required=True)
    time_zone = _text(doc, "time_zone", bad) or DEFAULT_TIME_ZONE
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        bad("time_zone", f"unknown time zone {time_zone!r} (e.g. Asia/Shanghai)")
    table = doc.get("speeds_kph", {})
    if not isinstance(table, dict):
        bad("speeds_kph", "expected a table of road class = km/h")
        table = {}
    speeds: dict[str, float] = {}
    for cls, kph in table.items():
        if isinstance(kph, bool) or not isinstance(kph, int | float):
            bad(f"speeds_kph.{cls}", f"expected a number of km/h, got {kph!r}")
            continue
        try:
            class_speeds({cls: kph})
        except ValueError as exc:
            bad(f"speeds_kph.{cls}", str(exc))
            continue
        speeds[cls] = float(kph)
    settings = CountySettings(
        name=name,
        code=_text(doc, "code", bad),
        time_zone=time_zone,
        outline_file=_file(folder, doc, "outline", bad),
        network_file=_file(folder, doc, "network", bad),
        fleet_file=_file(folder, doc, "fleet", bad),
        max_access_m=_metres(doc, "max_access_m", DEFAULT_MAX_ACCESS_M, bad),
        clip_margin_m=_metres(doc, "clip_margin_m", DEFAULT_CLIP_MARGIN_M, bad),
        attribution=_text(doc, "attribution", bad),
        speeds_kph=speeds,
    )
    return settings, problems


def _text(doc: dict[str, object], key: str, bad: _Bad, required: bool = False) -> str:
    value = doc.get(key)
    if value is None:
        if required:
            bad(key, "missing")
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        bad(key, f"expected text, got {value!r}")
        return ""
    return value.strip()


def _file(folder: Path, doc: dict[str, object], key: str, bad: _Bad) -> Path | None:
    """A file named relative to the folder (absolute paths allowed); None if not given."""
    name = _text(doc, key, bad)
    if not name:
        return None
    path = (folder / name).resolve()
    if not path.is_file():
        bad(key, f"file not found: {path}")
        return None
    return path


def _metres(doc: dict[str, object], key: str, default: float, bad: _Bad) -> float:
    value = doc.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        bad(key, f"expected a distance in metres > 0, got {value!r}")
        return default
    if not math.isfinite(value):
        bad(key, f"expected a finite distance in metres, got {value!r}")
        return default
    return float(value)


def read_points(path: Path) -> tuple[list[PointRow], list[Problem]]:
    """Every row of a points file that passes its own checks, and every problem found.

    Rows are checked one by one here (values, duplicate ids, one hub, a station per town);
    positions against the outline and the roads are checked by the caller.
    """
    problems: list[Problem] = []
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return [], [Problem(name, 0, "file", "missing: a county folder needs points.csv")]
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem(name, 0, "file", f"cannot read as UTF-8 text: {exc}")]
    reader = csv.DictReader(text.splitlines())
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in POINT_COLUMNS if c not in columns]
    for column in missing:
        problems.append(Problem(name, 0, column, "missing column"))
    for column in columns:
        if column not in POINT_COLUMNS and column not in OPTIONAL_COLUMNS:
            problems.append(Problem(name, 0, column, "unknown column"))
    if missing:
        return [], problems
    rows: list[PointRow] = []
    first_row: dict[str, int] = {}
    try:
        for number, raw in enumerate(reader, start=1):
            record = {
                (k or "").strip(): (v if isinstance(v, str) else "").strip() for k, v in raw.items()
            }
            row = _point_row(name, number, record, problems)
            if row is None:
                continue
            if row.point_id in first_row:
                problems.append(
                    Problem(
                        name,
                        number,
                        "id",
                        f"duplicate id {row.point_id!r} (first on row {first_row[row.point_id]})",
                    )
                )
                continue
            first_row[row.point_id] = number
            rows.append(row)
    except csv.Error as exc:
        problems.append(Problem(name, reader.line_num, "row", f"unreadable CSV: {exc}"))
    problems += _structure(name, rows)
    return rows, problems


def _point_row(
    file: str, number: int, rec: dict[str, str], problems: list[Problem]
) -> PointRow | None:
    """One row's values checked; None (with problems added) when any is invalid."""
    before = len(problems)

    def bad(column: str, message: str) -> None:
        problems.append(Problem(file, number, column, message))

    point_id = rec.get("id", "")
    if not point_id:
        bad("id", "missing")
    name = rec.get("name", "")
    if not name:
        bad("name", "missing")
    kind = rec.get("kind", "").lower()
    if kind not in POINT_KINDS:
        bad("kind", f"{rec.get('kind', '')!r} is not one of {', '.join(POINT_KINDS)}")
    town = rec.get("town", "")
    if kind == "hub" and town:
        bad("town", "the hub belongs to no town: leave town empty")
    elif kind == "station" and town and town != point_id:
        bad("town", f"a station's id is its town's id: expected {point_id!r}, got {town!r}")
    elif kind == "village" and not town:
        bad("town", "missing: a village belongs to a town")
    crs = _CRS.get(rec.get("crs", "").lower())
    if crs is None:
        bad("crs", f"{rec.get('crs', '')!r} is not wgs84 or gcj02")
    lon = _degree(rec.get("lon", ""), "lon", 180.0, bad)
    lat = _degree(rec.get("lat", ""), "lat", 90.0, bad)
    if (lon is None) != (lat is None) and len(problems) == before:
        bad("lon" if lon is None else "lat", "give both lon and lat, or neither")
    if lon is None and lat is None and kind in ("hub", "station"):
        bad("lon", f"missing: a {kind}'s position is required (only villages may be placed)")
    hours = _hours(rec.get("hours", ""))
    if hours is None:
        bad("hours", f'{rec.get("hours", "")!r} is not "HH:MM-HH:MM" with opening < closing')
    vclass = rec.get("max_vehicle", "").lower()
    if vclass not in VEHICLE_CLASSES:
        bad("max_vehicle", f"{rec.get('max_vehicle', '')!r} is not {', '.join(VEHICLE_CLASSES)}")
    cold = _flag(rec.get("cold_room", ""), "cold_room", bad)
    if cold and kind == "village":
        problems.append(
            Problem(
                file,
                number,
                "cold_room",
                "ignored: only the hub and stations keep cold rooms",
                warning=True,
            )
        )
    assumed = _flag(rec.get("assumed", ""), "assumed", bad)
    if any(not p.warning for p in problems[before:]):
        return None
    assert hours is not None and crs is not None
    if lon is not None and lat is not None and crs == "gcj02":
        lon, lat = gcj02_to_wgs84(lon, lat)
    return PointRow(
        row=number,
        point_id=point_id,
        name=name,
        kind=kind,  # type: ignore[arg-type]  # checked against POINT_KINDS above
        town_id="" if kind == "hub" else (point_id if kind == "station" else town),
        lon=lon,
        lat=lat,
        open_s=hours[0],
        close_s=hours[1],
        max_vclass=vclass,
        cold_storage=bool(cold) and kind != "village",
        assumed=bool(assumed) or lon is None,
    )


def _structure(file: str, rows: list[PointRow]) -> list[Problem]:
    """One hub; every village's town has a station (else a warning: served direct)."""
    problems: list[Problem] = []
    hubs = [r for r in rows if r.kind == "hub"]
    if not hubs:
        problems.append(Problem(file, 0, "kind", "no hub: a county needs exactly one hub"))
    for extra in hubs[1:]:
        problems.append(
            Problem(
                file,
                extra.row,
                "kind",
                f"a second hub ({hubs[0].point_id!r} is on row {hubs[0].row}): "
                "a county has exactly one hub",
            )
        )
    stations = {r.point_id for r in rows if r.kind == "station"}
    warned: set[str] = set()
    for r in rows:
        if r.kind != "village" or r.town_id in stations or r.town_id in warned:
            continue
        warned.add(r.town_id)
        villages = sum(v.kind == "village" and v.town_id == r.town_id for v in rows)
        problems.append(
            Problem(
                file,
                r.row,
                "town",
                f"town {r.town_id!r} has no station: its {villages} village(s) are served "
                "direct from the hub",
                warning=True,
            )
        )
    return problems


def _degree(text: str, column: str, limit: float, bad: _Bad) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        bad(column, f"{text!r} is not a number")
        return None
    if not math.isfinite(value) or abs(value) > limit:
        bad(column, f"{text!r} is not a valid {column} (degrees within ±{limit:g})")
        return None
    return value


def _clock(text: str) -> int | None:
    """ "HH:MM" (up to 24:00) -> seconds since midnight, else None."""
    parts = text.strip().split(":")
    if len(parts) != 2 or not all(p.isdigit() and len(p) == 2 for p in parts):
        return None
    h, m = int(parts[0]), int(parts[1])
    if m > 59 or h * 3600 + m * 60 > 86_400:
        return None
    return h * 3600 + m * 60


def _hours(text: str) -> tuple[int, int] | None:
    """ "07:00-20:00" -> (25200, 72000); None unless opening < closing."""
    if text.count("-") != 1:
        return None
    start, end = (_clock(t) for t in text.split("-"))
    if start is None or end is None or start >= end:
        return None
    return start, end


def _flag(text: str, column: str, bad: _Bad) -> bool | None:
    value = text.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    bad(column, f"{text!r} is not yes or no")
    return None


def read_outline(path: Path) -> tuple[BaseGeometry | None, list[Problem]]:
    """The district outline (WGS-84 Polygon or MultiPolygon) from a GeoJSON file.

    A Feature, a FeatureCollection (the union of its features) or a bare geometry.
    """
    name = path.name

    def fail(message: str) -> tuple[None, list[Problem]]:
        return None, [Problem(name, 0, "geometry", message)]

    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return fail(f"cannot read GeoJSON: {exc}")
    if not isinstance(doc, dict):
        return fail("expected a GeoJSON object")
    if doc.get("type") == "FeatureCollection":
        features = doc.get("features")
        geometries = (
            [f.get("geometry") for f in features if isinstance(f, dict)]
            if isinstance(features, list)
            else []
        )
    elif doc.get("type") == "Feature":
        geometries = [doc.get("geometry")]
    else:
        geometries = [doc]
    try:
        shapes = [shape(g) for g in geometries if g]
    except (ValueError, TypeError, AttributeError, KeyError, shapely.errors.GEOSException) as exc:
        return fail(f"not a valid GeoJSON geometry: {exc}")
    if not shapes:
        return fail("no geometry")
    outline = shapely.union_all(shapes)
    if outline.geom_type not in ("Polygon", "MultiPolygon") or outline.is_empty:
        return fail(f"expected a Polygon or MultiPolygon, got {outline.geom_type}")
    if not outline.is_valid:
        return fail(f"invalid polygon: {shapely.is_valid_reason(outline)}")
    minx, miny, maxx, maxy = outline.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        return fail("coordinates are not WGS-84 lon/lat degrees")
    return outline, []
