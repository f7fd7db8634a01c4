"""Scan benchmark: a 10,000-parcel day's scans (about 30,000 events) uploaded in batches of
200 to a real server, while readers ask for parcel traces and the towns' 30-day assessment.

One via-station day is planned once (cached in `--work`) and stored for `--days` dates, each
date with its own tracking numbers (`D07-…`); the earlier days get a full day of scans
written straight into the table (history), the last day is uploaded through POST /v1/scans by
`--uploaders` drivers' phones at once. Targets (issue 15): ingest <= 30 s; trace and
assessment p95 < 50 ms while scans arrive. The scans are synthetic: every carried parcel's
chain in the plan, 8 % failures, delays up to 70 minutes on a fifth of the routes.

    .venv/bin/python -m benchmarks.scans [--parcels 10000] [--days 30] [--work DIR] \\
        [--uploaders 8] [--readers 4] [--db URL]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import random
import statistics
import tempfile
import threading
import time
import uuid
import zoneinfo
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

from api.auth import create_key
from api.db import PlanJob, ScanDay, ScanRow, make_engine, utcnow, writing
from api.manifest_store import store_manifest
from api.migrate import migrate
from benchmarks.api_load import serve_on_loopback
from dispatch.demo import generate_day
from dispatch.manifest import write_manifest_csv
from dispatch.parcel import Parcel
from geodata.county import load_county

FIRST = dt.date(2026, 2, 1)
ZONE = zoneinfo.ZoneInfo("Asia/Shanghai")
REASONS = ("recipient_absent", "address_not_found", "refused", "damaged")


def planned_day(work: Path, parcels: int, time_limit: float) -> tuple[list[Parcel], dict[str, Any]]:
    """The day's parcels and its via-station plan (planned once, then read from `work`)."""
    from dispatch.service import plan_day
    from dispatch.workspace import Workspace

    county = load_county()
    day = [p for p in generate_day(county, parcels, seed=0, date=FIRST) if p.due_date == FIRST]
    cached = work / f"plan-{parcels}.json"
    if cached.exists():
        return day, json.loads(cached.read_text(encoding="utf-8"))
    started = time.perf_counter()
    plan = plan_day(
        Workspace.load(), day, date=FIRST, time_limit_s=time_limit, mode="via_station"
    ).to_json()
    print(f"planned {len(day)} parcels in {time.perf_counter() - started:.0f} s")
    cached.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    return day, plan


