"""A planned day and the scans its drivers would make, for the scan, trace and assessment tests.

The plan is a real via-station plan of a small generated day (solved once per session);
`store_day` stores its manifest through the API and the plan as a done job. `simulate`
walks every carried parcel's chain in the plan and makes the scans a day would produce, with
a share of failures and some late routes, and keeps the truth it used so the tests can
recompute the figures without the code under test.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.db import PlanJob, utcnow, writing
from dispatch.demo import generate_day
from dispatch.manifest import write_manifest_csv
from dispatch.parcel import Parcel

ZONE = zoneinfo.ZoneInfo("Asia/Shanghai")
FAIL_REASONS = ("recipient_absent", "address_not_found", "refused", "damaged")


def at(day: dt.date, seconds: float) -> str:
    """ISO-8601 local time with offset of `seconds` after local midnight of `day`."""
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=ZONE)
    return (midnight + dt.timedelta(seconds=seconds)).isoformat()


@dataclass
class Day:
    """A planned day: its parcels, manifest CSV bytes and plan JSON."""

    date: dt.date
    parcels: list[Parcel]
    csv: bytes
    plan: dict[str, Any]

    @property
    def by_id(self) -> dict[str, Parcel]:
        return {p.tracking_no: p for p in self.parcels}


def plan_day(county: Any, folder: Path, n: int, seed: int, date: dt.date) -> Day:
    """Generate and plan (via station, a few seconds) a day of `n` parcels."""
    from dispatch.service import plan_day as plan
    from dispatch.workspace import Workspace

    parcels = [p for p in generate_day(county, n, seed=seed, date=date) if p.due_date == date]
    path = folder / f"scan-day-{n}-{seed}.csv"
    write_manifest_csv(parcels, path, county)
    ws = Workspace.load()
    result = plan(ws, parcels, date=date, time_limit_s=6, mode="via_station")
    return Day(date, parcels, path.read_bytes(), result.to_json())


def store_day(
    client: TestClient, headers: dict[str, str], day: Day, plan: dict[str, Any] | None = None
) -> tuple[str, str]:
    """Upload the day's manifest and store its plan as a done (released) job:
    (manifest id, plan id)."""
    r = client.post(
        "/v1/manifests",
        content=day.csv,
        headers={**headers, "Content-Type": "text/csv", "X-Filename": f"{day.date}.csv"},
    )
    assert r.status_code in (200, 201), r.text
    manifest_id = str(r.json()["manifest_id"])
    plan_id = store_plan(client, day.date, plan or day.plan, [manifest_id])
    return manifest_id, plan_id


def store_plan(
    client: TestClient,
    date: dt.date,
    plan: dict[str, Any],
    manifest_ids: list[str],
    version_of: str | None = None,
    request: dict[str, Any] | None = None,
    released: bool = True,
) -> str:
    """Store `plan` as a done plan job of `date` (what a finished plan job leaves), released
    to drivers and stations unless `released` is False."""
    plan_id = "p_" + uuid.uuid4().hex[:16]
    stored = {**plan, "plan_id": plan_id}
    if version_of:
        stored["version_of"] = version_of
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with writing(engine) as session:
        session.add(
            PlanJob(
                plan_id=plan_id,
                date=date,
                status="done",
                progress=1.0,
                request={"manifest_ids": manifest_ids, "time_limit_s": 5, **(request or {})},
                version_of=version_of,
                plan_json=json.dumps(stored, ensure_ascii=False),
                released_at=utcnow() if released else None,
                released_by="test" if released else None,
            )
        )
    return plan_id


@dataclass
class Scan:
    """A scan to upload: who makes it (role and vehicle) and the event JSON."""

    role: str
    vehicle_id: str | None
    event: dict[str, Any]


@dataclass
class Truth:
    """What the simulation decided, per parcel."""

    delivered_s: dict[str, float] = field(default_factory=dict)
    collected_s: dict[str, float] = field(default_factory=dict)
    failed: dict[str, tuple[str, str]] = field(default_factory=dict)  # reason, vehicle
    open: set[str] = field(default_factory=set)


def legs(plan: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Each parcel's rides in the plan, in time order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in plan["routes"]:
        loaded: dict[str, tuple[str, int]] = {}
        for s in r["stops"]:
            for t in s["load"]:
                loaded[t] = (s["point_id"], s["departure_s"])
            for t in s["drop"]:
                frm, load_s = loaded.pop(t, (r["depot"], r["stops"][0]["departure_s"]))
                out.setdefault(t, []).append(
                    {
                        "route": r["route_id"],
                        "vehicle": r["vehicle_id"],
                        "from": frm,
                        "load_s": load_s,
                        "to": s["point_id"],
                        "drop_s": s["arrival_s"],
                    }
                )
    for chain in out.values():
        chain.sort(key=lambda g: g["load_s"])
    return out


def simulate(
    day: Day,
    hub: str,
    *,
    fail_share: float = 0.1,
    late_routes: float = 0.2,
    open_share: float = 0.03,
    seed: int = 7,
) -> tuple[list[Scan], Truth]:
    """The scans of the day: every carried parcel's chain scanned by the drivers of its
    vehicles; `fail_share` of the final hand-overs fail (reasons in turn), routes in
    `late_routes` run up to 70 minutes late, `open_share` of parcels get no final scan."""
    rng = random.Random(seed)
    by_id = day.by_id
    delay = {
        r["route_id"]: (rng.uniform(0, 4200) if rng.random() < late_routes else rng.uniform(0, 600))
        for r in day.plan["routes"]
    }
    scans: list[Scan] = []
    truth = Truth()

    def scan(vehicle: str, tracking: str, event: str, when: float, **extra: Any) -> None:
        body = {
            "event_id": uuid.uuid4().hex,
            "tracking_no": tracking,
            "event": event,
            "time": at(day.date, when),
            **extra,
        }
        scans.append(Scan("driver", vehicle, body))

    for t, chain in sorted(legs(day.plan).items()):
        p = by_id.get(t)
        if p is None:
            continue
        final_open = rng.random() < open_share
        failing = rng.random() < fail_share
        clock = 0.0  # events of one parcel follow each other, however late a route runs

        def then(planned: float) -> float:
            nonlocal clock
            clock = max(planned, clock + 60)
            return clock

        for k, g in enumerate(chain):
            d = delay[g["route"]]
            last = k == len(chain) - 1
            if p.kind == "delivery":
                scan(g["vehicle"], t, "loaded", then(g["load_s"] + d * 0.2))
                if not last:
                    scan(g["vehicle"], t, "unloaded_at_station", then(g["drop_s"] + d))
                    continue
                if final_open:
                    truth.open.add(t)
                elif failing:
                    reason = FAIL_REASONS[len(truth.failed) % len(FAIL_REASONS)]
                    scan(g["vehicle"], t, "failed", then(g["drop_s"] + d), reason=reason)
                    truth.failed[t] = (reason, g["vehicle"])
                else:
                    when = then(g["drop_s"] + d)
                    scan(g["vehicle"], t, "delivered", when)
                    truth.delivered_s[t] = when
            else:
                if k == 0:
                    if final_open:
                        truth.open.add(t)
                        break
                    if failing:
                        scan(g["vehicle"], t, "failed", then(g["load_s"] + d), reason="not_ready")
                        truth.failed[t] = ("not_ready", g["vehicle"])
                        break
                    when = then(g["load_s"] + d)
                    scan(g["vehicle"], t, "picked_up", when)
                    truth.collected_s[t] = when
                else:
                    scan(g["vehicle"], t, "loaded", then(g["load_s"] + d * 0.2))
                event = "delivered" if last else "unloaded_at_station"
                scan(g["vehicle"], t, event, then(g["drop_s"] + d))
    return scans, truth
