"""POST/GET /v1/manifests: upload a carrier's manifest (CSV or JSON), list a day's manifests."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message

from api.auth import Dispatcher
from api.deps import EngineDep, LimitsDep, WorkspaceDep
from api.errors import BODY, COMMON, INVALID, Invalid, TooLarge
from api.limits import MAX_FILENAME_CHARS, Limits
from api.manifest_store import content_hash, find_manifest, list_manifests, store_manifest
from api.schemas import ManifestInfo, ManifestList, no_control_chars
from dispatch.workspace import Workspace

router = APIRouter(prefix="/v1/manifests", tags=["manifests"], responses=COMMON)

#: A manifest record as JSON (README "Manifests"); values may be strings or numbers.
_RECORD = {
    "type": "object",
    "properties": {
        name: {"type": ["string", "number", "boolean", "null"]}
        for name in (
            "tracking_no",
            "carrier",
            "kind",
            "point_id",
            "lon",
            "lat",
            "crs",
            "weight_kg",
            "volume_l",
            "cold",
            "due_date",
        )
    },
}
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "one carrier's manifest: CSV (UTF-8 or GBK), JSON, or a multipart file",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"type": "array", "items": _RECORD},
                        {
                            "type": "object",
                            "properties": {"parcels": {"type": "array", "items": _RECORD}},
                            "required": ["parcels"],
                        },
                    ]
                }
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}


def decode_filename(value: str | None) -> str | None:
    """An X-Filename header as text: RFC 5987 (`UTF-8''%E4...`), percent-encoded or raw UTF-8.

    Header values arrive decoded as Latin-1; raw UTF-8 bytes are re-read as UTF-8.
    """
    if value is None:
        return None
    charset, sep, rest = value.partition("''")
    if sep and charset.strip().lower() in ("utf-8", "utf8"):
        return unquote(rest, encoding="utf-8", errors="strict")
    if "%" in value:
        return unquote(value, encoding="utf-8", errors="strict")
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def checked_filename(name: str, field: str) -> str:
    """`name` if it is a usable file name (length, no control characters), else 422."""
    if len(name) > MAX_FILENAME_CHARS:
        raise Invalid.field(field, f"longer than {MAX_FILENAME_CHARS} characters")
    try:
        return no_control_chars(name)
    except ValueError as exc:
        raise Invalid.field(field, str(exc)) from None


async def _multipart_file(request: Request, body: bytes) -> tuple[bytes, str | None]:
    """The one file of a multipart/form-data body and its filename."""

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, receive).form(max_files=1, max_fields=20)
    except StarletteHTTPException as exc:
        raise Invalid.field(
            "body", f"not a valid multipart/form-data body ({exc.detail})"
        ) from None
    try:
        files = [v for v in form.values() if isinstance(v, UploadFile)]
        if not files:
            raise Invalid.field("file", "multipart upload without a file part")
        return await files[0].read(), files[0].filename
    finally:
        await form.close()


def _row_estimate(data: bytes) -> int:
    """Rows in a manifest counted cheaply before parsing (records for JSON, lines for CSV)."""
    head = data.lstrip()[:1]
    if head in (b"[", b"{"):
        return data.count(b'"tracking_no"')
    return max(0, data.count(b"\n") + (0 if data.endswith(b"\n") else 1) - 1)


def _ingest(
    engine: Any, ws: Workspace, limits: Limits, data: bytes, filename: str, date: dt.date | None
) -> tuple[int, dict[str, Any]]:
    """Parse and store an upload (runs in a worker thread); (status code, manifest info)."""
    from dispatch.service import parse_manifest_bytes

    found = find_manifest(engine, content_hash(data))
    if found is not None:
        return 200, found
    too_many = TooLarge(
        f"manifest has more than {limits.upload_rows} rows (limit upload_rows); split it"
    )
    if _row_estimate(data) > limits.upload_rows:
        raise too_many
    parcels = parse_manifest_bytes(ws, data, filename)
    if len(parcels) > limits.upload_rows:
        raise too_many
    info, created = store_manifest(engine, data, filename, parcels, date)
    return (201 if created else 200), info


@router.post(
    "",
    status_code=201,
    response_model=ManifestInfo,
    summary="Upload a manifest (raw CSV/JSON body or multipart file)",
    responses={
        200: {"model": ManifestInfo, "description": "the same content was uploaded before"},
        **INVALID,
        **BODY,
    },
    openapi_extra=UPLOAD_BODY,
)
async def upload_manifest(
    request: Request,
    _: Dispatcher,
    engine: EngineDep,
    ws: WorkspaceDep,
    limits: LimitsDep,
    filename: Annotated[
        str | None,
        Query(max_length=MAX_FILENAME_CHARS, description="file name used in error messages"),
    ] = None,
    date: Annotated[dt.date | None, Query(description="day; default earliest due date")] = None,
    x_filename: Annotated[
        str | None,
        Header(
            alias="X-Filename",
            description="file name: UTF-8 percent-encoded, RFC 5987 (UTF-8''...) or raw",
        ),
    ] = None,
) -> JSONResponse:
    """Store a manifest once: 201 new, 200 same bytes as before, 422 invalid rows, 413 too big.

    Invalid rows answer 422 with `errors` naming file, row and field; nothing is stored.
    """
    body = await request.body()  # api.gate has capped its size
    content_type = request.headers.get("content-type", "").lower()
    name, field = filename, "filename"
    if name is None and x_filename is not None:
        try:
            name, field = decode_filename(x_filename), "X-Filename"
        except UnicodeDecodeError:
            raise Invalid.field("X-Filename", "percent-encoding is not UTF-8") from None
    if content_type.startswith("multipart/form-data"):
        body, part_name = await _multipart_file(request, body)
        if name is None and part_name:
            name, field = part_name, "file.filename"
    if not name:
        name = "manifest.json" if "json" in content_type else "manifest.csv"
    name = checked_filename(name, field)
    status, info = await run_in_threadpool(_ingest, engine, ws, limits, body, name, date)
    return JSONResponse(info, status_code=status)


@router.get("", response_model=ManifestList, summary="List stored manifests", responses=INVALID)
async def get_manifests(
    _: Dispatcher,
    engine: EngineDep,
    date: Annotated[dt.date | None, Query(description="only manifests of this day")] = None,
) -> dict[str, Any]:
    """Stored manifests, oldest first."""
    return {"manifests": await run_in_threadpool(list_manifests, engine, date)}
