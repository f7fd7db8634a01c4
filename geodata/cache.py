"""Where derived data is cached on disk: `$RURALDISPATCH_CACHE` (default ~/.cache/ruraldispatch).

An empty `RURALDISPATCH_CACHE` disables the disk cache.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_folder(kind: str) -> Path | None:
    """The cache folder for one kind of data (e.g. "matrix", "roads"); None when disabled."""
    setting = os.environ.get("RURALDISPATCH_CACHE", "~/.cache/ruraldispatch")
    return Path(setting).expanduser() / kind if setting else None
