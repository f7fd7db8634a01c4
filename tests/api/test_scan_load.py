"""Scans on a real server: 50 drivers uploading at once (no 5xx, no event stored twice,
each day's numbering gap-free), and kill -9 during uploads losing no acknowledged event."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from api.auth import create_key
from api.db import ScanRow, make_engine, reading
from tests.api.conftest import Keys, make_client
from tests.api.live import server
from tests.api.scan_day import Day, Scan, plan_day, simulate, store_day

DAY = dt.date(2026, 3, 16)
DRIVERS = 50


@pytest.fixture(scope="module")
def day(county, tmp_path_factory: pytest.TempPathFactory) -> Day:
    return plan_day(county, tmp_path_factory.mktemp("load-day"), 240, seed=13, date=DAY)


def prepare(db_url: str, day: Day) -> None:
    """Store the day's manifest and released plan in the database the server will use."""
    with make_client(db_url) as client:
        store_day(client, Keys(client).dispatcher, day)


def stored(db_url: str) -> tuple[int, int, list[int]]:
    """(rows, distinct event ids, the day's seq numbers sorted)."""
    engine = make_engine(db_url)
    try:
        with reading(engine) as session:
            rows = session.scalar(select(func.count()).select_from(ScanRow)) or 0
            distinct = session.scalar(select(func.count(func.distinct(ScanRow.event_id)))) or 0
            seqs = sorted(session.scalars(select(ScanRow.seq).where(ScanRow.day == DAY)))
    finally:
        engine.dispose()
    return int(rows), int(distinct), seqs


@pytest.mark.slow
def test_fifty_drivers_at_once(db_url: str, day: Day) -> None:
    """Each vehicle's scans are split among several phones; every phone also re-sends a
    batch of another phone of its vehicle at the same time (the same events twice)."""
    scans, _ = simulate(day, "", fail_share=0.1, open_share=0.0)
    prepare(db_url, day)
    engine = make_engine(db_url)
    per_vehicle: dict[str, list[Scan]] = defaultdict(list)
    for s in scans:
        per_vehicle[str(s.vehicle_id)].append(s)
    vehicles = sorted(per_vehicle)
    phones: list[tuple[str, list[dict[str, Any]]]] = []
    mate_of: dict[int, int] = {}
    for i in range(DRIVERS):
        vehicle = vehicles[i % len(vehicles)]
        mates = [k for k in range(DRIVERS) if vehicles[k % len(vehicles)] == vehicle]
        share = per_vehicle[vehicle][mates.index(i) :: len(mates)]
        mate_of[i] = mates[(mates.index(i) + 1) % len(mates)]
        key = create_key(engine, "driver", vehicle)
        phones.append((key, [s.event for s in share]))
    engine.dispose()
    statuses: list[int] = []
    outcomes: dict[str, set[str]] = defaultdict(set)
    refusals: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(DRIVERS)

    def phone(i: int, base: str) -> None:
        key, events = phones[i]
        mate = phones[mate_of[i]]  # another phone of the same vehicle
        batches = [events[k : k + 20] for k in range(0, len(events), 20)]
        batches += [mate[1][:20]] if mate[0] != key and mate[1] else []
        random.Random(i).shuffle(batches)
        with httpx.Client(base_url=base, timeout=120) as http:
            start.wait()
            for batch in batches:
                if not batch:
                    continue
                r = http.post(
                    "/v1/scans",
                    json={"events": batch},
                    headers={"Authorization": f"Bearer {key}"},
                )
                with lock:
                    statuses.append(r.status_code)
                    if r.status_code == 200:
                        for x in r.json()["results"]:
                            outcomes[x["event_id"]].add(x["status"])
                            if x["status"] == "refused":
                                refusals.append(x["detail"])

    with server(db_url) as (base, _):
        threads = [threading.Thread(target=phone, args=(i, base)) for i in range(DRIVERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert statuses and all(s == 200 for s in statuses), sorted(set(statuses))
    every = {s.event["event_id"] for s in scans}
    assert set(outcomes) == every
    assert refusals == []
    rows, distinct, seqs = stored(db_url)
    assert rows == distinct == len(every)
    assert seqs == list(range(1, len(every) + 1))


@pytest.mark.slow
def test_kill_during_uploads_loses_no_acknowledged_event(
    db_url: str, day: Day, tmp_path: Path
) -> None:
    scans, _ = simulate(day, "", fail_share=0.1, open_share=0.0, seed=2)
    prepare(db_url, day)
    engine = make_engine(db_url)
    per_vehicle: dict[str, list[Scan]] = defaultdict(list)
    for s in scans:
        per_vehicle[str(s.vehicle_id)].append(s)
    keys = {v: create_key(engine, "driver", v) for v in per_vehicle}
    engine.dispose()
    batches = [
        (keys[v], [s.event for s in mine[k : k + 5]])
        for v, mine in sorted(per_vehicle.items())
        for k in range(0, len(mine), 5)
    ]
    acknowledged: set[str] = set()
    stop = threading.Event()

    def uploader(base: str, part: list[tuple[str, list[dict[str, Any]]]]) -> None:
        with httpx.Client(base_url=base, timeout=30) as http:
            for key, batch in part:
                if stop.is_set():
                    return
                try:
                    r = http.post(
                        "/v1/scans",
                        json={"events": batch},
                        headers={"Authorization": f"Bearer {key}"},
                    )
                except httpx.TransportError:
                    return  # the server died mid-request: nothing acknowledged
                if r.status_code == 200:
                    acknowledged.update(
                        x["event_id"] for x in r.json()["results"] if x["status"] == "stored"
                    )

    with server(db_url, log=tmp_path / "server.log") as (base, proc):
        parts = [batches[i::4] for i in range(4)]
        threads = [threading.Thread(target=uploader, args=(base, p)) for p in parts]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(acknowledged) < len(scans) // 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        stop.set()
        for t in threads:
            t.join()
    assert 0 < len(acknowledged) < len(scans), "the kill came during the uploads"
    engine = make_engine(db_url)
    try:
        with reading(engine) as session:
            kept = set(session.scalars(select(ScanRow.event_id)))
    finally:
        engine.dispose()
    assert acknowledged <= kept
    # after a restart the phones re-send everything: the rest is stored, nothing twice
    with server(db_url) as (base, _), httpx.Client(base_url=base, timeout=60) as http:
        for key, batch in batches:
            r = http.post(
                "/v1/scans", json={"events": batch}, headers={"Authorization": f"Bearer {key}"}
            )
            assert r.status_code == 200 and r.json()["refused"] == 0, r.text
    rows, distinct, _ = stored(db_url)
    assert rows == distinct == len(scans)
