"""CSV meant for spreadsheets (Excel, LibreOffice): BOM, CRLF, formula-looking text defused.

A text cell that starts with = + - @ (or their full-width forms, which Chinese input methods
type), a tab or a carriage return would be run as a formula by a spreadsheet ("CSV
injection"): carriers' names and tracking numbers come from uploaded manifests. Such a cell
gets a leading apostrophe, the convention both Excel and LibreOffice show as text. Numbers
(int, float) are written as numbers. Files written for the project itself (the demo's
manifests) do not go through here, so they read back unchanged.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

#: first characters that make a spreadsheet read a text cell as a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def formula_like(text: str) -> bool:
    """True when a spreadsheet would take `text` for a formula."""
    return text.startswith(FORMULA_STARTS)


def csv_cell(value: object) -> object:
    """`value` ready for a spreadsheet CSV: formula-looking text prefixed with an apostrophe."""
    if isinstance(value, str) and formula_like(value):
        return "'" + value
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV text with a UTF-8 byte-order mark (Excel then reads the Chinese) and CRLF lines."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([csv_cell(h) for h in header])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return "\ufeff" + buf.getvalue()
