"""POST/GET /v1/manifests: upload a carrier's manifest (CSV or JSON), list a day's manifests."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.types import Message

from api.auth import Dispatcher
from api.deps import engine_of, workspace
from api.manifest_store import content_hash, find_manifest, list_manifests, store_manifest
from dispatch.parcel import InputError, ManifestError

router = APIRouter(prefix="/v1/manifests", tags=["manifests"])

#: Errors listed in one 422 answer (the total is given too).
MAX_ERRORS_SHOWN = 1000


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 beyond `limit` bytes (checked while reading)."""
    too_large = HTTPException(
        413, f"manifest larger than {limit // (1024 * 1024)} MB; split it into several uploads"
    )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def _multipart_file(request: Request, body: bytes) -> tuple[bytes, str | None]:
    """The one file of a multipart/form-data body and its filename."""

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    form = await Request(request.scope, receive).form(max_files=1, max_fields=20)
    try:
        files = [v for v in form.values() if isinstance(v, UploadFile)]
        if not files:
            raise HTTPException(422, "multipart upload without a file part")
        return await files[0].read(), files[0].filename
    finally:
        await form.close()


def _row_estimate(data: bytes) -> int:
    """Rows in a manifest counted cheaply before parsing (records for JSON, lines for CSV)."""
    head = data.lstrip()[:1]
    if head in (b"[", b"{"):
        return data.count(b'"tracking_no"')
    return max(0, data.count(b"\n") + (0 if data.endswith(b"\n") else 1) - 1)


def _error_body(errors: list[InputError]) -> dict[str, Any]:
    """The 422 body for manifest errors."""
    return {
        "errors": [asdict(e) for e in errors[:MAX_ERRORS_SHOWN]],
        "error_count": len(errors),
    }


def _ingest(
    request: Request, data: bytes, filename: str, date: dt.date | None
) -> tuple[int, dict[str, Any]]:
    """Parse and store an upload (runs in a worker thread); (status code, body)."""
    from dispatch.service import parse_manifest_bytes

    engine = engine_of(request)
    found = find_manifest(engine, content_hash(data))
    if found is not None:
        return 200, found
    max_rows: int = request.app.state.max_rows
    if _row_estimate(data) > max_rows:
        raise HTTPException(413, f"manifest has more than {max_rows} rows; split it")
    try:
        parcels = parse_manifest_bytes(workspace(), data, filename)
        if len(parcels) > max_rows:
            raise HTTPException(413, f"manifest has more than {max_rows} rows; split it")
        info, created = store_manifest(engine, data, filename, parcels, date)
    except ManifestError as exc:
        return 422, _error_body(exc.errors)
    return (201 if created else 200), info


@router.post(
    "",
    status_code=201,
    summary="Upload a manifest (raw CSV/JSON body or multipart file)",
    responses={200: {"description": "same content uploaded before"}, 413: {}, 422: {}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
            },
        }
    },
)
async def upload_manifest(
    request: Request,
    _: Dispatcher,
    filename: Annotated[str | None, Query(description="file name used in error messages")] = None,
    date: Annotated[dt.date | None, Query(description="day; default earliest due date")] = None,
) -> JSONResponse:
    """Store a manifest once: 201 new, 200 same bytes as before, 422 invalid rows, 413 too big."""
    body = await _read_body(request, request.app.state.max_upload_bytes)
    content_type = request.headers.get("content-type", "").lower()
    name = filename or request.headers.get("x-filename")
    if content_type.startswith("multipart/form-data"):
        body, part_name = await _multipart_file(request, body)
        name = name or part_name
    if not name:
        name = "manifest.json" if "json" in content_type else "manifest.csv"
    status, payload = await run_in_threadpool(_ingest, request, body, name, date)
    return JSONResponse(payload, status_code=status)


@router.get("", summary="List stored manifests")
async def get_manifests(
    request: Request,
    _: Dispatcher,
    date: Annotated[dt.date | None, Query(description="only manifests of this day")] = None,
) -> dict[str, Any]:
    """Stored manifests, oldest first."""
    return {"manifests": list_manifests(engine_of(request), date)}
