"""Problems found in a county's files, each named by file, row and field."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One error (or, with `warning`, a remark) about a county folder.

    `row` is the data row of a CSV file (1 = first row under the header), 0 for a whole file
    or a TOML/GeoJSON key; `field` the column or key.
    """

    file: str
    row: int
    field: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        return f"{self.file}: row {self.row}: {self.field}: {self.message}"


class CountyError(ValueError):
    """A county folder that cannot be used; `problems` holds every error (and warning) found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        errors = [p for p in self.problems if not p.warning]
        shown = "\n".join(str(p) for p in errors[:50])
        more = f"\n... and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(f"{len(errors)} problem(s) in the county files:\n{shown}{more}")
