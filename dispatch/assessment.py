"""The towns' assessment and the carriers' settlement over a period, from each day's plan
against actual (dispatch.actuals), and both as tables for the county office's workbook.

Town assessment, per town over the period: parcels delivered and produce collected; on-time
share (on-time deliveries over the deliveries the plans carried; on time = delivered by the
due date and on it no later than the planned arrival plus the tolerance); failure rate by
reason (failed parcels over the parcels the plans carried); **planned** cost per parcel (each
route's planned cost shared equally among the parcels it handles, summed over the town's
parcels, over the parcels carried: a planned figure, not a measured one); produce shipped out
(produce collected: count and kg).

Carrier settlement, per carrier and town: parcels carried and delivered, produce collected,
failures, and the planned route cost shared out to the carrier by the **settlement rule**:
each route's cost is split one third by the weight of the parcels it handles, one third by
their volume and one third by its stops (each stop served an equal part, split equally among
the parcels handled there); a parcel's shares over all its routes are its carrier's.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from dispatch.workbook import TableSheet

_SUMMED = (
    "planned_deliveries",
    "delivered",
    "on_time",
    "planned_pickups",
    "collected",
    "collected_g",
    "open",
    "carried",
)


def _fold(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Sum day rows of one town (or carrier and town)."""
    out: dict[str, Any] = {k: 0 for k in _SUMMED}
    failed: Counter[str] = Counter()
    cost = carrier_cost = 0.0
    for row in rows:
        for k in _SUMMED:
            out[k] += row[k]
        failed.update(row["failed"])
        cost += row["cost_fen"]
        carrier_cost += row["carrier_cost_fen"]
    out["failed"] = failed
    out["cost_fen"] = cost
    out["carrier_cost_fen"] = carrier_cost
    out["days"] = len(rows)
    return out


TownSums = dict[str, dict[str, Any]]


def town_sums(reports: Sequence[Mapping[str, Any]]) -> TownSums:
    """Per town, the sums of the day reports' town rows (what `assess` adds up)."""
    per_town: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for report in reports:
        for row in report["towns"]:
            per_town[row["town_id"]].append(row)
    return {town: _fold(rows) for town, rows in per_town.items()}


def merge_sums(a: TownSums, b: TownSums) -> TownSums:
    """The sums of two sets of days."""
    out = {t: dict(v, failed=Counter(v["failed"])) for t, v in a.items()}
    for town, s in b.items():
        if town not in out:
            out[town] = dict(s, failed=Counter(s["failed"]))
            continue
        mine = out[town]
        for k in (*_SUMMED, "cost_fen", "carrier_cost_fen", "days"):
            mine[k] += s[k]
        mine["failed"].update(s["failed"])
    return out


def assess(
    reports: Sequence[Mapping[str, Any]],
    names: Mapping[str, str],
    first: str,
    last: str,
    sums: TownSums | None = None,
) -> dict[str, Any]:
    """The towns' assessment over the day reports (DayActuals.report) of a period; `sums`
    (town_sums of the same reports, e.g. cached for the days that did not change) saves
    adding them up again."""
    sums = town_sums(reports) if sums is None else sums
    towns = []
    for town in sorted(sums):
        s = sums[town]
        carried = s["carried"]
        failed = dict(sorted(s["failed"].items()))
        towns.append(
            {
                "town_id": town,
                "name": names.get(town, town),
                "days": s["days"],
                "delivered": s["delivered"],
                "collected": s["collected"],
                "planned_deliveries": s["planned_deliveries"],
                "planned_pickups": s["planned_pickups"],
                "on_time": s["on_time"],
                "on_time_share": (
                    round(s["on_time"] / s["planned_deliveries"], 4)
                    if s["planned_deliveries"]
                    else None
                ),
                "failed": failed,
                "failure_rate": {r: round(n / carried, 4) for r, n in failed.items() if carried},
                "open": s["open"],
                "planned_cost_fen": round(s["cost_fen"]),
                "planned_cost_per_parcel_fen": round(s["cost_fen"] / carried) if carried else None,
                "produce_shipped": s["collected"],
                "produce_shipped_kg": round(s["collected_g"] / 1000, 3),
            }
        )
    return {
        "from": first,
        "to": last,
        "days": [r["date"] for r in reports],
        "plans": [r["plan_id"] for r in reports],
        "on_time_tolerance_s": reports[0]["on_time_tolerance_s"] if reports else None,
        "cost_note": "planned: each route's planned cost shared equally among its parcels",
        "towns": towns,
    }


