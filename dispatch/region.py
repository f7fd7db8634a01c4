"""Several counties' days in parallel: a region file lists county folders and their day's
manifests; each county is planned on a worker (local process or Dask worker, the planners'
sweep runner) and the client writes one plan per county and a summary table.

REGION.toml (paths relative to the file; unknown keys are errors):

    [region]    name; date ("YYYY-MM-DD"), mode, time_limit_s: defaults for every county
    [[counties]] name (file-safe id: DIR/<name>/plan.json), folder (a county folder; absent:
                 the embedded Yongchuan), manifests (file names or glob patterns), fleet
                 (a fleet TOML; absent: the county's), date, mode, time_limit_s

Workers get the files' contents, not paths. A county whose manifests are invalid or whose
plan fails is reported with its reason in the summary; the others go on.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dispatch.fleet import fleet_text_for_county
from dispatch.manifest import read_manifests
from dispatch.modes import MODES, requested_mode
from dispatch.parcel import ManifestError
from dispatch.plan import RequestedMode
from dispatch.scenarios.model import DEFAULT_TIME_LIMIT_S, ScenarioError, ScenarioProblem
from dispatch.scenarios.runner import run_jobs
from dispatch.scenarios.task import CountySource
from dispatch.service import plan_day
from dispatch.workspace import Workspace, county_of
from geodata.problems import CountyError

_REGION_KEYS = {"name", "date", "mode", "time_limit_s"}
_COUNTY_KEYS = {"name", "folder", "manifests", "fleet", "date", "mode", "time_limit_s"}
#: Seconds a county's day may run past its time limit before it counts as timed out.
TIMEOUT_MARGIN_S = 120.0


@dataclass(frozen=True)
class CountyJob:
    """One county's day as shipped to a worker."""

    key: str
    name: str
    county: CountySource
    manifests: tuple[tuple[str, bytes], ...]
    fleet_text: str | None
    date: dt.date
    mode: RequestedMode
    time_limit_s: float

    def failed(self, reason: str) -> CountyResult:
        """The result when the county could not be planned."""
        return CountyResult(self.name, "failed", reason)


@dataclass
class CountyResult:
    """A county's outcome: status ok|failed, why, its plan's KPIs and the plan JSON text."""

    name: str
    status: str
    reason: str = ""
    kpis: dict[str, Any] | None = None
    plan_json: str = ""
    plan_s: float = 0.0


