"""The command line end to end: demo, plan on its manifests, bad input refused, points, solve."""

from __future__ import annotations

import csv
import json
import math
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from api.limits import MAX_VROOM_INT
from optimizer.vroom import reader as vroom_reader
from tests.dispatch import poppler
from tests.dispatch.plan_json import assert_schema_valid

DAY = "2026-11-28"
HEADER = "tracking_no,carrier,kind,point_id,lon,lat,crs,weight_kg,volume_l,cold,due_date\n"
GOOD = "ZT001,中通快递,delivery,500118118201,,,,2.5,10,0,2026-11-28\n"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`ruraldispatch ARGS` in a child process, as a user would run it."""
    return subprocess.run(
        [sys.executable, "-c", "from api.cli import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        timeout=600,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "out"
    r = run(
        "demo",
        "--out",
        str(out),
        "--parcels",
        "300",
        "--seed",
        "5",
        "--time-limit",
        "8",
        "--mode",
        "via_station",
        "--date",
        DAY,
        "--driver-files",
    )
    assert r.returncode == 0, r.stderr
    return out


def test_demo_writes_manifests_plan_geojson_and_sheets(demo: Path) -> None:
    manifests = sorted((demo / "manifests").glob("*.csv"))
    assert len(manifests) >= 8
    header = manifests[0].read_bytes().split(b"\n", 1)[0].decode("utf-8-sig", "replace")
    assert header.strip().split(",") == HEADER.strip().split(",")
    plan = json.loads((demo / "plan.json").read_text(encoding="utf-8"))
    assert_schema_valid(plan)
    assert plan["status"] in ("feasible", "partial", "optimal")
    assert plan["kpis"]["parcels"] == 300
    assert {r["echelon"] for r in plan["routes"]} == {1, 2}
    geo = json.loads((demo / "routes.geojson").read_text(encoding="utf-8"))
    lines = [f for f in geo["features"] if f["geometry"]["type"] == "LineString"]
    assert len(lines) == len(plan["routes"])
    assert all(len(f["geometry"]["coordinates"]) >= 2 for f in lines)
    sheets = sorted((demo / "sheets").glob("*.csv"))
    assert [s.stem for s in sheets] == sorted(r["route_id"] for r in plan["routes"])
    for r in plan["routes"]:
        assert (demo / "sheets" / f"{r['route_id']}.pdf").read_bytes().startswith(b"%PDF")
        gpx = (demo / "sheets" / f"{r['route_id']}.gpx").read_text(encoding="utf-8")
        assert gpx.count("<wpt ") == len(r["stops"])


def test_plan_on_the_demo_manifests(demo: Path, tmp_path: Path) -> None:
    manifests = sorted(str(p) for p in (demo / "manifests").glob("*.csv"))
    out = tmp_path / "replanned"
    r = run(
        "plan",
        *manifests,
        "--out",
        str(out),
        "--time-limit",
        "8",
        "--mode",
        "direct",
        "--date",
        DAY,
    )
    assert r.returncode == 0, r.stderr
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert_schema_valid(plan)
    assert plan["kpis"]["parcels"] == 300
    assert plan["mode"] == "direct"
    assert {r["echelon"] for r in plan["routes"]} == {1}


BROKEN = {
    "unknown point": ("ZT1,中通快递,delivery,500118999999,,,,1,1,0,2026-11-28\n", "point_id"),
    "outside": ("ZT1,中通快递,delivery,,104.0,30.6,wgs84,1,1,0,2026-11-28\n", "lon"),
    "negative weight": ("ZT1,中通快递,delivery,500118118201,,,,-1,1,0,2026-11-28\n", "weight_kg"),
    "text volume": ("ZT1,中通快递,delivery,500118118201,,,,1,abc,0,2026-11-28\n", "volume_l"),
    "bad kind": ("ZT1,中通快递,return,500118118201,,,,1,1,0,2026-11-28\n", "kind"),
    "bad cold": ("ZT1,中通快递,delivery,500118118201,,,,1,1,2,2026-11-28\n", "cold"),
    "bad date": ("ZT1,中通快递,delivery,500118118201,,,,1,1,0,2026-13-40\n", "due_date"),
    "bad crs": ("ZT1,中通快递,delivery,,105.9,29.35,bd09,1,1,0,2026-11-28\n", "crs"),
    "duplicate": (GOOD + GOOD, "tracking_no"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_manifest_exits_2_names_file_row_field_and_writes_nothing(
    tmp_path: Path, case: str
) -> None:
    rows, field = BROKEN[case]
    path = tmp_path / "zto.csv"
    path.write_text(HEADER + GOOD.replace("ZT001", "ZT000") + rows, encoding="utf-8")
    out = tmp_path / "out"
    r = run("plan", str(path), "--out", str(out), "--time-limit", "1", "--date", DAY)
    assert r.returncode == 2, r.stderr
    assert "zto.csv" in r.stderr and "row 2" in r.stderr and field in r.stderr
    assert not out.exists()


def test_missing_column_and_cross_file_duplicate(tmp_path: Path) -> None:
    a = tmp_path / "a.csv"
    a.write_text(
        HEADER.replace(",cold", "") + "ZT1,中通快递,delivery,500118118201,,,,1,1,2026-11-28\n",
        encoding="utf-8",
    )
    r = run("plan", str(a), "--out", str(tmp_path / "o1"), "--date", DAY)
    assert r.returncode in (0, 2)  # cold is optional when absent: see manifest docs
    b = tmp_path / "b.csv"
    c = tmp_path / "c.csv"
    b.write_text(HEADER + GOOD, encoding="utf-8")
    c.write_text(HEADER + GOOD, encoding="utf-8")
    r = run("plan", str(b), str(c), "--out", str(tmp_path / "o2"), "--date", DAY)
    assert r.returncode == 2
    assert "c.csv" in r.stderr and "tracking_no" in r.stderr
    assert not (tmp_path / "o2").exists()
    d = tmp_path / "d.csv"
    d.write_text(
        HEADER.replace(",weight_kg", "") + "ZT1,中通快递,delivery,500118118201,,,,1,0,x\n",
        encoding="utf-8",
    )
    r = run("plan", str(d), "--out", str(tmp_path / "o3"), "--date", DAY)
    assert r.returncode == 2 and "weight_kg" in r.stderr


def test_skip_invalid_plans_the_rest_and_lists_the_invalid_rows(tmp_path: Path) -> None:
    path = tmp_path / "zto.csv"
    path.write_text(HEADER + GOOD + BROKEN["bad kind"][0], encoding="utf-8")
    out = tmp_path / "out"
    r = run(
        "plan", str(path), "--out", str(out), "--time-limit", "1", "--skip-invalid", "--date", DAY
    )
    assert r.returncode == 0, r.stderr
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert plan["kpis"]["parcels"] == 1
    assert plan["invalid_rows"] == [
        {
            "file": "zto.csv",
            "row": 2,
            "field": "kind",
            "message": plan["invalid_rows"][0]["message"],
        }
    ]


def test_gbk_manifest_is_read(tmp_path: Path) -> None:
    path = tmp_path / "yto.csv"
    path.write_bytes((HEADER + GOOD.replace("中通快递", "圆通速递")).encode("gb18030"))
    r = run("plan", str(path), "--out", str(tmp_path / "out"), "--time-limit", "1", "--date", DAY)
    assert r.returncode == 0, r.stderr


def test_network_points_csv(tmp_path: Path) -> None:
    out = tmp_path / "points.csv"
    r = run("network", "points", "--out", str(out))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == [
        "point_id",
        "name",
        "kind",
        "town_id",
        "lon",
        "lat",
        "open_s",
        "close_s",
        "placed",
    ]
    kinds = [r["kind"] for r in rows]
    assert (
        kinds.count("hub") == 1 and kinds.count("station") == 23 and kinds.count("village") == 267
    )
    assert {r["placed"] for r in rows if r["kind"] == "village"} == {"1"}  # synthetic positions
    assert {r["placed"] for r in rows if r["kind"] != "village"} == {"0"}


def test_missing_files_and_bad_options_exit_2(tmp_path: Path) -> None:
    assert run("plan", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o")).returncode == 2
    assert run("plan", "--out", str(tmp_path / "o")).returncode == 2
    path = tmp_path / "zto.csv"
    path.write_text(HEADER + GOOD, encoding="utf-8")
    bad_mode = run("plan", str(path), "--out", str(tmp_path / "o"), "--mode", "teleport")
    assert bad_mode.returncode == 2 and "mode" in bad_mode.stderr
    fleet = tmp_path / "fleet.toml"
    fleet.write_text("[types.van]\nclass = 'boat'\n", encoding="utf-8")
    bad_fleet = run("plan", str(path), "--out", str(tmp_path / "o"), "--fleet", str(fleet))
    assert bad_fleet.returncode == 2 and "types.van" in bad_fleet.stderr
    assert not (tmp_path / "o").exists()


def test_solve_vrplib_writes_a_valid_solution(tmp_path: Path) -> None:
    inst = tmp_path / "tiny.vrp"
    coords = [(0, 0), (10, 0), (0, 10), (-10, 0), (0, -10), (7, 7)]
    inst.write_text(
        "NAME : tiny\nTYPE : CVRP\nDIMENSION : 6\nEDGE_WEIGHT_TYPE : EUC_2D\nCAPACITY : 10\n"
        "NODE_COORD_SECTION\n"
        + "".join(f"{i + 1} {x} {y}\n" for i, (x, y) in enumerate(coords))
        + "DEMAND_SECTION\n1 0\n2 4\n3 4\n4 4\n5 4\n6 4\nDEPOT_SECTION\n1\n-1\nEOF\n",
        encoding="utf-8",
    )
    sol = tmp_path / "sol.json"
    r = run("solve", str(inst), "--format", "vrplib", "--time-limit", "1", "--out", str(sol))
    assert r.returncode == 0, r.stderr
    data = json.loads(sol.read_text(encoding="utf-8"))
    served = sorted(n for route in data["routes"] for n in route)
    assert served == [1, 2, 3, 4, 5]
    assert data["cost"] > 0
    broken = tmp_path / "broken.vrp"
    broken.write_text("NAME : x\nDIMENSION : 3\n", encoding="utf-8")
    assert run("solve", str(broken), "--format", "vrplib", "--time-limit", "1").returncode == 2


def test_solve_names_the_winning_engine_and_each_engines_cost(tmp_path: Path) -> None:
    inst = tmp_path / "ring.vrp"
    coords = [(0, 0)] + [
        (round(50 * math.cos(k / 3)), round(50 * math.sin(k / 3))) for k in range(45)
    ]
    inst.write_text(
        "NAME : ring\nTYPE : CVRP\nDIMENSION : 46\nEDGE_WEIGHT_TYPE : EUC_2D\nCAPACITY : 40\n"
        "NODE_COORD_SECTION\n"
        + "".join(f"{i + 1} {x} {y}\n" for i, (x, y) in enumerate(coords))
        + "DEMAND_SECTION\n1 0\n"
        + "".join(f"{i} 5\n" for i in range(2, 47))
        + "DEPOT_SECTION\n1\n-1\nEOF\n",
        encoding="utf-8",
    )
    r = run("solve", str(inst), "--time-limit", "2", "--workers", "2")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    engines = {run["engine"]: run["cost"] for run in summary["engines"]}
    assert set(engines) == {"ortools", "pyvrp"}
    assert summary["cost"] == min(engines.values()) == engines[summary["engine"]]
    r = run("solve", str(inst), "--time-limit", "1", "--engine", "ortools", "--workers", "1")
    assert r.returncode == 0 and json.loads(r.stdout)["engine"] == "ortools"
    assert run("solve", str(inst), "--engine", "gurobi").returncode == 2


def test_solve_vroom_json_in_and_out(tmp_path: Path) -> None:
    problem = {
        "vehicles": [{"id": 7, "start": [105.93, 29.34], "end": [105.93, 29.34], "capacity": [10]}],
        "jobs": [
            {"id": 1, "location": [105.95, 29.36], "delivery": [2]},
            {"id": 2, "location": [105.90, 29.30], "delivery": [3]},
        ],
    }
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(problem), encoding="utf-8")
    out = tmp_path / "solution.json"
    r = run("solve", str(path), "--format", "vroom", "--time-limit", "1", "--out", str(out))
    assert r.returncode == 0, r.stderr
    solution = json.loads(out.read_text(encoding="utf-8"))
    assert solution["code"] == 0 and solution["unassigned"] == []
    jobs = [s["id"] for route in solution["routes"] for s in route["steps"] if s["type"] == "job"]
    assert sorted(jobs) == [1, 2]
    path.write_text(json.dumps({"jobs": 3}), encoding="utf-8")
    bad = run("solve", str(path), "--format", "vroom", "--time-limit", "1")
    assert bad.returncode == 2 and json.loads(bad.stdout)["code"] == 2


def test_solve_vroom_refuses_huge_numbers_naming_the_field(tmp_path: Path) -> None:
    problem = {
        "vehicles": [{"id": 7, "start": [105.93, 29.34], "capacity": [10]}],
        "jobs": [{"id": 1, "location": [105.95, 29.36], "delivery": [1e300]}],
    }
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(problem), encoding="utf-8")
    r = run("solve", str(path), "--format", "vroom", "--time-limit", "1")
    assert r.returncode == 2, r.stderr
    answer = json.loads(r.stdout)
    assert answer["code"] == 2 and "jobs[0].delivery[0]: must be <= " in answer["error"]
    assert "Traceback" not in r.stderr


def test_the_api_and_the_cli_bound_vroom_integers_alike() -> None:
    assert MAX_VROOM_INT == vroom_reader.MAX_INT


# --- sheets from a stored plan -------------------------------------------------------------------


def test_demo_driver_files_embed_their_font(demo: Path) -> None:
    if shutil.which("pdffonts") is None:
        pytest.skip("poppler-utils not installed (.ci/run installs it)")
    for pdf in sorted((demo / "sheets").glob("*.pdf")):
        rows = poppler.fonts(pdf)
        assert rows and all(r["emb"] == "yes" and r["sub"] == "yes" for r in rows), (pdf, rows)


@pytest.fixture(scope="module")
def sheets(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sheets") / "out"
    manifests = sorted(str(p) for p in (demo / "manifests").glob("*.csv"))
    r = run(
        "sheets",
        str(demo / "plan.json"),
        *manifests,
        "--out",
        str(out),
        "--format",
        "pdf,gpx,xlsx,csv,loading",
    )
    assert r.returncode == 0, r.stderr
    return out


def test_sheets_writes_every_format(demo: Path, sheets: Path) -> None:
    plan = json.loads((demo / "plan.json").read_text(encoding="utf-8"))
    ids = sorted(r["route_id"] for r in plan["routes"])
    for ext in ("pdf", "gpx", "csv"):
        assert sorted(p.stem for p in (sheets / "sheets").glob(f"*.{ext}")) == ids
    loads = sorted(r["route_id"] for r in plan["routes"] if r["stops"][0]["load"])
    assert sorted(p.stem for p in (sheets / "loading").glob("*.pdf")) == loads
    assert sorted(p.stem for p in (sheets / "loading").glob("*.csv")) == loads
    book = openpyxl.load_workbook(sheets / "plan.xlsx")
    assert book.sheetnames == ["汇总", *[r["route_id"] for r in plan["routes"]], "未分配"]
    names = {p["point_id"]: p["name"] for p in _points()}
    first = plan["routes"][0]
    cells = [c for row in book[first["route_id"]].iter_rows(values_only=True) for c in row]
    assert all(names[s["point_id"]] in cells for s in first["stops"])


def test_sheets_gpx_follows_the_roads(demo: Path, sheets: Path) -> None:
    plan = json.loads((demo / "plan.json").read_text(encoding="utf-8"))
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    for r in plan["routes"]:
        root = ET.parse(sheets / "sheets" / f"{r['route_id']}.gpx").getroot()
        wpts = [(w.get("lat"), w.get("lon")) for w in root.findall("g:wpt", ns)]
        track = [(t.get("lat"), t.get("lon")) for t in root.findall("g:trk/g:trkseg/g:trkpt", ns)]
        assert len(wpts) == len(r["stops"])
        assert len(track) > len(wpts)  # the road's bends, not straight lines between stops
        assert all(w in track for w in wpts)  # it passes through every stop


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_sheets_pdfs_render_chinese_with_no_fonts_installed(
    demo: Path, sheets: Path, tmp_path: Path
) -> None:
    plan = json.loads((demo / "plan.json").read_text(encoding="utf-8"))
    names = {p["point_id"]: p["name"] for p in _points()}
    env = poppler.no_fonts_env(tmp_path)
    for r in plan["routes"]:
        pdf = sheets / "sheets" / f"{r['route_id']}.pdf"
        rows = poppler.fonts(pdf)
        assert all(f["emb"] == "yes" and f["sub"] == "yes" for f in rows), rows
        stops = [(s["seq"], names[s["point_id"]]) for s in r["stops"]]
        text = poppler.text(pdf, env)
        wanted = {n for _, n in stops}
        listed = [(q, n) for q, n in poppler.numbered_rows(text) if n in wanted]
        assert listed == stops, r["route_id"]
        image = poppler.render(pdf, 1, env)
        cells = [w for w in poppler.words(pdf, 1, env) if w.text in wanted]
        assert cells
        checks = [poppler.glyph_check(image, w) for w in cells]
        assert all(c.glyphs for c in checks), (r["route_id"], checks)


def _points() -> list[dict[str, str]]:
    from dispatch.service import Workspace, network_points

    return network_points(Workspace.default())


def said(r: subprocess.CompletedProcess[str]) -> str:
    """stderr with the console's line wrapping undone."""
    return " ".join(r.stderr.split())