def settle(reports: Sequence[Mapping[str, Any]], first: str, last: str) -> dict[str, Any]:
    """The carriers' settlement over the day reports of a period."""
    rows: dict[str, dict[str, list[Mapping[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for report in reports:
        for row in report["carriers"]:
            rows[row["carrier"]][row["town_id"]].append(row)
    carriers = []
    for carrier in sorted(rows):
        towns = []
        for town in sorted(rows[carrier]):
            s = _fold(rows[carrier][town])
            towns.append(
                {
                    "town_id": town,
                    "carried": s["carried"],
                    "delivered": s["delivered"],
                    "collected": s["collected"],
                    "failed": dict(sorted(s["failed"].items())),
                    "cost_fen": round(s["carrier_cost_fen"]),
                }
            )
        total = _fold([r for t in rows[carrier].values() for r in t])
        carriers.append(
            {
                "carrier": carrier,
                "carried": total["carried"],
                "delivered": total["delivered"],
                "collected": total["collected"],
                "failed": dict(sorted(total["failed"].items())),
                "failed_total": sum(total["failed"].values()),
                "cost_fen": round(total["carrier_cost_fen"]),
                "towns": towns,
            }
        )
    return {
        "from": first,
        "to": last,
        "days": [r["date"] for r in reports],
        "rule": "each route's planned cost: 1/3 by weight, 1/3 by volume, 1/3 by stops "
        "(an equal part per stop served, split equally among the parcels handled there)",
        "carriers": carriers,
    }


def _reasons(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    return sorted({r for row in rows for r in row["failed"]})


def assessment_tables(assessment: Mapping[str, Any]) -> list[TableSheet]:
    """The assessment as one sheet 乡镇考核 (one row per town)."""
    reasons = _reasons(assessment["towns"])
    head = [
        "乡镇编码 Town ID",
        "乡镇 Town",
        "送达 Delivered",
        "揽收 Collected",
        "准时率 On-time share",
        *[f"失败率 {r}" for r in reasons],
        "未完成 Open",
        "计划单件成本 元 Planned cost per parcel yuan",
        "农产品外运 件 Produce shipped",
        "农产品外运 kg Produce shipped kg",
    ]
    rows = [
        [
            t["town_id"],
            t["name"],
            t["delivered"],
            t["collected"],
            t["on_time_share"],
            *[t["failure_rate"].get(r, 0.0) for r in reasons],
            t["open"],
            (t["planned_cost_per_parcel_fen"] or 0) / 100,
            t["produce_shipped"],
            t["produce_shipped_kg"],
        ]
        for t in assessment["towns"]
    ]
    title = f"乡镇考核 {assessment['from']} — {assessment['to']}"
    note = (
        f"准时: 计划到达 + {assessment['on_time_tolerance_s'] or 0} 秒内送达; "
        "单件成本为计划值 (路线计划成本按件均摊) / planned cost"
    )
    return [TableSheet("乡镇考核", title, note, head, rows)]


def settlement_tables(settlement: Mapping[str, Any]) -> list[TableSheet]:
    """The settlement as 承运商结算 (one row per carrier) and 分乡镇 (carrier and town)."""
    head = [
        "承运商 Carrier",
        "承运 Carried",
        "送达 Delivered",
        "揽收 Collected",
        "失败 Failed",
        "分摊成本 元 Cost share yuan",
    ]
    rows = [
        [
            c["carrier"],
            c["carried"],
            c["delivered"],
            c["collected"],
            c["failed_total"],
            c["cost_fen"] / 100,
        ]
        for c in settlement["carriers"]
    ]
    detail = [
        [
            c["carrier"],
            t["town_id"],
            t["carried"],
            t["delivered"],
            t["collected"],
            sum(t["failed"].values()),
            t["cost_fen"] / 100,
        ]
        for c in settlement["carriers"]
        for t in c["towns"]
    ]
    title = f"承运商结算 {settlement['from']} — {settlement['to']}"
    return [
        TableSheet("承运商结算", title, f"分摊规则 Rule: {settlement['rule']}", head, rows),
        TableSheet(
            "分乡镇",
            title,
            "",
            ["承运商 Carrier", "乡镇编码 Town ID", *head[1:]],
            detail,
        ),
    ]
