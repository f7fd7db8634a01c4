"""The point ids in the README's and the CLI help's examples are points of the embedded county,
so a user who copies an example gets a re-plan, not `'…' is not a station or village`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

from api.cli import EventOption
from geodata.county import load_county

README = Path(__file__).resolve().parents[2] / "README.md"
#: A point named in an event or closure (JSON or TOML) or a station key's --station.
EXAMPLE_ID = re.compile(
    r'"(?:point_id|near|from|to)" ?: ?"(\d{9,12})"'
    r'|(?:near|from|to) = "(\d{9,12})"'
    r"|--station (\d{9,12})"
)


def _ids(text: str) -> set[str]:
    return {next(g for g in m.groups() if g) for m in EXAMPLE_ID.finditer(text)}


def test_readme_and_event_help_name_real_points() -> None:
    help_text = str(get_args(EventOption)[1].help)
    ids = _ids(README.read_text(encoding="utf-8")) | _ids(help_text)
    assert len(ids) >= 3  # the pattern still finds the examples
    known = {p.point_id for p in load_county().points}
    assert sorted(ids - known) == []