class _Problems:
    """Problems of one region file, as (file, key, reason)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.found: list[ScenarioProblem] = []

    def __call__(self, key: str, reason: str) -> None:
        self.found.append(ScenarioProblem(self.source, key, reason))


def load_region(path: Path) -> list[CountyJob]:
    """The region file's counties; ScenarioError naming file, key and reason for every
    problem (county folders and fleets checked, manifest files read) before any plan."""
    bad = _Problems(path.name)

    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError([ScenarioProblem(path.name, "file", f"cannot read: {exc}")]) from None
    for k in doc:
        if k not in ("region", "counties"):
            bad(k, "unknown key")
    region = doc.get("region", {})
    counties = doc.get("counties", [])
    if not isinstance(region, dict):
        bad("region", "expected a table")
        region = {}
    if not isinstance(counties, list) or not counties:
        bad("counties", "expected at least one [[counties]] entry")
        counties = []
    for k in region:
        if k not in _REGION_KEYS:
            bad(f"region.{k}", "unknown key")
    jobs: list[CountyJob] = []
    names: set[str] = set()
    for i, entry in enumerate(counties):
        key = f"counties[{i}]"
        if not isinstance(entry, dict):
            bad(key, "expected a table")
            continue
        job = _county(entry, region, key, path.parent, bad)
        if job is not None and job.name in names:
            bad(f"{key}.name", f"{job.name!r} listed twice")
        elif job is not None:
            names.add(job.name)
            jobs.append(job)
    if bad.found:
        raise ScenarioError(bad.found)
    return jobs


def _county(
    entry: Mapping[str, Any],
    region: Mapping[str, Any],
    key: str,
    base: Path,
    bad: _Problems,
) -> CountyJob | None:
    """One [[counties]] entry checked and read (None when it has problems)."""
    before = len(bad.found)
    for k in entry:
        if k not in _COUNTY_KEYS:
            bad(f"{key}.{k}", "unknown key")
    name = entry.get("name")
    if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
        bad(f"{key}.name", f"expected a file-safe name, got {name!r}")
        name = ""
    folder: Path | None = None
    if "folder" in entry:
        folder = base / str(entry["folder"])
        try:
            county = county_of(folder)
        except CountyError as exc:
            for p in exc.problems:
                if not p.warning:
                    bad(f"{key}.folder", str(p))
            return None
    else:
        county = county_of(None)
    fleet_text = None
    if "fleet" in entry:
        try:
            fleet_text = (base / str(entry["fleet"])).read_text(encoding="utf-8")
            fleet_text_for_county(fleet_text, county, str(entry["fleet"]))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            bad(f"{key}.fleet", str(exc))
    patterns = entry.get("manifests")
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        bad(f"{key}.manifests", "expected a list of file names or glob patterns")
        patterns = []
    files: list[Path] = []
    for j, pattern in enumerate(patterns):
        found = sorted(base.glob(pattern)) if any(c in pattern for c in "*?[") else []
        found = found or ([base / pattern] if (base / pattern).is_file() else [])
        if not found:
            bad(f"{key}.manifests[{j}]", f"no file matches {pattern!r}")
        files += found
    date = entry.get("date", region.get("date"))
    try:
        day = date if isinstance(date, dt.date) else dt.date.fromisoformat(str(date))
    except ValueError:
        bad(f"{key}.date", f'expected a date "YYYY-MM-DD" here or in [region], got {date!r}')
        day = dt.date(2000, 1, 1)
    mode = entry.get("mode", region.get("mode", "auto"))
    if mode not in MODES:
        bad(f"{key}.mode", f"expected one of {', '.join(MODES)}, got {mode!r}")
    limit = entry.get("time_limit_s", region.get("time_limit_s", DEFAULT_TIME_LIMIT_S))
    if isinstance(limit, bool) or not isinstance(limit, int | float) or not 0 < limit <= 3600:
        bad(f"{key}.time_limit_s", f"expected seconds in (0, 3600], got {limit!r}")
        limit = DEFAULT_TIME_LIMIT_S
    if len(bad.found) > before:
        return None
    source = CountySource.of(folder)
    manifests = tuple((p.name, p.read_bytes()) for p in files)
    return CountyJob(
        key=f"{name}-{source.digest[:12]}",
        name=name,
        county=source,
        manifests=manifests,
        fleet_text=fleet_text,
        date=day,
        mode=requested_mode(str(mode)),
        time_limit_s=float(limit),
    )


def execute_county(job: CountyJob) -> CountyResult:
    """Plan one county's day (in a worker): its manifests read and checked, the day planned
    in this one process and validated; failures come back as a result with the reason."""
    try:
        ws = Workspace.load(job.county.folder())
        with tempfile.TemporaryDirectory(prefix="ruraldispatch-manifests-") as tmp:
            paths = []
            for name, data in job.manifests:
                paths.append(Path(tmp) / name)
                paths[-1].write_bytes(data)
            parcels, errors = read_manifests(paths, ws.county, ws.areas)
        if errors:
            raise ManifestError(errors)
        fleet = fleet_text_for_county(job.fleet_text, ws.county) if job.fleet_text else None
        started = time.perf_counter()
        plan = plan_day(
            ws,
            parcels,
            date=job.date,
            fleet=fleet,
            time_limit_s=job.time_limit_s,
            mode=job.mode,
            second_process=False,
        )
        took = round(time.perf_counter() - started, 2)
        kpis = plan.kpis.model_dump(mode="json")
        return CountyResult(job.name, "ok", kpis=kpis, plan_json=plan.json_text(1), plan_s=took)
    except Exception as exc:  # one county's failure is reported, the others go on
        return job.failed(f"{type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class RegionOutcome:
    """Each county's result (in the region file's order) and the files written."""

    results: list[CountyResult]
    written: list[Path]


def run_region(
    path: Path,
    out: Path,
    *,
    workers: int = 2,
    cluster: str | None = None,
    progress: Callable[[int, int, CountyResult | None], None] | None = None,
) -> RegionOutcome:
    """Plan every county of the region file in parallel; write DIR/<county>/plan.json and
    DIR/summary.csv and summary.md. ScenarioError before any plan when the file is bad."""
    jobs = load_region(path)
    results: dict[str, CountyResult] = {}
    if progress:
        progress(0, len(jobs), None)

    def arrived(result: CountyResult) -> None:
        results[result.name] = result
        if result.plan_json:
            folder = out / result.name
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".plan.json.{os.getpid()}.tmp"
            tmp.write_text(result.plan_json, encoding="utf-8")
            os.replace(tmp, folder / "plan.json")
        if progress:
            progress(len(results), len(jobs), result)

    out.mkdir(parents=True, exist_ok=True)
    run_jobs(jobs, execute_county, arrived, workers=workers, cluster=cluster)
    ordered = [results[j.name] for j in jobs]
    csv_text, md_text = summary(ordered)
    (out / "summary.csv").write_text(csv_text, encoding="utf-8")
    (out / "summary.md").write_text(md_text, encoding="utf-8")
    written = [out / r.name / "plan.json" for r in ordered if r.status == "ok"]
    return RegionOutcome(ordered, [*written, out / "summary.csv", out / "summary.md"])


_SUMMARY = (
    ("parcels", "parcels", 1),
    ("delivered", "delivered", 1),
    ("picked_up", "produce collected", 1),
    ("left_today", "left behind", 1),
    ("deferred", "deferred", 1),
    ("distance_m", "km", 1000),
    ("vehicle_hours", "vehicle-hours", 1),
    ("vehicles_used", "vehicles used", 1),
    ("cost_fen", "cost (yuan)", 100),
    ("cost_per_parcel_fen", "cost/parcel (yuan)", 100),
)


def summary(results: Sequence[CountyResult]) -> tuple[str, str]:
    """The summary table as CSV and Markdown text: one line per county."""
    head = ["county", "status", *(label for _, label, _ in _SUMMARY), "plan_s", "reason"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(head)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        k = r.kpis or {}
        values = [_scaled(k.get(name), scale) for name, _, scale in _SUMMARY]
        row = [r.name, r.status, *values, str(r.plan_s) if r.status == "ok" else "", r.reason]
        w.writerow(row)
        lines.append("| " + " | ".join(c.replace("|", "/") for c in row) + " |")
    return buf.getvalue(), "\n".join(lines) + "\n"


def _scaled(value: object, scale: int) -> str:
    if not isinstance(value, int | float):
        return ""
    return str(value) if scale == 1 else f"{value / scale:.2f}"
