"""Fuzzing the HTTP API with schemathesis against a real server (uvicorn on loopback).

Starts `serve` on a fresh SQLite file (or `--db URL`), prepares fixtures (a key, manifests, a
done plan; benchmarks/fuzz_hooks.py makes generated requests use them), and runs
`schemathesis run` over every operation: examples, coverage, fuzzing and stateful phases
(OpenAPI links), checking for server errors and answers that break the document. Prints the
status codes per operation. `make test` runs a fixed-seed ~70 s run per database
(tests/api/test_fuzz.py); the benchmark is the longer random-seed run:

    .venv/bin/python -m benchmarks.fuzz [--db URL] [--seed N] [--max-examples 1500] \\
        [--max-time 1800]

With `--max-examples 1500` the 27 operations make about 36,000 generated cases.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from api.auth import create_key
from api.db import make_engine
from benchmarks.api_load import serve_on_loopback
from dispatch.demo import generate_day
from dispatch.manifest import write_manifest_csv
from geodata.county import load_county

ROOT = Path(__file__).resolve().parents[1]
DAY = dt.date(2026, 3, 5)
#: Seconds schemathesis waits for one answer (a plan request may solve a day first).
REQUEST_TIMEOUT_S = 60
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance,response_headers_conformance"
)


def _manifest(folder: Path, n: int, seed: int) -> bytes:
    """A generated manifest of `n` parcels due on DAY as CSV bytes."""
    path = folder / f"fixture-{n}-{seed}.csv"
    write_manifest_csv(generate_day(load_county(), n, seed=seed, date=DAY), path, load_county())
    return path.read_bytes()


def prepare_fixtures(base: str, db_url: str, folder: Path) -> Path:
    """A dispatcher key, two manifests, a done plan and a done re-plan of it; their ids in a
    JSON file."""
    engine = make_engine(db_url)
    key = create_key(engine, "dispatcher")
    engine.dispose()
    auth = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=auth, timeout=60) as c:
        ids = []
        for n, seed in ((40, 901), (5, 902)):
            r = c.post(
                "/v1/manifests",
                content=_manifest(folder, n, seed),
                headers={"Content-Type": "text/csv"},
            )
            assert r.status_code in (200, 201), r.text
            ids.append(r.json()["manifest_id"])
        body = {"date": DAY.isoformat(), "manifest_ids": ids[:1], "time_limit_s": 1}
        plan_id = c.post("/v1/plans", json=body).json()["plan_id"]
        job = _wait_done(c, plan_id)
        # a route that loads at its depot, so that its loading list exists
        route = next(r for r in job["plan"]["routes"] if r["stops"][0]["load"])
        event = {
            "type": "breakdown",
            "vehicle_id": route["vehicle_id"],
            "time_s": route["stops"][1]["arrival_s"],
        }
        replan = c.post(f"/v1/plans/{plan_id}/replan", json={"events": [event], "time_limit_s": 1})
        assert replan.status_code == 202, replan.text
        replan_id = _wait_done(c, replan.json()["plan_id"])["plan_id"]
        fleet_toml = c.get("/v1/fleet").text
        # released, so that scans, traces and the assessment have a day to go by
        assert c.post(f"/v1/plans/{plan_id}/release").status_code == 200
        tracking_no = route["stops"][0]["load"][0]
    data = {
        "key": key,
        "date": DAY.isoformat(),
        "manifest_ids": ids[:1],
        "late_manifest_id": ids[1],
        "plan_id": plan_id,
        "replan_id": replan_id,
        "route_id": route["route_id"],
        "vehicle_id": route["vehicle_id"],
        "breakdown_s": route["stops"][1]["arrival_s"],
        "point_id": route["stops"][1]["point_id"],
        "fleet_toml": fleet_toml,
        "tracking_no": tracking_no,
    }
    path = folder / "fuzz-fixtures.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _wait_done(c: httpx.Client, plan_id: str) -> dict[str, Any]:
    """Poll until the plan is done (the fixture plan must succeed)."""
    for _ in range(600):
        job: dict[str, Any] = c.get(f"/v1/plans/{plan_id}").json()
        if job["status"] not in ("queued", "running"):
            assert job["status"] == "done", job
            return job
        time.sleep(0.2)
    raise AssertionError(f"plan {plan_id} did not finish")


@dataclass
class FuzzResult:
    """The schemathesis exit code, its output, and the status codes seen per operation."""

    returncode: int
    output: str
    statuses: dict[str, set[int]] = field(default_factory=dict)
    counts: dict[str, dict[int, int]] = field(default_factory=dict)


def run_schemathesis(
    base: str,
    fixtures: Path,
    folder: Path,
    *,
    seed: int,
    max_time_s: int,
    max_examples: int | None = None,
) -> FuzzResult:
    """`schemathesis run` against `base` with the fixtures' key and hooks."""
    key = json.loads(fixtures.read_text(encoding="utf-8"))["key"]
    cassette = folder / "fuzz-cassette.yaml"
    args = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{base}/openapi.json",
        "--checks",
        CHECKS,
        "--seed",
        str(seed),
        "--phases",
        "examples,fuzzing,stateful",
        "--max-time",
        str(max_time_s),
        "--workers",
        "1",
        "--request-timeout",
        str(REQUEST_TIMEOUT_S),
        "--header",
        f"Authorization: Bearer {key}",
        "--report",
        "vcr",
        "--report-vcr-path",
        str(cassette),
        "--suppress-health-check",
        "all",
        "--no-shrink",
    ]
    if max_examples is not None:
        args += ["--max-examples", str(max_examples)]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SCHEMATHESIS_HOOKS": "benchmarks.fuzz_hooks",
        "RD_FUZZ_FIXTURES": str(fixtures),
    }
    # schemathesis stops starting cases at max_time_s, then lets the running ones finish
    # (a plan request may take its full --request-timeout): never cut it off before that.
    timeout_s = max_time_s + 2 * REQUEST_TIMEOUT_S + 60
    done = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=timeout_s
    )
    result = FuzzResult(done.returncode, done.stdout + done.stderr)
    if cassette.exists():
        result.statuses, result.counts = _statuses(cassette)
    return result


