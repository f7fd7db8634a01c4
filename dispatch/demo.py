"""A realistic synthetic day for Yongchuan: parcels of 10 carriers, and their manifest files.

Assumed shapes (no published per-village data): demand per point weighted by kind (urban
communities most, villages least, town stations some), carrier market shares typical of rural
China, light parcels (lognormal, a few 10-30 kg), 5 % farm-produce pickups (5-20 kg boxes,
15 % chilled), about 3 % cold deliveries, 12 % due tomorrow (deferrable).
"""

from __future__ import annotations

import datetime as dt
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from dispatch.manifest import write_manifest_csv
from dispatch.parcel import Parcel
from geodata.areas import ServiceAreas
from geodata.county import URBAN_CORE_TOWNS, County
from geodata.points import ServicePoint


@dataclass(frozen=True)
class Carrier:
    """An express carrier: name as on manifests, file-safe code, market share (0-1).

    Tracking numbers are `prefix` followed by `digits` digits.
    """

    code: str
    name: str
    share: float
    prefix: str
    digits: int
    encoding: str = "utf-8"  # of its manifest file: "gbk" / "utf-8-sig" are Excel exports


CARRIERS: list[Carrier] = [
    Carrier("zto", "中通快递", 0.20, "7", 14),
    Carrier("yto", "圆通速递", 0.15, "YT", 13),
    Carrier("yunda", "韵达快递", 0.14, "43", 11, "gbk"),
    Carrier("jtexpress", "极兔速递", 0.13, "JT", 13),
    Carrier("sto", "申通快递", 0.11, "77", 11),
    Carrier("ems", "邮政EMS", 0.09, "98", 11, "gbk"),
    Carrier("sf", "顺丰速运", 0.07, "SF", 13, "utf-8-sig"),
    Carrier("jd", "京东物流", 0.06, "JDV", 12),
    Carrier("cainiao", "菜鸟速递", 0.03, "CN", 13),
    Carrier("debang", "德邦快递", 0.02, "DPK", 12),
]

PICKUP_SHARE = 0.05
PICKUP_COLD_SHARE = 0.15
COLD_SHARE_COMMUNITY = 0.045  # chilled food ordered online, mostly in town
COLD_SHARE_OTHER = 0.015
TOMORROW_SHARE = 0.12
HEAVY_SHARE = 0.015

FloatArray = npt.NDArray[np.float64]


def generate_day(
    county: County,
    n_parcels: int = 10_000,
    seed: int = 0,
    date: dt.date | None = None,
    *,
    pickup_share: float = PICKUP_SHARE,
    cold_factor: float = 1.0,
) -> list[Parcel]:
    """`n_parcels` parcels due on `date` (default today) or the day after; same seed, same day.

    `pickup_share` of them are farm-produce pickups; `cold_factor` multiplies the chilled
    shares of deliveries and pickups (planners' what-ifs). Sorted by carrier (CARRIERS order)
    then tracking number.
    """
    day = date if date is not None else dt.date.today()
    rng = np.random.default_rng(seed)
    targets = [p for p in county.points if p.kind in ("station", "village")]
    delivery_w, pickup_w, cold_p = _point_weights(targets, county, rng)
    cold_p = np.minimum(cold_p * cold_factor, 1.0)
    n_pickup = round(n_parcels * pickup_share)
    points = np.concatenate(
        [
            rng.choice(len(targets), n_pickup, p=pickup_w / pickup_w.sum()),
            rng.choice(len(targets), n_parcels - n_pickup, p=delivery_w / delivery_w.sum()),
        ]
    )
    is_pickup = np.arange(n_parcels) < n_pickup
    cold = np.where(
        is_pickup,
        rng.random(n_parcels) < min(1.0, PICKUP_COLD_SHARE * cold_factor),
        rng.random(n_parcels) < cold_p[points],
    )
    kg = _delivery_kg(rng, n_parcels)
    kg = np.where(cold, rng.lognormal(math.log(2.0), 0.5, n_parcels).clip(0.5, 8.0), kg)
    kg = np.where(is_pickup, rng.uniform(5.0, 20.0, n_parcels), kg)
    litres_per_kg = np.where(
        is_pickup, rng.uniform(1.5, 3.0, n_parcels), rng.lognormal(math.log(4.5), 0.5, n_parcels)
    )
    weight_g = np.round(kg * 1000).astype(np.int64)
    volume_ml = np.maximum(np.round(kg * litres_per_kg * 1000), 300).astype(np.int64)
    tomorrow = (rng.random(n_parcels) < TOMORROW_SHARE) & ~cold
    shares = np.array([c.share for c in CARRIERS])
    carrier_idx = rng.choice(len(CARRIERS), n_parcels, p=shares / shares.sum())
    tracking = _tracking_numbers(rng, carrier_idx, day)
    parcels = [
        Parcel(
            tracking_no=tracking[i],
            carrier=CARRIERS[carrier_idx[i]].name,
            kind="pickup" if is_pickup[i] else "delivery",
            point_id=targets[points[i]].point_id,
            weight_g=int(weight_g[i]),
            volume_ml=int(volume_ml[i]),
            cold=bool(cold[i]),
            due_date=day + dt.timedelta(days=int(tomorrow[i])),
        )
        for i in range(n_parcels)
    ]
    order = {c.name: k for k, c in enumerate(CARRIERS)}
    return sorted(parcels, key=lambda p: (order[p.carrier], p.tracking_no))


