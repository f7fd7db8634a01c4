"""The loaded county: service points, road network, service areas, travel matrices, fleet."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dispatch.fleet import Fleet, VehicleType, fleet_for_county
from geodata.areas import ServiceAreas
from geodata.closures import ClosedRoads, Closure, close_roads
from geodata.county import County, load_county, load_county_dir, read_county
from geodata.county_roads import check_roads, county_graph
from geodata.matrix import TravelMatrix, TravelProfile, road_path, travel_matrix
from geodata.network import RoadNetwork, attach_points
from geodata.points import ServicePoint
from geodata.problems import CountyError, Problem

__all__ = [
    "CountyCheck",
    "CountyError",
    "Problem",
    "Workspace",
    "check_county",
    "county_of",
    "profile_of",
    "workspace_of",
]


#: Closure sets whose workspaces (roads, matrices) are kept per county, oldest dropped first.
_CLOSED_KEPT = 8


def profile_of(vtype: VehicleType) -> TravelProfile:
    """The travel profile (speed factor and cap) of a vehicle type."""
    return TravelProfile(speed_factor=vtype.speed_factor, max_speed_kph=vtype.max_speed_kph)


@dataclass
class Workspace:
    """Everything a plan is computed against; build once per process and reuse."""

    county: County
    network: RoadNetwork
    areas: ServiceAreas
    fleet: Fleet
    network_source: str = "synthetic"
    #: (county folder, road file) it was loaded from by `load` ("" for the defaults), so
    #: another process can load the same; None for a workspace built by hand.
    origin: tuple[str, str] | None = None
    #: The road closures of the day this workspace plans around (None: every road is open).
    closed: ClosedRoads | None = None
    #: Seconds it took to close the roads (resolve the closures, find what they cut off).
    closing_s: float = 0.0
    _index: dict[str, int] = field(default_factory=dict)
    _matrices: dict[TravelProfile, TravelMatrix] = field(default_factory=dict)
    _open: Workspace | None = field(default=None, repr=False)
    _with: dict[str, Workspace] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index = {p.point_id: i for i, p in enumerate(self.county.points)}

    @classmethod
    def default(cls, network: Path | None = None) -> Workspace:
        """The embedded Yongchuan county, on the synthetic roads or an OSM file (cached)."""
        return cls.load(None, network)

    @classmethod
    def load(cls, county: Path | None = None, network: Path | None = None) -> Workspace:
        """The county of a folder (None: the embedded Yongchuan) on its roads, or on the road
        file `network`; built once per process and folder.

        ValueError (CountyError, FarFromRoad, ...) naming what is wrong.
        """
        folder = str(Path(county).resolve()) if county is not None else ""
        return _workspace(folder, str(network) if network else "")

    @property
    def open(self) -> Workspace:
        """The same county with every road open."""
        return self._open or self

    @property
    def closures(self) -> tuple[Closure, ...]:
        """The closures this workspace plans around."""
        return self.closed.closures if self.closed else ()

    def with_closures(self, closures: Sequence[Closure]) -> Workspace:
        """This county with `closures` added to its own (the open workspace when none);
        the travel matrices are recomputed around them where they change.

        ClosureError (a ValueError) naming the source, row and field of a closure that names an
        unknown point, a place far from the roads, or closes nothing.
        """
        every = (*self.closures, *closures)
        if not every:
            return self.open
        key = json.dumps([c.as_json() for c in every], sort_keys=True, ensure_ascii=False)
        base = self.open
        if key not in base._with:
            while len(base._with) >= _CLOSED_KEPT:
                base._with.pop(next(iter(base._with)))
            started = time.perf_counter()
            hub = base.index(base.hub_id)
            closed = close_roads(base.network, every, hub, base.county.settings.max_access_m)
            base._with[key] = Workspace(
                county=base.county,
                network=closed.network,
                areas=base.areas,
                fleet=base.fleet,
                network_source=base.network_source,
                origin=base.origin,
                closed=closed,
                closing_s=time.perf_counter() - started,
                _open=base,
            )
        return base._with[key]

    def cut_off(self) -> dict[str, str]:
        """Point id -> the closures (labels or descriptions) that cut it off from the hub."""
        if self.closed is None:
            return {}
        closures = self.closed.closures
        return {
            self.county.points[i].point_id: "; ".join(closures[k].describe() for k in ks)
            for i, ks in self.closed.cut_off.items()
        }

    @property
    def points(self) -> list[ServicePoint]:
        """All service points: hub, stations, villages."""
        return self.county.points

    @property
    def hub_id(self) -> str:
        """The id of the county's hub."""
        return self.county.hub_id

    def has(self, point_id: str) -> bool:
        """True when `point_id` is a service point of the county."""
        return point_id in self._index

    def index(self, point_id: str) -> int:
        """Row of `point_id` in the travel matrices."""
        return self._index[point_id]

    def point(self, point_id: str) -> ServicePoint:
        """The service point `point_id`."""
        return self.county.points[self._index[point_id]]

    def matrices(self, fleet: Fleet) -> float:
        """Compute the matrices of every vehicle type of `fleet` now; the seconds it took."""
        started = time.perf_counter()
        for vtype in fleet.types.values():
            self.matrix(vtype)
        return time.perf_counter() - started

    def matrix(self, vtype: VehicleType) -> TravelMatrix:
        """Distances (m) and times (s) between all points for a vehicle type."""
        prof = profile_of(vtype)
        if prof not in self._matrices:
            self._matrices[prof] = travel_matrix(self.network, prof)
        return self._matrices[prof]

    def travel_s(self, vtype_name: str, a: str, b: str, fleet: Fleet | None = None) -> int:
        """Travel time (s) from point a to point b for a vehicle type."""
        m = self.matrix((fleet or self.fleet).types[vtype_name])
        return int(m.duration_s[self._index[a], self._index[b]])

    def travel_m(self, vtype_name: str, a: str, b: str, fleet: Fleet | None = None) -> int:
        """Road distance (m) from point a to point b for a vehicle type."""
        m = self.matrix((fleet or self.fleet).types[vtype_name])
        return int(m.distance_m[self._index[a], self._index[b]])

    def submatrices(
        self, vtype: VehicleType, point_ids: list[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(distance_m, duration_s) restricted to `point_ids`, in that order."""
        idx = np.array([self._index[p] for p in point_ids], dtype=np.int64)
        m = self.matrix(vtype)
        sel = np.ix_(idx, idx)
        return m.distance_m[sel], m.duration_s[sel]

    def geometry(self, point_ids: list[str]) -> list[tuple[float, float]]:
        """Road polyline (lon, lat) through the given points in order: around the closures,
        or, for a route that left before a closure cut one of its points off, as planned."""
        stops = [self._index[p] for p in point_ids]
        try:
            return road_path(self.network, stops)
        except ValueError:
            if self._open is None:
                raise
            return road_path(self._open.network, stops)


@functools.lru_cache(maxsize=4)
def _workspace(folder: str, network: str) -> Workspace:
    county = load_county_dir(Path(folder)) if folder else load_county()
    ws = workspace_of(county, Path(network) if network else None)
    ws.origin = (folder, network)
    return ws


def workspace_of(county: County, network: Path | None = None) -> Workspace:
    """A workspace for a county built in memory (e.g. a what-if's changed county) on its own
    roads or the road file `network`; its `origin` is None (not loadable elsewhere)."""
    graph, source = county_graph(county, network)
    net = attach_points(graph, county.points, county.settings.max_access_m)
    areas = ServiceAreas(county.points, county.boundary)
    return Workspace(
        county=county,
        network=net,
        areas=areas,
        fleet=fleet_for_county(county),
        network_source=source,
    )


def county_of(folder: Path | None) -> County:
    """The county of a folder (None: the embedded Yongchuan), without its roads.

    CountyError (a ValueError) naming every problem of the folder.
    """
    return load_county_dir(folder) if folder is not None else load_county()


@dataclass
class CountyCheck:
    """What `county check` found: the county (None if its files are broken), the road source,
    counts of the roads (ways cut at the extract's edge...) and every problem."""

    county: County | None
    network_source: str
    road_stats: dict[str, int]
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        """The problems that make the folder unusable."""
        return [p for p in self.problems if not p.warning]


def check_county(folder: Path, network: Path | None = None) -> CountyCheck:
    """Check a county folder and its roads (or the road file `network`); never raises for
    bad input: every problem is in the result, named by file, row and field."""
    county, problems = read_county(folder)
    if county is None:
        return CountyCheck(None, "", {}, problems)
    try:
        graph, source = county_graph(county, network)
    except ValueError as exc:
        key = "--network" if network is not None else "network"
        problems.append(
            Problem("county.toml" if network is None else str(network), 0, key, str(exc))
        )
        return CountyCheck(county, "", {}, problems)
    stats = {k: int(v) for k, v in graph.graph.items() if k.startswith(("ways", "edges"))}
    stats["nodes"] = graph.number_of_nodes()
    stats["edges"] = graph.number_of_edges()
    _, road_problems = check_roads(county, graph, source)
    return CountyCheck(county, source, stats, problems + road_problems)
