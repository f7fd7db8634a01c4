"""The domain's front door: what the CLI and the HTTP API call, one function per action."""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from dispatch.exports import routes_geojson, sheet_csv_text, write_plan_outputs
from dispatch.fleet import Fleet, all_at_hub, fleet_text_for_county, fleet_to_toml
from dispatch.gpx import route_gpx
from dispatch.manifest import parse_manifest, read_manifests
from dispatch.parcel import InputError, ManifestError, Parcel
from dispatch.plan import build_plan
from dispatch.replan import EventError, replan_inputs
from dispatch.sheet_pdf import write_route_pdf
from dispatch.two_echelon import DayResult, Resume, plan_trips
from dispatch.validate import PlanInputs, check_plan
from dispatch.workspace import Workspace

__all__ = [
    "EventError",
    "InputError",
    "ManifestError",
    "Parcel",
    "Workspace",
    "fleet_from_toml",
    "fleet_toml",
    "mode_fleet",
    "network_points",
    "parse_manifest_bytes",
    "plan_day",
    "read_manifest_files",
    "replan",
    "route_geojson",
    "route_gpx_text",
    "route_sheet_csv",
    "route_sheet_pdf",
    "town_kpis",
    "write_outputs",
]

Progress = Callable[[float, int | None], None]


def parse_manifest_bytes(ws: Workspace, data: bytes, filename: str) -> list[Parcel]:
    """Parse and check one manifest; raises ManifestError naming file, row and field."""
    parcels, errors = parse_manifest(data, filename, ws.county, ws.areas)
    if errors:
        raise ManifestError(errors)
    return parcels


def read_manifest_files(
    ws: Workspace, paths: Sequence[Path], skip_invalid: bool = False
) -> tuple[list[Parcel], list[InputError]]:
    """Read manifest files (duplicates checked across files); see dispatch.manifest."""
    return read_manifests(paths, ws.county, ws.areas, skip_invalid=skip_invalid)


def plan_inputs(ws: Workspace, fleet: Fleet, parcels: Sequence[Parcel]) -> PlanInputs:
    """What the independent plan validator checks a plan against."""
    return PlanInputs(
        parcels=parcels,
        fleet=fleet,
        points={p.point_id: p for p in ws.points},
        travel_s=lambda t, a, b: ws.travel_s(t, a, b, fleet),
        travel_m=lambda t, a, b: ws.travel_m(t, a, b, fleet),
    )


def mode_fleet(fleet: Fleet, mode: str) -> Fleet:
    """The fleet a mode plans with: `direct` runs every vehicle from the hub."""
    return all_at_hub(fleet) if mode == "direct" else fleet


