"""The dispatcher's page at /ui: static HTML, CSS and JavaScript shipped in the package.

Nothing is loaded from outside the server: the map is SVG drawn by the page from
/v1/network/roads, /v1/network/points and /v1/plans/{id}/map. The files hold no data; every
figure on the page comes from /v1 with the key the user signs in with.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

STATIC = Path(__file__).resolve().parent.parent / "static" / "ui"
_MEDIA = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}
#: The page may run only its own scripts and talk only to its own server.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; font-src 'self'; "
    "img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
_HEADERS = {"Content-Security-Policy": _CSP, "Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False)


@router.get("/ui")
async def page() -> FileResponse:
    """The dispatcher's page."""
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=_HEADERS)


@router.get("/ui/")
async def page_slash() -> RedirectResponse:
    """/ui/ is /ui."""
    return RedirectResponse("/ui")


@router.get("/ui/font")
async def font() -> Response:
    """The CJK font the sheets use (shipped in the package) as TrueType, so the page reads
    Chinese on a machine with no Chinese font installed."""
    from dispatch.web_font import web_font  # fontTools: loaded when the page first asks

    body = await run_in_threadpool(web_font)
    return Response(body, media_type="font/ttf", headers={"Cache-Control": "max-age=86400"})


@router.get("/ui/app.js")
async def script() -> FileResponse:
    """The page's script."""
    return FileResponse(STATIC / "app.js", media_type=_MEDIA["app.js"], headers=_HEADERS)


@router.get("/ui/app.css")
async def style() -> FileResponse:
    """The page's style sheet."""
    return FileResponse(STATIC / "app.css", media_type=_MEDIA["app.css"], headers=_HEADERS)
