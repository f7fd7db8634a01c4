"""Scan events from drivers and station crews, and the rules that judge them.

An event names a tracking number, what happened (`EVENTS`), when (an aware time; its local
date in the county's time zone is the day it belongs to) and for `failed` a reason from
`REASONS`. Events are judged by their own times, never by when they arrive, within
`CLOCK_TOLERANCE_S` for phones whose clocks drift:

- an event later than the server's clock plus the tolerance is refused (in the future);
- the parcel must be in the day's released plan, and a driver may scan only parcels that
  one of its vehicle's routes carries (in any released version of the day), a station crew
  only parcels that pass its station;
- along a parcel's chain (`step`) an event of a later step may not be timed more than the
  tolerance before an event of an earlier step (a delivery "delivered" before it was
  "loaded" at the hub); a parcel is delivered at most once a day, and nothing fails or is
  loaded after it was delivered.

Chain steps, deliveries: loaded at the hub (1), unloaded at a station (2), loaded at a
station (3), delivered or failed at its point (4). Produce: picked up or failed at its
village (1), unloaded at a station (2), loaded at a station (3), delivered (handed in) at the
hub (4). Where a `loaded` happens follows from who scans: a station crew, or the driver of a
station's vehicle, loads at a station; the hub (dispatcher keys) and hub vehicles' drivers
load deliveries at the hub and produce at a station.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from dispatch.day_facts import DayFacts

EVENTS = ("loaded", "unloaded_at_station", "delivered", "picked_up", "failed")
Event = Literal["loaded", "unloaded_at_station", "delivered", "picked_up", "failed"]

#: Failure reasons: code -> (what happens next, Chinese label). `reattempt`: planned again the
#: next day through the carry-over, with its attempt count; `return`: goes back to its carrier.
REASONS: dict[str, tuple[str, str]] = {
    "recipient_absent": ("reattempt", "收件人不在"),
    "address_not_found": ("reattempt", "地址不详"),
    "point_closed": ("reattempt", "服务点关门"),
    "no_access": ("reattempt", "道路不通"),
    "not_ready": ("reattempt", "农产品未备好"),
    "refused": ("return", "拒收"),
    "damaged": ("return", "破损"),
}

#: Seconds by which two phones' (or a phone's and the server's) clocks may disagree.
CLOCK_TOLERANCE_S = 300


@dataclass(frozen=True)
class ScanEvent:
    """One scan as judged and stored: `day` and `time_s` (seconds since local midnight) come
    from `time`; lon/lat are WGS-84 degrees (converted from GCJ-02 at the edge)."""

    event_id: str
    tracking_no: str
    event: str
    time: dt.datetime
    day: dt.date
    time_s: float
    reason: str | None = None
    lon: float | None = None
    lat: float | None = None
    vehicle_id: str | None = None
    station_id: str | None = None

    def same_as(self, other: ScanEvent) -> bool:
        """True when `other` is this event sent again (who sent it aside)."""
        return (
            self.tracking_no == other.tracking_no
            and self.event == other.event
            and self.reason == other.reason
            and abs((self.time - other.time).total_seconds()) < 1e-3
            and _close(self.lon, other.lon)
            and _close(self.lat, other.lat)
        )


def _close(a: float | None, b: float | None) -> bool:
    return (a is None) == (b is None) and (a is None or b is None or abs(a - b) < 1e-7)


@dataclass(frozen=True)
class Scanner:
    """Who scans: a driver (its vehicle), a station crew (its station) or the hub (dispatcher)."""

    role: str
    vehicle_id: str | None = None
    station_id: str | None = None


def local_day(time: dt.datetime, zone: dt.tzinfo) -> tuple[dt.date, float]:
    """The local date of `time` and its seconds since that local midnight."""
    local = time.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return local.date(), (local - midnight).total_seconds()


def step(event: str, kind: str, scanner: Scanner, depots: Mapping[str, str], hub_id: str) -> int:
    """The chain step of `event` for a parcel of `kind` scanned by `scanner` (module doc);
    0 when the event does not fit the kind."""
    if event == "delivered":
        return 4
    if event == "unloaded_at_station":
        return 2
    if event == "picked_up":
        return 1 if kind == "pickup" else 0
    if event == "failed":
        return 4 if kind == "delivery" else 1
    at_station = scanner.role == "station" or (
        scanner.role == "driver" and depots.get(scanner.vehicle_id or "", hub_id) != hub_id
    )
    if kind == "delivery":
        return 3 if at_station else 1
    return 3


def check_event(
    e: ScanEvent,
    facts: DayFacts | None,
    vehicles: set[str],
    scanner: Scanner,
    now: dt.datetime,
) -> str | None:
    """Why `e` is refused before its parcel's other events are looked at, or None.

    `facts` is the day's released plan (None: there is none); `vehicles` the vehicles that
    carry the parcel in any released version of the day."""
    if (e.time - now).total_seconds() > CLOCK_TOLERANCE_S:
        return (
            f"time {e.time.isoformat()} is in the future (server time {now.isoformat()}, "
            f"tolerance {CLOCK_TOLERANCE_S} s)"
        )
    if e.event == "failed" and e.reason not in REASONS:
        return f"a failed event needs a reason, one of {', '.join(REASONS)}"
    if e.event != "failed" and e.reason is not None:
        return "only a failed event has a reason"
    if facts is None:
        return f"no released plan for {e.day.isoformat()} (the local date of its time)"
    parcel = facts.parcels.get(e.tracking_no)
    if parcel is None:
        return f"{e.tracking_no} is not in the released plan of {e.day.isoformat()}"
    if scanner.role == "driver" and scanner.vehicle_id not in vehicles:
        return f"{e.tracking_no} is not on a route of vehicle {scanner.vehicle_id}"
    if scanner.role == "station" and scanner.station_id not in facts.points_of(e.tracking_no):
        return f"{e.tracking_no} does not pass station {scanner.station_id}"
    if step(e.event, parcel.parcel.kind, scanner, facts.depots, facts.hub_id) == 0:
        return f"{e.event} does not fit a {parcel.parcel.kind}"
    return None


@dataclass(frozen=True)
class Judged:
    """A stored or accepted event with its chain step."""

    event: ScanEvent
    step: int


def check_order(new: Judged, others: Iterable[Judged]) -> str | None:
    """Why `new` contradicts the parcel's other events of the day by their times, or None."""
    for old in others:
        o = old.event
        if o.event == "delivered" and new.event.event == "delivered":
            return f"already delivered at {_hhmm(o)} (event {o.event_id})"
        for done, later in ((o, new.event), (new.event, o)):
            if (
                done.event == "delivered"
                and later.event in ("failed", "loaded", "picked_up")
                and later.time_s > done.time_s + CLOCK_TOLERANCE_S
            ):
                return (
                    f"{later.event} at {_hhmm(later)} is after delivered at {_hhmm(done)} "
                    f"(event {o.event_id})"
                )
        early, late = (old, new) if old.step < new.step else (new, old)
        if early.step == late.step:
            continue
        if early.event.time_s > late.event.time_s + CLOCK_TOLERANCE_S:
            return (
                f"{late.event.event} at {_hhmm(late.event)} is before {early.event.event} at "
                f"{_hhmm(early.event)} (tolerance {CLOCK_TOLERANCE_S} s; "
                f"event {o.event_id if late is new else new.event.event_id})"
            )
    return None


def _hhmm(e: ScanEvent) -> str:
    s = int(e.time_s)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def outcome_reason_kind(reason: str | None) -> str:
    """reattempt or return, for a failure reason."""
    return REASONS.get(reason or "", ("reattempt", ""))[0]


def latest(events: Sequence[ScanEvent]) -> ScanEvent | None:
    """The event latest by its own time (ties: the later in the list)."""
    best = None
    for e in events:
        if best is None or e.time_s >= best.time_s:
            best = e
    return best