def plan_day(
    ws: Workspace,
    parcels: Sequence[Parcel],
    *,
    date: dt.date,
    fleet: Fleet | None = None,
    time_limit_s: float = 30.0,
    mode: str = "auto",
    progress: Progress | None = None,
    warm_start: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Plan a day and return the validated plan JSON (PlanInvalid if validation fails).

    In `direct` mode every vehicle works from the hub (station vehicles included), so the
    modes compare the same fleet. In `auto` mode, a plan that leaves parcels due today behind
    is compared with the all-direct plan (same time limit) and the better one is kept, valued
    as route cost plus the fleet's penalties for parcels left behind or deferred;
    `kpis.auto_fallback` says which won.
    `warm_start` (an earlier plan, e.g. yesterday's) seeds each vehicle's routes.
    """
    base = fleet or ws.fleet
    started = time.perf_counter()
    resume = Resume(start_s=0, hints=route_hints(warm_start["routes"])) if warm_start else None
    first, second = _split(progress) if mode == "auto" else (progress, None)
    plan, used = _plan_mode(ws, base, parcels, date, mode, time_limit_s, first, resume)
    if mode == "auto" and _left_today(plan):
        alt, alt_fleet = _plan_mode(ws, base, parcels, date, "direct", time_limit_s, second, resume)
        better = _score(alt, base) < _score(plan, base)
        plan["kpis"]["auto_fallback"] = {
            "towns_cost_fen": plan["kpis"]["cost_fen"],
            "towns_left_today": _left_today(plan),
            "direct_cost_fen": alt["kpis"]["cost_fen"],
            "direct_left_today": _left_today(alt),
            "chosen": "direct" if better else "towns",
        }
        if better:
            alt["mode"] = "auto"
            alt["kpis"]["auto_fallback"] = plan["kpis"]["auto_fallback"]
            alt["kpis"]["towns"] = plan["kpis"]["towns"]
            plan, used = alt, alt_fleet
    plan["kpis"]["solve_time_s"] = round(time.perf_counter() - started, 2)
    check_plan(plan, plan_inputs(ws, used, parcels))
    return plan


def _split(progress: Progress | None) -> tuple[Progress | None, Progress | None]:
    """Progress callbacks for a first plan (0..0.6) and a possible second one (0.6..1)."""
    if progress is None:
        return None, None
    report = progress
    return (
        lambda f, c: report(0.6 * f, c),
        lambda f, c: report(0.6 + 0.4 * f, c),
    )


def route_hints(routes: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Vehicle id -> the points its routes visit, in order (to warm-start a new plan)."""
    hints: dict[str, list[str]] = {}
    for r in sorted(routes, key=lambda r: (r["vehicle_id"], r["stops"][0]["departure_s"])):
        hints.setdefault(r["vehicle_id"], []).extend(s["point_id"] for s in r["stops"][1:-1])
    return hints


def _score(plan: Mapping[str, Any], fleet: Fleet) -> int:
    """What the plan costs the company (fen): routes plus the fleet's penalties for parcels
    left behind and deferred, the same valuation the optimizer uses."""
    k, s = plan["kpis"], fleet.settings
    return int(
        k["cost_fen"] + s.drop_penalty_fen * _left_today(plan) + s.defer_penalty_fen * k["deferred"]
    )


def _left_today(plan: Mapping[str, Any]) -> int:
    """Parcels the plan leaves behind that were not merely deferred."""
    return int(plan["kpis"]["unassigned"])


def _plan_mode(
    ws: Workspace,
    base: Fleet,
    parcels: Sequence[Parcel],
    date: dt.date,
    mode: str,
    time_limit_s: float,
    progress: Progress | None,
    resume: Resume | None,
) -> tuple[dict[str, Any], Fleet]:
    """The plan of one mode (not yet validated) and the fleet it was planned with."""
    fleet = mode_fleet(base, mode)
    started = time.perf_counter()
    day = plan_trips(
        ws,
        fleet,
        parcels,
        date=date,
        mode=mode,
        time_limit_s=time_limit_s,
        progress=progress,
        resume=resume,
    )
    plan = build_plan(
        ws,
        fleet,
        day.trips,
        day.unassigned,
        parcels,
        date=date,
        mode=mode,
        extra_kpis=_kpis(ws, day, started),
    )
    return plan, fleet


def _kpis(ws: Workspace, day: DayResult, started: float) -> dict[str, Any]:
    """KPIs a plan adds beyond the routes: town choices, solve time, network."""
    return {
        "towns": [t.as_json() for t in day.towns],
        "solve_time_s": round(time.perf_counter() - started, 2),
        "network": ws.network_source,
        "county": ws.county.name,
        "placed_points": len(ws.county.placed),
    }


def write_outputs(
    ws: Workspace,
    out: Path,
    plan: Mapping[str, Any],
    parcels: Sequence[Parcel],
    driver_files: bool = False,
) -> list[Path]:
    """Write plan.json, routes.geojson and sheets/<route_id>.csv into `out` atomically;
    with `driver_files` also sheets/<route_id>.pdf and sheets/<route_id>.gpx."""
    points = {p.point_id: p for p in ws.points}
    by_id = {p.tracking_no: p for p in parcels}
    written = write_plan_outputs(out, plan, routes_geojson(plan, ws.geometry), points, by_id)
    if driver_files:
        for r in plan["routes"]:
            rid = r["route_id"]
            pdf = out / "sheets" / f"{rid}.pdf"
            write_route_pdf(pdf, plan, rid, points, by_id)
            gpx = out / "sheets" / f"{rid}.gpx"
            tmp = gpx.with_name(gpx.name + ".tmp")
            tmp.write_text(route_gpx(plan, rid, points, ws.geometry), encoding="utf-8")
            tmp.replace(gpx)
            written += [pdf, gpx]
    return written


def replan(
    ws: Workspace,
    plan: Mapping[str, Any],
    parcels: Sequence[Parcel],
    events: Sequence[Mapping[str, Any]],
    *,
    fleet: Fleet | None = None,
    time_limit_s: float = 30.0,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """A new version of `plan` after `events` (see dispatch.replan); validated.

    `parcels` are all the day's parcels, late ones included. Raises EventError (a
    ValueError) naming the event and field when an event cannot be applied.
    """
    mode = plan.get("mode", "auto")
    fleet = mode_fleet(fleet or ws.fleet, mode)
    started = time.perf_counter()
    cut, todo, refused = replan_inputs(ws, plan, parcels, events, fleet)
    date = dt.date.fromisoformat(plan["date"])
    day = plan_trips(
        ws,
        fleet,
        todo,
        date=date,
        mode=mode,
        time_limit_s=time_limit_s,
        progress=progress,
        resume=cut.resume,
    )
    new = build_plan(
        ws,
        fleet,
        day.trips,
        [*day.unassigned, *cut.stranded, *refused],
        parcels,
        date=date,
        mode=mode,
        extra_kpis=_kpis(ws, day, started),
        kept=cut.kept,
        retired_ids=[r["route_id"] for r in plan["routes"]],
    )
    new["version_of"] = plan["plan_id"]
    new["replanned_at_s"] = cut.at_s
    new["events"] = [dict(e) for e in events]
    check_plan(new, plan_inputs(ws, fleet, parcels))
    return new


def network_points(ws: Workspace) -> list[dict[str, Any]]:
    """All service points as rows (point_id, name, kind, town_id, lon, lat, open_s, close_s,
    placed: 1 where the position was placed by geodata.placement, not given by the county)."""
    return [
        {
            "point_id": p.point_id,
            "name": p.name,
            "kind": p.kind,
            "town_id": p.town_id,
            "lon": round(p.lon, 6),
            "lat": round(p.lat, 6),
            "open_s": p.open_s,
            "close_s": p.close_s,
            "placed": int(p.placed),
        }
        for p in ws.points
    ]


def fleet_toml(fleet: Fleet) -> str:
    """The fleet as TOML text."""
    return fleet_to_toml(fleet)


def fleet_from_toml(text: str, ws: Workspace) -> Fleet:
    """A fleet from TOML text (ValueError naming the key when invalid)."""
    return fleet_text_for_county(text, ws.county)


def _route(plan: Mapping[str, Any], route_id: str) -> Mapping[str, Any]:
    for r in plan["routes"]:
        if r["route_id"] == route_id:
            return r
    raise KeyError(route_id)


def route_sheet_csv(
    ws: Workspace, plan: Mapping[str, Any], route_id: str, parcels: Sequence[Parcel]
) -> str:
    """The route sheet of one route as CSV text (KeyError if no such route)."""
    _route(plan, route_id)
    return sheet_csv_text(
        plan, route_id, {p.point_id: p for p in ws.points}, {p.tracking_no: p for p in parcels}
    )


def route_sheet_pdf(
    ws: Workspace, plan: Mapping[str, Any], route_id: str, parcels: Sequence[Parcel]
) -> bytes:
    """The printable A4 route sheet in Chinese as PDF bytes (KeyError if no such route)."""
    _route(plan, route_id)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{route_id}.pdf"
        write_route_pdf(
            path,
            plan,
            route_id,
            {p.point_id: p for p in ws.points},
            {p.tracking_no: p for p in parcels},
        )
        return path.read_bytes()


def route_gpx_text(ws: Workspace, plan: Mapping[str, Any], route_id: str) -> str:
    """The route as GPX 1.1 for a phone: stops as waypoints, the road path as a track."""
    _route(plan, route_id)
    return route_gpx(plan, route_id, {p.point_id: p for p in ws.points}, ws.geometry)


def route_geojson(ws: Workspace, plan: Mapping[str, Any], route_id: str) -> dict[str, Any]:
    """One route as a GeoJSON FeatureCollection along the roads (KeyError if no such route)."""
    one = dict(plan)
    one["routes"] = [_route(plan, route_id)]
    return routes_geojson(one, ws.geometry)


def town_kpis(
    ws: Workspace, plan: Mapping[str, Any], parcels: Sequence[Parcel]
) -> list[dict[str, Any]]:
    """Per town: parcels delivered and collected, cost share and per parcel, on-time share.

    A route's cost is shared among towns by the parcels it handles there; on time means
    delivered or collected on the planned day (not deferred, not unassigned).
    """
    by_id = {p.tracking_no: p for p in parcels}
    town_of = {p.point_id: p.town_id for p in ws.points}
    stats: dict[str, dict[str, float]] = {}

    def row(town: str) -> dict[str, float]:
        return stats.setdefault(
            town, {"delivered": 0, "collected": 0, "cost_fen": 0.0, "parcels": 0, "late": 0}
        )

    for p in parcels:
        row(town_of[p.point_id])["parcels"] += 1
    for r in plan["routes"]:
        handled: dict[str, int] = {}
        for s in r["stops"]:
            for pid in s["drop"]:
                p = by_id[pid]
                if p.kind == "delivery" and p.point_id == s["point_id"]:
                    row(town_of[p.point_id])["delivered"] += 1
            for pid in s["load"] + s["drop"]:
                t = town_of[by_id[pid].point_id]
                handled[t] = handled.get(t, 0) + 1
            if s is r["stops"][-1] and s["point_id"] == "HUB":
                for pid in s["drop"]:
                    if by_id[pid].kind == "pickup":
                        row(town_of[by_id[pid].point_id])["collected"] += 1
        total = sum(handled.values())
        for t, k in handled.items():
            row(t)["cost_fen"] += r["cost_fen"] * k / total
    for u in plan["unassigned"]:
        row(town_of[by_id[u["parcel_id"]].point_id])["late"] += 1
    out = []
    for town, s in sorted(stats.items()):
        done = s["delivered"] + s["collected"]
        out.append(
            {
                "town_id": town,
                "name": ws.point(town).name if town in town_of else town,
                "delivered": int(s["delivered"]),
                "collected": int(s["collected"]),
                "cost_fen": round(s["cost_fen"]),
                "cost_per_parcel_fen": round(s["cost_fen"] / done) if done else 0,
                "on_time_share": round(1 - s["late"] / s["parcels"], 4) if s["parcels"] else 1.0,
            }
        )
    return out
