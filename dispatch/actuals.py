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
from typing import Any, Protocol

from dispatch.day_facts import DayFacts, ParcelFacts
from dispatch.scan_events import REASONS

#: A delivery up to this many seconds after its planned arrival is still on time.
ON_TIME_TOLERANCE_S = 1800


class Scanned(Protocol):
    """What folding needs of a scan (a ScanEvent, or a FoldedScan read for folding)."""

    @property
    def tracking_no(self) -> str: ...
    @property
    def event(self) -> str: ...
    @property
    def time_s(self) -> float: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def vehicle_id(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class FoldedScan:
    """A stored scan as plan-against-actual reads it (seconds since midnight only)."""

    tracking_no: str
    event: str
    time_s: float
    reason: str | None
    vehicle_id: str | None


#: Events that move a parcel along its chain without changing how its day ends.
_IN_TRANSIT = frozenset(("loaded", "unloaded_at_station"))


@dataclass(slots=True)
class ParcelDay:
    """What the scans of one day say about one parcel."""

    delivered_s: float | None = None
    collected_s: float | None = None
    failed_s: float | None = None
    failed_reason: str | None = None
    failed_vehicle: str | None = None
    events: int = 0

    def apply(self, e: Scanned) -> None:
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


Key = tuple[str, ...]
#: The report's sections of rows and the kind of key of each.
_KINDS = {"routes": "route", "towns": "town", "carriers": "carrier"}
#: (delivered, on time, collected, collected grams, failure reason, open) of one parcel.
Contribution = tuple[int, int, int, int, str | None, int]


@dataclass
class DayActuals:
    """The scans of one day folded per parcel, against that day's released plan.

    The rows (total, per route, per town, per carrier and town) are kept up to date event
    by event: a new event changes only its parcel's contribution, so a day of tens of
    thousands of scans is reported again in about a millisecond when a few more arrive.
    """

    facts: DayFacts
    seq: int = 0
    parcels: dict[str, ParcelDay] = field(default_factory=dict)
    _rows: dict[Key, dict[str, Any]] = field(default_factory=dict, repr=False)
    _failed: set[str] = field(default_factory=set, repr=False)
    _report: dict[str, Any] | None = field(default=None, repr=False)
    _summaries: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for f in self.facts.parcels.values():
            if f.status != "carried":
                continue
            for key in self._keys(f):
                row = self._rows.get(key)
                if row is None:
                    row = self._rows[key] = _blank()
                if f.parcel.kind == "delivery":
                    row["planned_deliveries"] += 1
                else:
                    row["planned_pickups"] += 1
                row["carried"] += 1
                row["cost_fen"] += f.cost_fen
                row["carrier_cost_fen"] += f.carrier_cost_fen
            self._add(f, self._contribution(f, None), 1)

    @staticmethod
    def _keys(f: ParcelFacts) -> list[Key]:
        keys: list[Key] = [
            ("total",),
            ("town", f.town_id),
            ("carrier", f.parcel.carrier, f.town_id),
        ]
        if f.route_id is not None:
            keys.append(("route", f.route_id))
        return keys

    def _contribution(self, f: ParcelFacts, day: ParcelDay | None) -> Contribution:
        now = state(f, day)
        collected = now == "collected"
        return (
            int(now == "delivered"),
            int(on_time(f, day, self.facts.date.toordinal())),
            int(collected),
            f.parcel.weight_g if collected else 0,
            (day.failed_reason or "unknown") if now == "failed" and day is not None else None,
            int(now == "open"),
        )

    def _add(self, f: ParcelFacts, c: Contribution, sign: int) -> None:
        for key in self._keys(f):
            row = self._rows[key]
            row["delivered"] += sign * c[0]
            row["on_time"] += sign * c[1]
            row["collected"] += sign * c[2]
            row["collected_g"] += sign * c[3]
            if c[4] is not None:
                row["failed"][c[4]] += sign
                if not row["failed"][c[4]]:
                    del row["failed"][c[4]]
            row["open"] += sign * c[5]

    def apply(self, events: Iterable[Scanned], seq: int | None = None) -> None:
        """Fold more events of the day in; `seq` is the last event number seen."""
        for e in events:
            day = self.parcels.get(e.tracking_no)
            if day is None:
                day = self.parcels[e.tracking_no] = ParcelDay()
            if e.event in _IN_TRANSIT:
                day.events += 1
                continue
            f = self.facts.parcels.get(e.tracking_no)
            before = self._contribution(f, day) if f is not None else None
            day.apply(e)
            if f is not None:
                after = self._contribution(f, day)
                if f.status == "carried" and after != before:
                    assert before is not None
                    self._add(f, before, -1)
                    self._add(f, after, 1)
                if state(f, day) == "failed":
                    self._failed.add(e.tracking_no)
                else:
                    self._failed.discard(e.tracking_no)
            self._report = None
            self._summaries.clear()
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

    def summary(self, section: str) -> dict[str, Any]:
        """The report's date, plan, scans seq and tolerance with only its `towns` or its
        `carriers` rows (what the assessment and the settlement add up over days): a few
        dozen rows instead of every route and the return list. Kept until more events
        arrive."""
        if section not in self._summaries:
            self._summaries[section] = {**self._head(), section: self._section(section)}
        return self._summaries[section]

    def _row(self, key: Key) -> dict[str, Any]:
        row = dict(self._rows.get(key) or _blank())
        row["failed"] = Counter(row["failed"])
        return _finish(row)

    def _head(self) -> dict[str, Any]:
        return {
            "date": self.facts.date.isoformat(),
            "plan_id": self.facts.plan_id,
            "scans_seq": self.seq,
            "on_time_tolerance_s": ON_TIME_TOLERANCE_S,
        }

    def _section(self, section: str) -> list[dict[str, Any]]:
        """The rows of "routes", "towns" or "carriers", by key."""
        keys = sorted(k for k in self._rows if k[0] == _KINDS[section])
        if section == "routes":
            return [
                {
                    "route_id": k[1],
                    "vehicle_id": self.facts.routes[k[1]].vehicle_id,
                    "echelon": self.facts.routes[k[1]].echelon,
                    **self._row(k),
                }
                for k in keys
            ]
        if section == "towns":
            return [{"town_id": k[1], **self._row(k)} for k in keys]
        return [{"carrier": k[1], "town_id": k[2], **self._row(k)} for k in keys]

    def _compute(self) -> dict[str, Any]:
        return {
            **self._head(),
            "total": self._row(("total",)),
            **{section: self._section(section) for section in _KINDS},
            "returns": self.returns(),
        }

    def failures(self) -> list[tuple[ParcelFacts, ParcelDay]]:
        """Parcels whose day ended failed, by tracking number."""
        return [(self.facts.parcels[t], self.parcels[t]) for t in sorted(self._failed)]

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
