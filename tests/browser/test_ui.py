"""The dispatcher's page in a real browser: Debian's headless Chromium driven by playwright
against `ruraldispatch serve` (uvicorn) with a planned demo day.

Set RURALDISPATCH_UI_SCREENSHOT=docs/ui.png to keep the screenshot (the README's picture).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import DAY, manifest_bytes
from tests.api.live import new_key, server

CHROMIUM = os.environ.get("RURALDISPATCH_CHROMIUM", "/usr/bin/chromium")


def _wait_done(base: str, auth: dict[str, str], plan_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 180
    while True:
        job = httpx.get(f"{base}/v1/plans/{plan_id}", headers=auth, timeout=30).json()
        if job["status"] in ("done", "failed", "cancelled"):
            assert job["status"] == "done", job
            return dict(job)
        assert time.monotonic() < deadline, job
        time.sleep(0.5)


def _plan_day(base: str, auth: dict[str, str], county: Any, folder: Path) -> dict[str, Any]:
    """Upload two carriers' manifests of DAY and plan them through the stations."""
    ids = []
    for n, seed in ((160, 31), (140, 32)):
        r = httpx.post(
            f"{base}/v1/manifests",
            content=manifest_bytes(county, folder, n, seed),
            headers={**auth, "Content-Type": "text/csv", "X-Filename": f"c{seed}.csv"},
            timeout=60,
        )
        assert r.status_code in (200, 201), r.text
        ids.append(r.json()["manifest_id"])
    body = {"date": DAY.isoformat(), "manifest_ids": ids, "time_limit_s": 4, "mode": "via_station"}
    r = httpx.post(f"{base}/v1/plans", json=body, headers=auth, timeout=30)
    assert r.status_code == 202, r.text
    return _wait_done(base, auth, r.json()["plan_id"])


def _view_box(page: Any) -> list[float]:
    return [float(v) for v in page.get_attribute("#map", "viewBox").split()]