def write_demo_manifests(parcels: Sequence[Parcel], out_dir: Path, county: County) -> list[Path]:
    """Write DIR/manifests/<carrier code>.csv, one per carrier present; returns the paths.

    Rows name their place by point_id, WGS-84 or GCJ-02 coordinates (a stable third each),
    the coordinates jittered inside the point's service area. Some carriers' files are GBK
    or UTF-8 with BOM, as Excel writes them.
    """
    folder = out_dir / "manifests"
    folder.mkdir(parents=True, exist_ok=True)
    positions = _jittered_positions(parcels, county)
    by_name = {c.name: c for c in CARRIERS}
    groups: dict[str, list[Parcel]] = {}
    for p in parcels:
        groups.setdefault(p.carrier, []).append(p)
    paths = []
    for name, group in groups.items():
        carrier = by_name.get(name)
        code = carrier.code if carrier else f"carrier-{zlib.crc32(name.encode()):08x}"
        path = folder / f"{code}.csv"
        encoding = carrier.encoding if carrier else "utf-8"
        write_manifest_csv(group, path, county, "mixed", positions=positions, encoding=encoding)
        paths.append(path)
    return paths


def _point_weights(
    targets: Sequence[ServicePoint], county: County, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per target point: delivery weight, pickup weight, chance a delivery is cold."""
    subdistricts = {p.point_id for p in county.points if p.kind == "station" and "街道" in p.name}
    delivery, pickup, cold = [], [], []
    for p in targets:
        community = p.kind == "village" and p.name.endswith("社区")
        if p.kind == "station":
            weights = (1.5, 0.5, COLD_SHARE_OTHER)
        elif community and p.town_id in URBAN_CORE_TOWNS:
            weights = (8.0, 0.1, COLD_SHARE_COMMUNITY)
        elif community:
            weights = (4.0 if p.town_id in subdistricts else 3.0, 0.2, COLD_SHARE_COMMUNITY)
        else:
            weights = (1.0, 1.0, COLD_SHARE_OTHER)
        delivery.append(weights[0])
        pickup.append(weights[1])
        cold.append(weights[2])
    noise = rng.lognormal(0.0, 0.4, (2, len(delivery)))
    return np.array(delivery) * noise[0], np.array(pickup) * noise[1], np.array(cold)


def _delivery_kg(rng: np.random.Generator, n: int) -> FloatArray:
    """Parcel weights (kg): lognormal around 0.7 kg, with 1.5 % heavy ones of 10-30 kg."""
    kg = rng.lognormal(math.log(0.7), 0.9, n).clip(0.05, 30.0)
    heavy = rng.random(n) < HEAVY_SHARE
    return np.where(heavy, rng.uniform(10.0, 30.0, n), kg)


def _tracking_numbers(
    rng: np.random.Generator, carrier_idx: npt.NDArray[np.int64], day: dt.date
) -> list[str]:
    """Unique tracking numbers in each carrier's format; the first digits encode the day."""
    out = [""] * len(carrier_idx)
    stem = day.strftime("%y%m%d")
    for k, c in enumerate(CARRIERS):
        rows = np.flatnonzero(carrier_idx == k)
        tail = c.digits - len(stem)
        numbers: set[int] = set()
        while len(numbers) < len(rows):
            numbers.update(int(x) for x in rng.integers(0, 10**tail, len(rows) - len(numbers)))
        for i, number in zip(rows, sorted(numbers), strict=True):
            out[i] = f"{c.prefix}{stem}{number:0{tail}d}"
    return out


def _jittered_positions(
    parcels: Sequence[Parcel], county: County, seed: int = 0
) -> dict[str, tuple[float, float]]:
    """A WGS-84 position per parcel near its point and safely inside the point's service area.

    Offsets up to a third of the distance to the nearest other point (at most 1.5 km); a
    candidate is kept only if it and four spots 5 m around it all locate to the point,
    otherwise the radius is halved (four times), then the point itself is used.
    """
    areas = ServiceAreas(county.points, county.boundary)
    rng = np.random.default_rng(seed)
    point_ids = [p.point_id for p in parcels]
    lon0 = np.array([county.point(p.point_id).lon for p in parcels])
    lat0 = np.array([county.point(p.point_id).lat for p in parcels])
    m_per_deg_lat = 111_320.0
    m_per_deg_lon = m_per_deg_lat * np.cos(np.radians(lat0))
    radius_m = _nearest_neighbour_m(county)
    radius = np.array([min(radius_m[p.point_id] / 3, 1500.0) for p in parcels])
    lon, lat = lon0.copy(), lat0.copy()
    todo = np.arange(len(parcels))
    for _ in range(5):
        if not len(todo):
            break
        angle = rng.uniform(0, 2 * math.pi, len(todo))
        dist = radius[todo] * np.sqrt(rng.random(len(todo)))
        cand_lon = lon0[todo] + dist * np.cos(angle) / m_per_deg_lon[todo]
        cand_lat = lat0[todo] + dist * np.sin(angle) / m_per_deg_lat
        ok = np.ones(len(todo), bool)
        for dx, dy in ((0, 0), (5, 0), (-5, 0), (0, 5), (0, -5)):
            lons = cand_lon + dx / m_per_deg_lon[todo]
            found = areas.locate_many(lons.tolist(), (cand_lat + dy / m_per_deg_lat).tolist())
            ok &= np.array([f == point_ids[i] for f, i in zip(found, todo.tolist(), strict=True)])
        lon[todo[ok]], lat[todo[ok]] = cand_lon[ok], cand_lat[ok]
        radius[todo] /= 2
        todo = todo[~ok]
    return {p.tracking_no: (float(x), float(y)) for p, x, y in zip(parcels, lon, lat, strict=True)}


def _nearest_neighbour_m(county: County) -> dict[str, float]:
    """Straight-line metres from each point to the nearest other point (equirectangular)."""
    lon = np.array([p.lon for p in county.points])
    lat = np.array([p.lat for p in county.points])
    x = np.radians(lon) * np.cos(np.radians(lat.mean())) * 6_371_000
    y = np.radians(lat) * 6_371_000
    d = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    np.fill_diagonal(d, np.inf)
    return {p.point_id: float(v) for p, v in zip(county.points, d.min(axis=1), strict=True)}
