"""The comparison table of a sweep: per scenario, mean and spread across replicas of each
figure and the change of the mean against the baseline; CSV and Markdown."""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from dispatch.scenarios.figures import Figures
from dispatch.scenarios.task import PlanResult


@dataclass(frozen=True)
class Metric:
    """A column: Figures attribute, header, decimals shown, shown as a percentage."""

    name: str
    header: str
    digits: int
    percent: bool = False


METRICS: tuple[Metric, ...] = (
    Metric("cost_per_parcel_yuan", "cost/parcel (yuan)", 3),
    Metric("km", "km", 1),
    Metric("vehicle_hours", "vehicle-hours", 1),
    Metric("vehicles_used", "vehicles used", 1),
    Metric("via_share", "via stations", 1, percent=True),
    Metric("left_behind", "left behind", 1),
    Metric("produce_collected", "produce collected", 1),
    Metric("on_time_share", "on time", 1, percent=True),
    Metric("co2_kg", "CO2 (kg)", 1),
)


@dataclass(frozen=True)
class Cell:
    """Mean and sample standard deviation across replicas (0 for one), and the mean's change
    against the baseline's (None for the baseline itself, or a baseline mean of 0)."""

    mean: float
    sd: float
    vs_base: float | None


@dataclass(frozen=True)
class Row:
    """One scenario's line."""

    scenario: str
    title: str
    ok: int
    failed: int
    cells: dict[str, Cell]


def rows(
    scenarios: Sequence[tuple[str, str]], baseline: str, results: Sequence[PlanResult]
) -> list[Row]:
    """The table's rows in the scenarios' order (results of other runs are ignored)."""
    figures: dict[str, list[Figures]] = {name: [] for name, _ in scenarios}
    failed = dict.fromkeys(figures, 0)
    for r in results:
        if r.scenario not in figures:
            continue
        if r.status == "ok" and r.figures is not None:
            figures[r.scenario].append(r.figures)
        else:
            failed[r.scenario] += 1
    means = {name: _means(fs) for name, fs in figures.items()}
    base = means.get(baseline, {})
    out = []
    for name, title in scenarios:
        cells = {}
        for m in METRICS:
            values = [float(asdict(f)[m.name]) for f in figures[name]]
            mean = means[name].get(m.name, float("nan"))
            ref = base.get(m.name)
            change = None if name == baseline or not ref or not values else mean / ref - 1
            sd = statistics.stdev(values) if len(values) > 1 else 0.0
            cells[m.name] = Cell(mean, sd, change)
        out.append(Row(name, title, len(figures[name]), failed[name], cells))
    return out


def _means(figures: Sequence[Figures]) -> dict[str, float]:
    if not figures:
        return {}
    return {m.name: statistics.fmean(float(asdict(f)[m.name]) for f in figures) for m in METRICS}


def to_csv(table: Sequence[Row]) -> str:
    """One line per scenario: mean, sd and vs_baseline (relative change) per figure."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    head = ["scenario", "title", "replicas_ok", "failed"]
    for m in METRICS:
        head += [f"{m.name}_mean", f"{m.name}_sd", f"{m.name}_vs_baseline"]
    w.writerow(head)
    for row in table:
        line: list[object] = [row.scenario, row.title, row.ok, row.failed]
        for m in METRICS:
            c = row.cells[m.name]
            digits = m.digits + (2 if m.percent else 0) + 1
            line += [
                _num(c.mean, digits),
                _num(c.sd, digits),
                "" if c.vs_base is None else f"{c.vs_base:.4f}",
            ]
        w.writerow(line)
    return buf.getvalue()


def to_markdown(table: Sequence[Row], baseline: str) -> str:
    """A Markdown table: mean ± sd (change against the baseline) per figure."""
    head = ["scenario", "runs", *(m.header for m in METRICS)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in table:
        runs = f"{row.ok}" + (f" ({row.failed} failed)" if row.failed else "")
        cells = [_cell(row.cells[m.name], m) if row.ok else "–" for m in METRICS]
        lines.append(f"| {row.scenario} {row.title} | {runs} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        f"Mean ± standard deviation across replicas (demand seeds); in brackets the mean's "
        f"change against `{baseline}`."
    )
    return "\n".join(lines) + "\n"


def _cell(c: Cell, m: Metric) -> str:
    scale = 100.0 if m.percent else 1.0
    unit = " %" if m.percent else ""
    text = f"{c.mean * scale:.{m.digits}f} ± {c.sd * scale:.{m.digits}f}{unit}"
    if c.vs_base is not None:
        text += f" ({c.vs_base:+.1%})"
    return text


def _num(value: float, digits: int) -> str:
    return "" if value != value else f"{value:.{digits}f}"
