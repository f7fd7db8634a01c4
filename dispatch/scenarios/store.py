"""A sweep's output folder: what was asked (sweep.json), each finished plan's result
(results/<key>.json) and the plan itself (plans/<scenario>/seed<seed>.json).

A result is written atomically as it arrives, so an interrupted sweep keeps every plan
finished before the interruption; `done` keys are skipped when the sweep runs again.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dispatch.scenarios.figures import Figures
from dispatch.scenarios.task import PlanResult

MANIFEST = "sweep.json"


@dataclass(frozen=True)
class Entry:
    """One asked-for run: scenario name, seed, resume key."""

    scenario: str
    seed: int
    key: str


@dataclass(frozen=True)
class Manifest:
    """What a sweep asked for: scenarios in order (name, title), the baseline, the runs and
    the settings that went into the keys."""

    scenarios: list[tuple[str, str]]
    baseline: str
    runs: list[Entry]
    settings: dict[str, Any]


class Store:
    """The output folder of one sweep."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.results = out / "results"

    def write_manifest(self, manifest: Manifest) -> None:
        self.results.mkdir(parents=True, exist_ok=True)
        _atomic(self.out / MANIFEST, json.dumps(asdict(manifest), ensure_ascii=False, indent=1))

    def manifest(self) -> Manifest:
        """The folder's manifest; ValueError when it is not a sweep's output."""
        try:
            doc = json.loads((self.out / MANIFEST).read_text(encoding="utf-8"))
            return Manifest(
                scenarios=[(str(n), str(t)) for n, t in doc["scenarios"]],
                baseline=str(doc["baseline"]),
                runs=[Entry(**r) for r in doc["runs"]],
                settings=dict(doc["settings"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{self.out}: not a finished sweep's folder ({exc})") from None

    def done(self, key: str) -> bool:
        """True when the run `key` finished with a plan."""
        result = self.result(key)
        return result is not None and result.status == "ok"

    def result(self, key: str) -> PlanResult | None:
        path = self.results / f"{key}.json"
        if not path.exists():
            return None
        doc = json.loads(path.read_text(encoding="utf-8"))
        figures = Figures(**doc.pop("figures")) if doc.get("figures") else None
        doc.pop("figures", None)
        return PlanResult(**doc, figures=figures)

    def save(self, result: PlanResult) -> None:
        """The result (and its plan, when there is one), each written atomically."""
        if result.plan_gz:
            folder = self.out / "plans" / result.scenario
            folder.mkdir(parents=True, exist_ok=True)
            _atomic(folder / f"seed{result.seed}.json", gzip.decompress(result.plan_gz).decode())
        self.results.mkdir(parents=True, exist_ok=True)
        _atomic(
            self.results / f"{result.key}.json",
            json.dumps(result.meta(), ensure_ascii=False, indent=1),
        )


def _atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
