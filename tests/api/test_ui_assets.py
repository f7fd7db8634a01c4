"""The dispatcher's page is served by the app itself, offline: HTML, script, style and font
from the package, nothing from outside; /v1/me and the road lines the map draws."""

from __future__ import annotations

import re

from api.auth import create_key
from dispatch.workspace import Workspace
from tests.api.conftest import Keys, make_client, state


def test_the_page_and_its_assets_need_nothing_from_outside(sqlite_url: str) -> None:
    with make_client(sqlite_url) as client:
        page = client.get("/ui")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        csp = page.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp
        refs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert refs and all(r.startswith(("/ui/", "data:")) for r in refs), refs
        for name, media in (("app.js", "text/javascript"), ("app.css", "text/css")):
            asset = client.get(f"/ui/{name}")
            assert asset.status_code == 200, name
            assert asset.headers["content-type"].startswith(media)
            assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", asset.text), name
        assert client.get("/ui/other.js").status_code == 404
        assert client.get("/ui/", follow_redirects=False).headers["location"] == "/ui"


def test_the_page_font_is_a_single_truetype_font(sqlite_url: str) -> None:
    with make_client(sqlite_url) as client:
        font = client.get("/ui/font")
        assert font.status_code == 200 and font.headers["content-type"] == "font/ttf"
        body = font.content
        assert body[:4] == b"\x00\x01\x00\x00"  # sfnt TrueType, not a collection ("ttcf")
        tables = {body[12 + 16 * i : 16 + 16 * i] for i in range(int.from_bytes(body[4:6]))}
        assert b"glyf" in tables and b"cmap" in tables and b"FFTM" not in tables


def test_whoami_names_role_and_binding(sqlite_url: str) -> None:
    with make_client(sqlite_url) as client:
        keys = Keys(client)
        engine = state(client).engine
        station = create_key(engine, "station", None, "500118001")
        me = client.get("/v1/me", headers={"Authorization": f"Bearer {station}"}).json()
        assert (me["role"], me["station_id"], me["vehicle_id"]) == ("station", "500118001", None)
        driver = client.get("/v1/me", headers=keys.header("driver", "HUB-V01")).json()
        assert (driver["role"], driver["vehicle_id"]) == ("driver", "HUB-V01")
        assert client.get("/v1/me").status_code == 401


def test_road_lines_draw_every_road_once(sqlite_url: str) -> None:
    ws = Workspace.load(None)
    graph = ws.network.graph
    roads = {frozenset((u, v)) for u, v, _ in graph.edges(keys=True)}
    with make_client(sqlite_url) as client:
        body = client.get("/v1/network/roads", headers=Keys(client).planner).json()
    lines = [line for group in body["classes"].values() for line in group]
    assert len(lines) == len(roads)
    assert set(body["classes"]) <= {str(d.get("highway")) for _, _, d in graph.edges(data=True)}
    lon = [p[0] for line in lines for p in line]
    lat = [p[1] for line in lines for p in line]
    xs = [p.lon for p in ws.points]
    ys = [p.lat for p in ws.points]
    assert min(xs) - 0.2 < min(lon) and max(lon) < max(xs) + 0.2
    assert min(ys) - 0.2 < min(lat) and max(lat) < max(ys) + 0.2