def renamed(value: Any, names: dict[str, str]) -> Any:
    """A copy of a plan value with every tracking number replaced by `names`."""
    if isinstance(value, dict):
        return {k: renamed(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [renamed(v, names) for v in value]
    if isinstance(value, str):
        return names.get(value, value)
    return value


def scans_of(
    plan: dict[str, Any], day: dt.date, seed: int, kinds: dict[str, str]
) -> list[tuple[str, dict[str, Any]]]:
    """(vehicle, event) of every carried parcel's chain, with failures and late routes;
    `kinds` gives each tracking number's kind (delivery or pickup)."""
    rng = random.Random(seed)
    delay = {
        r["route_id"]: rng.uniform(0, 4200) if rng.random() < 0.2 else rng.uniform(0, 600)
        for r in plan["routes"]
    }
    chains: dict[str, list[tuple[str, str, int, str, int]]] = defaultdict(list)
    for r in plan["routes"]:
        loaded: dict[str, int] = {}
        for s in r["stops"]:
            for t in s["load"]:
                loaded[t] = s["departure_s"]
            for t in s["drop"]:
                chains[t].append(
                    (
                        r["vehicle_id"],
                        r["route_id"],
                        loaded.get(t, 0),
                        s["point_id"],
                        s["arrival_s"],
                    )
                )
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=ZONE)
    out = []
    for t, legs in sorted(chains.items()):
        legs.sort(key=lambda g: g[2])
        clock = 0.0
        failing = rng.random() < 0.08
        pickup = kinds.get(t) == "pickup"

        def emit(
            vehicle: str, event: str, planned: float, reason: str | None = None, t: str = t
        ) -> None:
            nonlocal clock
            clock = max(planned, clock + 60)
            body: dict[str, Any] = {"event_id": uuid.uuid4().hex, "tracking_no": t, "event": event}
            body["time"] = (midnight + dt.timedelta(seconds=clock)).isoformat()
            if reason:
                body["reason"] = reason
            out.append((vehicle, body))

        for k, (vehicle, route, load_s, _, drop_s) in enumerate(legs):
            d = delay[route]
            last = k == len(legs) - 1
            if pickup and k == 0:
                if failing:
                    emit(vehicle, "failed", load_s + d, "not_ready")
                    break
                emit(vehicle, "picked_up", load_s + d)
            else:
                emit(vehicle, "loaded", load_s + d * 0.2)
            if not last:
                emit(vehicle, "unloaded_at_station", drop_s + d)
            elif failing and not pickup:
                emit(vehicle, "failed", drop_s + d, REASONS[rng.randrange(len(REASONS))])
            else:
                emit(vehicle, "delivered", drop_s + d)
    return out


def store_days(
    url: str, work: Path, parcels: list[Parcel], plan: dict[str, Any], days: int
) -> tuple[list[dict[str, Any]], list[str]]:
    """Store `days` dates of the planned day (manifest, released plan) and scans for all but
    the last, written straight into the table; the last day's plan and all tracking numbers."""
    county = load_county()
    engine = make_engine(url)
    migrate(engine)
    tracking: list[str] = []
    plans = []
    for k in range(days):
        day = FIRST + dt.timedelta(days=k)
        names = {p.tracking_no: f"D{k:02d}-{p.tracking_no}" for p in parcels}
        mine = [
            dataclasses.replace(p, tracking_no=names[p.tracking_no], due_date=day) for p in parcels
        ]
        path = work / f"manifest-{day}.csv"
        write_manifest_csv(mine, path, county)
        info, _ = store_manifest(engine, path.read_bytes(), path.name, mine, day)
        day_plan = {**renamed(plan, names), "date": day.isoformat(), "plan_id": f"p_bench{k:02d}"}
        with writing(engine) as session:
            session.add(
                PlanJob(
                    plan_id=day_plan["plan_id"],
                    date=day,
                    status="done",
                    progress=1.0,
                    request={"manifest_ids": [info["manifest_id"]], "time_limit_s": 30},
                    plan_json=json.dumps(day_plan, ensure_ascii=False),
                    released_at=utcnow(),
                    released_by="bench",
                )
            )
        tracking += list(names.values())
        plans.append(day_plan)
        if k < days - 1:
            history(engine, day, scans_of(day_plan, day, k, kinds_of(mine)))
    engine.dispose()
    return plans, tracking


def kinds_of(parcels: list[Parcel]) -> dict[str, str]:
    """Tracking number -> delivery or pickup."""
    return {p.tracking_no: p.kind for p in parcels}


def history(engine: Any, day: dt.date, events: list[tuple[str, dict[str, Any]]]) -> None:
    """A past day's scans, numbered, written in bulk (they were judged when they came)."""
    rows = []
    for seq, (vehicle, e) in enumerate(events, 1):
        moment = dt.datetime.fromisoformat(e["time"])
        local = moment.astimezone(ZONE)
        rows.append(
            {
                "event_id": e["event_id"],
                "day": day,
                "seq": seq,
                "tracking_no": e["tracking_no"],
                "event": e["event"],
                "reason": e.get("reason"),
                "event_time": moment.astimezone(dt.UTC),
                "time_s": local.hour * 3600 + local.minute * 60 + local.second,
                "lon": None,
                "lat": None,
                "key_id": "history",
                "role": "driver",
                "vehicle_id": vehicle,
                "station_id": None,
                "received_at": utcnow(),
            }
        )
    with writing(engine) as session:
        for k in range(0, len(rows), 5000):
            session.execute(insert(ScanRow), rows[k : k + 5000])
        session.add(ScanDay(day=day, seq=len(rows)))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def run(args: argparse.Namespace) -> None:
    work = Path(args.work or tempfile.mkdtemp(prefix="bench-scans-"))
    work.mkdir(parents=True, exist_ok=True)
    parcels, plan = planned_day(work, args.parcels, args.time_limit)
    url = args.db or f"sqlite:///{work / f'scans-{uuid.uuid4().hex[:8]}.sqlite3'}"
    started = time.perf_counter()
    plans, tracking = store_days(url, work, parcels, plan, args.days)
    took = time.perf_counter() - started
    print(f"stored {args.days} days ({len(tracking):,} parcels) in {took:.0f} s")
    last = FIRST + dt.timedelta(days=args.days - 1)
    names = {p.tracking_no: f"D{args.days - 1:02d}-{p.tracking_no}" for p in parcels}
    live = scans_of(plans[-1], last, 999, {names[p.tracking_no]: p.kind for p in parcels})
    engine = make_engine(url)
    per_vehicle: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for vehicle, e in live:
        per_vehicle[vehicle].append(e)
    keys = {v: create_key(engine, "driver", v) for v in per_vehicle}
    reader = {"Authorization": f"Bearer {create_key(engine, 'dispatcher')}"}
    engine.dispose()
    batches = [
        (keys[v], mine[k : k + args.batch])
        for v, mine in per_vehicle.items()
        for k in range(0, len(mine), args.batch)
    ]
    random.Random(1).shuffle(batches)
    period = {"from": FIRST.isoformat(), "to": last.isoformat()}
    latencies: dict[str, list[float]] = defaultdict(list)
    statuses: list[int] = []
    refused: list[str] = []
    done = threading.Event()
    lock = threading.Lock()
    with serve_on_loopback(url) as (base, _):
        with httpx.Client(base_url=base, timeout=300) as http:
            t0 = time.perf_counter()
            http.get("/v1/assessment", params=period, headers=reader)  # folds the history once
            for t in random.Random(2).sample(tracking, 20):
                http.get(f"/v1/parcels/{t}", headers=reader)
            print(f"warm-up (30 days folded): {time.perf_counter() - t0:.1f} s")
        load_before = os.getloadavg()

        def upload(part: list[tuple[str, list[dict[str, Any]]]]) -> None:
            with httpx.Client(base_url=base, timeout=120) as http:
                for key, batch in part:
                    r = http.post("/v1/scans", json={"events": batch},
                                  headers={"Authorization": f"Bearer {key}"})  # fmt: skip
                    with lock:
                        statuses.append(r.status_code)
                        if r.status_code == 200:
                            refused.extend(
                                x["detail"] for x in r.json()["results"] if x["status"] == "refused"
                            )

        def read(seed: int) -> None:
            rng = random.Random(seed)
            with httpx.Client(base_url=base, timeout=120) as http:
                while not done.is_set():
                    if rng.random() < 0.5:
                        name, path, params = "trace", f"/v1/parcels/{rng.choice(tracking)}", {}
                    else:
                        name, path, params = "assessment", "/v1/assessment", period
                    t1 = time.perf_counter()
                    r = http.get(path, params=params, headers=reader)
                    ms = (time.perf_counter() - t1) * 1000
                    inside = float(r.headers.get("server-timing", "app;dur=nan").split("=")[1])
                    with lock:
                        latencies[name].append(ms)
                        latencies[f"{name} (in app)"].append(inside)
                        statuses.append(r.status_code)
                    time.sleep(0.02)

        readers = [threading.Thread(target=read, args=(i,)) for i in range(args.readers)]
        uploaders = [
            threading.Thread(target=upload, args=(batches[i :: args.uploaders],))
            for i in range(args.uploaders)
        ]
        for thread in readers:
            thread.start()
        t0 = time.perf_counter()
        for thread in uploaders:
            thread.start()
        for thread in uploaders:
            thread.join()
        ingest_s = time.perf_counter() - t0
        done.set()
        for thread in readers:
            thread.join()
        load_after = os.getloadavg()
    bad = sorted({s for s in statuses if s != 200})
    print(
        f"ingest: {len(live):,} events in {len(batches)} batches of <= {args.batch} by "
        f"{args.uploaders} phones: {ingest_s:.1f} s ({len(live) / ingest_s:,.0f} events/s), "
        f"{len(refused)} refused; target <= 30 s: {'met' if ingest_s <= 30 else 'MISSED'}"
    )
    for name, values in sorted(latencies.items()):
        p95 = percentile(values, 0.95)
        print(
            f"{name}: {len(values)} reads while scans arrived, "
            f"p50 {statistics.median(values):.1f} ms, p95 {p95:.1f} ms, "
            f"max {max(values):.1f} ms; target p95 < 50 ms: {'met' if p95 < 50 else 'MISSED'}"
        )
    print(f"non-200 answers: {bad or 'none'}; refusals: {refused[:3]}")
    print(
        "load average (1, 5, 15 min) before: "
        + ", ".join(f"{x:.2f}" for x in load_before)
        + "; after: "
        + ", ".join(f"{x:.2f}" for x in load_after)
        + f" on {os.cpu_count()} cores"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--uploaders", type=int, default=8)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--work", help="folder for the planned day (reused) and the database")
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file in --work)")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
