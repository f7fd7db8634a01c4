"""The driver's page at a phone's viewport in Debian's headless Chromium (playwright) against
`ruraldispatch serve`: today's stops in order, marks sent when online, queued while offline
and sent, with the times they were made, when the phone is back online.

Set RURALDISPATCH_DRIVER_SCREENSHOT=docs/driver.png to keep the screenshot.
"""

from __future__ import annotations

import datetime as dt
import os
import zoneinfo
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.auth import create_key
from api.db import make_engine
from tests.api.conftest import Keys, make_client
from tests.api.live import server
from tests.api.scan_day import plan_day, store_day

CHROMIUM = os.environ.get("RURALDISPATCH_CHROMIUM", "/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}


@pytest.mark.slow
def test_driver_page_offline_queue(tmp_path: Path, county: Any) -> None:
    if not Path(CHROMIUM).exists():
        missing = f"no Chromium at {CHROMIUM}: apt-get install chromium (.ci/run does)"
        if os.environ.get("RURALDISPATCH_REQUIRE_BROWSER"):
            pytest.fail(missing)
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    today = dt.datetime.now(zoneinfo.ZoneInfo("Asia/Shanghai")).date()
    day = plan_day(county, tmp_path, 120, seed=17, date=today)
    db = f"sqlite:///{tmp_path / 'rd.sqlite3'}"
    with make_client(db) as client:
        store_day(client, Keys(client).dispatcher, day)
    route = max(
        (r for r in day.plan["routes"] if r["echelon"] == 2),
        key=lambda r: sum(len(s["drop"]) for s in r["stops"][1:-1]),
    )
    vehicle = route["vehicle_id"]
    mine = sorted(
        (r for r in day.plan["routes"] if r["vehicle_id"] == vehicle),
        key=lambda r: r["stops"][0]["arrival_s"],
    )
    names = {p.point_id: p.name for p in county.points}
    want_stops = [names[s["point_id"]] for r in mine for s in r["stops"][1:-1]]
    engine = make_engine(db)
    driver = create_key(engine, "driver", vehicle)
    dispatcher = {"Authorization": f"Bearer {create_key(engine, 'dispatcher')}"}
    engine.dispose()
    deliveries = [
        t
        for r in mine
        for s in r["stops"][1:-1]
        for t in s["drop"]
        if day.by_id[t].point_id == s["point_id"]
    ]
    assert len(deliveries) >= 3
    errors: list[str] = []
    with server(db, log=tmp_path / "server.log") as (base, _), sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{base}/driver")
        page.fill("#key", "rdk_0000_wrong")
        page.click("#signin button")
        page.wait_for_selector("#signin-error:has-text('not valid')")
        page.fill("#key", driver)
        page.click("#signin button")
        page.wait_for_function(
            "n => document.querySelectorAll('.stop').length === n", arg=len(want_stops)
        )
        shown = page.eval_on_selector_all(".stop h2", "hs => hs.map(h => h.firstChild.textContent)")
        assert [s.split(" · ", 1)[1] for s in shown] == want_stops
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], "the page fits the phone's width"

        first, second, third = deliveries[:3]
        page.click(f".parcel[data-tracking='{first}'] button.done")
        page.wait_for_selector(f".parcel[data-tracking='{first}'] .status.delivered")

        context.set_offline(True)
        page.wait_for_selector("#net.offline")
        marked = dt.datetime.now(dt.UTC)
        page.click(f".parcel[data-tracking='{second}'] button.done")
        page.select_option(f".parcel[data-tracking='{third}'] select.reason", "recipient_absent")
        page.click(f".parcel[data-tracking='{third}'] button.fail")
        page.wait_for_selector(f".parcel[data-tracking='{third}'] .status.queued")
        assert page.text_content("#queue-count") == "2"
        for t in (second, third):  # nothing reached the server yet
            trace = httpx.get(f"{base}/v1/parcels/{t}", headers=dispatcher, timeout=30).json()
            assert trace["days"][0]["scans"] == []
        if os.environ.get("RURALDISPATCH_DRIVER_SCREENSHOT"):
            page.screenshot(path=os.environ["RURALDISPATCH_DRIVER_SCREENSHOT"], full_page=False)

        back = dt.datetime.now(dt.UTC)
        context.set_offline(False)
        page.wait_for_function("() => document.querySelector('#queue-count').textContent === '0'")
        page.wait_for_selector(f".parcel[data-tracking='{third}'] .status.failed")
        browser.close()
        scans = {}
        for t in (first, second, third):
            trace = httpx.get(f"{base}/v1/parcels/{t}", headers=dispatcher, timeout=30).json()
            (scan,) = trace["days"][0]["scans"]
            scans[t] = scan
    assert errors == []
    assert scans[first]["event"] == scans[second]["event"] == "delivered"
    assert scans[third]["event"] == "failed" and scans[third]["reason"] == "recipient_absent"
    assert scans[second]["vehicle_id"] == vehicle
    for t in (second, third):  # the time the mark was made, not when it was sent
        when = dt.datetime.fromisoformat(scans[t]["time"])
        assert marked - dt.timedelta(seconds=1) <= when <= back
