"""The /backend, /api.php and /mesiboapi routes: read any encoding within the size limit, dispatch."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import NamedTuple

from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect, Request

from mesibo_mock.backend import journal, parsing
from mesibo_mock.backend.dispatch import app_named, dispatch, notes_text, unread_notes
from mesibo_mock.backend.fields import DUPLICATE_KEY, is_mistake
from mesibo_mock.errors import (
    AUTHFAIL,
    BADPAYLOAD,
    BADREQ,
    BY_ERROR_NAME,
    TOKENBREACH,
    UNKNOWN_OP,
    MesiboError,
    envelope,
)
from mesibo_mock.events.webhook import LOOP_HEADER, cloud_note
from mesibo_mock.redaction import scrub_fields
from mesibo_mock.server.guards import plain_slow_body_answer
from mesibo_mock.server.responses import dumps
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.server.settings import parse_networks
from mesibo_mock.services import apps, backend_faults
from mesibo_mock.store.db import StoreError

log = logging.getLogger("mesibo_mock.backend")
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
        return await _whole_body(request)  # the server holds the body to its declared length
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


async def _whole_body(request: Request) -> bytes:
    """The body straight from the ASGI messages (a small call's comes in one): Starlette's body() walks
    an async generator per call, a measurable share of a pushtest."""
    chunks = []
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise parsing.bad_payload("the client disconnected before the body was complete")
        chunk = message.get("body", b"")
        if not message.get("more_body", False):
            return b"".join(chunks) + chunk if chunks else chunk
        chunks.append(chunk)


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


class Call:
    """One request to the backend paths, as far as it was read: what the journal records of it."""

    __slots__ = ("path", "user_agent", "encoding", "fields", "client", "notes", "from_webhook")

    def __init__(self, request: Request, trusted: tuple = ()) -> None:
        self.path = request.scope["path"]
        client = request.scope.get("client")
        self.client = source_address(client[0] if client else None, request.scope["headers"], trusted)
        # every User-Agent header, joined: a second one must not hide a phone's from the origin check
        # (the server hands header names over in lower case)
        headers = request.scope["headers"]
        agents = [value for name, value in headers if name == b"user-agent"]
        self.from_webhook = any(name == LOOP for name, _ in headers)
        self.user_agent = (agents[0] if len(agents) == 1 else b", ".join(agents)).decode("latin-1")
        self.encoding = "query"
        self.fields: dict = {}
        self.notes: list[dict] = []  # what reading the call found to say (a key given twice)


def source_address(peer: str | None, headers: list[tuple[bytes, bytes]], trusted: tuple) -> str | None:
    """Where a call came from, as TOKENBREACH counts it (SPEC section 2): the TCP peer, unless the peer
    is a trusted proxy (MESIBO_MOCK_TRUSTED_PROXIES): then the nearest address its X-Forwarded-For (or
    Forwarded) header names that is not a trusted proxy itself. Only a value that parses as an IP
    address counts: a header cannot forge an address out of text."""
    if not trusted or peer is None or not _within(peer, trusted):
        return peer
    named: list[str] = []
    for name, value in headers:
        if name == b"x-forwarded-for":
            named += [part.strip() for part in value.decode("latin-1").split(",")]
        elif name == b"forwarded":
            for element in value.decode("latin-1").split(","):
                for pair in element.split(";"):
                    key, _, found = pair.strip().partition("=")
                    if key.lower() == "for":
                        named.append(found.strip().strip('"').removeprefix("[").split("]")[0])
    for address in reversed(named):  # the nearest hop first: the proxy appended it
        parsed = _ip(address)
        if parsed is None:
            return peer  # a value that is not an address: the peer is what is known
        if not _within(parsed, trusted):
            return parsed
    return peer


def _ip(text: str) -> str | None:
    import ipaddress

    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _within(address: str, networks: tuple) -> bool:
    import ipaddress

    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


async def read_fields(request: Request, call: Call, limit: int) -> dict:
    query = request.scope.get("query_string", b"")
    call.fields = parsing.parse_query(query) if query else {}  # what the journal has if the body fails
    body = await read_body(request, limit)
    compression = request.headers.get("content-encoding")
    if compression is not None:  # a gzip or deflate body, as some HTTP stacks send: read inflated
        try:
            body = parsing.inflate(body, compression, limit + FORM_OVERHEAD)
        except ValueError as exc:
            raise parsing.bad_payload(str(exc)) from None
        if len(body) > limit + FORM_OVERHEAD:
            raise too_large(limit)
    call.fields, call.encoding = await fields_from(request.headers, query, body, limit, call.fields)
    if call.encoding == "json":
        call.notes = [
            {
                "field": path,
                "problem": "is given twice in the JSON body: one of its values was dropped unread",
                "kind": DUPLICATE_KEY,
            }
            for path in parsing.duplicate_keys(body, call.fields)
        ]
    return call.fields


async def fields_from(
    headers: Headers, query: bytes, body: bytes, limit: int, parsed: dict | None = None
) -> tuple[dict, str]:
    """A call's fields, from its query string (`parsed` already, if given) and its body in any
    encoding, as every op reads them (the body winning); -> (fields, encoding). `mesibo-mock record`
    reads calls with it too, so a recording shows the fields as the journal does."""
    fields = parsed if parsed is not None else parsing.parse_query(query) if query else {}
    encoding = parsing.body_encoding(body, headers.get("content-type"))
    if encoding == "multipart":
        from_body = await parse_multipart(headers, body, limit)
    elif encoding == "json":
        from_body = parsing.parse_json_object(body)
    elif encoding == "form":
        from_body = parsing.parse_form(body)
    else:
        from_body = None
    if from_body is not None:
        fields = parsing.merge(fields, from_body) if fields else from_body
    if KEY_HINT in body or KEY_HINT in query:  # a key, in any encoding: never kept
        fields = scrub_fields(fields)
    return fields, encoding


KEY_HINT = b"PRIVATE"  # in every PEM private-key header, whatever the encoding that carried it


LOOP = LOOP_HEADER.encode()  # what this emulator's own webhook POSTs carry


class Reply(NamedTuple):
    """An answer as it is sent: written straight to the ASGI server, no response object between."""

    status: int
    body: bytes
    headers: list[tuple[bytes, bytes]]


JSON_HEADERS = [(b"content-type", b"application/json"), (b"access-control-allow-origin", b"*")]
CLOSING_HEADERS = [*JSON_HEADERS, (b"connection", b"close")]  # 413: the body was left unread


def answer(body: dict, status: int, close: bool = False) -> Reply:
    return Reply(status, dumps(body), CLOSING_HEADERS if status == 413 or close else JSON_HEADERS)


PREFLIGHT = Reply(204, b"", [(k.lower().encode(), v.encode()) for k, v in PREFLIGHT_HEADERS.items()])


def bad_http_answer(cause: str) -> bytes:
    """What a request the HTTP parser cannot read gets (with HTTP 400): Mesibo's BADPAYLOAD envelope."""
    return dumps(envelope(None, error=MesiboError(BADPAYLOAD, cause)))


def slow_body_answer(path: str, cause: str) -> tuple[bytes, bytes, bytes]:
    """A body that never came: the envelope on the backend's paths, a plain 408 elsewhere."""
    if path in PATHS:
        body = dumps(envelope(None, error=MesiboError(BADPAYLOAD, cause)))
        return b"200 OK", b"Access-Control-Allow-Origin: *\r\n", body
    return plain_slow_body_answer(path, cause)


BIG_BODY = 64 * 1024  # a body past this (or of unknown length) counts against MAX_BIG_BODIES
MAX_BIG_BODIES = 8  # uploads held at once; with the upload limit, the memory they can take is bounded


def is_big(request: Request) -> bool:
    declared = request.headers.get("content-length")
    if declared is None:
        return "chunked" in request.headers.get("transfer-encoding", "").lower()
    return not declared.isdigit() or int(declared) > BIG_BODY


def refused_notes(exc: MesiboError) -> list[dict]:
    return [{**problem, "kind": "refused"} for problem in exc.problems]


class BackendApp:
    """The backend paths as one ASGI app: a Request to read the call, a Reply written straight back
    (no router, middleware stack or response object between: the hot path of a chat backend's calls).
    An object, not a function, so that a Starlette Route takes it as an ASGI app of any method."""

    def __init__(self, handler) -> None:
        self.handler = handler

    async def __call__(self, scope, receive, send) -> None:
        try:
            reply = await self.handler(Request(scope, receive))
        except Exception:  # a bug must still answer in the envelope, never a 5xx
            log.exception("the backend failed on %s", scope.get("path"))
            reply = answer(envelope(None, error=MesiboError(BADREQ, "internal error")), 200)
        headers = [*reply.headers, (b"content-length", str(len(reply.body)).encode())]
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": reply.body})


def make_endpoint(rt: Runtime) -> BackendApp:
    trusted = parse_networks(rt.settings.trusted_proxies)

    async def backend(request: Request) -> Reply:
        if request.method == "OPTIONS":
            return PREFLIGHT
        call = Call(request, trusted)
        if not is_big(request):
            return await serve(request, call)
        if rt.big_bodies >= MAX_BIG_BODIES:  # its body is read and dropped as it comes, never held
            return await refuse_busy(request, call)
        rt.big_bodies += 1
        try:
            return await serve(request, call)
        finally:
            rt.big_bodies -= 1

    async def refuse_busy(request: Request, call: Call) -> Reply:
        exc = MesiboError(
            BADREQ,
            f"{MAX_BIG_BODIES} large bodies (uploads) are being read or parsed already: this one was"
            " dropped unread; send it again in a moment",
        )
        body = envelope(None, error=exc)
        await record(
            rt, call, body, app_named(rt, call.fields.get("token")), None, refused_notes(exc), error=exc
        )
        # Read to its end, so that the client, still sending, gets the answer rather than a reset.
        close, seen = False, 0
        with contextlib.suppress(ClientDisconnect):
            async for chunk in request.stream():
                seen += len(chunk)
                if seen > rt.settings.max_upload_bytes + FORM_OVERHEAD:
                    close = True
                    break
        return answer(body, 200, close)

    async def refuse_loop(request: Request, call: Call) -> Reply:
        """A webhook POST of this emulator came back to its own backend: refused, so that a webhook URL
        pointed here (stored before, seeded, or by a name the emulator cannot tell is its own) cannot
        loop. It is not MESIBO OK, so the attempt fails and its retries end it."""
        with contextlib.suppress(MesiboError):
            await read_fields(request, call, rt.settings.max_upload_bytes)
        exc = MesiboError(
            BADREQ,
            "a webhook POST of this emulator reached its own backend: refused, so that it cannot loop (the app's"
            " webhook URL points at this emulator: point it at your backend's receiver)",
        )
        body = envelope(call.fields.get("op"), error=exc)
        await record(
            rt,
            call,
            body,
            app_named(rt, call.fields.get("token")),
            _op(call.fields),
            refused_notes(exc),
            error=exc,
        )
        return answer(body, 200)

    async def serve(request: Request, call: Call) -> Reply:
        if call.from_webhook:
            return await refuse_loop(request, call)
        try:
            fields = await read_fields(request, call, rt.settings.max_upload_bytes)
        except MesiboError as exc:
            notes = refused_notes(exc)
            body = envelope(None, error=exc)
            # the token may still be readable (from the query string): filed under its app
            await record(rt, call, body, app_named(rt, call.fields.get("token")), None, notes, error=exc)
            return answer(body, exc.http_status)
        fault = backend_faults.take(rt, _op(fields), _token(fields)) if backend_faults.armed(rt) else None
        if fault is not None:
            faulted = await answer_fault(rt, call, fields, fault)
            if faulted is not None:
                return faulted
        with rt.store.deferred():
            outcome = await dispatch(rt, fields, call.user_agent, call.client)
            outbox = outcome.outbox
            notes = call.notes + outcome.notes + _webhook_notes(rt, outcome)
            if fault is not None:
                notes.append(
                    {
                        "problem": f"delayed {fault['delay']:g} s by backend fault #{fault['id']}",
                        "kind": "fault",
                    }
                )
            journal.write(
                rt,
                path=call.path,
                encoding=call.encoding,
                user_agent=call.user_agent,
                fields=fields,
                answer=outcome.body,
                app=outcome.app,
                op=outcome.op,
                notes=notes,
                pushes=outbox.push_ids if outbox is not None else [],
                mid=outcome.mid,
                fault=fault is not None,
            )
        try:
            await rt.store.flush()  # answer only once the write is durable
        except StoreError as exc:
            error = MesiboError(BADREQ, str(exc))
            log.warning("%s op=%s -> BADREQ 400: %s", call.path, outcome.op or "-", exc)
            return answer(envelope(fields.get("op"), fields.get("id"), error=error), 200)
        if outcome.error is not None or notes:
            log_call(call.path, outcome.op, outcome.app, outcome.error, notes)
        return answer(outcome.body, outcome.status)

    return BackendApp(backend)


def _op(fields: dict) -> str | None:
    op = fields.get("op")
    return op.strip() if isinstance(op, str) else None


def _token(fields: dict) -> str | None:
    token = fields.get("token")
    return token.strip() if isinstance(token, str) else str(token) if isinstance(token, int) else None


def _webhook_notes(rt: Runtime, outcome) -> list[dict]:
    """A call whose events go to a webhook Mesibo's cloud would refuse: the journal says so."""
    if outcome.app is None or outcome.outbox is None or not outcome.outbox.delivered:
        return []
    note = cloud_note(rt, outcome.app["webhook_url"])
    return [{"field": "webhook", "problem": note, "kind": "webhook"}] if note else []


async def record(
    rt: Runtime,
    call: Call,
    body: dict,
    app,
    op: str | None,
    notes: list[dict],
    *,
    error: MesiboError | None = None,
    fault: bool = False,
) -> None:
    """Journal a call that went no further than the door (or a fault), commit, and log it."""
    notes = call.notes + notes
    with rt.store.deferred():
        journal.write(
            rt,
            path=call.path,
            encoding=call.encoding,
            user_agent=call.user_agent,
            fields=call.fields,
            answer=body,
            app=app,
            op=op,
            notes=notes,
            pushes=[],
            mid=None,
            fault=fault,
        )
    with contextlib.suppress(StoreError):
        await rt.store.flush()
    log_call(call.path, op, app, error, notes)


PROXY_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1>"
    "</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


async def answer_fault(rt: Runtime, call: Call, fields: dict, fault) -> Reply | None:
    """A backend fault for this call: wait, then answer with its error row or HTTP status; None when
    it only delays (the call then goes on as usual). A faulted call changes nothing, and a delayed one
    that a reset overtook writes nothing into the fresh store: the pytest fixture resets between tests,
    and one test's call must not leak into the next."""
    generation = rt.generation
    if fault["delay"]:
        await asyncio.sleep(fault["delay"])
    if rt.generation != generation:
        exc = MesiboError(
            BADREQ,
            problems=[
                {
                    "problem": f"the store was reset while backend fault #{fault['id']} held this call for"
                    f" {fault['delay']:g} s: it changed nothing",
                    "kind": "fault",
                }
            ],
        )
        body = envelope(fields.get("op"), fields.get("id"), error=exc)
        notes = refused_notes(exc) + unread_notes(_op(fields), fields)
        await record(rt, call, body, None, _op(fields), notes, error=exc, fault=True)
        return answer(body, 200)
    if fault["http"] is None and fault["error"] is None:
        return None
    unread = unread_notes(_op(fields), fields)  # a faulted call's typos count in strict mode too
    op = fields.get("op")
    app = apps.by_token(rt, _token(fields) or "") if _token(fields) else None
    note = {"problem": f"answered by backend fault #{fault['id']}: it changed nothing", "kind": "fault"}
    if fault["http"] is not None:
        status = fault["http"]
        page = PROXY_PAGE.format(status=status, reason=REASONS[status])
        await record(rt, call, {"http": status, "body": page}, app, _op(fields), [note, *unread], fault=True)
        return Reply(status, page.encode(), [(b"content-type", b"text/html; charset=utf-8"), JSON_HEADERS[1]])
    row = BY_ERROR_NAME[fault["error"]]
    properties = {AUTHFAIL: ["token"], TOKENBREACH: ["token"], UNKNOWN_OP: ["op"]}.get(row)
    error = MesiboError(row, properties=properties)
    body = envelope(op, fields.get("id"), error=error)
    await record(rt, call, body, app, _op(fields), [note, *unread], error=error, fault=True)
    return answer(body, 200)


def log_call(path: str, op: str | None, app, error: MesiboError | None, notes: list[dict]) -> None:
    """One line for a call that was refused or has something to say: Mesibo's error, then the
    emulator's own explanation (what the envelope never carries). A likely mistake (a field no op
    reads, an op that does not exist) or a refusal with a way out (the test-push limit) is a warning,
    so that it shows even in quiet logs."""
    level = logging.WARNING if any(is_mistake(n) or "hint" in n for n in notes) else logging.INFO
    if not log.isEnabledFor(level):
        return
    result = f"{error.error} {error.code}" if error is not None else "ok"
    who = f" app={app['name']}" if app is not None else ""
    text = notes_text(notes)
    log.log(level, "%s op=%s%s -> %s%s", path, op or "-", who, result, f": {text}" if text else "")
