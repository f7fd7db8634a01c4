"""Each driver's day across trips: one driver per vehicle, one lunch, a maximum shift.

A vehicle's trips are planned one after another (waves and legs), so the rules that span the
day are kept here: the shift runs from the first loading to the last unloading and lasts at
most `max_shift_s`; between trips the vehicle unloads and loads again, and starts full after
its type's recharge (or refuel) time; the driver takes one lunch break of `lunch_duration_s`
starting within the lunch window, with no work in it: inside a trip (the vehicle parked
between stops), between trips at the depot, or before or after the day's work.

While the lunch is owed, a trip that may reach the lunch window gets it placed (see
dispatch.legs): just before the trip when the driver has a long enough wait at the depot,
after the trip when it ends in time, else inside it. After the trip it stays owed (a later
trip may still hold it); once the day is planned an owed lunch is taken right after the last
trip, which is then still in time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from dispatch.fleet import Fleet, FleetVehicle, VehicleType
from dispatch.plan import Route


@dataclass(frozen=True)
class LunchWindow:
    """When the owed lunch may start (s) if it is taken before or inside the next trip."""

    earliest_s: int
    latest_s: int


@dataclass(frozen=True)
class TripSlot:
    """The next trip of a vehicle: loading starts no earlier than `earliest_s`, unloading ends
    no later than `latest_s`; the trip (load start to unload end) lasts at most `max_span_s`.

    `lunch` is set while the driver's lunch is still owed; `first` marks the day's first trip
    (it carries the vehicle's fixed cost).
    """

    vehicle: FleetVehicle
    vtype: VehicleType
    trip: int
    earliest_s: int
    latest_s: int
    max_span_s: int
    lunch: LunchWindow | None
    first: bool

    @property
    def depot(self) -> str:
        """Where the trip starts and ends: the vehicle's base."""
        return self.vehicle.depot


@dataclass(frozen=True)
class TripTimes:
    """A planned trip's times (s): load start, departure, arrival back, unload end, and the
    start of the driver's lunch when it is taken inside the trip or just before it."""

    load_s: int
    depart_s: int
    arrive_s: int
    unload_end_s: int
    lunch_s: int | None = None


@dataclass(frozen=True)
class DriverDay:
    """What a vehicle's driver has done so far today."""

    vehicle: FleetVehicle
    trips: int = 0
    first_load_s: int | None = None
    arrived_s: int = 0
    unload_end_s: int = 0
    lunch_s: int | None = None  # start of the lunch once it is settled

    @property
    def lunch_owed(self) -> bool:
        """True until the lunch has been placed."""
        return self.lunch_s is None


class Drivers:
    """The day of every vehicle's driver; hands out each vehicle's next trip slot."""

    def __init__(self, fleet: Fleet, start_s: int = 0) -> None:
        self.fleet = fleet
        self.start_s = start_s
        self.days: dict[str, DriverDay] = {
            v.vehicle_id: DriverDay(vehicle=v) for v in fleet.working()
        }

    def slot(self, vehicle: FleetVehicle, earliest_s: int = 0) -> TripSlot | None:
        """The vehicle's next trip, starting no earlier than `earliest_s`; None when it has no
        trips or no time left."""
        s = self.fleet.settings
        vt = self.fleet.types[vehicle.vtype]
        day = self.days[vehicle.vehicle_id]
        if day.trips >= vehicle.max_trips:
            return None
        start = max(vehicle.shift_start_s, earliest_s, self.start_s)
        if day.trips:
            start = max(start, day.unload_end_s, day.arrived_s + vt.recharge_s - s.load_s)
        if day.lunch_s is not None and day.lunch_s >= day.unload_end_s:
            start = max(start, day.lunch_s + s.lunch_duration_s)  # lunch at the depot
        latest = vehicle.shift_end_s
        if day.first_load_s is not None:
            latest = min(latest, day.first_load_s + s.max_shift_s)
        if latest - start < s.load_s + s.unload_s:
            return None
        lunch = None
        if day.lunch_owed and latest > s.lunch_earliest_s:
            lunch = LunchWindow(max(s.lunch_earliest_s, day.unload_end_s), s.lunch_latest_s)
        return TripSlot(
            vehicle=vehicle,
            vtype=vt,
            trip=day.trips + 1,
            earliest_s=start,
            latest_s=latest,
            max_span_s=min(s.max_shift_s, latest - start),
            lunch=lunch,
            first=day.trips == 0,
        )

    def record(self, slot: TripSlot, times: TripTimes) -> None:
        """Book a planned trip of the slot's vehicle and settle the lunch where it fell."""
        s = self.fleet.settings
        day = self.days[slot.vehicle.vehicle_id]
        lunch = day.lunch_s
        if lunch is None:
            if times.lunch_s is not None:
                lunch = times.lunch_s
            elif times.unload_end_s >= s.lunch_earliest_s:
                # back within the lunch window: lunch now, after unloading (a trip is only left
                # owing the lunch when it ends in time for this)
                lunch = times.unload_end_s
        self.days[slot.vehicle.vehicle_id] = replace(
            day,
            trips=day.trips + 1,
            first_load_s=times.load_s if day.first_load_s is None else day.first_load_s,
            arrived_s=times.arrive_s,
            unload_end_s=times.unload_end_s,
            lunch_s=lunch,
        )

    def retime_last(self, vehicle_id: str, times: TripTimes) -> None:
        """The vehicle's last trip now ends at `times` (a job was inserted into it later)."""
        day = self.days[vehicle_id]
        self.days[vehicle_id] = replace(
            day, arrived_s=times.arrive_s, unload_end_s=times.unload_end_s
        )

    def move_lunch(self, vehicle_id: str, start_s: int) -> None:
        """The driver's lunch, taken at the depot between trips, now starts at `start_s`."""
        self.days[vehicle_id] = replace(self.days[vehicle_id], lunch_s=start_s)

    def book_kept(self, routes: Iterable[Route], lunches: Mapping[str, int] | None = None) -> None:
        """Book routes of an earlier plan version that stay as they are (re-planning) and the
        lunches its drivers have already started (vehicle id -> start s)."""
        for vid, start in (lunches or {}).items():
            if vid in self.days:
                self.days[vid] = replace(self.days[vid], lunch_s=start)
        for r in sorted(routes, key=lambda r: r.stops[0].arrival_s):
            day = self.days.get(r.vehicle_id)
            if day is None:
                continue
            first, last = r.stops[0], r.stops[-1]
            self.days[r.vehicle_id] = replace(
                day,
                trips=day.trips + 1,
                first_load_s=first.arrival_s if day.first_load_s is None else day.first_load_s,
                arrived_s=last.arrival_s,
                unload_end_s=last.departure_s,
                lunch_s=r.break_.start_s if r.break_ else day.lunch_s,
            )

    def settle(self) -> dict[str, int]:
        """Each working driver's lunch start (s): owed lunches are taken after the last trip."""
        s = self.fleet.settings
        out: dict[str, int] = {}
        for vid, day in self.days.items():
            if not day.trips:
                continue
            out[vid] = (
                day.lunch_s
                if day.lunch_s is not None
                else max(s.lunch_earliest_s, day.unload_end_s)
            )
        return out

    def slots(self, vehicles: Sequence[FleetVehicle], earliest_s: int = 0) -> list[TripSlot]:
        """The next trip of each vehicle that has one."""
        return [s for v in vehicles if (s := self.slot(v, earliest_s)) is not None]
