"""Plan exports for drivers and planners: GeoJSON map layer, CSV route sheets, plan files.

Pure standard library. Times in the plan are seconds since local midnight and are shown as
HH:MM; coordinates are WGS-84 lon/lat. CSV sheets are UTF-8 with a byte-order mark so that
Excel opens the Chinese correctly, and have bilingual (Chinese / English) column headers.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dispatch.parcel import Parcel
from geodata.points import ServicePoint

Geometry = Callable[[list[str]], list[tuple[float, float]]]

#: CSV column headers, bilingual, in sheet order; keys of the flattened sheet row.
CSV_COLUMNS: dict[str, str] = {
    "seq": "序号 Seq",
    "point_id": "站点编码 Point ID",
    "point_name": "站点 Stop",
    "eta": "到达 ETA",
    "departure": "离开 Departure",
    "drop_count": "卸件数 Drop",
    "drop_detail": "卸件明细 Drop by carrier",
    "load_count": "装件数 Load",
    "load_detail": "装件明细 Load by carrier",
    "signature": "签收 Signature",
}


def hhmm(seconds: int) -> str:
    """Seconds since midnight as HH:MM (hours past 24 continue counting)."""
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def find_route(plan: Mapping[str, Any], route_id: str) -> Mapping[str, Any]:
    """The route `route_id` of `plan`; KeyError naming it when absent."""
    for route in plan["routes"]:
        if route["route_id"] == route_id:
            return route
    raise KeyError(f"plan {plan.get('plan_id', '?')} has no route {route_id!r}")


def routes_geojson(
    plan: Mapping[str, Any],
    geometry: Geometry,
    *,
    points: Mapping[str, ServicePoint] | None = None,
) -> dict[str, Any]:
    """A FeatureCollection: one road LineString per route and one Point per stop.

    `geometry(point_ids)` returns the road polyline (lon, lat) through those points; stop
    positions come from `points` when given (with their names), else from `geometry([pid])`.
    Route property `stops` counts the stops between the start and end depots.
    """
    features: list[dict[str, Any]] = []
    for route in plan["routes"]:
        stops = route["stops"]
        line = geometry([s["point_id"] for s in stops])
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [_pos(c) for c in line]},
                "properties": {
                    "route_id": route["route_id"],
                    "vehicle_id": route["vehicle_id"],
                    "vehicle_type": route["vehicle_type"],
                    "echelon": route["echelon"],
                    "distance_m": route["distance_m"],
                    "duration_s": route["duration_s"],
                    "cost_fen": route["cost_fen"],
                    "stops": max(0, len(stops) - 2),
                },
            }
        )
        for stop in stops:
            pid = stop["point_id"]
            point = points.get(pid) if points is not None else None
            where = (point.lon, point.lat) if point is not None else geometry([pid])[0]
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": _pos(where)},
                    "properties": {
                        "route_id": route["route_id"],
                        "seq": stop["seq"],
                        "point_id": pid,
                        "name": point.name if point is not None else pid,
                        "eta": hhmm(stop["arrival_s"]),
                        "arrival_s": stop["arrival_s"],
                        "departure_s": stop["departure_s"],
                        "drop": len(stop["drop"]),
                        "load": len(stop["load"]),
                    },
                }
            )
    return {"type": "FeatureCollection", "features": features}


def _pos(c: tuple[float, float]) -> list[float]:
    """A GeoJSON position rounded to 6 decimals (about 0.1 m)."""
    return [round(float(c[0]), 6), round(float(c[1]), 6)]


def _by_carrier(ids: list[str], parcels: Mapping[str, Parcel]) -> dict[str, list[str]]:
    """Tracking numbers grouped by carrier: most parcels first, numbers sorted."""
    groups: dict[str, list[str]] = {}
    for t in ids:
        groups.setdefault(parcels[t].carrier, []).append(t)
    order = sorted(groups, key=lambda c: (-len(groups[c]), c))
    return {c: sorted(groups[c]) for c in order}


def sheet_rows(
    plan: Mapping[str, Any],
    route_id: str,
    points: Mapping[str, ServicePoint],
    parcels: Mapping[str, Parcel],
) -> list[dict[str, Any]]:
    """One row per stop in order: point, ETA and departure (HH:MM), drops and loads by carrier.

    Keys: seq, point_id, point_name, eta, departure, drop_count, drop (carrier -> tracking
    numbers), load_count, load.
    """
    rows: list[dict[str, Any]] = []
    for stop in find_route(plan, route_id)["stops"]:
        rows.append(
            {
                "seq": stop["seq"],
                "point_id": stop["point_id"],
                "point_name": points[stop["point_id"]].name,
                "eta": hhmm(stop["arrival_s"]),
                "departure": hhmm(stop["departure_s"]),
                "drop_count": len(stop["drop"]),
                "drop": _by_carrier(stop["drop"], parcels),
                "load_count": len(stop["load"]),
                "load": _by_carrier(stop["load"], parcels),
            }
        )
    return rows


def carrier_counts(groups: Mapping[str, list[str]]) -> str:
    """Per-carrier counts on one line, e.g. "中通 3，圆通 1"."""
    return "，".join(f"{c} {len(ids)}" for c, ids in groups.items())


def _detail(groups: Mapping[str, list[str]]) -> str:
    """Per-carrier counts and tracking numbers, e.g. "中通 2: A1 A2; 圆通 1: B7"."""
    return "; ".join(f"{c} {len(ids)}: {' '.join(ids)}" for c, ids in groups.items())


#: First characters that make a spreadsheet read a text cell as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def _cell(value: object) -> object:
    """A CSV cell for spreadsheets: formula-looking text gets a leading apostrophe, which
    Excel and LibreOffice show as text; numbers stay numbers."""
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_STARTS) else value


def _csv_text(rows: list[dict[str, Any]]) -> str:
    """The sheet as CSV text (formula-looking text defused), starting with a byte-order mark."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS.values())
    for row in rows:
        flat = {
            **row,
            "drop_detail": _detail(row["drop"]),
            "load_detail": _detail(row["load"]),
            "signature": "",
        }
        writer.writerow(_cell(flat[key]) for key in CSV_COLUMNS)
    return "\ufeff" + buf.getvalue()