def _sheets_run(demo: Path, out: Path, *args: str, manifests: list[str] | None = None) -> Any:
    files = manifests or sorted(str(p) for p in (demo / "manifests").glob("*.csv"))
    return run("sheets", str(demo / "plan.json"), *files, "--out", str(out), *args)


def test_sheets_refuses_an_unknown_format(demo: Path, tmp_path: Path) -> None:
    r = _sheets_run(demo, tmp_path / "o", "--format", "pdf,docx")
    assert r.returncode == 2 and "unknown format 'docx'" in said(r)
    assert not (tmp_path / "o").exists()


def test_sheets_refuses_an_unreadable_plan(demo: Path, tmp_path: Path) -> None:
    manifests = sorted(str(p) for p in (demo / "manifests").glob("*.csv"))
    bad = tmp_path / "plan.json"
    bad.write_text("{not json", encoding="utf-8")
    r = run("sheets", str(bad), *manifests, "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "plan.json: not JSON" in said(r)
    plan = json.loads((demo / "plan.json").read_text(encoding="utf-8"))
    del plan["routes"][1]["stops"][0]["arrival_s"]
    bad.write_text(json.dumps(plan), encoding="utf-8")
    r = run("sheets", str(bad), *manifests, "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "routes[1].stops[0].arrival_s: missing" in said(r)
    assert "Traceback" not in said(r)
    assert not (tmp_path / "o").exists()


def test_sheets_refuses_manifests_that_do_not_match_the_plan(demo: Path, tmp_path: Path) -> None:
    manifests = sorted(str(p) for p in (demo / "manifests").glob("*.csv"))
    r = _sheets_run(demo, tmp_path / "o", manifests=manifests[1:])
    assert r.returncode == 2 and "parcel(s) of the plan are in no manifest" in said(r)
    other = tmp_path / "other.csv"
    other.write_text(HEADER + GOOD.replace("ZT001", "ZTX99"), encoding="utf-8")
    r = _sheets_run(demo, tmp_path / "o", manifests=[*manifests, str(other)])
    assert r.returncode == 2
    assert "other.csv: row 1: tracking_no: ZTX99 is not in plan" in said(r)
    assert not (tmp_path / "o").exists()


def test_sheets_after_skip_invalid(tmp_path: Path) -> None:
    path = tmp_path / "zto.csv"
    path.write_text(HEADER + GOOD + BROKEN["bad kind"][0], encoding="utf-8")
    out = tmp_path / "out"
    r = run(
        "plan", str(path), "--out", str(out), "--time-limit", "1", "--skip-invalid", "--date", DAY
    )
    assert r.returncode == 0, r.stderr
    r = run("sheets", str(out / "plan.json"), str(path), "--out", str(out), "--format", "xlsx")
    assert r.returncode == 0, r.stderr
    assert (out / "plan.xlsx").is_file()
    path.write_text(HEADER + GOOD + BROKEN["bad cold"][0], encoding="utf-8")
    r = run("sheets", str(out / "plan.json"), str(path), "--out", str(tmp_path / "o2"))
    assert r.returncode == 2 and "cold" in said(r)


def test_validate_checks_a_plan_edited_by_hand(demo: Path, tmp_path: Path) -> None:
    manifests = sorted(str(p) for p in (demo / "manifests").glob("*.csv"))
    r = run("validate", str(demo / "plan.json"), *manifests)
    assert r.returncode == 0, r.stdout + r.stderr
    plan = json.loads((demo / "plan.json").read_text(encoding="utf-8"))
    route = plan["routes"][0]
    route["stops"][1]["arrival_s"] = route["stops"][0]["departure_s"]  # no time to drive there
    route["cost_fen"] -= 100
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    r = run("validate", str(edited), *manifests)
    assert r.returncode == 3, r.stderr
    lines = r.stdout.splitlines()
    assert any(
        line.startswith(f"route {route['route_id']} stop 1") and "[travel_time]" in line
        for line in lines
    )
    assert any(line.startswith(f"route {route['route_id']} [cost]") for line in lines)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    r = run("validate", str(bad), *manifests)
    assert r.returncode == 2 and "bad.json" in r.stderr


def test_vehicles_off_and_engine_options(demo: Path, tmp_path: Path) -> None:
    manifests = sorted(str(p) for p in (demo / "manifests").glob("*.csv"))
    out = tmp_path / "off"
    args = ("plan", *manifests, "--out", str(out), "--date", DAY, "--time-limit", "8")
    r = run(*args, "--off", "HUB-V01,NOPE")
    assert r.returncode == 2 and "NOPE" in r.stderr
    r = run(*args, "--engine", "fastest")
    assert r.returncode == 2 and "--engine" in r.stderr
    r = run(*args, "--off", "HUB-V01", "--engine", "ortools", "--mode", "via_station")
    assert r.returncode == 0, r.stderr
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert "HUB-V01" not in {x["vehicle_id"] for x in plan["routes"]}
    assert set(plan["kpis"]["engines"]) <= {
        "ortools",
        "ortools (first solution after the time limit)",
    }


def _replan_run(demo: Path, out: Path, *events: str, extra: tuple[str, ...] = ()) -> Any:
    files = sorted(str(p) for p in (demo / "manifests").glob("*.csv"))
    flags = [a for e in events for a in ("--event", e)]
    return run("replan", str(demo / "plan.json"), *files, *flags, "--out", str(out), *extra)


def test_replan_after_breakdown_late_batch_and_closed_point(demo: Path, tmp_path: Path) -> None:
    plan = json.loads((demo / "plan.json").read_text(encoding="utf-8"))
    truck = next(r for r in plan["routes"] if r["echelon"] == 1 and len(r["stops"]) > 3)
    at = truck["stops"][1]["departure_s"] + 60
    late = tmp_path / "late.csv"
    late.write_text(HEADER + GOOD.replace("ZT001", "LATE0001"), encoding="utf-8")
    village = next(
        s["point_id"] for r in plan["routes"] if r["echelon"] == 2 for s in r["stops"][1:-1]
    )
    events = [
        json.dumps({"type": "breakdown", "vehicle_id": truck["vehicle_id"], "time_s": at}),
        json.dumps({"type": "late_parcels", "manifest": str(late)}),
    ]
    closed = tmp_path / "closed.json"
    closed.write_text(
        json.dumps({"events": [{"type": "point_closed", "point_id": village, "reason": "停电"}]}),
        encoding="utf-8",
    )
    out = tmp_path / "v2"
    r = _replan_run(demo, out, *events, "@" + str(closed), extra=("--time-limit", "5"))
    assert r.returncode == 0, r.stderr
    new = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert new["version_of"] == plan["plan_id"] and new["plan_id"] != plan["plan_id"]
    assert [e["type"] for e in new["events"]] == ["breakdown", "late_parcels", "point_closed"]
    assert new["events"][1]["parcels"] == ["LATE0001"]
    carried = {t for route in new["routes"] for s in route["stops"] for t in s["drop"]}
    assert "LATE0001" in carried | {u["parcel_id"] for u in new["unassigned"]}
    codes = {u["code"] for u in new["unassigned"]}
    assert "point_closed" in codes
    broken = next(x for x in new["routes"] if x["route_id"] == truck["route_id"])
    assert broken.get("ended") == "breakdown"
    changes = json.loads((out / "changes.json").read_text(encoding="utf-8"))
    assert changes["old_plan_id"] == plan["plan_id"]
    assert truck["vehicle_id"] in changes["drivers_changed"]
    mine = next(c for c in changes["routes"] if c["old_route_id"] == truck["route_id"])
    assert mine["status"] == "changed" and mine["removed"]
    assert sorted(p.stem for p in (out / "sheets").glob("*.csv")) == sorted(
        x["route_id"] for x in new["routes"]
    )
    assert "sheets changed for" in said(r)


def test_replan_refuses_bad_events_naming_the_field(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    r = _replan_run(demo, out, '{"type": "breakdown", "vehicle_id": "NOPE", "time_s": 36000}')
    assert r.returncode == 2 and "events[0].vehicle_id: no vehicle 'NOPE'" in said(r)
    r = _replan_run(
        demo,
        out,
        '{"type": "point_closed", "point_id": "500118001"}',
        '{"type": "breakdown", "vehicle_id": "HUB-V01", "time": "2026-11-29T09:30:00+08:00"}',
    )
    assert r.returncode == 2
    assert "events[1].time: is on 2026-11-29 (local time); the plan is for 2026-11-28" in said(r)
    r = _replan_run(demo, out, '{"type": "breakdown", "vehicle_id": "HUB-V01"}')
    assert r.returncode == 2 and "a breakdown needs time_s or time" in said(r)
    r = _replan_run(demo, out, '{"type": "late_parcels", "manifest": "nowhere.csv"}')
    assert r.returncode == 2 and "events[0].manifest: nowhere.csv: file not found" in said(r)
    r = _replan_run(demo, out, "{not json")
    assert r.returncode == 2 and "not JSON" in said(r)
    r = _replan_run(demo, out, '{"type": "flood"}')
    assert r.returncode == 2 and "events[0]" in said(r)
    assert "Traceback" not in said(r)
    assert not out.exists()
