"""CSV for spreadsheets: formula-looking text gets an apostrophe, numbers and other text do not."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from dispatch.safe_csv import FORMULA_STARTS, csv_cell, csv_text, formula_like


def test_formula_like() -> None:
    for text in ["=1+1", "+86 138", "-2", "@SUM(A1)", "\tx", "\rx", "＝1+1"]:
        assert formula_like(text), text
    for text in ["中通快递", "ZT001", "1=1", "", " =1", "P-1"]:
        assert not formula_like(text), text


def test_numbers_stay_numbers() -> None:
    assert csv_cell(-3) == -3
    assert csv_cell(-0.5) == -0.5
    assert csv_cell("-3") == "'-3"


def test_csv_text() -> None:
    text = csv_text(["a", "b"], [['=HYPERLINK("x")', -1], ["中文", 2.5]])
    assert text.startswith("\ufeff")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows == [["a", "b"], ['\'=HYPERLINK("x")', "-1"], ["中文", "2.5"]]


@given(st.text())
def test_every_text_cell_is_safe_and_recoverable(text: str) -> None:
    cell = csv_cell(text)
    assert isinstance(cell, str)
    assert not cell.startswith(FORMULA_STARTS)
    assert (cell[1:] if formula_like(text) else cell) == text
    back = list(csv.reader(io.StringIO(csv_text(["h"], [[text]])[1:], newline="")))
    assert back[1] == [cell]
