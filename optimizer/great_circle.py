"""Great-circle distance on a spherical Earth, the optimizer's one geodesy helper.

The optimizer works on matrices; this fills one when a textbook input (VROOM JSON without
matrices) gives only [lon, lat] points.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: Mean Earth radius (m): the IUGG mean radius that osmnx, and so geodata, also use (the
#: leaves may not import each other, so each names it once).
EARTH_RADIUS_M = 6_371_009.0


def great_circle_matrix(points: list[tuple[float, float]]) -> npt.NDArray[np.float64]:
    """Great-circle distances (m, float) between [lon, lat] points."""
    arr = np.radians(np.asarray(points, dtype=np.float64).reshape(-1, 2))
    lon, lat = arr[:, 0], arr[:, 1]
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    h = np.sin(dlat / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlon / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))))
