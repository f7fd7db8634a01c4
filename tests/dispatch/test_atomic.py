"""All-or-nothing writes: one file replaced atomically, several staged and moved together."""

from __future__ import annotations

from pathlib import Path

import pytest

from dispatch.atomic import Staging, write_atomic


def test_write_atomic_replaces_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("old")
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]
    with pytest.raises(FileNotFoundError):
        write_atomic(tmp_path / "missing" / "b.csv", b"x")
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]


def test_staging_commits_together_or_not_at_all(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "sheets").mkdir(parents=True)
    (out / "sheets" / "stale.csv").write_text("stale")
    (out / "keep.txt").write_text("kept")
    with pytest.raises(RuntimeError), Staging(out, "t") as staged:
        staged.put("plan.json", "{}")
        raise RuntimeError("failed half way")
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt", "sheets"]
    with Staging(out, "t") as staged:
        staged.put("plan.json", "{}")
        staged.put("sheets/R001.csv", b"1")
        written = staged.commit(replace_dirs=["sheets"])
    assert written == [out / "plan.json", out / "sheets" / "R001.csv"]
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt", "plan.json", "sheets"]
    assert [p.name for p in (out / "sheets").iterdir()] == ["R001.csv"]  # stale one gone


def test_a_failed_first_write_leaves_no_folder(tmp_path: Path) -> None:
    out = tmp_path / "new"
    with pytest.raises(ValueError), Staging(out, "t") as staged:
        staged.put("a.txt", "a")
        raise ValueError("bad")
    assert not out.exists()
