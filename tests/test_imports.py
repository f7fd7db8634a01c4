"""Heavy libraries are imported at first use, not when the project's modules are imported."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("geodata", "optimizer", "dispatch", "api")
HEAVY = ("osmnx", "osmium", "reportlab", "pyvrp", "matplotlib", "dask", "openpyxl", "fontTools")


def _top_level_imports(path: Path) -> set[str]:
    """Top-level packages a module imports at module level (not inside functions)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def _modules() -> tuple[list[str], list[str]]:
    """(modules to import, owners): an owner imports a heavy library at module level."""
    plain, owners = [], []
    for package in PACKAGES:
        for info in pkgutil.walk_packages([str(ROOT / package)], prefix=f"{package}."):
            if info.name.endswith("__main__"):
                continue
            path = ROOT / Path(*info.name.split("."))
            path = path / "__init__.py" if info.ispkg else path.with_suffix(".py")
            heavy = _top_level_imports(path) & set(HEAVY)
            (owners if heavy else plain).append(info.name)
    return plain, owners


def test_heavy_libraries_load_at_first_use_only() -> None:
    plain, owners = _modules()
    assert "api.app" in plain and "api.cli" in plain and "dispatch.service" in plain
    assert "geodata.osm" in owners  # ownership itself is import-linter's contract
    code = (
        "import importlib, json, sys\n"
        f"for name in {plain!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in {list(HEAVY)!r} if m in sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_the_synthetic_day_and_the_pdf_module_do_no_heavy_work_up_front() -> None:
    """Planning on the synthetic network loads no OSM library; importing the PDF module
    registers no font (that happens at the first PDF)."""
    code = (
        "import json, sys\n"
        "from dispatch.workspace import Workspace\n"
        "ws = Workspace.default()\n"
        "vtype = next(iter(ws.fleet.types))\n"
        "ws.travel_s(vtype, ws.hub_id, ws.points[5].point_id, ws.fleet)\n"
        "import dispatch.sheet_pdf as sheet_pdf\n"
        "from reportlab.pdfbase import pdfmetrics\n"
        "print(json.dumps([sorted(m for m in ('osmnx', 'osmium') if m in sys.modules),\n"
        "                  sheet_pdf.FONT in pdfmetrics.getRegisteredFontNames()]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [[], False]
