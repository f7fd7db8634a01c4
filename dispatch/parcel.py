"""Parcels and input errors: what a manifest row becomes once checked."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

Kind = Literal["delivery", "pickup"]


@dataclass(frozen=True)
class Parcel:
    """One parcel. Deliveries go hub -> point; pickups (farm produce) go point -> hub.

    Weight in grams, volume in millilitres; `source`/`row` say where it was read (row 1 is
    the first data row after the header; JSON records count from 1 too).
    """

    tracking_no: str
    carrier: str
    kind: Kind
    point_id: str
    weight_g: int
    volume_ml: int
    cold: bool
    due_date: dt.date
    source: str = ""
    row: int = 0


@dataclass(frozen=True)
class InputError:
    """One problem in an input file, named by file, row and field."""

    file: str
    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: row {self.row}: {self.field}: {self.message}"


class ManifestError(ValueError):
    """Raised with every InputError found; nothing is planned or written."""

    def __init__(self, errors: list[InputError]) -> None:
        self.errors = errors
        shown = "\n".join(str(e) for e in errors[:50])
        more = f"\n... and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(f"{len(errors)} invalid input row(s):\n{shown}{more}")
