"""One call to the backend paths as it is read: who sent it (the source address, after a trusted
proxy's header), its body within the size limit (whole or chunked, inflated if compressed), and its
fields in any encoding, as every op reads them."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect, Request

from mesibo_mock.backend import parsing
from mesibo_mock.backend.fields import DUPLICATE_KEY
from mesibo_mock.errors import BADPAYLOAD, MesiboError
from mesibo_mock.events.webhook import LOOP_HEADER
from mesibo_mock.redaction import scrub_fields

# Form framing around an upload: the body may exceed the file limit by this much.
FORM_OVERHEAD = 64 * 1024
LOOP = LOOP_HEADER.encode()  # what this emulator's own webhook POSTs carry


def too_large(limit: int) -> MesiboError:
    return MesiboError(BADPAYLOAD, f"the upload is larger than the limit of {limit} bytes", http_status=413)


async def read_body(request: Request, call: Call, limit: int) -> bytes:
    """Stop reading as soon as the body passes the limit: a huge upload is never held whole."""
    declared = call.content_length
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

    __slots__ = (
        "path",
        "user_agent",
        "encoding",
        "fields",
        "client",
        "notes",
        "from_webhook",
        "compression",
        "content_length",
        "chunked",
        "content_type",
    )

    def __init__(self, request: Request, trusted: tuple = ()) -> None:
        self.path = request.scope["path"]
        client = request.scope.get("client")
        headers = request.scope["headers"]
        self.client = source_address(client[0] if client else None, headers, trusted)
        # every User-Agent header, joined: a second one must not hide a phone's from the origin check
        # (the server hands header names over in lower case); one pass over the headers for all (a
        # Starlette Headers lookup walks them again each time: a measurable share of a pushtest)
        agents = []
        self.from_webhook = False
        self.compression: str | None = None  # the body's Content-Encoding, if any
        self.content_length: str | None = None  # the first Content-Length, as sent
        self.chunked = False  # a Transfer-Encoding naming chunked
        self.content_type: str | None = None  # the first Content-Type, as sent
        for name, value in headers:
            if name == b"user-agent":
                agents.append(value)
            elif name == b"content-length":
                if self.content_length is None:
                    self.content_length = value.decode("latin-1")
            elif name == b"transfer-encoding":
                self.chunked = self.chunked or b"chunked" in value.lower()
            elif name == LOOP:
                self.from_webhook = True
            elif name == b"content-encoding":
                self.compression = value.decode("latin-1")
            elif name == b"content-type" and self.content_type is None:
                self.content_type = value.decode("latin-1")
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
    body = await read_body(request, call, limit)
    compression = call.compression
    if compression is not None:  # a gzip or deflate body, as some HTTP stacks send: read inflated
        try:
            body = parsing.inflate(body, compression, limit + FORM_OVERHEAD)
        except ValueError as exc:
            raise parsing.bad_payload(str(exc)) from None
        if len(body) > limit + FORM_OVERHEAD:
            raise too_large(limit)
    call.fields, call.encoding = await fields_from(
        request.headers, query, body, limit, call.fields, content_type=call.content_type
    )
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


_LOOK_IT_UP = "look it up"  # fields_from's content type when the caller did not read it already


async def fields_from(
    headers: Headers,
    query: bytes,
    body: bytes,
    limit: int,
    parsed: dict | None = None,
    content_type: str | None = _LOOK_IT_UP,
) -> tuple[dict, str]:
    """A call's fields, from its query string (`parsed` already, if given) and its body in any
    encoding, as every op reads them (the body winning); -> (fields, encoding). `mesibo-mock record`
    reads calls with it too, so a recording shows the fields as the journal does. `content_type`, when
    the caller has it (a Call reads it in its one pass over the headers): a lookup saved."""
    fields = parsed if parsed is not None else parsing.parse_query(query) if query else {}
    if content_type is _LOOK_IT_UP:
        content_type = headers.get("content-type")
    encoding = parsing.body_encoding(body, content_type)
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


BIG_BODY = 64 * 1024  # a body past this (or of unknown length) counts against MAX_BIG_BODIES
MAX_BIG_BODIES = 8  # uploads held at once; with the upload limit, the memory they can take is bounded


def is_big(call: Call) -> bool:
    declared = call.content_length
    if declared is None:
        return call.chunked
    return not declared.isdigit() or int(declared) > BIG_BODY