@pytest.mark.slow
def test_dispatcher_page_in_chromium(tmp_path: Path, county: Any) -> None:
    if not Path(CHROMIUM).exists():
        missing = f"no Chromium at {CHROMIUM}: apt-get install chromium (.ci/run does)"
        if os.environ.get("RURALDISPATCH_REQUIRE_BROWSER"):
            pytest.fail(missing)
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    db = f"sqlite:///{tmp_path / 'rd.sqlite3'}"
    key = new_key(db, "dispatcher")
    auth = {"Authorization": f"Bearer {key}"}
    with server(db, log=tmp_path / "server.log") as (base, _):
        job = _plan_day(base, auth, county, tmp_path)
        plan = job["plan"]
        points = httpx.get(f"{base}/v1/network/points", headers=auth, timeout=60).json()["points"]
        names = {p["point_id"]: p["name"] for p in points}
        towns = {p["town_id"] for p in points if p["kind"] == "station"}
        errors: list[str] = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1500, "height": 1300})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base}/ui")
            page.fill("#key", "rdk_0000_wrong")
            page.click("#signin button")
            page.wait_for_selector("#signin-error:has-text('not valid')")
            errors.clear()  # the refused key's 401 is the one expected error
            page.fill("#key", key)
            page.click("#signin button")
            routes = plan["routes"]
            page.wait_for_function(
                "n => document.querySelectorAll('#routes tbody tr').length === n", arg=len(routes)
            )
            drawn = page.eval_on_selector_all(
                "#route-lines polyline", "ps => ps.map(p => [p.dataset.routeId, p.classList.value])"
            )
            assert sorted(r for r, _ in drawn) == sorted(r["route_id"] for r in routes)
            echelon = {r["route_id"]: r["echelon"] for r in routes}
            assert all(f"e{echelon[r]}" in cls for r, cls in drawn)
            assert {1, 2} <= set(echelon.values())
            assert page.locator("#roads path").count() >= 1
            assert page.locator("#points .hub").count() == 1
            assert page.locator("#points .station").count() == len(towns)

            for route in routes:
                page.click(f"#routes tbody tr[data-route-id='{route['route_id']}']")
                shown = page.eval_on_selector_all(
                    "#stops tbody td.stop-name", "cells => cells.map(c => c.textContent)"
                )
                assert shown == [names[s["point_id"]] for s in route["stops"]], route["route_id"]
                times = page.eval_on_selector_all(
                    "#stops tbody tr", "rows => rows.map(r => r.cells[2].textContent)"
                )
                first = route["stops"][1]["arrival_s"] // 60
                assert times[1] in (f"{first // 60:02d}:{first % 60:02d}", _next_minute(first))
                line = f"#route-lines polyline.sel[data-route-id='{route['route_id']}']"
                assert page.locator(line).count() == 1
                links = page.eval_on_selector_all("#sheet-links a", "as => as.map(a => a.href)")
                assert any(h.endswith(f"/routes/{route['route_id']}/sheet.pdf") for h in links)
            van = next(r for r in routes if r["echelon"] == 2)
            van_line = f"#route-lines polyline[data-route-id='{van['route_id']}']"
            page.dispatch_event(van_line, "click")
            assert page.text_content("#route-title").startswith(van["route_id"])
            with page.expect_download() as download:
                page.click("#sheet-links a:has-text('PDF')")
            assert Path(download.value.path()).read_bytes()[:4] == b"%PDF"

            before = _view_box(page)
            page.click("#zoom-in")
            zoomed = _view_box(page)
            assert zoomed[2] < before[2]
            box = page.locator("#map").bounding_box()
            page.mouse.move(box["x"] + 300, box["y"] + 300)
            page.mouse.down()
            page.mouse.move(box["x"] + 200, box["y"] + 250, steps=5)
            page.mouse.up()
            assert _view_box(page)[0] > zoomed[0]
            page.click("#zoom-reset")

            rows = page.eval_on_selector_all(
                "#towns tbody tr", "rows => rows.map(r => r.dataset.townId)"
            )
            assert sorted(rows) == sorted(towns)
            # on time comes from /v1/assessment: no scans of this day yet
            on_time = page.locator("#towns tbody td:has-text('no scans')")
            assert on_time.count() == len(towns)
            shown_parcels = page.eval_on_selector_all(
                "#towns tbody tr", "rows => rows.map(r => Number(r.cells[1].textContent))"
            )
            assert sum(shown_parcels) == plan["kpis"]["parcels"]
            assert page.locator("#towns svg.spark").count() == len(towns)
            assert page.locator("#unassigned tbody tr").count() == len(plan["unassigned"])

            assert "Not released" in page.text_content("#release-status")
            page.click("#release")
            page.wait_for_selector("#release-status:has-text('已发布')")
            assert page.is_hidden("#release")
            head = httpx.get(f"{base}/v1/plans/{job['plan_id']}", headers=auth, timeout=30).json()
            assert head["released_at"] is not None

            truck = next(r for r in routes if r["echelon"] == 1 and len(r["stops"]) > 3)
            breakdown = {
                "type": "breakdown",
                "vehicle_id": truck["vehicle_id"],
                "time_s": truck["stops"][1]["departure_s"] + 60,
            }
            r = httpx.post(
                f"{base}/v1/plans/{job['plan_id']}/replan",
                json={"events": [breakdown], "time_limit_s": 3},
                headers=auth,
                timeout=30,
            )
            assert r.status_code == 202, r.text
            new = _wait_done(base, auth, r.json()["plan_id"])
            page.goto(f"{base}/ui?plan={new['plan_id']}")
            page.wait_for_selector("#changes-panel:not([hidden])")
            summary = page.text_content("#changes-summary")
            assert truck["vehicle_id"] in summary and "released" in summary
            assert page.locator("#changes tbody tr").count() >= 1
            later = next(r for r in new["plan"]["routes"] if r["echelon"] == 2)
            page.click(f"#routes tbody tr[data-route-id='{later['route_id']}']")
            shot = tmp_path / "ui.png"
            page.screenshot(path=str(shot), full_page=True)
            browser.close()
        assert shot.stat().st_size > 20_000
        keep = os.environ.get("RURALDISPATCH_UI_SCREENSHOT")
        if keep:
            shutil.copyfile(shot, keep)
        assert errors == [], errors


def _next_minute(minute: int) -> str:
    """HH:MM of the minute after `minute` (the page rounds seconds to the nearest minute)."""
    m = minute + 1
    return f"{m // 60:02d}:{m % 60:02d}"
