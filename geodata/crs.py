"""Coordinates: GCJ-02 (Chinese map apps) <-> WGS-84, WGS-84 <-> UTM metres, and the
great-circle distance between WGS-84 points (geodata's one such helper).

Metres are taken in the UTM zone of the county (`utm_crs`); Chongqing's is 48N (EPSG:32648),
the default of every projection here.

GCJ-02 is the obfuscated datum used by AMap, Tencent and Baidu's base layer (offset about 300-600 m
in China). The forward formula is public; the inverse has no closed form and is found by iteration.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import overload

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

#: The GCJ-02 formula's own ellipsoid, Krasovsky 1940: semi-major axis (m) and first
#: eccentricity squared. Part of the published formula, not an Earth radius to reuse.
_KRASOVSKY_A_M = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
_INVERSE_TOL_DEG = 1e-10  # ~1 cm
_INVERSE_MAX_ITER = 30

UTM48N = "EPSG:32648"


#: Mean Earth radius (m) for great-circle distances, the value osmnx uses for edge lengths.
EARTH_RADIUS_M = 6_371_009.0

FloatArray = npt.NDArray[np.float64]


@overload
def great_circle_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float: ...
@overload
def great_circle_m(
    lon1: FloatArray, lat1: FloatArray, lon2: FloatArray, lat2: FloatArray
) -> FloatArray: ...
def great_circle_m(
    lon1: float | FloatArray,
    lat1: float | FloatArray,
    lon2: float | FloatArray,
    lat2: float | FloatArray,
) -> float | FloatArray:
    """Haversine distance (m) between WGS-84 points given in degrees, one pair or arrays."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    )
    metres = 2.0 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    return metres if isinstance(metres, np.ndarray) else float(metres)


def _out_of_china(lon: float, lat: float) -> bool:
    """GCJ-02 leaves points outside mainland China's rough bounding box unshifted."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """WGS-84 lon/lat (degrees) -> GCJ-02 lon/lat (degrees), the public forward formula."""
    if _out_of_china(lon, lat):
        return lon, lat
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _KRASOVSKY_EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_KRASOVSKY_A_M * (1 - _KRASOVSKY_EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_KRASOVSKY_A_M / sqrtmagic * math.cos(radlat) * math.pi)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 lon/lat -> WGS-84 lon/lat (degrees), by fixed-point iteration to about 1 cm."""
    wlon, wlat = lon, lat
    for _ in range(_INVERSE_MAX_ITER):
        glon, glat = wgs84_to_gcj02(wlon, wlat)
        dlon, dlat = glon - lon, glat - lat
        wlon, wlat = wlon - dlon, wlat - dlat
        if abs(dlon) < _INVERSE_TOL_DEG and abs(dlat) < _INVERSE_TOL_DEG:
            break
    return wlon, wlat


def utm_crs(lon: float, lat: float) -> str:
    """The UTM zone (WGS-84, "EPSG:326zz" north or "EPSG:327zz" south) holding lon/lat."""
    zone = min(60, max(1, int((lon + 180.0) // 6.0) + 1))
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def utm_crs_of(lons: npt.ArrayLike, lats: npt.ArrayLike) -> str:
    """The UTM zone of the middle of a set of lon/lat points (degrees)."""
    lon, lat = np.asarray(lons, float), np.asarray(lats, float)
    if lon.size == 0:
        return UTM48N
    return utm_crs(float((lon.min() + lon.max()) / 2), float((lat.min() + lat.max()) / 2))


@lru_cache(maxsize=16)
def _transformer(crs: str, inverse: bool) -> Transformer:
    if inverse:
        return Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True)


def to_utm(
    lons: npt.ArrayLike, lats: npt.ArrayLike, crs: str = UTM48N
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """WGS-84 lon/lat (degrees) -> easting/northing (metres) in the UTM zone `crs`, vectorised."""
    x, y = _transformer(crs, False).transform(np.asarray(lons, float), np.asarray(lats, float))
    return np.asarray(x, float), np.asarray(y, float)


def from_utm(
    xs: npt.ArrayLike, ys: npt.ArrayLike, crs: str = UTM48N
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Easting/northing (metres) in the UTM zone `crs` -> WGS-84 lon/lat (degrees), vectorised."""
    lon, lat = _transformer(crs, True).transform(np.asarray(xs, float), np.asarray(ys, float))
    return np.asarray(lon, float), np.asarray(lat, float)


def geometry_to_utm(geometry: BaseGeometry, crs: str = UTM48N) -> BaseGeometry:
    """A WGS-84 shapely geometry in metres of the UTM zone `crs`."""
    return shapely.transform(geometry, lambda xy: np.column_stack(to_utm(xy[:, 0], xy[:, 1], crs)))


def geometry_from_utm(geometry: BaseGeometry, crs: str = UTM48N) -> BaseGeometry:
    """A shapely geometry in metres of the UTM zone `crs` back in WGS-84 lon/lat."""
    return shapely.transform(
        geometry, lambda xy: np.column_stack(from_utm(xy[:, 0], xy[:, 1], crs))
    )


def buffer_m(geometry: BaseGeometry, metres: float) -> BaseGeometry:
    """A WGS-84 geometry grown by `metres` on the ground (done in its own UTM zone)."""
    minx, miny, maxx, maxy = geometry.bounds
    crs = utm_crs_of([minx, maxx], [miny, maxy])
    return geometry_from_utm(geometry_to_utm(geometry, crs).buffer(metres), crs)
