"""Plan against actual: what the scans say happened to each parcel of a day's released plan,
per route and per town, and what the next day must take over or return.

Rules (the README states them with their constants):

- a parcel's day ends **delivered** (a delivery scanned `delivered`; produce scanned
  `picked_up` counts as **collected**), **failed** (its last failure by time, when it was
  not delivered or collected that day) or **open** (carried by the plan, neither);
- a delivery is **on time** when it was delivered on or before its due date and, on the due
  date, no later than the planned arrival plus `ON_TIME_TOLERANCE_S`; the on-time share is
  on-time deliveries over the deliveries the plan carries that day;
- a failure rate is the parcels whose day ended failed with that reason over the parcels
  the plan carries (deliveries and pickups);
- failed parcels with a re-attempt reason go into the next day's carry-over (why `failed`,
  with their attempt count) and wait where the failing vehicle is based (produce stays at its
  village); refused and damaged deliveries go back to their carrier (the return list).

State is kept per parcel and updated with each new event (`apply`), so a day with tens of
thousands of scans is summarised again in milliseconds when a few more arrive.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dispatch.day_facts import DayFacts, ParcelFacts
from dispatch.scan_events import REASONS, ScanEvent

#: A delivery up to this many seconds after its planned arrival is still on time.
ON_TIME_TOLERANCE_S = 1800


@dataclass
class ParcelDay:
    """What the scans of one day say about one parcel."""

    delivered_s: float | None = None
    collected_s: float | None = None
    failed_s: float | None = None
    failed_reason: str | None = None
    failed_vehicle: str | None = None
    events: int = 0

    def apply(self, e: ScanEvent) -> None:
        """Take one more event into account (any order of arrival)."""
        self.events += 1
        if e.event == "delivered" and (self.delivered_s is None or e.time_s < self.delivered_s):
            self.delivered_s = e.time_s
        elif e.event == "picked_up" and (self.collected_s is None or e.time_s < self.collected_s):
            self.collected_s = e.time_s
        elif e.event == "failed" and (self.failed_s is None or e.time_s >= self.failed_s):
            self.failed_s = e.time_s
            self.failed_reason = e.reason
            self.failed_vehicle = e.vehicle_id


def state(facts: ParcelFacts, day: ParcelDay | None) -> str:
    """delivered, collected, failed or open (the end of the parcel's day so far)."""
    if day is not None:
        if facts.parcel.kind == "delivery" and day.delivered_s is not None:
            return "delivered"
        if facts.parcel.kind == "pickup" and day.collected_s is not None:
            return "collected"
        if day.failed_s is not None:
            return "failed"
    return "open"


def on_time(facts: ParcelFacts, day: ParcelDay | None, date_ordinal: int) -> bool:
    """Delivered on or before its due date, and on the due date by the planned arrival plus
    the tolerance."""
    if day is None or day.delivered_s is None or facts.parcel.kind != "delivery":
        return False
    due = facts.parcel.due_date.toordinal()
    if due > date_ordinal:
        return True
    if due < date_ordinal or facts.due_s is None:
        return False
    return day.delivered_s <= facts.due_s + ON_TIME_TOLERANCE_S


def _blank() -> dict[str, Any]:
    return {
        "planned_deliveries": 0,
        "delivered": 0,
        "on_time": 0,
        "planned_pickups": 0,
        "collected": 0,
        "failed": Counter(),
        "open": 0,
        "carried": 0,
        "cost_fen": 0.0,
        "carrier_cost_fen": 0.0,
        "collected_g": 0,
    }


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    carried = row["planned_deliveries"] + row["planned_pickups"]
    failed: Counter[str] = row["failed"]
    row["failed"] = dict(sorted(failed.items()))
    row["failed_total"] = sum(failed.values())
    row["failure_rate"] = {r: round(n / carried, 4) for r, n in sorted(failed.items()) if carried}
    row["on_time_share"] = (
        round(row["on_time"] / row["planned_deliveries"], 4) if row["planned_deliveries"] else None
    )
    row["cost_fen"] = round(row["cost_fen"], 2)
    row["carrier_cost_fen"] = round(row["carrier_cost_fen"], 2)
    return row


@dataclass
class DayActuals:
    """The scans of one day folded per parcel, against that day's released plan."""

    facts: DayFacts
    seq: int = 0
    parcels: dict[str, ParcelDay] = field(default_factory=dict)
    _report: dict[str, Any] | None = field(default=None, repr=False)

    def apply(self, events: Iterable[ScanEvent], seq: int | None = None) -> None:
        """Fold more events of the day in; `seq` is the last event number seen."""
        for e in events:
            self.parcels.setdefault(e.tracking_no, ParcelDay()).apply(e)
            self._report = None
        if seq is not None:
            self.seq = max(self.seq, seq)

    def report(self) -> dict[str, Any]:
        """Per route, per town and per carrier and town: planned, delivered, on time, failed
        by reason, open; planned and collected produce (count, grams); the planned cost of
        the parcels carried (equal shares, and shares by the settlement rule). Kept until
        more events arrive."""
        if self._report is None:
            self._report = self._compute()
        return self._report

    def _compute(self) -> dict[str, Any]:
        ordinal = self.facts.date.toordinal()
        routes: dict[str, dict[str, Any]] = {}
        towns: dict[str, dict[str, Any]] = {}
        carriers: dict[tuple[str, str], dict[str, Any]] = {}
        total = _blank()
        for t, f in self.facts.parcels.items():
            if f.status != "carried":
                continue
            day = self.parcels.get(t)
            where = [
                total,
                towns.setdefault(f.town_id, _blank()),
                carriers.setdefault((f.parcel.carrier, f.town_id), _blank()),
            ]
            if f.route_id is not None:
                where.append(routes.setdefault(f.route_id, _blank()))
            now = state(f, day)
            for row in where:
                if f.parcel.kind == "delivery":
                    row["planned_deliveries"] += 1
                    row["delivered"] += now == "delivered"
                    row["on_time"] += on_time(f, day, ordinal)
                else:
                    row["planned_pickups"] += 1
                    row["collected"] += now == "collected"
                    row["collected_g"] += f.parcel.weight_g if now == "collected" else 0
                row["carried"] += 1
                row["cost_fen"] += f.cost_fen
                row["carrier_cost_fen"] += f.carrier_cost_fen
                if now == "failed" and day is not None:
                    row["failed"][day.failed_reason or "unknown"] += 1
                row["open"] += now == "open"
        return {
            "date": self.facts.date.isoformat(),
            "plan_id": self.facts.plan_id,
            "on_time_tolerance_s": ON_TIME_TOLERANCE_S,
            "total": _finish(total),
            "routes": [
                {
                    "route_id": r,
                    "vehicle_id": self.facts.routes[r].vehicle_id,
                    "echelon": self.facts.routes[r].echelon,
                    **_finish(routes[r]),
                }
                for r in sorted(routes)
            ],
            "towns": [{"town_id": t, **_finish(towns[t])} for t in sorted(towns)],
            "carriers": [
                {"carrier": c, "town_id": t, **_finish(carriers[(c, t)])}
                for c, t in sorted(carriers)
            ],
            "returns": self.returns(),
        }

    def failures(self) -> list[tuple[ParcelFacts, ParcelDay]]:
        """Parcels whose day ended failed, by tracking number."""
        out = []
        for t in sorted(self.parcels):
            f = self.facts.parcels.get(t)
            if f is not None and state(f, self.parcels[t]) == "failed":
                out.append((f, self.parcels[t]))
        return out

    def waits_at(self, f: ParcelFacts, day: ParcelDay) -> str:
        """Where a failed parcel waits: produce at its village; a delivery at the base of the
        vehicle that failed it (else of the route that was to hand it over, else the hub)."""
        if f.parcel.kind == "pickup":
            return f.parcel.point_id
        if day.failed_vehicle and day.failed_vehicle in self.facts.depots:
            return self.facts.depots[day.failed_vehicle]
        if f.route_id is not None:
            return self.facts.routes[f.route_id].depot
        return self.facts.hub_id

    def returns(self) -> list[dict[str, Any]]:
        """Refused and damaged deliveries, for the return run to their carriers."""
        return [
            {
                "tracking_no": f.parcel.tracking_no,
                "carrier": f.parcel.carrier,
                "reason": d.failed_reason,
                "at": self.waits_at(f, d),
            }
            for f, d in self.failures()
            if REASONS.get(d.failed_reason or "", ("reattempt", ""))[0] == "return"
            and f.parcel.kind == "delivery"
        ]

    def reattempts(self, attempts_before: Mapping[str, int]) -> list[dict[str, Any]]:
        """Carry-over entries (plan contract `carry_over`, why `failed`, with `attempts`) for
        the failed parcels that are tried again the next day."""
        out = []
        for f, d in self.failures():
            returned = REASONS.get(d.failed_reason or "", ("reattempt", ""))[0] == "return"
            if returned and f.parcel.kind == "delivery":
                continue
            p = f.parcel
            out.append(
                {
                    "tracking_no": p.tracking_no,
                    "carrier": p.carrier,
                    "kind": p.kind,
                    "point_id": p.point_id,
                    "weight_g": p.weight_g,
                    "volume_ml": p.volume_ml,
                    "cold": p.cold,
                    "due_date": p.due_date.isoformat(),
                    "at": self.waits_at(f, d),
                    "why": "failed",
                    "reason": d.failed_reason,
                    "attempts": attempts_before.get(p.tracking_no, 0) + 1,
                }
            )
        return out
