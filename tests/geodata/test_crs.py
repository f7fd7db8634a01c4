from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geodata.crs import (
    EARTH_RADIUS_M,
    from_utm,
    gcj02_to_wgs84,
    great_circle_m,
    to_utm,
    wgs84_to_gcj02,
)


def test_forward_matches_published_offsets() -> None:
    # 中山路街道 seat: WGS-84 and GCJ-02 positions as listed together (5 decimals).
    lon, lat = wgs84_to_gcj02(105.90435, 29.35695)
    assert (lon, lat) == pytest.approx((105.90782, 29.35395), abs=1e-5)


def test_outside_china_is_unshifted() -> None:
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)
    assert gcj02_to_wgs84(2.35, 48.85) == (2.35, 48.85)


@given(st.floats(min_value=73.0, max_value=135.0), st.floats(min_value=18.0, max_value=53.0))
def test_round_trip_within_a_centimetre(lon: float, lat: float) -> None:
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert abs(glon - lon) + abs(glat - lat) > 1e-4  # the shift is real (tens of metres or more)
    back = gcj02_to_wgs84(glon, glat)
    assert back == pytest.approx((lon, lat), abs=1e-7)  # 1e-7 degrees ~ 1 cm


def test_utm_round_trip() -> None:
    x, y = to_utm([105.9], [29.35])
    assert 580_000 < x[0] < 600_000 and 3_240_000 < y[0] < 3_260_000
    lon, lat = from_utm(x, y)
    assert (lon[0], lat[0]) == pytest.approx((105.9, 29.35), abs=1e-9)


def test_great_circle_one_pair_or_arrays() -> None:
    one_degree = great_circle_m(105.9, 29.0, 105.9, 30.0)  # along a meridian
    assert isinstance(one_degree, float)
    assert one_degree == pytest.approx(EARTH_RADIUS_M * math.pi / 180, rel=1e-12)
    assert great_circle_m(105.9, 29.3, 105.9, 29.3) == 0.0
    lon = np.array([105.80, 105.95, 106.10])
    lat = np.array([29.20, 29.35, 29.50])
    pairs = great_circle_m(lon[:-1], lat[:-1], lon[1:], lat[1:])
    assert isinstance(pairs, np.ndarray) and pairs.shape == (2,)
    for k in range(2):
        one = great_circle_m(float(lon[k]), float(lat[k]), float(lon[k + 1]), float(lat[k + 1]))
        assert pairs[k] == pytest.approx(one, rel=1e-12)
