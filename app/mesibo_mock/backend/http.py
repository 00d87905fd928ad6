"""The /backend, /api.php and /mesiboapi routes: read any encoding within the size limit, dispatch."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from mesibo_mock.backend import parsing
from mesibo_mock.backend.dispatch import dispatch
from mesibo_mock.errors import BADPAYLOAD, BADREQ, MesiboError, envelope
from mesibo_mock.server.guards import plain_slow_body_answer
from mesibo_mock.server.responses import dumps
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.store.db import StoreError

# /mesiboapi is where Mesibo's on-premise web server mounts the same backend [real].
PATHS = ("/backend", "/backend/", "/api.php", "/mesiboapi", "/mesiboapi/")
# Form framing around an upload: the body may exceed the file limit by this much.
FORM_OVERHEAD = 64 * 1024
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Authorization",
    "Access-Control-Max-Age": "86400",
}


def too_large(limit: int) -> MesiboError:
    return MesiboError(BADPAYLOAD, f"the upload is larger than the limit of {limit} bytes", http_status=413)


async def read_body(request: Request, limit: int) -> bytes:
    """Stop reading as soon as the body passes the limit: a huge upload is never held whole."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit():
        if int(declared) > limit + FORM_OVERHEAD:
            raise too_large(limit)
        try:
            return await request.body()  # the server holds the body to its declared length
        except ClientDisconnect:
            raise parsing.bad_payload("the client disconnected before the body was complete") from None
    chunks, size = [], 0  # chunked: count as it comes
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit + FORM_OVERHEAD:
                raise too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect:
        raise parsing.bad_payload("the client disconnected before the body was complete") from None
    return b"".join(chunks)


async def parse_multipart(headers: Headers, body: bytes, limit: int) -> dict:
    async def replay() -> AsyncIterator[bytes]:
        yield body

    parser = MultiPartParser(headers, replay(), max_files=8, max_fields=256, max_part_size=limit)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise parsing.bad_payload(f"the multipart body is malformed: {exc}") from None
    pairs = []
    try:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                content = await value.read()
                if len(content) > limit:
                    raise too_large(limit)
                value = parsing.UploadedFile(value.filename or "", content, value.content_type)
            pairs.append((key, value))
    finally:
        await form.close()
    files = {k: v for k, v in pairs if isinstance(v, parsing.UploadedFile)}
    nested = parsing.nest([(k, v) for k, v in pairs if not isinstance(v, parsing.UploadedFile)])
    return {**nested, **files}


async def read_fields(request: Request, limit: int) -> dict:
    fields = parsing.parse_query(request.scope.get("query_string", b""))
    body = await read_body(request, limit)
    content_type = request.headers.get("content-type")
    if parsing.is_multipart(content_type):
        from_body = await parse_multipart(request.headers, body, limit)
    else:
        from_body = parsing.parse_body(body, content_type)
    return parsing.merge(fields, from_body)


ANY_ORIGIN = {"Access-Control-Allow-Origin": "*"}  # only the backend answers other origins [real]


CLOSE = {**ANY_ORIGIN, "Connection": "close"}  # 413: the body was left unread, the connection is done


def answer(body: dict, status: int) -> Response:
    headers = CLOSE if status == 413 else ANY_ORIGIN
    return Response(dumps(body), status_code=status, media_type="application/json", headers=headers)


def slow_body_answer(path: str, cause: str) -> tuple[bytes, bytes, bytes]:
    """A body that never came: the envelope on the backend's paths, a plain 408 elsewhere."""
    if path in PATHS:
        body = dumps(envelope(None, error=MesiboError(BADPAYLOAD, cause)))
        return b"200 OK", b"Access-Control-Allow-Origin: *\r\n", body
    return plain_slow_body_answer(path, cause)


def make_endpoint(rt: Runtime):
    async def backend(request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=PREFLIGHT_HEADERS)
        try:
            fields = await read_fields(request, rt.settings.max_upload_bytes)
        except MesiboError as exc:
            return answer(envelope(None, error=exc), exc.http_status)
        with rt.store.deferred():
            status, body = await dispatch(rt, fields, request.headers.get("user-agent", ""))
        try:
            await rt.store.flush()  # answer only once the write is durable
        except StoreError as exc:
            error = MesiboError(BADREQ, str(exc))
            return answer(envelope(fields.get("op"), fields.get("id"), error=error), 200)
        return answer(body, status)

    return backend
