"""Poppler (pdftoppm, pdftotext, pdffonts) run as a machine with no fonts at all would run it.

`no_fonts_env` points fontconfig at an empty configuration, so any text that renders comes
from fonts embedded in the PDF. `glyph_check` tells glyphs from boxes and blanks in the
rendered cell of a word: enough ink, and different characters drawn differently (a missing
font draws every character as the same box, or nothing).
"""

from __future__ import annotations

import html
import itertools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

needs_poppler = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("pdftoppm", "pdftotext", "pdffonts")),
    reason="poppler-utils not installed (.ci/run installs it)",
)

DPI = 100
#: a name cell must be at least this share dark (boxes and blanks stay well below)
MIN_INK = 0.10
#: two different characters must differ in at least this share of their pixels
MIN_GLYPH_DIFFERENCE = 0.05


def no_fonts_env(folder: Path) -> dict[str, str]:
    """Environment for poppler whose fontconfig sees no fonts (an empty configuration)."""
    conf = folder / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
        f"<fontconfig><cachedir>{folder / 'fc-cache'}</cachedir></fontconfig>\n",
        encoding="utf-8",
    )
    return dict(os.environ, FONTCONFIG_FILE=str(conf), HOME=str(folder))


def render(pdf: Path, page: int, env: dict[str, str]) -> npt.NDArray[np.uint8]:
    """Page `page` (from 1) as a grey image (0 black .. 255 white) at DPI."""
    prefix = pdf.with_name(f"{pdf.stem}-render")
    subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-gray", "-f", str(page), "-l", str(page), pdf, prefix],
        check=True,
        env=env,
        capture_output=True,
    )
    (out,) = pdf.parent.glob(f"{prefix.name}-*{page}.pgm")
    data = out.read_bytes()
    out.unlink()
    head = re.match(rb"P5\s+(\d+)\s+(\d+)\s+255\s", data)
    assert head is not None, "pdftoppm -gray writes binary PGM"
    width, height = int(head[1]), int(head[2])
    return np.frombuffer(data[head.end() :], dtype=np.uint8).reshape(height, width)


@dataclass(frozen=True)
class Word:
    """A word of the text layer and its box on the page (pt, origin top left)."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float


def words(pdf: Path, page: int, env: dict[str, str]) -> list[Word]:
    """The words of a page with their boxes (pdftotext -bbox)."""
    out = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), pdf, "-"],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    ).stdout
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<'
    return [
        Word(html.unescape(m[5]), float(m[1]), float(m[2]), float(m[3]), float(m[4]))
        for m in re.finditer(pattern, out)
    ]


def text(pdf: Path, env: dict[str, str]) -> str:
    """The whole text layer, laid out as on the page (pdftotext -layout)."""
    return subprocess.run(
        ["pdftotext", "-layout", pdf, "-"], check=True, env=env, capture_output=True, text=True
    ).stdout


def fonts(pdf: Path) -> list[dict[str, str]]:
    """pdffonts rows: name, type, emb, sub, uni."""
    out = subprocess.run(["pdffonts", pdf], check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines()[2:]:
        cols = line.split()
        # name type... encoding emb sub uni object-id generation
        rows.append({"name": cols[0], "emb": cols[-5], "sub": cols[-4], "uni": cols[-3]})
    return rows


@dataclass(frozen=True)
class GlyphCheck:
    """What the pixels of one word's box say."""

    ink: float
    min_difference: float

    @property
    def glyphs(self) -> bool:
        """Inked, and every two different characters drawn differently."""
        return self.ink >= MIN_INK and self.min_difference >= MIN_GLYPH_DIFFERENCE


def glyph_check(image: npt.NDArray[np.uint8], word: Word) -> GlyphCheck:
    """Ink share of the word's box, and the smallest pixel difference between the boxes of
    two different characters (the box split evenly: CJK characters are all one em wide)."""
    k = DPI / 72
    box = image[
        int(word.y0 * k) : int(np.ceil(word.y1 * k)), int(word.x0 * k) : int(np.ceil(word.x1 * k))
    ]
    dark = box < 128
    n = len(word.text)
    step = dark.shape[1] / n
    chars = [dark[:, round(i * step) : round((i + 1) * step)] for i in range(n)]
    diffs = [
        float((chars[a][:, :w] != chars[b][:, :w]).mean())
        for a, b in itertools.combinations(range(n), 2)
        if word.text[a] != word.text[b]
        for w in [min(chars[a].shape[1], chars[b].shape[1])]
    ]
    return GlyphCheck(ink=float(dark.mean()), min_difference=min(diffs, default=1.0))


def numbered_rows(text: str) -> list[tuple[int, str]]:
    """(number, first word after it) of every line of `text` that starts with a number."""
    rows = re.findall(r"^[ \t]*(\d+)[ \t]+(\S+)", text, flags=re.MULTILINE)
    return [(int(n), word) for n, word in rows]


def in_order(haystack: str, needles: list[str]) -> bool:
    """True when the needles occur in the haystack one after the other (gaps allowed)."""
    at = 0
    for needle in needles:
        found = haystack.find(needle, at)
        if found < 0:
            return False
        at = found + len(needle)
    return True
