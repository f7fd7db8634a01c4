"""Re-plan events on the command line, written as the API takes them.

`--event` is one JSON object as in `POST /v1/plans/{id}/replan`'s `events` (breakdown,
point_closed), except that a late batch names its manifest file instead of a stored
manifest id: `{"type": "late_parcels", "manifest": "late.csv"}`. `--event @FILE` reads a
file holding one event, a list of events, or a whole re-plan request body `{"events": [...]}`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError

from api.event_checks import event_problems
from api.schemas import Breakdown, PointClosed, _Event
from dispatch.workspace import Workspace


class LateManifest(_Event):
    """A late batch: the parcels of a manifest file join the day."""

    type: Literal["late_parcels"]
    manifest: str = Field(min_length=1, description="the manifest file's path")


CliEvent = Annotated[Breakdown | LateManifest | PointClosed, Field(discriminator="type")]
_EVENTS = TypeAdapter(list[CliEvent])


class EventInputError(ValueError):
    """Events that cannot be read or do not fit the plan; one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class CliEvents:
    """The events and the late manifest files (relative to the working directory)."""

    events: list[Any]
    late_files: list[Path]

    def as_domain(self, late_parcels: dict[Path, list[str]]) -> list[dict[str, Any]]:
        """The events as dispatch takes them: a late batch lists its tracking numbers."""
        out = []
        for event in self.events:
            data = event.model_dump(mode="json", exclude_none=True)
            if isinstance(event, LateManifest):
                data["parcels"] = late_parcels[Path(event.manifest)]
            out.append(data)
        return out


def _raw(option: str) -> list[Any]:
    """The JSON values of one --event option (an object, a list, or {"events": [...]})."""
    if option.startswith("@"):
        path = Path(option[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise EventInputError([f"--event {option}: cannot read {path}: {exc}"]) from exc
    else:
        text = option
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EventInputError([f"--event {option[:60]}: not JSON: {exc}"]) from exc
    if isinstance(value, dict) and "events" in value and "type" not in value:
        value = value["events"]
    return value if isinstance(value, list) else [value]


def read_events(
    options: Sequence[str], ws: Workspace, date: dt.date, vehicles: frozenset[str]
) -> CliEvents:
    """Parse and check the --event options against the plan of `date` and its fleet.

    EventInputError names each event as `events[i].field` (i counts over all options).
    """
    raw = [value for option in options for value in _raw(option)]
    if not raw:
        raise EventInputError(["--event: give at least one event"])
    try:
        events = _EVENTS.validate_python(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = "events" + "".join(
                f"[{p}]" if isinstance(p, int) else f".{p}"
                for p in error["loc"]
                if p not in ("breakdown", "late_parcels", "point_closed")
            )
            problems.append(f"{where}: {error['msg']}")
        raise EventInputError(problems) from None
    problems = [f"{f}: {m}" for f, m in event_problems(ws, events, date, vehicles)]
    late = [Path(e.manifest) for e in events if isinstance(e, LateManifest)]
    for i, event in enumerate(events):
        if isinstance(event, LateManifest) and not Path(event.manifest).is_file():
            problems.append(f"events[{i}].manifest: {event.manifest}: file not found")
    if problems:
        raise EventInputError(problems)
    return CliEvents(events, list(dict.fromkeys(late)))
