"""OSM PBF loading benchmark: time and peak memory to load an extract for one county, first
start (parse) and second start (disk cache), at several file sizes of real road density.

python -m benchmarks.pbf [--tiles 1 4 15] [--workdir DIR]

Sizes are tilings of the real Karhula extract of the tests (137 KB; n x n copies side by side,
joined by roads; 15 x 15 is about 30 MB, the size of Chongqing's extract). The county is the
middle third of the tiling in each direction (about 1/9 of its area); "whole file" loads every
road. Each measurement runs in a fresh process: seconds and its peak RSS. The second start
also attaches 300 points (edges split beside them), as a county's workspace does.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from shapely.geometry import box

from geodata.extract import tile_extract
from geodata.network import attach_points
from geodata.osm import load_network
from geodata.points import ServicePoint

SOURCE = Path(__file__).parents[1] / "tests" / "geodata" / "data" / "karhula.osm.pbf"
POINTS = 300


def main(argv: list[str] | None = None) -> None:
    """Build the tilings, measure each in child processes, print a table and the per-MB rate."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tiles", type=int, nargs="+", default=[1, 4, 15])
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "rd-pbf")
    ap.add_argument("--child", choices=["load", "start"], help=argparse.SUPPRESS)
    ap.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--clip", type=str, default="", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child, args.file, args.clip)))
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    table = Table(title="Loading an OSM PBF extract (fresh process each; seconds, peak RSS)")
    for col in ("file", "MB", "roads loaded", "nodes", "edges", "first s", "first MB RSS"):
        table.add_column(col, justify="right")
    table.add_column("second start s", justify="right")
    table.add_column("second MB RSS", justify="right")
    rates = []
    for n in args.tiles:
        path = args.workdir / f"karhula-{n}x{n}.osm.pbf"
        if not path.exists():
            partial = path.with_name(f"partial-{path.name}")
            tile_extract(SOURCE, partial, n, n)
            partial.replace(path)
        megabytes = path.stat().st_size / 1e6
        county = _county_box(path, n)
        for label, clip in (("county", county), ("whole file", "")):
            with tempfile.TemporaryDirectory() as cache:
                first = _run("load", path, clip, cache)
                second = _run("start", path, clip, cache)
            table.add_row(
                path.name,
                f"{megabytes:.1f}",
                label,
                f"{first['nodes']:,}",
                f"{first['edges']:,}",
                f"{first['seconds']:.2f}",
                f"{first['rss_mb']:.0f}",
                f"{second['seconds']:.2f}",
                f"{second['rss_mb']:.0f}",
            )
            if label == "county":
                rates.append((megabytes, first["seconds"], first["rss_mb"]))
    console = Console(width=150)
    console.print(table)
    megabytes, seconds, rss = max(rates)
    per_mb = seconds / megabytes
    console.print(
        f"First load of a county: {per_mb:.2f} s per MB of PBF at {megabytes:.1f} MB "
        f"-> {31 * per_mb:.0f} s for a 31 MB extract (target <= 60 s); "
        f"peak RSS {rss:.0f} MB (target <= 2,048 MB)."
    )


def _county_box(path: Path, n: int) -> str:
    """The middle third of the tiling (lon/lat box) as "minx,miny,maxx,maxy"."""
    graph = load_network(path) if n == 1 else None
    if graph is None:
        single = load_network(SOURCE)
        xs = [d["x"] for _, d in single.nodes(data=True)]
        ys = [d["y"] for _, d in single.nodes(data=True)]
        minx, miny = min(xs), min(ys)
        width = (max(xs) - minx + 0.002) * n
        height = (max(ys) - miny + 0.002) * n
    else:
        xs = [d["x"] for _, d in graph.nodes(data=True)]
        ys = [d["y"] for _, d in graph.nodes(data=True)]
        minx, miny = min(xs), min(ys)
        width, height = max(xs) - minx, max(ys) - miny
    return f"{minx + width / 3},{miny + height / 3},{minx + 2 * width / 3},{miny + 2 * height / 3}"


def _run(kind: str, path: Path, clip: str, cache: str) -> dict[str, Any]:
    """One measurement in a fresh Python process sharing the disk cache `cache`."""
    command = [sys.executable, "-m", "benchmarks.pbf", "--child", kind, "--file", str(path)]
    env = {**os.environ, "RURALDISPATCH_CACHE": cache}
    done = subprocess.run(
        [*command, "--clip", clip], capture_output=True, text=True, env=env, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _child(kind: str, path: Path, clip: str) -> dict[str, Any]:
    """Load (and for "start" attach points); seconds from the call, peak RSS of the process."""
    polygon = box(*(float(v) for v in clip.split(","))) if clip else None
    started = time.perf_counter()
    graph = load_network(path, clip=polygon)
    if kind == "start":
        rng = np.random.default_rng(0)
        nodes = list(graph.nodes)
        chosen = rng.choice(len(nodes), size=min(POINTS, len(nodes)), replace=False)
        points = []
        for k, i in enumerate(chosen.tolist()):
            d = graph.nodes[nodes[i]]
            lon, lat = d["x"] + rng.uniform(-5e-4, 5e-4), d["y"] + rng.uniform(-3e-4, 3e-4)
            points.append(ServicePoint(f"P{k}", f"P{k}", "village", "T", lon, lat, 0, 86400))
        attach_points(graph, points, max_access_m=2000).fingerprint()
    seconds = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "seconds": seconds,
        "rss_mb": rss_mb,
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
    }


if __name__ == "__main__":
    main()
