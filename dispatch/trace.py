"""A parcel's trace: the planned chain (hub → vehicle → station → vehicle → village, or a
village's produce back to the hub) of each day's released plan beside the scans, and where
the parcel is now by its latest scan (or, unscanned, where the plan has it start)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dispatch.day_facts import DayFacts, ParcelFacts
from dispatch.scan_events import REASONS, ScanEvent, Scanner


@dataclass(frozen=True)
class TracedDay:
    """One day of a parcel: the released plan's facts (None: no plan has it) and its scans
    with who made them, in time order."""

    date: dt.date
    facts: DayFacts | None
    scans: Sequence[tuple[ScanEvent, Scanner]]


def parcel_trace(
    tracking_no: str, days: Sequence[TracedDay], names: Mapping[str, str]
) -> dict[str, Any]:
    """The trace (api.schemas.ParcelTrace) over `days`, oldest first."""
    first: ParcelFacts | None = None
    out_days = []
    for d in days:
        pf = d.facts.parcels.get(tracking_no) if d.facts else None
        first = first or pf
        out_days.append(
            {
                "date": d.date.isoformat(),
                "plan_id": d.facts.plan_id if d.facts else None,
                "status": pf.status if pf else None,
                "code": pf.code if pf else None,
                "due_s": pf.due_s if pf else None,
                "planned": [
                    {
                        "route_id": g.route_id,
                        "vehicle_id": g.vehicle_id,
                        "echelon": g.echelon,
                        "from_point": g.from_point,
                        "from_name": names.get(g.from_point, g.from_point),
                        "load_s": g.load_s,
                        "to_point": g.to_point,
                        "to_name": names.get(g.to_point, g.to_point),
                        "drop_s": g.drop_s,
                    }
                    for g in (pf.legs if pf else ())
                ],
                "scans": [
                    {
                        "event_id": e.event_id,
                        "event": e.event,
                        "time": e.time.isoformat(),
                        "time_s": e.time_s,
                        "reason": e.reason,
                        "role": who.role,
                        "vehicle_id": who.vehicle_id,
                        "station_id": who.station_id,
                        "lon": e.lon,
                        "lat": e.lat,
                    }
                    for e, who in d.scans
                ],
            }
        )
    p = first.parcel if first else None
    return {
        "tracking_no": tracking_no,
        "kind": p.kind if p else None,
        "carrier": p.carrier if p else None,
        "point_id": p.point_id if p else None,
        "town_id": first.town_id if first else None,
        "now": where_now(tracking_no, days),
        "days": out_days,
    }


def where_now(tracking_no: str, days: Sequence[TracedDay]) -> dict[str, Any]:
    """State, point and vehicle of the parcel by its latest scan of its latest scanned day."""
    for d in reversed(days):
        if not d.scans:
            continue
        e, who = max(d.scans, key=lambda s: s[0].time_s)
        pf = d.facts.parcels.get(tracking_no) if d.facts else None
        depots = d.facts.depots if d.facts else {}
        vehicle = who.vehicle_id or _planned_vehicle(pf, e)
        since = e.time.isoformat()
        if e.event in ("loaded", "picked_up"):
            return _now("on_vehicle", None, vehicle, since, d.date)
        if e.event == "unloaded_at_station":
            point = who.station_id or (depots.get(who.vehicle_id or "") if who.vehicle_id else None)
            return _now("at_station", point, None, since, d.date)
        if e.event == "delivered":
            if pf is not None and pf.parcel.kind == "pickup":
                return _now("at_hub", d.facts.hub_id if d.facts else None, None, since, d.date)
            return _now("delivered", pf.parcel.point_id if pf else None, None, since, d.date)
        kind = REASONS.get(e.reason or "", ("reattempt", ""))[0]
        state = "returning_to_carrier" if kind == "return" else "failed_awaiting_reattempt"
        at = depots.get(vehicle or "") if vehicle else None
        if pf is not None and pf.parcel.kind == "pickup":
            at = pf.parcel.point_id
        return _now(state, at, None, since, d.date)
    last = days[-1] if days else None
    pf = last.facts.parcels.get(tracking_no) if last and last.facts else None
    if pf is None or last is None:
        return _now("unknown", None, None, None, last.date if last else None)
    start = pf.legs[0].from_point if pf.legs else None
    if pf.parcel.kind == "pickup":
        return _now("awaiting_pickup", pf.parcel.point_id, None, None, last.date)
    return _now("not_scanned_yet", start, None, None, last.date)


def _planned_vehicle(pf: ParcelFacts | None, e: ScanEvent) -> str | None:
    """The planned vehicle carrying the parcel at the event's time."""
    if pf is None:
        return None
    for g in pf.legs:
        if g.load_s - 3600 <= e.time_s <= g.drop_s + 3600:
            return g.vehicle_id
    return pf.legs[-1].vehicle_id if pf.legs else None


def _now(
    state: str, point: str | None, vehicle: str | None, since: str | None, day: dt.date | None
) -> dict[str, Any]:
    return {
        "state": state,
        "point_id": point,
        "vehicle_id": vehicle,
        "since": since,
        "date": day.isoformat() if day else None,
    }
