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

Every problem is reported with file, key and reason (ScenarioError) before any plan starts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from dispatch.fleet import DEFAULT_FLEET, Fleet, FleetError, load_fleet_doc, parse_fleet_toml
from dispatch.modes import MODES
from geodata.county import County, load_county, load_county_dir
from geodata.crs import gcj02_to_wgs84
from geodata.problems import CountyError

#: The CLI's default time limit (s) for one plan, also a scenario's default.
DEFAULT_TIME_LIMIT_S = 30.0
#: Date of the synthetic day when a scenario gives none (a Monday).
DEFAULT_DATE = dt.date(2026, 11, 30)
CO2_DEFAULTS = Path(str(resources.files("dispatch").joinpath("data", "co2.toml")))

_KEYS: dict[str, set[str]] = {
    "scenario": {"name", "title", "description"},
    "demand": {"parcels", "multiplier", "pickup_share", "pickup_multiplier", "cold_factor", "date"},
    "fleet": {
        "file",
        "settings",
        "types",
        "vehicles",
        "stations",
        "station_default",
        "station_cold",
        "remove",
    },
    "stations": {"cold_rooms_add", "cold_rooms_remove", "closed"},
    "hub": {"lon", "lat", "crs", "assumed", "name", "note"},
    "planning": {"mode", "time_limit_s"},
    "co2": {"class", "type"},
}
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
MAX_PARCELS = 200_000


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
    mode: str
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


def load_scenarios(paths: Sequence[Path], county_folder: Path | None = None) -> list[Scenario]:
    """Read and resolve scenario files; ScenarioError naming file, key and reason for every
    problem of every file (names must be unique across files)."""
    scenarios: list[Scenario] = []
    problems: list[ScenarioProblem] = []
    seen: dict[str, str] = {}
    for path in paths:
        try:
            sc = load_scenario(path, county_folder)
        except ScenarioError as exc:
            problems += exc.problems
            continue
        if sc.name in seen:
            problems.append(
                ScenarioProblem(path.name, "scenario.name", f"{sc.name!r} also in {seen[sc.name]}")
            )
        seen[sc.name] = path.name
        scenarios.append(sc)
    if problems:
        raise ScenarioError(problems)
    return scenarios


def load_scenario(path: Path, county_folder: Path | None = None) -> Scenario:
    """One scenario file resolved against the county; ScenarioError on any problem."""
    reader = _Reader(path.name)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
        doc = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
        raise ScenarioError([ScenarioProblem(path.name, "file", f"cannot read: {exc}")]) from None
    reader.unknown(doc, set(_KEYS), "")
    tables = {k: reader.table(doc.get(k, {}), k) for k in _KEYS}
    for k, body in tables.items():
        reader.unknown(body, _KEYS[k], k)
    name, title, description = reader.head(tables["scenario"])
    demand = reader.demand(tables["demand"])
    mode = tables["planning"].get("mode", "auto")
    if mode not in MODES:
        reader.bad("planning.mode", f"expected one of {', '.join(MODES)}, got {mode!r}")
    limit = reader.number(tables["planning"], "time_limit_s", "planning", DEFAULT_TIME_LIMIT_S)
    if limit <= 0:
        reader.bad("planning.time_limit_s", "must be > 0")
    hub = reader.hub(tables["hub"]) if tables["hub"] else None
    co2 = reader.co2(tables["co2"])
    digest = hashlib.sha256(raw)
    fleet_doc, base_name = reader.fleet_base(tables["fleet"], path.parent, digest)
    fleet_file_ok = not any(p.key == "fleet.file" for p in reader.problems)
    try:
        county = base_county(county_folder, hub)
    except CountyError as exc:
        key = "hub" if hub is not None else "county"
        for p in exc.problems:
            if not p.warning:
                reader.bad(key, str(p))
        raise ScenarioError(reader.problems) from None
    stations = {p.point_id: p for p in county.points if p.kind == "station"}
    names = _town_names(stations.values())
    cold = {sid for sid, p in stations.items() if p.cold_storage}
    st = tables["stations"]
    cold |= set(reader.stations(st, "cold_rooms_add", stations, names))
    cold -= set(reader.stations(st, "cold_rooms_remove", stations, names))
    closed = tuple(reader.stations(st, "closed", stations, names))
    fleet = None
    if fleet_file_ok:
        fleet = reader.fleet(fleet_doc, tables["fleet"], base_name, county, cold, stations, names)
    if reader.problems or fleet is None:
        raise ScenarioError(reader.problems)
    off = [v.vehicle_id for v in fleet.vehicles if v.depot in closed]
    return Scenario(
        name=name,
        title=title,
        description=description,
        source=path.name,
        digest=digest.hexdigest(),
        demand=demand,
        mode=str(mode),
        time_limit_s=limit,
        fleet=fleet.with_off(off),
        cold_rooms=frozenset(cold),
        closed=closed,
        hub=hub,
        co2=co2,
    )


