"""Fleet: vehicle types and vehicles, read from a TOML file (default: the Yongchuan fleet).

A county folder may name its fleet file; one that names none gets the embedded Yongchuan fleet
(hub vehicles at the county's hub, the station defaults at each of its stations). The TOML
layout is documented in that file, `geodata/data/yongchuan/fleet.toml`.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from dispatch.parcel import InputError
from geodata.county import EMBEDDED_FOLDER, County, load_county

VehicleClass = Literal["tricycle", "van", "truck"]

#: Size order of vehicle classes: a road admitting a class admits every smaller one.
CLASS_RANK: dict[str, int] = {"tricycle": 0, "van": 1, "truck": 2}


#: Range (km) of an electric tricycle's charge when the fleet file gives none.
TRICYCLE_RANGE_KM = 60


@dataclass(frozen=True)
class VehicleType:
    """A kind of vehicle. Capacities in g / ml, costs in fen, speeds in km/h.

    `range_m` is how far one trip may go on a charge or a tank (m; None: no limit that a day's
    trip could reach); every trip starts full after `recharge_s` at the vehicle's own depot.
    """

    name: str
    label: str
    vclass: VehicleClass
    capacity_g: int
    capacity_ml: int
    cold: bool = False
    fixed_cost_fen: int = 0
    cost_per_km_fen: int = 0
    cost_per_hour_fen: int = 0
    speed_factor: float = 1.0
    max_speed_kph: float | None = None
    range_m: int | None = None
    recharge_s: int = 0


@dataclass(frozen=True)
class FleetVehicle:
    """One physical vehicle based at `depot` (a point id), with a shift window (s)."""

    vehicle_id: str
    vtype: str
    depot: str
    shift_start_s: int
    shift_end_s: int
    max_trips: int = 1


@dataclass(frozen=True)
class Settings:
    """Operating rules (seconds unless stated).

    A stop takes `service_stop_s` plus `service_parcel_s` per parcel handed over or collected;
    at a station, a hub vehicle hands over and takes sorted cages, `transfer_parcel_s` per
    parcel. Every trip starts with `load_s` of loading at the vehicle's depot and ends with
    `unload_s` of unloading there, so a vehicle's turnaround between trips is at least their sum. A
    driver's shift runs from the first loading to the last unloading, at most `max_shift_s`.
    """

    sort_time_s: int = 1800
    service_stop_s: int = 300
    service_parcel_s: int = 6
    transfer_parcel_s: int = 1
    load_s: int = 900
    unload_s: int = 600
    max_shift_s: int = 10 * 3600
    lunch_earliest_s: int = 11 * 3600 + 1800
    lunch_latest_s: int = 13 * 3600 + 1800
    lunch_duration_s: int = 1800
    defer_penalty_fen: int = 2000
    drop_penalty_fen: int = 1_000_000
    station_deadline_s: int = 10 * 3600 + 1800  # added: feeder loads due at stations by then


@dataclass
class Fleet:
    """Vehicle types, vehicles and settings; `off` holds the ids of vehicles off today."""

    types: dict[str, VehicleType]
    vehicles: list[FleetVehicle]
    settings: Settings = field(default_factory=Settings)
    off: frozenset[str] = frozenset()

    def vtype(self, vehicle: FleetVehicle) -> VehicleType:
        """The type of `vehicle`."""
        return self.types[vehicle.vtype]

    def working(self) -> list[FleetVehicle]:
        """The vehicles available today."""
        return [v for v in self.vehicles if v.vehicle_id not in self.off]

    def with_off(self, vehicle_ids: Sequence[str]) -> Fleet:
        """The same fleet with `vehicle_ids` off today; ValueError naming an unknown id."""
        known = {v.vehicle_id for v in self.vehicles}
        unknown = [v for v in vehicle_ids if v not in known]
        if unknown:
            raise ValueError(f"vehicles off today: unknown vehicle id {unknown[0]!r}")
        return replace(self, off=frozenset(vehicle_ids))


class FleetError(ValueError):
    """A fleet file with problems; `errors` name the file (row 0) and the dotted key."""

    def __init__(self, errors: list[InputError]) -> None:
        self.errors = errors
        super().__init__("invalid fleet:\n" + "\n".join(str(e) for e in errors))


#: The fleet of a county folder that names none: the embedded Yongchuan county's.
DEFAULT_FLEET = EMBEDDED_FOLDER / "fleet.toml"
_CLASS_LETTER = {"truck": "T", "van": "V", "tricycle": "E"}  # "R" for any refrigerated vehicle

# [settings] keys: TOML name -> (Settings field, seconds per unit)
_SETTINGS_UNITS: dict[str, tuple[str, int]] = {
    "sort_time_min": ("sort_time_s", 60),
    "service_stop_s": ("service_stop_s", 1),
    "service_parcel_s": ("service_parcel_s", 1),
    "transfer_parcel_s": ("transfer_parcel_s", 1),
    "load_min": ("load_s", 60),
    "unload_min": ("unload_s", 60),
    "max_shift_h": ("max_shift_s", 3600),
    "lunch_min": ("lunch_duration_s", 60),
    "defer_penalty_fen": ("defer_penalty_fen", 1),
    "drop_penalty_fen": ("drop_penalty_fen", 1),
}
_TYPE_KEYS = {
    "label",
    "class",
    "capacity_kg",
    "capacity_m3",
    "cold",
    "fixed_cost_fen",
    "fixed_cost_yuan",
    "cost_per_km_fen",
    "cost_per_hour_fen",
    "speed_factor",
    "max_speed_kph",
    "range_km",
    "recharge_min",
}
#: Bounds that keep a fleet file's numbers finite and its size sane: any number at most
#: MAX_NUMBER (so kg -> g and m3 -> ml stay exact integers), at most MAX_GROUP vehicles per
#: `count`, MAX_TRIPS trips per vehicle and MAX_VEHICLES vehicles in all.
MAX_NUMBER = 1e9
MAX_GROUP = 1000
MAX_TRIPS = 24
MAX_VEHICLES = 10_000
_TOP_KEYS = {"settings", "types", "vehicles", "station_default", "station_cold", "stations"}
_GROUP_KEYS = {"type", "count", "shift", "max_trips"}


def load_fleet(
    path: Path | None = None,
    station_ids: Sequence[str] = (),
    cold_station_ids: Sequence[str] = (),
    hub_id: str | None = None,
) -> Fleet:
    """Read a fleet TOML file (None: the embedded Yongchuan fleet, DEFAULT_FLEET).

    `[station_default]` vehicles are given to every id in `station_ids` (unless a `[[stations]]`
    entry overrides it) and `[station_cold]` ones to every id in `cold_station_ids`; with no
    station ids only the explicit `[[vehicles]]` are built. Overrides for stations not in
    `station_ids` are ignored (a what-if may close a station). `[[vehicles]]` without a depot
    are based at `hub_id` (default: the embedded county's hub). Raises FleetError naming file
    and key.
    """
    path = path or DEFAULT_FLEET
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FleetError([InputError(path.name, 0, "file", f"cannot read: {exc}")]) from None
    return load_fleet_text(text, path.name, station_ids, cold_station_ids, hub_id)


def fleet_for_county(county: County, path: Path | None = None) -> Fleet:
    """The fleet of `path` (None: the county folder's fleet file, else the default) expanded
    over the county's stations, hub vehicles at its hub."""
    stations = [p for p in county.points if p.kind == "station"]
    cold = [p.point_id for p in stations if p.cold_storage]
    chosen = path or county.settings.fleet_file
    return load_fleet(chosen, [p.point_id for p in stations], cold, county.hub_id)


def fleet_text_for_county(text: str, county: County, source: str = "fleet.toml") -> Fleet:
    """A fleet from TOML text (e.g. PUT /v1/fleet) expanded over the county's stations."""
    stations = [p for p in county.points if p.kind == "station"]
    cold = [p.point_id for p in stations if p.cold_storage]
    return load_fleet_text(text, source, [p.point_id for p in stations], cold, county.hub_id)


def load_fleet_text(
    text: str,
    source: str = "fleet.toml",
    station_ids: Sequence[str] = (),
    cold_station_ids: Sequence[str] = (),
    hub_id: str | None = None,
) -> Fleet:
    """Parse fleet TOML text (see load_fleet); `source` names it in errors."""
    if hub_id is None:
        hub_id = load_county().hub_id  # the hub of the embedded county's data
    reader = _FleetReader(source)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FleetError([InputError(source, 0, "toml", str(exc))]) from None
    except RecursionError:
        raise FleetError([InputError(source, 0, "toml", "nested too deeply")]) from None
    reader.unknown(doc, _TOP_KEYS, "")
    settings = reader.settings(reader.table(doc.get("settings", {}), "settings"))
    types: dict[str, VehicleType] = {}
    for name, body in reader.table(doc.get("types", {}), "types").items():
        vtype = reader.vehicle_type(name, reader.table(body, f"types.{name}"))
        if vtype is not None:
            types[name] = vtype
    if not types:
        reader.error("types", "no vehicle types defined")
    known = {hub_id, *station_ids}
    vehicles: list[FleetVehicle] = []
    for i, entry in enumerate(reader.array(doc.get("vehicles", []), "vehicles")):
        depots = known if station_ids else None
        vehicles += reader.vehicles(entry, f"vehicles[{i}]", types, hub_id, depots)
        if len(vehicles) > MAX_VEHICLES:
            break
    default = reader.table(doc.get("station_default", {}), "station_default")
    cold = reader.table(doc.get("station_cold", {}), "station_cold")
    overrides: dict[str, dict[str, object]] = {}
    for i, entry in enumerate(reader.array(doc.get("stations", []), "stations")):
        key = f"stations[{i}]"
        body = reader.table(entry, key)
        reader.unknown(body, {"id", "vehicles", "shift", "max_trips"}, key)
        sid = body.get("id")
        if not isinstance(sid, str) or not sid.strip():
            reader.error(f"{key}.id", "missing station id")
        elif sid in overrides:
            reader.error(f"{key}.id", f"station {sid!r} listed twice")
        else:
            overrides[sid] = body
    for key, body in (("station_default", default), ("station_cold", cold)):
        reader.unknown(body, {"vehicles", "shift", "max_trips"}, key)
    sections = [("station_default", default), ("station_cold", cold)]
    sections += [(f"stations[id={sid}]", body) for sid, body in overrides.items()]
    checked = 0
    for key, body in sections:  # checked even where no station uses them
        checked += len(reader.station_vehicles("000000000", body, default, key, types, {}))
        if checked > MAX_VEHICLES:
            reader.error(key, f"more than {MAX_VEHICLES} vehicles")
            break
    for sid in station_ids:
        body = overrides.get(sid, default)
        key = f"stations[id={sid}]" if sid in overrides else "station_default"
        counters: dict[str, int] = {}
        vehicles += reader.station_vehicles(sid, body, default, key, types, counters)
        if sid in cold_station_ids:
            vehicles += reader.station_vehicles(sid, cold, default, "station_cold", types, counters)
        if len(vehicles) > MAX_VEHICLES:
            break
    if len(vehicles) > MAX_VEHICLES:
        reader.error("vehicles", f"more than {MAX_VEHICLES} vehicles")
    seen: set[str] = set()
    for v in vehicles:
        if v.vehicle_id in seen:
            reader.error("vehicles", f"vehicle id {v.vehicle_id!r} used twice")
        seen.add(v.vehicle_id)
    if reader.errors:
        raise FleetError(list(dict.fromkeys(reader.errors)))  # inherited keys repeat per station
    return Fleet(types=types, vehicles=vehicles, settings=settings)


class _FleetReader:
    """Checks TOML values, collecting every error as InputError(source, 0, key, message)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.errors: list[InputError] = []

    def error(self, key: str, message: str) -> None:
        self.errors.append(InputError(self.source, 0, key, message))

    def table(self, value: object, key: str) -> dict[str, object]:
        if isinstance(value, dict):
            return value
        self.error(key, "expected a table")
        return {}

    def array(self, value: object, key: str) -> list[object]:
        if isinstance(value, list):
            return value
        self.error(key, "expected an array of tables")
        return []

    def unknown(self, body: Mapping[str, object], allowed: set[str], key: str) -> None:
        for name in body:
            if name not in allowed:
                self.error(f"{key}.{name}" if key else name, "unknown key")

    def number(
        self, body: Mapping[str, object], name: str, key: str, *, positive: bool = False
    ) -> float | None:
        """A non-negative (or positive) finite number at body[name], None if absent or bad."""
        value = body.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            self.error(f"{key}.{name}", f"expected a number, got {value!r}")
            return None
        if value < 0 or (positive and value <= 0) or value > MAX_NUMBER:
            bound = "> 0" if positive else ">= 0"
            self.error(f"{key}.{name}", f"must be {bound} and at most {MAX_NUMBER:.0e}")
            return None
        return float(value)

    def scaled(
        self, body: Mapping[str, object], name: str, key: str, scale: int, default: int
    ) -> int:
        """body[name] × scale rounded to an integer (default if absent or bad)."""
        value = self.number(body, name, key)
        return default if value is None else round(value * scale)

    def text(self, body: Mapping[str, object], name: str, key: str) -> str | None:
        value = body.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
        self.error(f"{key}.{name}", "missing" if value is None else "expected non-empty text")
        return None

    def shift(self, value: object, key: str) -> tuple[int, int] | None:
        """ "HH:MM-HH:MM" (seconds optional) -> (start_s, end_s)."""
        window = _window(value)
        if window is None:
            self.error(key, f'expected "HH:MM-HH:MM" with start < end, got {value!r}')
        return window

    def settings(self, body: dict[str, object]) -> Settings:
        self.unknown(body, {*_SETTINGS_UNITS, "lunch", "station_deadline"}, "settings")
        base = Settings()
        values = {
            field_name: self.scaled(body, name, "settings", scale, getattr(base, field_name))
            for name, (field_name, scale) in _SETTINGS_UNITS.items()
        }
        if "lunch" in body:
            window = self.shift(body["lunch"], "settings.lunch")
            if window is not None:
                values["lunch_earliest_s"], values["lunch_latest_s"] = window
        if "station_deadline" in body:
            deadline = body["station_deadline"]
            at = _clock(deadline) if isinstance(deadline, str) else None
            if at is None:
                self.error("settings.station_deadline", f'expected "HH:MM", got {deadline!r}')
            else:
                values["station_deadline_s"] = at
        return replace(base, **values)

    def vehicle_type(self, name: str, body: dict[str, object]) -> VehicleType | None:
        key = f"types.{name}"
        n_errors = len(self.errors)
        self.unknown(body, _TYPE_KEYS, key)
        label = self.text(body, "label", key)
        vclass = body.get("class")
        if vclass not in CLASS_RANK:
            self.error(f"{key}.class", f"expected one of {', '.join(CLASS_RANK)}, got {vclass!r}")
        capacity_kg = self.number(body, "capacity_kg", key, positive=True)
        capacity_m3 = self.number(body, "capacity_m3", key, positive=True)
        for name_ in ("capacity_kg", "capacity_m3"):
            if name_ not in body:
                self.error(f"{key}.{name_}", "missing")
        cold = body.get("cold", False)
        if not isinstance(cold, bool):
            self.error(f"{key}.cold", f"expected true or false, got {cold!r}")
        if "fixed_cost_fen" in body and "fixed_cost_yuan" in body:
            self.error(f"{key}.fixed_cost_yuan", "give fixed_cost_fen or fixed_cost_yuan, not both")
        fixed = self.scaled(body, "fixed_cost_yuan", key, 100, 0)
        fixed = self.scaled(body, "fixed_cost_fen", key, 1, fixed)
        per_km = self.scaled(body, "cost_per_km_fen", key, 1, 0)
        per_hour = self.scaled(body, "cost_per_hour_fen", key, 1, 0)
        speed_factor = self.number(body, "speed_factor", key, positive=True)
        max_speed = self.number(body, "max_speed_kph", key, positive=True)
        range_km = self.number(body, "range_km", key, positive=True)
        if range_km is None and vclass == "tricycle":
            range_km = TRICYCLE_RANGE_KM
        recharge_s = self.scaled(body, "recharge_min", key, 60, 0)
        if len(self.errors) > n_errors or label is None or capacity_kg is None:
            return None
        assert capacity_m3 is not None and isinstance(cold, bool)
        return VehicleType(
            name=name,
            label=label,
            vclass=vclass,  # type: ignore[arg-type]  # checked against CLASS_RANK above
            capacity_g=round(capacity_kg * 1000),
            capacity_ml=round(capacity_m3 * 1_000_000),
            cold=cold,
            fixed_cost_fen=fixed,
            cost_per_km_fen=per_km,
            cost_per_hour_fen=per_hour,
            speed_factor=1.0 if speed_factor is None else speed_factor,
            max_speed_kph=max_speed,
            range_m=None if range_km is None else round(range_km * 1000),
            recharge_s=recharge_s,
        )

    def count(
        self, body: Mapping[str, object], name: str, key: str, default: int, maximum: int
    ) -> int:
        value = body.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
            self.error(f"{key}.{name}", f"expected an integer from 1 to {maximum}, got {value!r}")
            return default
        return value

    def vehicles(
        self,
        entry: object,
        key: str,
        types: Mapping[str, VehicleType],
        hub_id: str,
        depots: set[str] | None,
    ) -> list[FleetVehicle]:
        """One [[vehicles]] entry: `id`, or `id_prefix` + `count` (ids PREFIX01, PREFIX02...);
        `depot` defaults to the hub."""
        body = self.table(entry, key)
        self.unknown(body, {"id", "id_prefix", "count", "type", "depot", "shift", "max_trips"}, key)
        vtype = self.text(body, "type", key)
        if vtype is not None and vtype not in types:
            self.error(f"{key}.type", f"unknown vehicle type {vtype!r}")
        depot = self.text(body, "depot", key) if "depot" in body else hub_id
        if depot is not None and depots is not None and depot not in depots:
            self.error(f"{key}.depot", f"{depot!r} is not the hub or a station")
        window = self.shift(body.get("shift"), f"{key}.shift")
        max_trips = self.count(body, "max_trips", key, 1, MAX_TRIPS)
        if "id" in body:
            if "id_prefix" in body or "count" in body:
                self.error(f"{key}.id", "give id, or id_prefix and count, not both")
            ids = [self.text(body, "id", key)]
        else:
            prefix = self.text(body, "id_prefix", key)
            ids = [
                f"{prefix}{i:02d}"
                for i in range(1, self.count(body, "count", key, 1, MAX_GROUP) + 1)
            ]
        if window is None or vtype not in types or depot is None or None in ids:
            return []
        return [
            FleetVehicle(str(vid), str(vtype), depot, window[0], window[1], max_trips)
            for vid in ids
        ]

    def station_vehicles(
        self,
        station_id: str,
        body: Mapping[str, object],
        default: Mapping[str, object],
        key: str,
        types: Mapping[str, VehicleType],
        counters: dict[str, int],
    ) -> list[FleetVehicle]:
        """Vehicles of one station from `body["vehicles"]` = [{type, count, shift?, max_trips?}].

        Ids are "<station>-<letter><n>": T truck, V van, E (electric) tricycle, R refrigerated.
        `shift` / `max_trips` fall back to the entry's table, then to [station_default].
        """
        out: list[FleetVehicle] = []
        for i, group in enumerate(self.array(body.get("vehicles", []), f"{key}.vehicles")):
            gkey = f"{key}.vehicles[{i}]"
            g = self.table(group, gkey)
            self.unknown(g, _GROUP_KEYS, gkey)
            name = self.text(g, "type", gkey)
            vtype = types.get(name or "")
            if name is not None and vtype is None:
                self.error(f"{gkey}.type", f"unknown vehicle type {name!r}")
            chain = ((g, gkey), (body, key), (default, "station_default"))
            shift_from, shift_key = _first_with("shift", chain)
            window = self.shift(shift_from.get("shift"), f"{shift_key}.shift")
            trips_from, trips_key = _first_with("max_trips", chain)
            max_trips = self.count(trips_from, "max_trips", trips_key, 1, MAX_TRIPS)
            count = self.count(g, "count", gkey, 1, MAX_GROUP)
            if vtype is None or window is None:
                continue
            letter = "R" if vtype.cold else _CLASS_LETTER[vtype.vclass]
            for _ in range(count):
                counters[letter] = counters.get(letter, 0) + 1
                vid = f"{station_id}-{letter}{counters[letter]}"
                out.append(FleetVehicle(vid, vtype.name, station_id, *window, max_trips))
            if len(out) > MAX_VEHICLES:
                break
        return out


def _first_with(
    name: str, chain: Sequence[tuple[Mapping[str, object], str]]
) -> tuple[Mapping[str, object], str]:
    """The first (table, key) of `chain` that sets `name` (else the first): inheritance."""
    return next((link for link in chain if name in link[0]), chain[0])


def _clock(text: str) -> int | None:
    """ "HH:MM" or "HH:MM:SS" (up to 24:00) -> seconds since midnight, else None."""
    parts = text.strip().split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() and len(p) == 2 for p in parts):
        return None
    h, m, s = (int(p) for p in [*parts, "00"][:3])
    if m > 59 or s > 59 or h * 3600 + m * 60 + s > 86_400:
        return None
    return h * 3600 + m * 60 + s


def _window(value: object) -> tuple[int, int] | None:
    """ "07:00-18:00" -> (25200, 64800); None unless start < end."""
    if not isinstance(value, str) or value.count("-") != 1:
        return None
    start, end = (_clock(t) for t in value.split("-"))
    if start is None or end is None or start >= end:
        return None
    return start, end


def _hhmm(seconds: int) -> str:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")


def _decimal(value: int, scale: int) -> str:
    """value / scale as a TOML number that reads back (x scale, rounded) to value."""
    return str(value // scale) if value % scale == 0 else repr(value / scale)


def _toml_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _toml_key(name: str) -> str:
    """A bare TOML key when the name allows it, else a quoted one."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else _toml_str(name)


def fleet_to_toml(fleet: Fleet) -> str:
    """The fleet as TOML that load_fleet/load_fleet_text read back to an equal Fleet.

    Every vehicle is written out explicitly as a [[vehicles]] entry with its id.
    """
    s = fleet.settings
    lines = ["# ruraldispatch fleet (written by fleet_to_toml)", "", "[settings]"]
    for name, (field_name, scale) in _SETTINGS_UNITS.items():
        lines.append(f"{name} = {_decimal(getattr(s, field_name), scale)}")
    lines.append(f"lunch = {_toml_str(_hhmm(s.lunch_earliest_s) + '-' + _hhmm(s.lunch_latest_s))}")
    lines.append(f"station_deadline = {_toml_str(_hhmm(s.station_deadline_s))}")
    for t in fleet.types.values():
        lines += [
            "",
            f"[types.{_toml_key(t.name)}]",
            f"label = {_toml_str(t.label)}",
            f"class = {_toml_str(t.vclass)}",
            f"capacity_kg = {_decimal(t.capacity_g, 1000)}",
            f"capacity_m3 = {_decimal(t.capacity_ml, 1_000_000)}",
            f"cold = {'true' if t.cold else 'false'}",
            f"fixed_cost_fen = {t.fixed_cost_fen}",
            f"cost_per_km_fen = {t.cost_per_km_fen}",
            f"cost_per_hour_fen = {t.cost_per_hour_fen}",
            f"speed_factor = {t.speed_factor!r}",
        ]
        if t.max_speed_kph is not None:
            lines.append(f"max_speed_kph = {t.max_speed_kph!r}")
        if t.range_m is not None:
            lines.append(f"range_km = {_decimal(t.range_m, 1000)}")
        lines.append(f"recharge_min = {_decimal(t.recharge_s, 60)}")
    for v in fleet.vehicles:
        lines += [
            "",
            "[[vehicles]]",
            f"id = {_toml_str(v.vehicle_id)}",
            f"type = {_toml_str(v.vtype)}",
            f"depot = {_toml_str(v.depot)}",
            f"shift = {_toml_str(_hhmm(v.shift_start_s) + '-' + _hhmm(v.shift_end_s))}",
            f"max_trips = {v.max_trips}",
        ]
    return "\n".join(lines) + "\n"
