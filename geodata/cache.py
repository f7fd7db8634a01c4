"""Where derived data is cached on disk: `$RURALDISPATCH_CACHE` (default ~/.cache/ruraldispatch).

An empty `RURALDISPATCH_CACHE` disables the disk cache. Cache files are written all or
nothing (`write_atomic`): a reader sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO


def cache_folder(kind: str) -> Path | None:
    """The cache folder for one kind of data (e.g. "matrix", "roads"); None when disabled."""
    setting = os.environ.get("RURALDISPATCH_CACHE", "~/.cache/ruraldispatch")
    return Path(setting).expanduser() / kind if setting else None


def write_atomic(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Call `write` on a temporary file in `path`'s folder, then rename it to `path`."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
