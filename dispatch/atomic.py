"""Writing files all or nothing: a reader sees the old outputs or the new ones, never half.

`write_atomic` replaces one file (temporary file beside it, then a rename); `Staging` makes
several files in a temporary folder inside the output folder and moves them into place once
all exist (each move atomic), or leaves the folder as it was when anything fails.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename."""
    path = Path(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


class Staging:
    """Files staged in a temporary folder inside `out`, moved into place by `commit`.

    Used as a context manager: when the block fails, the staged files are removed (and `out`
    too if this created it), so `out` is left as it was. Files of `out` that are not staged
    are kept, except inside the folders `commit` replaces whole.
    """

    def __init__(self, out: Path, prefix: str) -> None:
        self.out = Path(out)
        self._created = not self.out.exists()
        self.out.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{prefix}.", suffix=".tmp", dir=self.out))
        self.names: list[Path] = []

    def __enter__(self) -> Staging:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is not None:
            shutil.rmtree(self.out if self._created else self.tmp, ignore_errors=True)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, name: str | Path) -> Path:
        """Where to make the file `name` (relative to `out`); it is committed with the rest."""
        path = self.tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        self.names.append(Path(name))
        return path

    def put(self, name: str | Path, data: str | bytes) -> None:
        """Stage the file `name` with `data` (text as UTF-8, newlines as given)."""
        path = self.path(name)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8", newline="")

    def commit(self, replace_dirs: Iterable[str] = ()) -> list[Path]:
        """Move the staged files into `out`; each folder of `replace_dirs` replaces the one in
        `out` whole (its old files go). The paths written."""
        whole = set(replace_dirs)
        for folder in whole:
            (self.tmp / folder).mkdir(parents=True, exist_ok=True)  # replaced even if empty
            _swap_into_place(self.tmp / folder, self.out / folder)
        for name in self.names:
            if name.parts[0] in whole:
                continue
            (self.out / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.tmp / name, self.out / name)
        return [self.out / n for n in self.names]


def _swap_into_place(new: Path, target: Path) -> None:
    """Rename directory `new` to `target`, replacing an existing `target` directory."""
    if not target.exists():
        os.replace(new, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    os.replace(target, old / target.name)
    try:
        os.replace(new, target)
    except BaseException:
        os.replace(old / target.name, target)
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)
