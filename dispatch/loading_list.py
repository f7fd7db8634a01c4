"""Loading list of one vehicle's trip for the hub or station crew, last stop's parcels first.

The parcels loaded at the depot, grouped by the stop where they leave the vehicle and listed
in reverse stop order: what is loaded first ends up at the back and comes off last. Per stop
the weight (g) and volume (ml), shown as kg and litres.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dispatch.parcel import Parcel
from dispatch.plan import Vehicle
from dispatch.route_sheet import Handover, RouteSheet, handover, hhmm
from dispatch.safe_csv import csv_text


@dataclass(frozen=True)
class LoadingEntry:
    """The parcels for one stop; `order` 1 is loaded first (the last stop's)."""

    order: int
    seq: int
    point_id: str
    name: str
    arrival_s: int
    parcels: Handover


@dataclass(frozen=True)
class LoadingList:
    """A trip's loading list; capacity (g, ml) from the plan's vehicle when it says."""

    sheet: RouteSheet
    entries: tuple[LoadingEntry, ...]
    capacity: Vehicle | None

    @property
    def count(self) -> int:
        """Parcels to load."""
        return sum(e.parcels.count for e in self.entries)

    @property
    def weight_g(self) -> int:
        """Total weight (g)."""
        return sum(e.parcels.weight_g for e in self.entries)

    @property
    def volume_ml(self) -> int:
        """Total volume (ml)."""
        return sum(e.parcels.volume_ml for e in self.entries)


def loading_list(
    sheet: RouteSheet, parcels: Mapping[str, Parcel], vehicle: Vehicle | None = None
) -> LoadingList:
    """The loading list of a route sheet: depot-loaded parcels by drop stop, last stop first.

    A route a re-plan cut where its vehicle broke down still carries parcels at its last stop
    (the breakdown spot): they are listed there. Otherwise a parcel loaded at the depot but
    dropped nowhere on the trip is a broken plan: ValueError.
    """
    loaded = {t for g in sheet.stops[0].load.groups for t in g.tracking_nos}
    dropped = {t for stop in sheet.stops[1:] for g in stop.drop.groups for t in g.tracking_nos}
    on_board = loaded - dropped if sheet.route.ended == "breakdown" else set()
    entries: list[LoadingEntry] = []
    for i, stop in enumerate(reversed(sheet.stops[1:])):
        stuck = on_board if i == 0 else set()
        here = sorted({t for g in stop.drop.groups for t in g.tracking_nos if t in loaded} | stuck)
        loaded.difference_update(here)
        if here:
            entries.append(
                LoadingEntry(
                    order=len(entries) + 1,
                    seq=stop.seq,
                    point_id=stop.point_id,
                    name=stop.name,
                    arrival_s=stop.arrival_s,
                    parcels=handover(here, parcels),
                )
            )
    if loaded:
        left = ", ".join(sorted(loaded)[:5])
        raise ValueError(f"route {sheet.route.route_id}: loaded but never dropped: {left}")
    return LoadingList(sheet=sheet, entries=tuple(entries), capacity=vehicle)


#: CSV column headers, bilingual
LOADING_COLUMNS = (
    "装车顺序 Load order",
    "序号 Stop seq",
    "站点编码 Point ID",
    "站点 Stop",
    "到达 ETA",
    "件数 Parcels",
    "按快递公司 By carrier",
    "冷链件数 Cold",
    "重量kg Weight kg",
    "体积L Volume L",
    "运单号 Tracking numbers",
)


def loading_csv_text(ll: LoadingList) -> str:
    """The loading list as CSV for a spreadsheet, one row per stop in loading order."""
    rows = [
        [
            e.order,
            e.seq,
            e.point_id,
            e.name,
            hhmm(e.arrival_s),
            e.parcels.count,
            e.parcels.counts_text(),
            e.parcels.cold_count,
            round(e.parcels.weight_g / 1000, 3),
            round(e.parcels.volume_ml / 1000, 3),
            " ".join(t for g in e.parcels.groups for t in g.tracking_nos),
        ]
        for e in ll.entries
    ]
    return csv_text(LOADING_COLUMNS, rows)
