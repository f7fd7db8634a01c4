"""The sheets' CJK font as one TrueType file a browser accepts (the one module that imports
fontTools): face 0 of a TrueType collection, without the FontForge timestamp table, whose
misalignment makes Chromium's font sanitizer refuse the shipped WenQuanYi collection."""

from __future__ import annotations

import functools
import io

from fontTools.ttLib import TTFont

from dispatch.fonts import FONT_FACE, font_path


@functools.lru_cache(maxsize=1)
def web_font() -> bytes:
    """The font file's bytes as a single TrueType font (built once per process, ~4.6 MB)."""
    path = font_path()
    font = TTFont(str(path), fontNumber=FONT_FACE if path.suffix.lower() == ".ttc" else -1)
    if "FFTM" in font:
        del font["FFTM"]
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()
