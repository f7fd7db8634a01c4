"""Reading scenario files (layout: `dispatch.scenarios.model`): every key checked, towns
named by name resolved against the county, the fleet resolved (`fleet_changes`); every
problem of every file reported before any plan starts."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dispatch.modes import MODES, requested_mode
from dispatch.scenarios.checks import Checks
from dispatch.scenarios.fleet_changes import read_base, resolve_fleet
from dispatch.scenarios.model import (
    CO2_DEFAULTS,
    DEFAULT_TIME_LIMIT_S,
    Co2Factors,
    Demand,
    HubMove,
    Scenario,
    ScenarioError,
    ScenarioProblem,
    base_county,
)
from geodata.crs import gcj02_to_wgs84
from geodata.problems import CountyError

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
    fleet_doc, base_name = read_base(reader, tables["fleet"], path.parent, digest)
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
        fleet = resolve_fleet(
            reader, fleet_doc, tables["fleet"], base_name, county, cold, stations, names
        )
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
        mode=requested_mode(str(mode)),
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


class _Reader(Checks):
    """Checks the parts of a scenario document."""

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
