"""A scenario's fleet: the base fleet file with the scenario's [fleet] changes merged over it
(in the fleet file's own layout, stations named by town), expanded over the county's
stations, minus the vehicles it removes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from dispatch.fleet import DEFAULT_FLEET, Fleet, FleetError, load_fleet_doc, parse_fleet_toml
from dispatch.scenarios.checks import Checks
from geodata.county import County


def read_base(
    checks: Checks, body: Mapping[str, Any], folder: Path, digest: Any
) -> tuple[dict[str, Any] | None, str]:
    """The base fleet file's table (None: the county's default) and its name; its bytes
    join `digest`."""
    if "file" not in body:
        return None, ""
    rel = checks.text(body, "file", "fleet")
    path = folder / rel
    try:
        raw = path.read_bytes()
        doc = parse_fleet_toml(raw.decode("utf-8"), path.name)
    except (OSError, UnicodeDecodeError) as exc:
        checks.bad("fleet.file", f"cannot read {rel}: {exc}")
        return None, ""
    except FleetError as exc:
        checks.bad("fleet.file", f"{rel}: {exc}")
        return None, ""
    digest.update(raw)
    return doc, path.name


def resolve_fleet(
    checks: Checks,
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
    doc = _merged(base, changes, checks, stations, names)
    source = f"{checks.source} [fleet] over {base_name}"
    try:
        fleet = load_fleet_doc(
            doc, source, list(stations), sorted(cold & set(stations)), county.hub_id
        )
    except FleetError as exc:
        for e in exc.errors:
            checks.bad(f"fleet.{e.field}", f"{e.message} (after merging over {base_name})")
        return None
    return _remove(checks, fleet, changes.get("remove", []), stations, names, county.hub_id)


def _remove(
    checks: Checks,
    fleet: Fleet,
    entries: object,
    stations: Mapping[str, Any],
    names: Mapping[str, str],
    hub_id: str,
) -> Fleet:
    if not isinstance(entries, list):
        checks.bad("fleet.remove", "expected an array of {type, depot?, count?}")
        return fleet
    vehicles = list(fleet.vehicles)
    for i, entry in enumerate(entries):
        key = f"fleet.remove[{i}]"
        body = checks.table(entry, key)
        checks.unknown(body, {"type", "depot", "count"}, key)
        vtype = body.get("type")
        if vtype not in fleet.types:
            checks.bad(f"{key}.type", f"unknown vehicle type {vtype!r}")
            continue
        depot: str | None = None
        if "depot" in body:
            depot = (
                hub_id
                if body["depot"] == "hub"
                else checks.station(body["depot"], f"{key}.depot", stations, names)
            )
            if depot is None:
                continue
        match = [v for v in vehicles if v.vtype == vtype and depot in (None, v.depot)]
        count = body.get("count", len(match))
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            checks.bad(f"{key}.count", f"expected a whole number >= 1, got {count!r}")
            continue
        if count > len(match):
            checks.bad(f"{key}.count", f"only {len(match)} such vehicles to remove")
            continue
        gone = {v.vehicle_id for v in match[len(match) - count :]}
        vehicles = [v for v in vehicles if v.vehicle_id not in gone]
    if not vehicles:
        checks.bad("fleet.remove", "no vehicle left")
    return replace(fleet, vehicles=vehicles)


def _merged(
    base: Mapping[str, Any],
    changes: Mapping[str, Any],
    reader: Checks,
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
    reader: Checks,
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
