"""Shared fixtures: the embedded county, its synthetic network, and an isolated matrix cache."""

from __future__ import annotations

from collections.abc import Iterator

import networkx as nx
import pytest

from geodata.county import County, load_county
from geodata.matrix import clear_memory_cache
from geodata.network import RoadNetwork, attach_points
from geodata.roads import synthetic_network


@pytest.fixture(scope="session")
def county() -> County:
    return load_county()


@pytest.fixture(scope="session")
def graph(county: County) -> nx.MultiDiGraph:
    return synthetic_network(county)


@pytest.fixture(scope="session")
def net(county: County, graph: nx.MultiDiGraph) -> RoadNetwork:
    return attach_points(graph, county.points)


@pytest.fixture(scope="session")
def small_county(county: County) -> County:
    """The hub and five towns (stations and villages) near the city: quick to route on."""
    towns = {"500118001", "500118002", "500118003", "500118005", "500118100"}
    points = [p for p in county.points if p.kind == "hub" or p.town_id in towns]
    return County(points=points, boundary=county.boundary)


@pytest.fixture(scope="session")
def small_graph(small_county: County) -> nx.MultiDiGraph:
    return synthetic_network(small_county)


@pytest.fixture(autouse=True)
def no_disk_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests never write to ~/.cache; each starts with an empty in-memory matrix cache."""
    monkeypatch.setenv("RURALDISPATCH_CACHE", "")
    clear_memory_cache()
    yield
    clear_memory_cache()