def _town_names(stations: Any) -> dict[str, str]:
    """Town name -> station id: a station named "<town>供销社服务站" (or "<town>...服务站")
    answers to its full name and to the town's name."""
    out: dict[str, str] = {}
    for p in stations:
        out[p.name] = p.point_id
        town = re.split(r"(?:供销社)?服务站$", p.name)[0]
        if town:
            out[town] = p.point_id
    return out


class _Reader:
    """Checks a scenario document, collecting every problem as (file, key, reason)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[ScenarioProblem] = []

    def bad(self, key: str, reason: str) -> None:
        self.problems.append(ScenarioProblem(self.source, key, reason))

    def table(self, value: object, key: str) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        self.bad(key, "expected a table")
        return {}

    def unknown(self, body: Mapping[str, object], allowed: set[str], key: str) -> None:
        for name in body:
            if name not in allowed:
                self.bad(f"{key}.{name}" if key else name, "unknown key")

    def number(
        self, body: Mapping[str, object], name: str, key: str, default: float, top: float = 1e6
    ) -> float:
        """A finite number in [0, top] at body[name] (default when absent or bad)."""
        value = body.get(name, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            self.bad(f"{key}.{name}", f"expected a number, got {value!r}")
            return default
        if not 0 <= value <= top:
            self.bad(f"{key}.{name}", f"must be between 0 and {top:g}, got {value!r}")
            return default
        return float(value)

    def text(self, body: Mapping[str, object], name: str, key: str, default: str = "") -> str:
        value = body.get(name, default)
        if not isinstance(value, str):
            self.bad(f"{key}.{name}", f"expected text, got {value!r}")
            return default
        return value.strip()

    def head(self, body: Mapping[str, object]) -> tuple[str, str, str]:
        name = self.text(body, "name", "scenario")
        if not _NAME.fullmatch(name):
            why = "missing" if not name else f"expected a file-safe id [a-z0-9_-], got {name!r}"
            self.bad("scenario.name", why)
        title = self.text(body, "title", "scenario") or name
        return name, title, self.text(body, "description", "scenario")

    def demand(self, body: Mapping[str, object]) -> Demand:
        d = Demand()
        parcels = body.get("parcels", d.parcels)
        if isinstance(parcels, bool) or not isinstance(parcels, int) or not parcels >= 1:
            self.bad("demand.parcels", f"expected a whole number >= 1, got {parcels!r}")
            parcels = d.parcels
        date = body.get("date", d.date)
        if isinstance(date, str):
            try:
                date = dt.date.fromisoformat(date)
            except ValueError:
                date = None
        if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
            self.bad("demand.date", f'expected a date "YYYY-MM-DD", got {body.get("date")!r}')
            date = d.date
        out = Demand(
            parcels=parcels,
            multiplier=self.number(body, "multiplier", "demand", d.multiplier, 100),
            pickup_share=self.number(body, "pickup_share", "demand", d.pickup_share, 1),
            pickup_multiplier=self.number(body, "pickup_multiplier", "demand", 1.0, 100),
            cold_factor=self.number(body, "cold_factor", "demand", d.cold_factor, 100),
            date=date,
        )
        total, _ = out.sizes()
        if not 1 <= total <= MAX_PARCELS:
            self.bad("demand", f"the day has {total:,} parcels; expected 1 to {MAX_PARCELS:,}")
        return out

    def hub(self, body: Mapping[str, object]) -> HubMove | None:
        lon = self.number(body, "lon", "hub", math.nan, 180) if "lon" in body else math.nan
        lat = self.number(body, "lat", "hub", math.nan, 90) if "lat" in body else math.nan
        for key, v in (("lon", lon), ("lat", lat)):
            if math.isnan(v) and f"hub.{key}" not in {p.key for p in self.problems}:
                self.bad(f"hub.{key}", "missing")
        crs = body.get("crs", "wgs84")
        if crs not in ("wgs84", "gcj02"):
            self.bad("hub.crs", f'expected "wgs84" or "gcj02", got {crs!r}')
        assumed = body.get("assumed")
        if not isinstance(assumed, bool):
            self.bad("hub.assumed", "say true (the position is assumed) or false (published)")
        if math.isnan(lon) or math.isnan(lat) or not isinstance(assumed, bool):
            return None
        if crs == "gcj02":
            lon, lat = gcj02_to_wgs84(lon, lat)
        name, note = self.text(body, "name", "hub"), self.text(body, "note", "hub")
        return HubMove(lon, lat, assumed, name, note)

    def co2(self, body: Mapping[str, Any]) -> Co2Factors:
        defaults = tomllib.loads(CO2_DEFAULTS.read_text(encoding="utf-8"))
        tables: dict[str, dict[str, float]] = {}
        for part in ("class", "type"):
            merged = dict(defaults[part])
            for k, v in self.table(body.get(part, {}), f"co2.{part}").items():
                merged[k] = self.number({k: v}, k, f"co2.{part}", 0.0, 100)
            tables[part] = merged
        return Co2Factors(tables["class"], tables["type"])

    def stations(
        self,
        body: Mapping[str, object],
        key: str,
        stations: Mapping[str, Any],
        names: Mapping[str, str],
    ) -> list[str]:
        """Station ids named by body[key]: "all", or a list of town names / station ids."""
        value = body.get(key, [])
        if value == "all":
            return list(stations)
        if not isinstance(value, list):
            self.bad(f"stations.{key}", f'expected a list of towns or "all", got {value!r}')
            return []
        return [
            sid
            for i, item in enumerate(value)
            if (sid := self.station(item, f"stations.{key}[{i}]", stations, names)) is not None
        ]

    def station(
        self, item: object, key: str, stations: Mapping[str, Any], names: Mapping[str, str]
    ) -> str | None:
        if isinstance(item, str) and item in stations:
            return item
        if isinstance(item, str) and item in names:
            return names[item]
        self.bad(key, f"{item!r} is not a town or station of the county")
        return None

    def fleet_base(
        self, body: Mapping[str, Any], folder: Path, digest: Any
    ) -> tuple[dict[str, Any] | None, str]:
        """The base fleet file's table (None: the county's default) and its name; its bytes
        join `digest`."""
        if "file" not in body:
            return None, ""
        rel = self.text(body, "file", "fleet")
        path = folder / rel
        try:
            raw = path.read_bytes()
            doc = parse_fleet_toml(raw.decode("utf-8"), path.name)
        except (OSError, UnicodeDecodeError) as exc:
            self.bad("fleet.file", f"cannot read {rel}: {exc}")
            return None, ""
        except FleetError as exc:
            self.bad("fleet.file", f"{rel}: {exc}")
            return None, ""
        digest.update(raw)
        return doc, path.name

    def fleet(
        self,
        base: dict[str, Any] | None,
        changes: Mapping[str, Any],
        base_name: str,
        county: County,
        cold: set[str],
        stations: Mapping[str, Any],
        names: Mapping[str, str],
    ) -> Fleet | None:
        """The base fleet with the changes merged over it, expanded over the county's
        stations (`cold` keep a cold room), minus the removed vehicles."""
        if base is None:
            path = county.settings.fleet_file or DEFAULT_FLEET
            base = parse_fleet_toml(path.read_text(encoding="utf-8"), path.name)
            base_name = path.name
        doc = _merged(base, changes, self, stations, names)
        source = f"{self.source} [fleet] over {base_name}"
        try:
            fleet = load_fleet_doc(
                doc, source, list(stations), sorted(cold & set(stations)), county.hub_id
            )
        except FleetError as exc:
            for e in exc.errors:
                self.bad(f"fleet.{e.field}", f"{e.message} (after merging over {base_name})")
            return None
        return self.remove(fleet, changes.get("remove", []), stations, names, county.hub_id)

    def remove(
        self,
        fleet: Fleet,
        entries: object,
        stations: Mapping[str, Any],
        names: Mapping[str, str],
        hub_id: str,
    ) -> Fleet:
        if not isinstance(entries, list):
            self.bad("fleet.remove", "expected an array of {type, depot?, count?}")
            return fleet
        vehicles = list(fleet.vehicles)
        for i, entry in enumerate(entries):
            key = f"fleet.remove[{i}]"
            body = self.table(entry, key)
            self.unknown(body, {"type", "depot", "count"}, key)
            vtype = body.get("type")
            if vtype not in fleet.types:
                self.bad(f"{key}.type", f"unknown vehicle type {vtype!r}")
                continue
            depot: str | None = None
            if "depot" in body:
                depot = (
                    hub_id
                    if body["depot"] == "hub"
                    else self.station(body["depot"], f"{key}.depot", stations, names)
                )
                if depot is None:
                    continue
            match = [v for v in vehicles if v.vtype == vtype and depot in (None, v.depot)]
            count = body.get("count", len(match))
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                self.bad(f"{key}.count", f"expected a whole number >= 1, got {count!r}")
                continue
            if count > len(match):
                self.bad(f"{key}.count", f"only {len(match)} such vehicles to remove")
                continue
            gone = {v.vehicle_id for v in match[len(match) - count :]}
            vehicles = [v for v in vehicles if v.vehicle_id not in gone]
        if not vehicles:
            self.bad("fleet.remove", "no vehicle left")
        return replace(fleet, vehicles=vehicles)


def _merged(
    base: Mapping[str, Any],
    changes: Mapping[str, Any],
    reader: _Reader,
    stations: Mapping[str, Any],
    names: Mapping[str, str],
) -> dict[str, Any]:
    """The base fleet table with the scenario's changes (see the module doc)."""
    doc = {k: v for k, v in base.items()}
    for part in ("settings", "types"):
        if part in changes:
            doc[part] = _deep(doc.get(part, {}), reader.table(changes[part], f"fleet.{part}"))
    for part in ("station_default", "station_cold"):
        if part in changes:
            doc[part] = changes[part]
    if "vehicles" in changes:
        added = changes["vehicles"]
        if isinstance(added, list):
            added = list(added)
            for i, v in enumerate(added):
                if isinstance(v, dict) and isinstance(v.get("depot"), str) and v["depot"] != "hub":
                    sid = reader.station(v["depot"], f"fleet.vehicles[{i}].depot", stations, names)
                    added[i] = {**v, "depot": sid or v["depot"]}
                elif isinstance(v, dict) and v.get("depot") == "hub":
                    added[i] = {k: x for k, x in v.items() if k != "depot"}
            doc["vehicles"] = [*doc.get("vehicles", []), *added]
        else:
            reader.bad("fleet.vehicles", "expected an array of tables")
    if "stations" in changes:
        doc["stations"] = _station_overrides(
            doc.get("stations", []), changes["stations"], reader, stations, names
        )
    return doc


