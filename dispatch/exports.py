"""Plan exports for drivers and planners: GeoJSON map layer, CSV route sheets, plan files.

Pure standard library. Times in the plan are seconds since local midnight and are shown as
HH:MM; coordinates are WGS-84 lon/lat. CSV sheets are for spreadsheets (`dispatch.safe_csv`:
UTF-8 with a byte-order mark, formula-looking text defused) and have bilingual (Chinese /
English) column headers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from dispatch.atomic import Staging
from dispatch.parcel import Parcel
from dispatch.plan import Plan, Route
from dispatch.route_sheet import Handover, RouteSheet, SheetStop, hhmm, route_sheet
from dispatch.safe_csv import csv_text
from geodata.points import ServicePoint

Geometry = Callable[[list[str]], list[tuple[float, float]]]

#: CSV column headers of a route sheet, bilingual, in column order.
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
    "cold": "冷链件 Cold chain",
    "signature": "签收 Signature",
}


def routes_geojson(
    routes: Sequence[Route],
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
    for route in routes:
        stops = route.stops
        line = geometry([s.point_id for s in stops])
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [_pos(c) for c in line]},
                "properties": {
                    "route_id": route.route_id,
                    "vehicle_id": route.vehicle_id,
                    "vehicle_type": route.vehicle_type,
                    "echelon": route.echelon,
                    "distance_m": route.distance_m,
                    "duration_s": route.duration_s,
                    "cost_fen": route.cost_fen,
                    "stops": max(0, len(stops) - 2),
                },
            }
        )
        for stop in stops:
            pid = stop.point_id
            point = points.get(pid) if points is not None else None
            where = (point.lon, point.lat) if point is not None else geometry([pid])[0]
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": _pos(where)},
                    "properties": {
                        "route_id": route.route_id,
                        "seq": stop.seq,
                        "point_id": pid,
                        "name": point.name if point is not None else pid,
                        "eta": hhmm(stop.arrival_s),
                        "arrival_s": stop.arrival_s,
                        "departure_s": stop.departure_s,
                        "drop": len(stop.drop),
                        "load": len(stop.load),
                    },
                }
            )
    return {"type": "FeatureCollection", "features": features}


def _pos(c: tuple[float, float]) -> list[float]:
    """A GeoJSON position rounded to 6 decimals (about 0.1 m)."""
    return [round(float(c[0]), 6), round(float(c[1]), 6)]


def _detail(handover: Handover) -> str:
    """Per-carrier counts and tracking numbers, e.g. "中通 2: A1 A2; 圆通 1: B7"."""
    return "; ".join(
        f"{g.carrier} {len(g.tracking_nos)}: {' '.join(g.tracking_nos)}" for g in handover.groups
    )


def _cold(stop: SheetStop) -> str:
    """The cold-chain tracking numbers handed over or collected at a stop, space separated."""
    groups = (*stop.drop.groups, *stop.load.groups)
    return " ".join(sorted(t for g in groups for t in g.cold))


def sheet_csv_text(sheet: RouteSheet) -> str:
    """The route sheet as CSV text for a spreadsheet: one row per stop (see `safe_csv`)."""
    rows = (
        [
            s.seq,
            s.point_id,
            s.name,
            hhmm(s.arrival_s),
            hhmm(s.departure_s),
            s.drop.count,
            _detail(s.drop),
            s.load.count,
            _detail(s.load),
            _cold(s),
            "",
        ]
        for s in sheet.stops
    )
    return csv_text(list(CSV_COLUMNS.values()), rows)


def write_plan_outputs(
    out_dir: Path,
    plan: Plan,
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
    with Staging(out_dir, "plan") as staged:
        staged.put("plan.json", _json_text(plan.to_json()))
        staged.put("routes.geojson", _json_text(geojson))
        for route in plan.routes:
            text = sheet_csv_text(route_sheet(plan, route.route_id, points, parcels))
            staged.put(f"sheets/{route.route_id}.csv", text)
        return staged.commit(replace_dirs=["sheets"])


def _json_text(data: Mapping[str, Any]) -> str:
    """UTF-8 JSON text, Chinese kept readable."""
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
