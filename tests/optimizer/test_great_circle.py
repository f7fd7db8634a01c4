"""The optimizer's great-circle matrix, and one Earth radius in both leaves."""

from __future__ import annotations

import math

import pytest

from geodata.crs import EARTH_RADIUS_M as GEODATA_RADIUS_M
from geodata.crs import great_circle_m
from optimizer.great_circle import EARTH_RADIUS_M, great_circle_matrix


def test_matrix_is_symmetric_with_a_zero_diagonal_and_meridian_degrees() -> None:
    points = [(105.9, 29.0), (105.9, 30.0), (106.2, 29.4)]
    metres = great_circle_matrix(points)
    assert metres.shape == (3, 3) and (metres == metres.T).all()
    assert metres.diagonal().tolist() == [0.0, 0.0, 0.0]
    assert metres[0, 1] == pytest.approx(EARTH_RADIUS_M * math.pi / 180, rel=1e-12)


def test_the_leaves_measure_the_earth_alike() -> None:
    """geodata and optimizer may not import each other; each names the radius once."""
    assert EARTH_RADIUS_M == GEODATA_RADIUS_M
    points = [(105.8, 29.2), (106.1, 29.5)]
    expected = great_circle_m(*points[0], *points[1])
    assert great_circle_matrix(points)[0, 1] == pytest.approx(expected, rel=1e-12)
