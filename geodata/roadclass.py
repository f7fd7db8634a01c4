"""Road classes, their default speeds, and the OSM `highway` tag -> class mapping.

The one place both the synthetic network (`roads.py`) and real OSM data (`osm.py`) take speeds
from. Speeds are effective average speeds of a loaded delivery vehicle on rural Chongqing roads
(km/h), not legal limits.
"""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_SPEEDS_KPH: dict[str, float] = {
    "expressway": 75.0,
    "national": 45.0,
    "provincial": 45.0,
    "county": 35.0,
    "village": 22.0,
}

# Drivable OSM highway tags only; ways with any other tag (footway, path, steps, ...) are dropped.
HIGHWAY_CLASS: dict[str, str] = {
    "motorway": "expressway",
    "motorway_link": "expressway",
    "trunk": "national",
    "trunk_link": "national",
    "primary": "national",
    "primary_link": "national",
    "secondary": "provincial",
    "secondary_link": "provincial",
    "tertiary": "county",
    "tertiary_link": "county",
    "unclassified": "village",
    "residential": "village",
    "living_street": "village",
    "service": "village",
    "track": "village",
    "road": "village",
}


def class_speeds(speeds_kph: Mapping[str, float] | None = None) -> dict[str, float]:
    """Class -> km/h: the defaults overridden by `speeds_kph`; ValueError on unknown/bad entries."""
    speeds = dict(DEFAULT_SPEEDS_KPH)
    for name, kph in (speeds_kph or {}).items():
        if name not in DEFAULT_SPEEDS_KPH:
            raise ValueError(
                f"unknown road class {name!r} in speeds_kph; known: {sorted(DEFAULT_SPEEDS_KPH)}"
            )
        if not kph > 0:
            raise ValueError(f"speed for road class {name!r} must be > 0 km/h, got {kph!r}")
        speeds[name] = float(kph)
    return speeds


def highway_speeds(speeds_kph: Mapping[str, float] | None = None) -> dict[str, float]:
    """OSM highway tag -> km/h for every drivable tag, from the class speeds."""
    speeds = class_speeds(speeds_kph)
    return {tag: speeds[cls] for tag, cls in HIGHWAY_CLASS.items()}