def _station_overrides(
    base: object,
    changes: object,
    reader: _Reader,
    stations: Mapping[str, Any],
    names: Mapping[str, str],
) -> list[dict[str, Any]]:
    """Base [[stations]] entries, replaced or joined by the scenario's (town/towns -> id)."""
    out = {e.get("id"): e for e in base if isinstance(e, dict)} if isinstance(base, list) else {}
    if not isinstance(changes, list):
        reader.bad("fleet.stations", "expected an array of tables")
        return list(out.values())
    for i, entry in enumerate(changes):
        body = reader.table(entry, f"fleet.stations[{i}]")
        towns = body.get("towns", [body["town"]] if "town" in body else [body.get("id")])
        if not isinstance(towns, list) or not towns:
            reader.bad(f"fleet.stations[{i}].towns", "expected a list of town names")
            continue
        rest = {k: v for k, v in body.items() if k not in ("town", "towns", "id")}
        for k, town in enumerate(towns):
            sid = reader.station(town, f"fleet.stations[{i}].towns[{k}]", stations, names)
            if sid is not None:
                out[sid] = {"id": sid, **rest}
    return list(out.values())


def _deep(base: object, over: Mapping[str, Any]) -> dict[str, Any]:
    """`over` merged into the table `base`, tables recursively."""
    out = dict(base) if isinstance(base, dict) else {}
    for k, v in over.items():
        out[k] = _deep(out.get(k), v) if isinstance(v, dict) else v
    return out