def _statuses(cassette: Path) -> tuple[dict[str, set[int]], dict[str, dict[int, int]]]:
    """Status codes per operation (METHOD /path template) from a VCR cassette.

    Read line by line: an hour's cassette is over 1 GB, which a YAML parser loads into many
    GB of memory for many minutes. schemathesis writes each request's `uri` and `method` at
    four spaces and its response's `code` at six, every value on one line.
    """
    import re

    counts: dict[str, collections.Counter[int]] = collections.defaultdict(collections.Counter)
    uri = method = None
    with cassette.open(encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("    uri: "):
                uri = line[9:].strip().strip("'")
            elif line.startswith("    method: "):
                method = line[12:].strip().strip("'")
            elif line.startswith("      code: ") and uri and method:
                path = re.sub(r"^https?://[^/]+", "", uri).split("?", 1)[0]
                counts[f"{method.upper()} {_template(path)}"][
                    int(line[12:].strip().strip("'"))
                ] += 1
                uri = method = None
    statuses = {op: set(c) for op, c in counts.items()}
    return statuses, {op: dict(c) for op, c in counts.items()}


def _template(path: str) -> str:
    """A request path as its route template."""
    parts = path.split("/")
    if len(parts) >= 4 and parts[2] == "parcels":
        parts[3] = "{tracking_no}"
    if len(parts) >= 4 and parts[2] == "plans":
        parts[3] = "{plan_id}"
        if len(parts) >= 7 and parts[4] == "routes":
            parts[5] = "{route_id}"
            parts[6] = "sheet.{kind}" if parts[6].startswith("sheet.") else "loading.{kind}"
    return "/".join(parts)


def main() -> None:
    """Run the benchmark fuzz and print status codes per operation."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--seed", type=int, default=random.randrange(2**31))
    parser.add_argument("--max-examples", type=int, default=1500)
    parser.add_argument("--max-time", type=int, default=1800, help="seconds (bound)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db_url = args.db or f"sqlite:///{folder / 'fuzz.sqlite3'}"
        with serve_on_loopback(db_url) as (base, _):
            fixtures = prepare_fixtures(base, db_url, folder)
            result = run_schemathesis(
                base,
                fixtures,
                folder,
                seed=args.seed,
                max_time_s=args.max_time,
                max_examples=args.max_examples,
            )
    print(result.output[-4000:])
    print(f"seed {args.seed}; cases {sum(sum(c.values()) for c in result.counts.values())}")
    for op, counts in sorted(result.counts.items()):
        print(f"{op:62} " + " ".join(f"{k}:{v}" for k, v in sorted(counts.items())))
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()
