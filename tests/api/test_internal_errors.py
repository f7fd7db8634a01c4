"""A fault of ours answers 500 with a short error id only; the traceback is logged once.

The faults are planted for real: a table the service needs is dropped under a running app,
and a stored job request is corrupted before its worker runs.
"""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
from sqlalchemy import text

from api.jobs import run_job
from api.plan_store import claim_next, create_job, get_job
from tests.api.conftest import Keys, make_client, state

SECRET_PARTS = ("no such table", "SELECT", "plans.", "Traceback", "sqlite")


def _internal_logs(caplog: pytest.LogCaptureFixture, error_id: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == f"internal error {error_id}"]


def test_a_dropped_table_gives_500_with_an_error_id_logged_once(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    with make_client(sqlite_url) as client:
        keys = Keys(client)
        with state(client).engine.begin() as conn:
            conn.execute(text("DROP TABLE plans"))
        answers = [client.get("/v1/plans/p_missing", headers=keys.dispatcher) for _ in range(3)]
    assert [a.status_code for a in answers] == [500, 500, 500]
    bodies = [a.json() for a in answers]
    assert set(bodies[0]) == {"detail", "error_id"}
    assert bodies[0]["error_id"].startswith("e_")
    assert all(b == bodies[0] for b in bodies), "the id is stable across retries"
    for answer in answers:
        assert not any(part.lower() in answer.text.lower() for part in SECRET_PARTS)
    logged = _internal_logs(caplog, bodies[0]["error_id"])
    assert len(logged) == 1 and logged[0].exc_info is not None


def test_a_job_failing_by_our_fault_stores_an_error_id_not_the_exception(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    with make_client(sqlite_url) as client:
        engine = state(client).engine  # the schema, then no supervisor running jobs
    # A stored request whose manifest list is not a list: no input a client can send (the
    # API checks it), so the worker's failure is ours.
    corrupt = {"manifest_ids": 7, "time_limit_s": 5, "mode": "auto"}
    day = dt.date(2026, 11, 28)
    jobs = [create_job(engine, date=day, request=corrupt, fleet_toml=None) for _ in range(2)]
    for plan_id in jobs:
        claimed = claim_next(engine)
        assert claimed is not None and claimed[0] == plan_id
        run_job(sqlite_url, plan_id)
    stored = [get_job(engine, plan_id) for plan_id in jobs]
    errors = [job.error for job in stored if job is not None]
    assert len(errors) == 2 and errors[0] == errors[1]
    match = re.fullmatch(r"internal error (e_[0-9a-f]{10}); see the server log", errors[0] or "")
    assert match, errors[0]  # no exception type or text ('TypeError: int object ...')
    error_id = match.group(1)
    assert len(_internal_logs(caplog, error_id)) == 1
    assert all(job is not None and job.status == "failed" for job in stored)