def write_sheet_csv(rows: list[dict[str, Any]], path: Path) -> None:
    """Write a route sheet (rows of `sheet_rows`) as UTF-8 CSV with BOM."""
    path.write_text(_csv_text(rows), encoding="utf-8", newline="")


def sheet_csv_text(
    plan: Mapping[str, Any],
    route_id: str,
    points: Mapping[str, ServicePoint],
    parcels: Mapping[str, Parcel],
) -> str:
    """The CSV route sheet of `route_id` as text (BOM included; encode as UTF-8)."""
    return _csv_text(sheet_rows(plan, route_id, points, parcels))


def write_plan_outputs(
    out_dir: Path,
    plan: Mapping[str, Any],
    geojson: Mapping[str, Any],
    points: Mapping[str, ServicePoint],
    parcels: Mapping[str, Parcel],
) -> list[Path]:
    """Write plan.json, routes.geojson and sheets/<route_id>.csv into `out_dir`, all or nothing.

    Everything is first written into a temporary folder inside `out_dir`; only once all of it
    is there are the files moved into place (each move atomic), replacing a previous plan's
    outputs and leaving anything else in `out_dir` (such as manifests/) alone. A failure
    while writing leaves `out_dir` as it was. Returns the written paths.
    """
    out_dir = Path(out_dir)
    created = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".plan.", suffix=".tmp", dir=out_dir))
    try:
        names = [Path("plan.json"), Path("routes.geojson")]
        _write_json(tmp / names[0], plan)
        _write_json(tmp / names[1], geojson)
        (tmp / "sheets").mkdir()
        for route in plan["routes"]:
            name = Path("sheets") / f"{route['route_id']}.csv"
            rows = sheet_rows(plan, route["route_id"], points, parcels)
            write_sheet_csv(rows, tmp / name)
            names.append(name)
        _swap_into_place(tmp / "sheets", out_dir / "sheets")
        for name in names[:2]:
            os.replace(tmp / name, out_dir / name)
    except BaseException:
        shutil.rmtree(out_dir if created else tmp, ignore_errors=True)
        raise
    shutil.rmtree(tmp, ignore_errors=True)
    return [out_dir / n for n in names]


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    """UTF-8 JSON, Chinese kept readable."""
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _swap_into_place(new: Path, target: Path) -> None:
    """Rename directory `new` to `target`, replacing an existing `target` directory."""
    if not target.exists():
        os.replace(new, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    os.replace(target, old / target.name)
    try:
        os.replace(new, target)
    except BaseException:
        os.replace(old / target.name, target)
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)
