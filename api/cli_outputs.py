"""Output paths checked when the command line is parsed, before anything is loaded or planned:
an output folder that exists as a file (or a file that exists as a folder), or under a file,
or in a folder this user may not write, is a usage error (exit 2) naming the option and path,
not a traceback after the solve."""

from __future__ import annotations

import os
from pathlib import Path

import typer


def unwritable(path: Path, folder: bool) -> str | None:
    """Why `path` cannot be written as an output folder (`folder`) or file, or None. Missing
    folders on the way are fine: the commands make them."""
    kind, other = ("folder", "file") if folder else ("file", "folder")
    if path.exists() and path.is_dir() != folder:
        return f"{path} is a {other}, not a {kind}"
    base = path if folder and path.is_dir() else path.parent
    while not base.exists():
        base = base.parent
    if not base.is_dir():
        return f"{base} is a file, so {path} cannot be made"
    if not os.access(base, os.W_OK | os.X_OK):
        return f"{base} is not writable"
    return None


def out_folder(path: Path | None) -> Path | None:
    """typer callback of an output folder option."""
    why = None if path is None else unwritable(path, folder=True)
    if why:
        raise typer.BadParameter(why)
    return path


def out_file(path: Path | None) -> Path | None:
    """typer callback of an output file option."""
    why = None if path is None else unwritable(path, folder=False)
    if why:
        raise typer.BadParameter(why)
    return path
