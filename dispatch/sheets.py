"""The papers of a plan for drivers, crews and dispatchers, written all or nothing.

Formats: `pdf` (sheets/<route>.pdf, the printable route sheet), `gpx` (sheets/<route>.gpx),
`csv` (sheets/<route>.csv), `loading` (loading/<route>.pdf and .csv, one per vehicle and trip
that loads at its depot) and `xlsx` (plan.xlsx, the whole plan). Before anything is written
the plan is checked against its inputs: every parcel it mentions must be in the manifests
and every manifest parcel in the plan, every stop a known service point.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dispatch.atomic import Staging
from dispatch.exports import sheet_csv_text
from dispatch.gpx import route_gpx
from dispatch.loading_list import loading_csv_text, loading_list
from dispatch.parcel import Parcel
from dispatch.plan import Plan
from dispatch.route_sheet import RouteSheet, route_sheet
from geodata.points import ServicePoint

SHEET_FORMATS = ("pdf", "gpx", "csv", "loading", "xlsx")
#: route ids become file names: letters, digits, - _ . and not starting with a dot
_FILE_NAME = re.compile(r"[A-Za-z0-9_\-][A-Za-z0-9_.\-]*")

Geometry = Callable[[list[str]], list[tuple[float, float]]]


class SheetInputError(ValueError):
    """The plan and its inputs do not fit together; `problems` says how, one line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = "\n".join(problems[:20])
        more = f"\n... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{shown}{more}")


def parse_formats(text: str) -> tuple[str, ...]:
    """ "pdf,xlsx" -> ("pdf", "xlsx"); ValueError naming an unknown or missing format."""
    chosen = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in SHEET_FORMATS]
    if unknown or not chosen:
        what = f"unknown format {', '.join(map(repr, unknown))}" if unknown else "no format"
        raise ValueError(f"{what}; choose from {','.join(SHEET_FORMATS)}")
    return tuple(dict.fromkeys(chosen))


@dataclass
class SheetSources:
    """What the sheets are made from; `geometry(point_ids)` is the road polyline (lon, lat)."""

    plan: Plan
    points: Mapping[str, ServicePoint]
    parcels: Mapping[str, Parcel]
    geometry: Geometry
    vehicle_labels: Mapping[str, str]
    _roads: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    _sheets: dict[str, RouteSheet] = field(default_factory=dict)

    def road(self, route_id: str) -> list[tuple[float, float]]:
        """The road polyline of a route (computed once)."""
        if route_id not in self._roads:
            stops = self.plan.route(route_id).stops
            self._roads[route_id] = self.geometry([s.point_id for s in stops])
        return self._roads[route_id]

    def sheet(self, route_id: str) -> RouteSheet:
        """The route sheet of a route (built once)."""
        if route_id not in self._sheets:
            self._sheets[route_id] = route_sheet(
                self.plan, route_id, self.points, self.parcels, self.vehicle_labels
            )
        return self._sheets[route_id]


def check_sources(src: SheetSources, vehicle_types: Iterable[str] | None = None) -> None:
    """SheetInputError listing every way the plan does not fit its parcels, points, fleet.

    `vehicle_types`, when given, are the fleet's types the plan's vehicles must be among.
    """
    problems: list[str] = []
    types = set(vehicle_types) if vehicle_types is not None else None
    for i, route in enumerate(src.plan.routes):
        where = f"plan routes[{i}] ({route.route_id})"
        if not _FILE_NAME.fullmatch(route.route_id):
            problems.append(f"{where}: route_id is not usable as a file name")
        if types is not None and route.vehicle_type not in types:
            problems.append(f"{where}: vehicle type {route.vehicle_type!r} is not in the fleet")
        for stop in route.stops:
            if stop.point_id not in src.points:
                problems.append(
                    f"{where} stop {stop.seq}: {stop.point_id!r} is not a service point "
                    "of this network"
                )
    planned = src.plan.parcel_ids()
    missing = sorted(planned - src.parcels.keys())
    if missing:
        shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
        problems.append(f"{len(missing)} parcel(s) of the plan are in no manifest: {shown}")
    extra = sorted(
        (p for t, p in src.parcels.items() if t not in planned), key=lambda p: (p.source, p.row)
    )
    problems += [
        f"{p.source}: row {p.row}: tracking_no: {p.tracking_no} is not in plan {src.plan.plan_id}"
        for p in extra
    ]
    if problems:
        raise SheetInputError(problems)


def write_sheets(out: Path, src: SheetSources, formats: Sequence[str]) -> list[Path]:
    """Write the chosen formats into `out`, all or nothing; the written paths.

    Files are made in a temporary folder inside `out` and moved into place (each move atomic)
    once all exist; a failure leaves `out` as it was. Other files in `out` are kept.
    """
    from dispatch import sheet_pdf  # reportlab: loaded only when PDFs are made

    with Staging(out, "sheets") as staged:
        put = staged.put
        for route in src.plan.routes:
            rid = route.route_id
            if "csv" in formats:
                put(f"sheets/{rid}.csv", sheet_csv_text(src.sheet(rid)))
            if "gpx" in formats:
                put(f"sheets/{rid}.gpx", route_gpx(src.plan, rid, src.points, src.road(rid)))
            if "pdf" in formats:
                put(f"sheets/{rid}.pdf", sheet_pdf.route_sheet_pdf(src.sheet(rid), src.road(rid)))
            if "loading" in formats:
                vehicle = src.plan.vehicle(route.vehicle_id)
                ll = loading_list(src.sheet(rid), src.parcels, vehicle)
                if ll.entries:  # a trip that leaves empty (to fetch produce) loads nothing
                    put(f"loading/{rid}.csv", loading_csv_text(ll))
                    put(f"loading/{rid}.pdf", sheet_pdf.loading_list_pdf(ll))
        if "xlsx" in formats:
            from dispatch.workbook import write_plan_workbook  # openpyxl: loaded when used

            sheets = [src.sheet(r.route_id) for r in src.plan.routes]
            workbook = staged.path("plan.xlsx")
            write_plan_workbook(workbook, src.plan, sheets, src.points, src.parcels)
        return staged.commit()
