from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import Point

from geodata.areas import ServiceAreas
from geodata.county import County


@pytest.fixture(scope="module")
def areas(county: County) -> ServiceAreas:
    return ServiceAreas(county.points, county.boundary)


def test_each_point_locates_to_itself(county: County, areas: ServiceAreas) -> None:
    served = county.points[1:]
    found = areas.locate_many([p.lon for p in served], [p.lat for p in served])
    assert found == [p.point_id for p in served]
    assert areas.locate(served[40].lon, served[40].lat) == served[40].point_id


def test_outside_is_none(county: County, areas: ServiceAreas) -> None:
    assert areas.locate(116.4, 39.9) is None
    assert areas.locate(105.60, 29.60) is None  # inside the bbox, outside the district
    assert areas.locate(county.points[0].lon, county.points[0].lat) != "HUB"


def test_cells_tile_the_district(county: County, areas: ServiceAreas) -> None:
    cells = areas.cells()
    assert set(cells) == {p.point_id for p in county.points[1:]}
    assert sum(c.area for c in cells.values()) == pytest.approx(county.boundary.area, rel=1e-5)
    rng = np.random.default_rng(3)
    lons, lats = rng.uniform(105.6, 106.1, 300), rng.uniform(28.9, 29.6, 300)
    found = areas.locate_many(lons, lats)
    for lon, lat, point_id in zip(lons, lats, found, strict=True):
        assert point_id == areas.locate(lon, lat)
        if point_id is not None:
            assert cells[point_id].buffer(1e-9).contains(Point(lon, lat))


def test_bad_input(county: County, areas: ServiceAreas) -> None:
    with pytest.raises(ValueError):
        areas.locate_many([105.9], [])
    with pytest.raises(ValueError):
        ServiceAreas(county.points[:1], county.boundary)
    assert areas.locate_many([], []) == []
