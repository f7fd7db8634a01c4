"""The synthetic demo day: determinism, realistic shares, and manifests that read back."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from collections import Counter
from pathlib import Path
from statistics import median

import pytest

from dispatch.demo import CARRIERS, generate_day, write_demo_manifests
from dispatch.fleet import fleet_for_county
from dispatch.manifest import read_manifests
from dispatch.parcel import Parcel
from geodata.areas import ServiceAreas
from geodata.county import URBAN_CORE_TOWNS, County, load_county

DAY = dt.date(2026, 3, 5)
N = 3000


@pytest.fixture(scope="module")
def county() -> County:
    return load_county()


@pytest.fixture(scope="module")
def day(county: County) -> list[Parcel]:
    return generate_day(county, N, seed=7, date=DAY)


def test_deterministic_per_seed(county: County, day: list[Parcel]) -> None:
    assert generate_day(county, N, seed=7, date=DAY) == day
    assert generate_day(county, N, seed=8, date=DAY) != day
    assert len({p.tracking_no for p in day}) == N


def test_carrier_codes_and_shares(day: list[Parcel]) -> None:
    assert 8 <= len(CARRIERS) <= 10
    assert all(c.code.isascii() and c.code.isidentifier() for c in CARRIERS)
    assert sum(c.share for c in CARRIERS) == pytest.approx(1.0)
    counts = Counter(p.carrier for p in day)
    for c in CARRIERS:
        assert counts[c.name] / N == pytest.approx(c.share, abs=0.025), c.name
    assert all(
        p.tracking_no.startswith(c.prefix) for c in CARRIERS for p in day if p.carrier == c.name
    )


def test_realistic_mix(county: County, day: list[Parcel]) -> None:
    pickups = [p for p in day if p.kind == "pickup"]
    assert 0.03 <= len(pickups) / N <= 0.08
    assert all(5000 <= p.weight_g <= 20_000 for p in pickups)
    assert 0.02 <= sum(p.cold for p in day) / N <= 0.05
    deliveries = [p.weight_g for p in day if p.kind == "delivery"]
    assert 300 <= median(deliveries) <= 1500
    assert 0.005 <= sum(g >= 10_000 for g in deliveries) / len(deliveries) <= 0.05
    assert all(p.volume_ml > 0 and p.weight_g > 0 for p in day)
    assert {p.due_date for p in day} == {DAY, DAY + dt.timedelta(days=1)}
    assert 0.05 <= sum(p.due_date > DAY for p in day) / N <= 0.2
    kinds = {p.point_id: p for p in county.points}
    assert all(kinds[p.point_id].kind in ("station", "village") for p in day)
    per_point = Counter(p.point_id for p in day)
    urban = [
        pid
        for pid, pt in kinds.items()
        if pt.name.endswith("社区") and pt.town_id in URBAN_CORE_TOWNS
    ]
    rural = [pid for pid, pt in kinds.items() if pt.name.endswith("村")]
    assert median(per_point[u] for u in urban) > 3 * median(per_point[r] for r in rural)
    assert any(kinds[p.point_id].kind == "station" for p in day)


def test_default_fleet_can_carry_a_full_day(county: County) -> None:
    parcels = generate_day(county, 10_000, seed=0, date=DAY)
    fleet = fleet_for_county(county)
    hub = [v for v in fleet.vehicles if v.depot == "HUB"]

    def capacity(vehicles, cold: bool) -> tuple[int, int]:
        chosen = [v for v in vehicles if fleet.types[v.vtype].cold == cold]
        return (
            sum(fleet.types[v.vtype].capacity_g * v.max_trips for v in chosen),
            sum(fleet.types[v.vtype].capacity_ml * v.max_trips for v in chosen),
        )

    for cold in (False, True):
        for kind in ("delivery", "pickup"):
            these = [p for p in parcels if p.cold == cold and p.kind == kind]
            cap_g, cap_ml = capacity(hub, cold)
            assert sum(p.weight_g for p in these) <= cap_g
            assert sum(p.volume_ml for p in these) <= cap_ml


def test_written_manifests_parse_back(county: County, day: list[Parcel], tmp_path: Path) -> None:
    paths = write_demo_manifests(day, tmp_path, county)
    codes = {c.name: c.code for c in CARRIERS}
    assert sorted(p.name for p in paths) == sorted(
        f"{codes[n]}.csv" for n in {p.carrier for p in day}
    )
    assert all(p.parent == tmp_path / "manifests" for p in paths)
    gbk = [p for p in paths if not _is_utf8(p.read_bytes())]
    assert gbk, "some manifests should be GBK, as Excel writes them"
    rows = [r for p in paths for r in csv.DictReader(io.StringIO(_text(p.read_bytes())))]
    modes = Counter(r["crs"] or "point_id" for r in rows)
    assert set(modes) == {"point_id", "wgs84", "gcj02"}
    jittered = [r for r in rows if r["crs"] == "wgs84"]
    exact = {(f"{p.lon:.6f}", f"{p.lat:.6f}") for p in county.points}
    assert sum((r["lon"], r["lat"]) not in exact for r in jittered) > 0.5 * len(jittered)

    back, errors = read_manifests(paths, county, ServiceAreas(county.points, county.boundary))
    assert errors == []
    strip = lambda p: dataclasses.replace(p, source="", row=0)  # noqa: E731
    assert sorted(map(strip, back), key=_key) == sorted(day, key=_key)


def _key(p: Parcel) -> str:
    return p.tracking_no


def _text(data: bytes) -> str:
    return data.decode("utf-8-sig") if _is_utf8(data) else data.decode("gbk")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
