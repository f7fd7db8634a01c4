"""Every KPI that follows from the routes and the parcels, and the plan's status, recomputed.

Estimates (solve time, the network's name, auto's comparison) are not checked here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dispatch.validate.context import Context


def check_kpis(ctx: Context, complete: set[str]) -> None:
    """Recompute the KPIs and the status; one fault per KPI that differs."""
    plan, kpis = ctx.plan, ctx.plan["kpis"]
    routes = plan["routes"]
    delivered = sum(1 for t in complete if ctx.parcels[t].kind == "delivery")
    picked = len(complete) - delivered
    deferred = sum(1 for u in plan["unassigned"] if u["code"].startswith("deferred"))
    left = [u for u in plan["unassigned"] if not u["code"].startswith("deferred")]
    left_today = sum(1 for u in left if ctx.parcels[u["parcel_id"]].due_date <= ctx.date)
    cost = sum(r["cost_fen"] for r in routes)
    duration = sum(r["duration_s"] for r in routes)
    carried = delivered + picked
    expected: dict[str, Any] = {
        "parcels": len(ctx.parcels),
        "delivered": delivered,
        "picked_up": picked,
        "unassigned": len(left),
        "left_today": left_today,
        "deferred": deferred,
        "held": len(plan["held"]),
        "distance_m": sum(r["distance_m"] for r in routes),
        "duration_s": duration,
        "vehicle_hours": round(duration / 3600, 2),
        "cost_fen": cost,
        "vehicles_used": len({r["vehicle_id"] for r in routes}),
        "routes": len(routes),
        "cost_per_parcel_fen": round(cost / carried) if carried else 0,
        "echelon_1": _echelon(routes, 1),
        "echelon_2": _echelon(routes, 2),
        "towns": _towns(ctx, complete),
    }
    for key, want in expected.items():
        if kpis[key] != want:
            ctx.fault(
                f"kpis.{key}", "kpi", f"{_short(kpis[key])} but the plan makes {_short(want)}"
            )
    if not routes and ctx.parcels:
        status = "failed"
    elif left_today:
        status = "partial"
    else:
        status = "feasible"
    if plan["status"] not in (status, "optimal" if status == "feasible" else status):
        ctx.fault("plan.status", "kpi", f"{plan['status']!r} but the plan is {status!r}")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) < 200 else text[:200] + "..."


def _echelon(routes: list[Mapping[str, Any]], echelon: int) -> dict[str, int]:
    mine = [r for r in routes if r["echelon"] == echelon]
    return {
        "routes": len(mine),
        "distance_m": sum(r["distance_m"] for r in mine),
        "duration_s": sum(r["duration_s"] for r in mine),
        "cost_fen": sum(r["cost_fen"] for r in mine),
    }


def _towns(ctx: Context, complete: set[str]) -> list[dict[str, Any]]:
    """Per town: village parcels delivered or collected through the station (an echelon-2
    route carried them) or straight from the hub, the station's own parcels, held,
    deferred and left behind."""
    by_e2: set[str] = set()
    for r in ctx.plan["routes"]:
        if r["echelon"] == 2:
            for s in r["stops"]:
                by_e2.update(s["load"])
                by_e2.update(s["drop"])
    by_e2 |= {t for t, at in ctx.inputs.started_at.items() if ctx.points[at].kind == "station"}
    held = {h["parcel_id"] for h in ctx.plan["held"]}
    codes = {u["parcel_id"]: u["code"] for u in ctx.plan["unassigned"]}
    rows: dict[str, dict[str, Any]] = {}
    for t, p in ctx.parcels.items():
        point = ctx.points[p.point_id]
        town = point.town_id
        row = rows.setdefault(
            town,
            dict.fromkeys(
                ("parcels", "via_station", "direct", "station", "held", "deferred", "unassigned"), 0
            )
            | {"town_id": town, "name": ctx.points[town].name if town in ctx.points else town},
        )
        row["parcels"] += 1
        if t in held:
            row["held"] += 1
        elif codes.get(t, "").startswith("deferred"):
            row["deferred"] += 1
        elif t in codes:
            row["unassigned"] += 1
        elif t not in complete:
            continue
        elif point.kind == "station":
            row["station"] += 1
        elif t in by_e2:
            row["via_station"] += 1
        else:
            row["direct"] += 1
    order = (
        "town_id",
        "name",
        "parcels",
        "via_station",
        "direct",
        "station",
        "held",
        "deferred",
        "unassigned",
    )
    return [{k: rows[town][k] for k in order} for town in sorted(rows)]
