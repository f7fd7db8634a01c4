"""The font of everything the project prints or draws: PDF sheets, loading lists, charts.

WenQuanYi Micro Hei (TrueType outlines, Apache-2.0) ships inside the package, so output needs
no font installed on the machine. `RURALDISPATCH_FONT` names another TrueType or TrueType
collection file to use instead (face 0 of a collection). Standard library only: the PDF and
chart modules load the file with their own libraries.
"""

from __future__ import annotations

import os
from pathlib import Path

#: environment variable that overrides the shipped font
FONT_ENV = "RURALDISPATCH_FONT"
#: face of a TrueType collection (.ttc) to use: 0 is "WenQuanYi Micro Hei"
FONT_FACE = 0
_SHIPPED = Path(__file__).parent / "data" / "fonts" / "wqy-microhei.ttc"


class FontError(ValueError):
    """The configured font cannot be used; the message names the file and why."""


def font_path() -> Path:
    """The font file: `$RURALDISPATCH_FONT` when set, else the shipped WenQuanYi Micro Hei.

    Raises FontError naming the variable when it points to no file.
    """
    override = os.environ.get(FONT_ENV, "").strip()
    if not override:
        return _SHIPPED
    path = Path(override).expanduser()
    if not path.is_file():
        raise FontError(f"{FONT_ENV}={override}: no such font file")
    return path
