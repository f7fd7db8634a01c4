"""A planners' sweep: every scenario × N demand seeds planned in parallel (local processes or
a Dask cluster), resumable, then the comparison table and charts.

Each (scenario, seed) plan is keyed by a hash of the scenario's content (its file and the
files it names), the county, the seed and the settings; a sweep run again with the same
output folder skips the keys already finished with a plan.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dispatch.scenarios.model import Scenario
from dispatch.scenarios.runner import run_jobs
from dispatch.scenarios.scenario_file import load_scenarios
from dispatch.scenarios.store import Entry, Manifest, Store
from dispatch.scenarios.table import rows, to_csv, to_markdown
from dispatch.scenarios.task import CountySource, PlanResult, PlanTask, execute

#: Bumped when a plan of the same inputs would come out different (resume keys change).
SWEEP_VERSION = 1
#: Deterministic mode: every leg's search stops after this many OR-Tools solutions ...
DETERMINISTIC_SOLUTIONS = 100
#: ... under a time limit (s) long enough never to bind first.
DETERMINISTIC_TIME_LIMIT_S = 3600.0

Progress = Callable[[int, int, PlanResult | None], None]


@dataclass(frozen=True)
class Settings:
    """How a sweep runs. `time_limit_s` None: each scenario's own; `deterministic` plans with
    OR-Tools under a solution limit instead of a wall-clock limit (same seeds, same table on
    any machine); `timeout_s` None: 4 × the time limit + 60 s."""

    replicas: int = 3
    first_seed: int = 0
    time_limit_s: float | None = None
    deterministic: bool = False
    solution_limit: int = DETERMINISTIC_SOLUTIONS
    engine: str = "portfolio"
    workers: int = 2
    cluster: str | None = None
    county: Path | None = None
    timeout_s: float | None = None
    baseline: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What a sweep did: runs planned now, skipped (done before), failed; files written."""

    planned: int
    skipped: int
    failed: list[PlanResult]
    written: list[Path]


def tasks_of(scenarios: Sequence[Scenario], settings: Settings) -> list[PlanTask]:
    """One task per scenario and seed."""
    county = CountySource.of(settings.county)
    out = []
    for sc in scenarios:
        limit = settings.time_limit_s or sc.time_limit_s
        engine, solutions = settings.engine, None
        if settings.deterministic:
            limit, engine, solutions = (
                DETERMINISTIC_TIME_LIMIT_S,
                "ortools",
                settings.solution_limit,
            )
        timeout = settings.timeout_s or (900.0 if settings.deterministic else 4 * limit + 60.0)
        for seed in range(settings.first_seed, settings.first_seed + settings.replicas):
            key_doc = {
                "version": SWEEP_VERSION,
                "scenario": sc.digest,
                "county": county.digest,
                "seed": seed,
                "mode": sc.mode,
                "time_limit_s": limit,
                "engine": engine,
                "solution_limit": solutions,
            }
            key = hashlib.sha256(json.dumps(key_doc, sort_keys=True).encode()).hexdigest()[:24]
            out.append(
                PlanTask(
                    key=key,
                    scenario=sc.name,
                    seed=seed,
                    county=county,
                    hub=sc.hub,
                    cold_rooms=sc.cold_rooms,
                    fleet=sc.fleet,
                    demand=sc.demand,
                    mode=sc.mode,
                    time_limit_s=limit,
                    engine=engine,
                    solution_limit=solutions,
                    timeout_s=timeout,
                    co2=sc.co2,
                )
            )
    return out


def run_sweep(
    paths: Sequence[Path], out: Path, settings: Settings, progress: Progress | None = None
) -> Outcome:
    """Plan every scenario file × replicas into `out`, then write the table and charts.

    ScenarioError (every problem of every file) before any plan starts; ClusterError when
    the Dask scheduler cannot be reached.
    """
    scenarios = load_scenarios(paths, settings.county)
    baseline = settings.baseline or next(
        (s.name for s in scenarios if s.name == "baseline"), scenarios[0].name
    )
    if baseline not in {s.name for s in scenarios}:
        raise ValueError(f"--baseline {baseline!r} is not one of the scenarios")
    tasks = tasks_of(scenarios, settings)
    store = Store(out)
    store.write_manifest(
        Manifest(
            scenarios=[(s.name, s.title) for s in scenarios],
            baseline=baseline,
            runs=[Entry(t.scenario, t.seed, t.key) for t in tasks],
            settings={
                "replicas": settings.replicas,
                "deterministic": settings.deterministic,
                "engine": tasks[0].engine,
                "time_limit_s": sorted({t.time_limit_s for t in tasks}),
                "solution_limit": tasks[0].solution_limit,
            },
        )
    )
    todo = [t for t in tasks if not store.done(t.key)]
    failed: list[PlanResult] = []
    finished = len(tasks) - len(todo)
    if progress:
        progress(finished, len(tasks), None)

    def arrived(result: PlanResult) -> None:
        nonlocal finished
        store.save(result)
        finished += 1
        if result.status != "ok":
            failed.append(result)
        if progress:
            progress(finished, len(tasks), result)

    run_jobs(todo, execute, arrived, workers=settings.workers, cluster=settings.cluster)
    return Outcome(len(todo), len(tasks) - len(todo), failed, report(out))


def report(out: Path) -> list[Path]:
    """(Re)write table.csv, table.md, runs.csv and the charts of the sweep in `out`."""
    store = Store(out)
    manifest = store.manifest()
    results = [r for e in manifest.runs if (r := store.result(e.key)) is not None]
    table = rows(manifest.scenarios, manifest.baseline, results)
    written = []
    for name, text in (
        ("table.csv", to_csv(table)),
        ("table.md", to_markdown(table, manifest.baseline)),
        ("runs.csv", _runs_csv(results)),
    ):
        (out / name).write_text(text, encoding="utf-8")
        written.append(out / name)
    if any(r.status == "ok" for r in results):
        from dispatch.scenarios.charts import write_charts  # matplotlib: loaded when used

        written += write_charts(out, manifest.scenarios, results)
    return written


def _runs_csv(results: Sequence[PlanResult]) -> str:
    """One line per run: status, reason, timings, worker and figures."""
    import csv
    import io
    from dataclasses import asdict, fields

    from dispatch.scenarios.figures import Figures

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    names = [f.name for f in fields(Figures)]
    w.writerow(["scenario", "seed", "status", "reason", "plan_s", "task_s", "worker", *names])
    for r in sorted(results, key=lambda r: (r.scenario, r.seed)):
        values = asdict(r.figures) if r.figures else {}
        w.writerow(
            [r.scenario, r.seed, r.status, r.reason, r.plan_s, r.task_s, r.worker]
            + [values.get(n, "") for n in names]
        )
    return buf.getvalue()
