"""A planner's what-if scenario: the base county and day plus changes, read from a TOML file.

Layout (every key optional except `[scenario] name`; unknown keys are errors):

    [scenario]  name (file-safe id used in tables), title (Chinese label for charts),
                description
    [demand]    parcels (the base day, default 10,000), multiplier (all parcels),
                pickup_share (produce pickups' share of the base day, default 0.05),
                pickup_multiplier (pickups only: produce growth; deliveries unchanged),
                cold_factor (multiplies the chilled shares), date ("YYYY-MM-DD")
    [fleet]     file (a fleet TOML, relative to the scenario file; default the county's), then
                changes in the fleet file's own layout merged over it: settings and
                types.<name> (fields merged over an existing type, or a new type), vehicles
                (added at the hub or a station), stations (replace a station's vehicles;
                `town` / `towns` name stations by town name instead of `id`),
                station_default, station_cold; and remove = [{type, depot?, count?}]
                (depot "hub", a town name or station id; default everywhere; count default all)
    [stations]  cold_rooms_add, cold_rooms_remove, closed: lists of town names or station
                ids, or "all". A closed station's vehicles are off and its villages are
                served direct from the hub; its own point still receives its parcels.
    [hub]       lon, lat (WGS-84, or crs = "gcj02"), assumed (true when the position is not
                published), name, note: the hub moved there
    [planning]  mode (auto | via_station | direct), time_limit_s
    [co2]       class.<class> / type.<type> = kg CO2 per km (over dispatch/data/co2.toml)

Read by `dispatch.scenarios.scenario_file` (fleet changes: `fleet_changes`); every problem is
reported with file, key and reason (ScenarioError) before any plan starts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from dispatch.fleet import Fleet
from dispatch.plan import RequestedMode
from geodata.county import County, load_county, load_county_dir

#: The CLI's default time limit (s) for one plan, also a scenario's default.
DEFAULT_TIME_LIMIT_S = 30.0
#: Date of the synthetic day when a scenario gives none (a Monday).
DEFAULT_DATE = dt.date(2026, 11, 30)
CO2_DEFAULTS = Path(str(resources.files("dispatch").joinpath("data", "co2.toml")))


@dataclass(frozen=True)
class ScenarioProblem:
    """One problem in a scenario file: the file, the dotted key and why."""

    file: str
    key: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.reason}"


class ScenarioError(ValueError):
    """Scenario files with problems; nothing was planned."""

    def __init__(self, problems: Sequence[ScenarioProblem]) -> None:
        self.problems = list(problems)
        super().__init__("invalid scenario:\n" + "\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Demand:
    """The synthetic day: parcels and shares (see the module doc)."""

    parcels: int = 10_000
    multiplier: float = 1.0
    pickup_share: float = 0.05
    pickup_multiplier: float = 1.0
    cold_factor: float = 1.0
    date: dt.date = DEFAULT_DATE

    def sizes(self) -> tuple[int, float]:
        """(parcels of the day, pickups' share of them)."""
        base = self.parcels * self.multiplier
        pickups = round(base * self.pickup_share * self.pickup_multiplier)
        deliveries = round(base * (1 - self.pickup_share))
        total = pickups + deliveries
        return total, (pickups / total if total else 0.0)


@dataclass(frozen=True)
class HubMove:
    """The hub moved to (lon, lat) WGS-84; `assumed` when the position is not published."""

    lon: float
    lat: float
    assumed: bool
    name: str = ""
    note: str = ""


@dataclass(frozen=True)
class Co2Factors:
    """kg CO2 per km by vehicle type name, else by class."""

    by_class: Mapping[str, float]
    by_type: Mapping[str, float]

    def of(self, vtype: str, vclass: str) -> float:
        """kg CO2 per km of a vehicle type (0 when neither its type nor class is listed)."""
        return self.by_type.get(vtype, self.by_class.get(vclass, 0.0))


@dataclass(frozen=True)
class Scenario:
    """A scenario resolved against its county: the fleet it plans with (closed stations'
    vehicles off), the stations with a cold room, the hub's position, the day and the limits.

    `digest` hashes the file and every file it names (the sweep's resume key starts there).
    """

    name: str
    title: str
    description: str
    source: str
    digest: str
    demand: Demand
    mode: RequestedMode
    time_limit_s: float
    fleet: Fleet
    cold_rooms: frozenset[str]
    closed: tuple[str, ...]
    hub: HubMove | None
    co2: Co2Factors


def apply_county(county: County, cold_rooms: frozenset[str]) -> County:
    """The county with exactly the stations `cold_rooms` keeping a cold room."""
    points = [
        replace(p, cold_storage=p.point_id in cold_rooms) if p.kind == "station" else p
        for p in county.points
    ]
    return replace(county, points=points)


def base_county(folder: Path | None, hub: HubMove | None) -> County:
    """The county of `folder` (None: the embedded Yongchuan), the hub moved to `hub` (and
    renamed, when the move names the new site)."""
    at = (hub.lon, hub.lat) if hub is not None else None
    county = load_county_dir(folder, at) if folder is not None else load_county(at)
    if hub is None or not hub.name:
        return county
    points = [replace(p, name=hub.name) if p.kind == "hub" else p for p in county.points]
    return replace(county, points=points)
