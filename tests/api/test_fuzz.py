"""Schemathesis against the real server (uvicorn on loopback), on SQLite and PostgreSQL.

Fixed seed, bounded time; every operation must get 2xx answers as well as refusals, and the
run must find no server error and no answer that breaks the OpenAPI document. The longer
random-seed run is `python -m benchmarks.fuzz`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.fuzz import prepare_fixtures, run_schemathesis
from tests.api.live import server

pytestmark = pytest.mark.slow

SEED = 20261130
#: Seconds of fuzzing per database (27 operations; the whole test stays near 4 minutes).
MAX_TIME_S = 100


def test_fuzz_finds_nothing(db_url: str, tmp_path: Path) -> None:
    with server(db_url, log=tmp_path / "server.log") as (base, _):
        fixtures = prepare_fixtures(base, db_url, tmp_path)
        result = run_schemathesis(base, fixtures, tmp_path, seed=SEED, max_time_s=MAX_TIME_S)
    assert result.returncode == 0, result.output[-6000:]
    missing = [
        op for op, codes in result.statuses.items() if not any(200 <= c < 300 for c in codes)
    ]
    assert not missing, f"operations without a 2xx answer: {missing}\n{json.dumps(result.counts)}"
    assert len(result.statuses) == 27, sorted(result.statuses)
