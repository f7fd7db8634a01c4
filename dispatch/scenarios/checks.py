"""Value checks of scenario and region files that collect every problem as (file, key,
reason) instead of stopping at the first."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from dispatch.scenarios.model import ScenarioProblem


class Checks:
    """Checks values of one file, collecting every problem as (file, key, reason)."""

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

    def station(
        self, item: object, key: str, stations: Mapping[str, Any], names: Mapping[str, str]
    ) -> str | None:
        if isinstance(item, str) and item in stations:
            return item
        if isinstance(item, str) and item in names:
            return names[item]
        self.bad(key, f"{item!r} is not a town or station of the county")
        return None
