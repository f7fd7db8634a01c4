"""The one module that draws with matplotlib: a sweep's charts as PNG, Chinese labels in the
project's font (dispatch.fonts)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.figure import Figure

from dispatch.fonts import font_path
from dispatch.scenarios.figures import Figures
from dispatch.scenarios.task import PlanResult


def _font() -> str:
    """Register the project's font with matplotlib (once) and return its family name."""
    path = font_path()
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def write_charts(
    out: Path, scenarios: Sequence[tuple[str, str]], results: Sequence[PlanResult]
) -> list[Path]:
    """cost_per_parcel.png, utilisation.png and km_by_echelon.png in `out`."""
    family = _font()
    plt.rcParams["font.family"] = family
    plt.rcParams["axes.unicode_minus"] = False
    runs: dict[str, list[Figures]] = {name: [] for name, _ in scenarios}
    for r in results:
        if r.status == "ok" and r.figures is not None and r.scenario in runs:
            runs[r.scenario].append(r.figures)
    shown = [(name, title) for name, title in scenarios if runs[name]]
    labels = [f"{title}\n{name}" for name, title in shown]
    written = []
    for name, draw in (
        ("cost_per_parcel.png", _cost),
        ("utilisation.png", _utilisation),
        ("km_by_echelon.png", _km),
    ):
        fig = plt.figure(figsize=(max(6.0, 1.5 * len(shown) + 2), 4.5), dpi=110)
        draw(fig, labels, [runs[n] for n, _ in shown])
        fig.tight_layout()
        fig.savefig(out / name)
        plt.close(fig)
        written.append(out / name)
    return written


def _mean_sd(values: Sequence[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def _cost(fig: Figure, labels: list[str], runs: list[list[Figures]]) -> None:
    ax = fig.add_subplot()
    stats = [_mean_sd([f.cost_per_parcel_yuan for f in fs]) for fs in runs]
    ax.bar(labels, [m for m, _ in stats], yerr=[s for _, s in stats], capsize=4, color="#4C72B0")
    ax.set_ylabel("元/件 yuan per parcel")
    ax.set_title("单件成本 Cost per parcel (mean ± sd across seeds)")


def _utilisation(fig: Figure, labels: list[str], runs: list[list[Figures]]) -> None:
    ax = fig.add_subplot()
    x = range(len(labels))
    use = [_mean_sd([f.vehicle_use * 100 for f in fs]) for fs in runs]
    time_use = [_mean_sd([f.time_use * 100 for f in fs]) for fs in runs]
    w = 0.38
    ax.bar([i - w / 2 for i in x], [m for m, _ in use], w, yerr=[s for _, s in use], capsize=3,
           label="车辆出车率 vehicles used / working")  # fmt: skip
    ax.bar([i + w / 2 for i in x], [m for m, _ in time_use], w, yerr=[s for _, s in time_use],
           capsize=3, label="班次工时利用率 route hours / shift hours")  # fmt: skip
    ax.set_xticks(list(x), labels)
    ax.set_ylabel("%")
    ax.set_ylim(0, 110)
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title("车辆利用率 Vehicle utilisation")


def _km(fig: Figure, labels: list[str], runs: list[list[Figures]]) -> None:
    ax = fig.add_subplot()
    hub = [statistics.fmean(f.km_hub for f in fs) for fs in runs]
    station = [statistics.fmean(f.km_station for f in fs) for fs in runs]
    ax.bar(labels, hub, label="一级 分拨中心车辆 hub vehicles (echelon 1)", color="#4C72B0")
    ax.bar(labels, station, bottom=hub, label="二级 服务站车辆 station vehicles (echelon 2)",
           color="#DD8452")  # fmt: skip
    ax.set_ylabel("km")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title("分级行驶里程 km by echelon (mean across seeds)")
