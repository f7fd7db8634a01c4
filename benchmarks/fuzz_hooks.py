"""Schemathesis hooks for fuzzing the live server (SCHEMATHESIS_HOOKS=benchmarks.fuzz_hooks).

They make generated requests reach success as well as refusal: manifests are real CSV made
by the demo generator, fleets are real TOML, and path ids, plan bodies (road closures
included), re-plan events, KPI, assessment and scan dates and a scanned parcel are sometimes
swapped for the fixtures a test prepared (RD_FUZZ_FIXTURES, a JSON file: a done and released
plan, its route, vehicle, a parcel and manifests, a done re-plan of it). Solver time limits are
clamped to 1 s so that the run stays bounded.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import os
from typing import Any

import schemathesis
from hypothesis import strategies as st

FIXTURES_ENV = "RD_FUZZ_FIXTURES"


@functools.cache
def fixtures() -> dict[str, Any]:
    """The prepared ids (see module docstring)."""
    with open(os.environ[FIXTURES_ENV], encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


@functools.cache
def _county() -> Any:
    from geodata.county import load_county

    return load_county()


def manifest_csv(seed: int, parcels: int) -> bytes:
    """A valid manifest of the fixtures' day as CSV bytes (demo generator, writer)."""
    from dispatch.demo import generate_day
    from dispatch.manifest import MANIFEST_COLUMNS

    day = dt.date.fromisoformat(fixtures()["date"])
    rows = generate_day(_county(), parcels, seed=seed, date=day)
    out = io.StringIO()
    out.write(",".join(MANIFEST_COLUMNS) + "\n")
    for p in rows:
        out.write(
            f"F{seed}-{p.tracking_no},{p.carrier},{p.kind},{p.point_id},,,,"
            f"{p.weight_g / 1000},{p.volume_ml / 1000},{int(p.cold)},{p.due_date}\n"
        )
    return out.getvalue().encode()


_csv = st.one_of(
    st.builds(manifest_csv, st.integers(1, 10**9), st.integers(1, 12)),
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
)
_toml = st.one_of(
    st.builds(lambda: fixtures()["fleet_toml"].encode()),
    st.text(max_size=200).map(str.encode),
)
schemathesis.openapi.media_type("text/csv", _csv)
schemathesis.openapi.media_type("application/toml", _toml, aliases=["text/plain"])


def _path(context: schemathesis.HookContext) -> str:
    operation = context.operation
    return f"{operation.method.upper()} {operation.path}" if operation is not None else ""


@schemathesis.hook
def flatmap_path_parameters(
    context: schemathesis.HookContext, path_parameters: dict[str, Any] | None
) -> st.SearchStrategy[dict[str, Any] | None]:
    if not path_parameters:
        return st.just(path_parameters)
    f = fixtures()
    # the changes of a plan exist only for a re-plan
    plan_id = f["replan_id"] if _path(context).endswith("/changes") else f["plan_id"]
    known = {"plan_id": plan_id, "route_id": f["route_id"], "tracking_no": f["tracking_no"]}
    real = {**path_parameters, **{k: v for k, v in known.items() if k in path_parameters}}
    return st.sampled_from([path_parameters, real])


@schemathesis.hook
def flatmap_body(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
    where, f = _path(context), fixtures()
    if not isinstance(body, dict):
        return st.just(body)
    limit = body.get("time_limit_s")
    if isinstance(limit, int | float) and not isinstance(limit, bool) and limit > 1:
        body = {**body, "time_limit_s": 1}  # keeps the solver queue short
    if where == "POST /v1/plans":
        # ids and places that must exist are the fixtures' (random ones are refused), and a
        # plain request that must succeed
        named = ("vehicles_off", "carry_over_plan_id", "closures")
        real = {k: v for k, v in body.items() if k not in named}
        closure = {"near": f["point_id"], "radius_m": 300, "label": "塌方"}
        real.update(manifest_ids=f["manifest_ids"], time_limit_s=1, closures=[closure])
        plain = {"date": f["date"], "manifest_ids": f["manifest_ids"], "time_limit_s": 1}
        return st.sampled_from([body, real, plain])
    if where == "POST /v1/plans/{plan_id}/replan":
        events = [
            {"type": "breakdown", "vehicle_id": f["vehicle_id"], "time_s": f["breakdown_s"]},
            {"type": "late_parcels", "manifest_id": f["late_manifest_id"]},
            {"type": "point_closed", "point_id": f["point_id"], "reason": "修路"},
            {"type": "road_closed", "near": f["point_id"], "radius_m": 300, "label": "塌方"},
        ]
        real = {"events": events, "time_limit_s": 1}
        return st.sampled_from([body, real])
    if where == "POST /v1/scans":
        scan = {
            "event_id": "fuzz-1",
            "tracking_no": f["tracking_no"],
            "event": "loaded",
            "time": f"{f['date']}T08:00:00+08:00",
        }
        return st.sampled_from([body, {"events": [scan]}])
    return st.just(body)


@schemathesis.hook
def map_query(context: schemathesis.HookContext, query: dict[str, Any] | None) -> Any:
    if _path(context) == "POST /v1/vroom":
        return {**(query or {}), "time_limit_s": 1}
    return query


@schemathesis.hook
def flatmap_query(
    context: schemathesis.HookContext, query: dict[str, Any] | None
) -> st.SearchStrategy[Any]:
    if _path(context) == "GET /v1/kpis":
        day = fixtures()["date"]
        return st.sampled_from([query, {"from": day, "to": day}])
    if _path(context) in ("GET /v1/assessment", "GET /v1/settlement"):
        day = fixtures()["date"]
        return st.sampled_from(
            [query, {"from": day, "to": day}, {"from": day, "to": day, "format": "xlsx"}]
        )
    if _path(context) == "GET /v1/actuals":
        return st.sampled_from([query, {"date": fixtures()["date"]}])
    if _path(context) == "GET /v1/driver/stops":
        real = {"date": fixtures()["date"], "vehicle_id": fixtures()["vehicle_id"]}
        return st.sampled_from([query, real])
    return st.just(query)
