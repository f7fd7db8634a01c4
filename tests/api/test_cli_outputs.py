"""An --out that cannot be written is refused when the command line is parsed (exit 2, naming
the option and the path), before any planning, not with a traceback after it."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.cli_outputs import unwritable
from tests.api.test_cli import DAY, GOOD, HEADER, run


def test_unwritable_names_why(tmp_path: Path) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x", encoding="utf-8")
    assert unwritable(tmp_path / "new" / "deeper", folder=True) is None
    assert unwritable(tmp_path, folder=True) is None
    assert unwritable(tmp_path / "out.csv", folder=False) is None
    assert unwritable(a_file, folder=True) == f"{a_file} is a file, not a folder"
    assert unwritable(tmp_path, folder=False) == f"{tmp_path} is a folder, not a file"
    assert (
        unwritable(a_file / "x", folder=True)
        == f"{a_file} is a file, so {a_file / 'x'} cannot be made"
    )


@pytest.mark.parametrize(
    ("command", "kind"),
    [
        (("plan", "{manifest}", "--date", DAY, "--out", "{file}"), "a file, not a folder"),
        (("demo", "--parcels", "5", "--out", "{file}/sub"), "a file, so"),
        (("network", "points", "--out", "{folder}"), "a folder, not a file"),
    ],
)
def test_a_bad_out_exits_2_before_planning(
    command: tuple[str, ...], kind: str, tmp_path: Path
) -> None:
    manifest = tmp_path / "day.csv"
    manifest.write_text(HEADER + GOOD, encoding="utf-8")
    a_file = tmp_path / "README.md"
    a_file.write_text("x", encoding="utf-8")
    args = [a.format(manifest=manifest, file=a_file, folder=tmp_path) for a in command]
    r = run(*args)
    assert r.returncode == 2, r.stderr
    assert "Invalid value for '--out'" in r.stderr and kind in r.stderr
    assert "Traceback" not in r.stderr
    assert a_file.read_text(encoding="utf-8") == "x"
