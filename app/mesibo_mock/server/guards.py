"""Deadlines, bounds and caps against slow, hostile or merely unusual clients (a development tool still
must not be wedged, and every HTTP stack a user's backend runs on must be read whole), on either of
uvicorn's HTTP/1.1 protocols (httptools, or h11 where httptools will not install).

- Request headers must arrive within MESIBO_MOCK_HEADER_TIMEOUT seconds of the connection opening
  (or of the previous answer, on a kept-alive connection): a slowloris connection is closed.
- A request body must arrive within MESIBO_MOCK_BODY_TIMEOUT seconds of the request's start.
- A header section past MESIBO_MOCK_MAX_HEADER_BYTES is answered 431 and the connection closed.
- Content-Length beside Transfer-Encoding is answered 400 and the connection closed (RFC 9112 6.3):
  nothing after it is read as a request of its own.
- An Upgrade offer (h2c, as Java's HttpClient, Spring, Ktor and `curl --http2` send on every http://
  call; any other name) is ignored, as RFC 9110 7.8 allows: the request is read whole, body included,
  and answered as HTTP/1.1 on a connection that stays usable (uvicorn issue 2722: httptools stops
  reading at the offer and the body is lost).
- At most MESIBO_MOCK_MAX_CONNECTIONS connections at once (beyond: 503), below the file limit, which
  is raised to its hard ceiling at start so that the cap, not EMFILE, is what a flood meets.
"""

from __future__ import annotations

import contextlib
import json
import resource
from collections.abc import Callable

FD_RESERVE = 64  # files the server itself needs: the store, its WAL, logs, parser pipes


def connection_cap(wanted: int) -> int:
    """Raise the soft file limit to the hard one; the cap stays below it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return max(16, min(wanted, soft - FD_RESERVE))


SWEEP_SECONDS = 0.5


# path, cause -> (status line, extra header lines, body): what the app would have answered to a request
# whose body never came. Handed in by the caller, so that this plumbing knows no route.
SlowBodyAnswer = Callable[[str, str], tuple[bytes, bytes, bytes]]


def plain_slow_body_answer(_path: str, cause: str) -> tuple[bytes, bytes, bytes]:
    return b"408 Request Timeout", b"", json.dumps({"detail": cause}).encode()


def fast_protocol_available() -> bool:
    """httptools (uvicorn's fast HTTP/1.1 parser) is installed and imports here."""
    try:
        import httptools  # noqa: F401
    except ImportError:
        return False
    return True


def protocol_kind(wanted: str) -> str:
    """MESIBO_MOCK_HTTP: "auto" takes httptools where it installed, else h11 (pure Python)."""
    if wanted == "auto":
        return "httptools" if fast_protocol_available() else "h11"
    return wanted


AT_CAPACITY = json.dumps(
    {
        "detail": "the server holds as many connections as it takes (MESIBO_MOCK_MAX_CONNECTIONS):"
        " try again in a moment, or close idle connections"
    }
).encode()


async def at_capacity(scope, receive, send) -> None:
    """What a request past the connection cap gets: JSON (every answer is JSON), with Retry-After."""
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(AT_CAPACITY)).encode()),
        (b"retry-after", b"1"),
        (b"access-control-allow-origin", b"*"),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": AT_CAPACITY, "more_body": False})


def plain_bad_http(cause: str) -> bytes:
    return json.dumps({"detail": cause}).encode()


MAX_HEADER_BYTES = 64 * 1024  # MESIBO_MOCK_MAX_HEADER_BYTES' default

# status line and cause of a request refused before the app sees it
TOO_LARGE = (b"431 Request Header Fields Too Large", "the request's header section is past {limit} bytes")
CL_AND_TE = (
    b"400 Bad Request",
    "the request has both Content-Length and Transfer-Encoding, which HTTP/1.1 forbids (RFC 9112 6.3)",
)


def body_framing(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    """The framing header of a request's body, as a line to write again (chunked, or a Content-Length
    above 0); None when it has no body."""
    for name, value in headers:
        if name == b"transfer-encoding" and b"chunked" in value.lower():
            return b"transfer-encoding: chunked\r\n"
    for name, value in headers:
        if name == b"content-length" and value.strip() not in (b"", b"0"):
            return b"content-length: " + value.strip() + b"\r\n"
    return None


def guarded_protocol(
    header_timeout: float,
    body_timeout: float,
    slow_body: SlowBodyAnswer = plain_slow_body_answer,
    kind: str = "h11",
    bad_http: Callable[[str], bytes] = plain_bad_http,
    max_header_bytes: int = MAX_HEADER_BYTES,
) -> type:
    """uvicorn's HTTP/1.1 protocol (`kind`: httptools or h11) with the guards of this module. No timer
    per request: each connection notes when it began waiting, and one sweep per loop looks at every
    connection twice a second. A connection still waiting for headers past the deadline is closed; a
    request whose body is still coming past its deadline is answered for (as `slow_body` says) and told
    its client has gone (so /backend answers BADPAYLOAD). Both protocols keep the same state (`cycle`,
    `response_complete`, `more_body`), so one sweep serves both."""

    class Deadlines:
        _waiting_since = 0.0
        _cycle_started = 0.0

        def connection_made(self, transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._waiting_since = self.loop.time()
            _ensure_sweep(self.loop, self.connections, header_timeout, body_timeout, slow_body)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._waiting_since = self.loop.time()  # the next request's headers have the same deadline

        def _unsupported_upgrade_warning(self) -> None:
            """An Upgrade offer is ignored, as HTTP allows, and is no news: Java's HttpClient sends h2c
            on every call, so uvicorn's two warnings a call would flood the log."""

        def refuse(self, status_line: bytes, cause: str) -> None:
            """Answer a request that the app never sees (JSON, as every answer is) and close; the log
            says why, as it does for every refused call."""
            client = f"{self.client[0]}:{self.client[1]}" if self.client else "a client"
            self.logger.warning("refused a request from %s: %s", client, cause)
            body = bad_http(cause)
            head = b"HTTP/1.1 " + status_line + b"\r\ncontent-type: application/json\r\n"
            self.transport.write(
                head
                + b"access-control-allow-origin: *\r\nconnection: close\r\ncontent-length: %d\r\n\r\n%s"
                % (len(body), body)
            )
            self.transport.close()

        def send_400_response(self, msg: str) -> None:
            """A request the HTTP parser cannot read (an unknown method name, broken framing) gets JSON,
            as every answer does (`bad_http` says what), never uvicorn's plain text."""
            self.refuse(b"400 Bad Request", f"the request is not HTTP this server can read: {msg}")

    if kind == "httptools":
        import httptools
        from uvicorn.protocols.http import httptools_impl
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        # uvicorn answers past `limit_concurrency` with this module-level app (plain text): no hook
        # of the protocol reaches it, so the name is bound to ours
        httptools_impl.service_unavailable = at_capacity
        # and makes each request's cycle by this module-level name: ours adds `send_whole` to it
        httptools_impl.RequestResponseCycle = _whole_reply_cycle(httptools_impl)

        class GuardedHttpToolsProtocol(Deadlines, HttpToolsProtocol):
            _header_bytes = 0  # bytes read since the current header section began (about)

            def on_headers_complete(self) -> None:
                super().on_headers_complete()
                self._cycle_started = self.loop.time()  # the body's deadline runs from here
                self._header_bytes = 0

            def data_received(self, data: bytes) -> None:
                """uvicorn's, with the header section bounded: while no body is being read, what
                arrives is (the start of) a header section, and past the bound it is refused having
                read no more than the bound."""
                self._unset_keepalive_if_required()
                cycle = self.cycle
                if cycle is None or not cycle.more_body:
                    room = max_header_bytes - self._header_bytes
                    if len(data) > room:
                        self._header_bytes = max_header_bytes
                        self.feed(data[:room])
                        if self._header_bytes == 0 and not self.transport.is_closing():
                            self.data_received(data[room:])  # the section ended within the bound
                        elif not self.transport.is_closing():
                            status, cause = TOO_LARGE
                            self.refuse(status, cause.format(limit=max_header_bytes))
                        return
                    self._header_bytes += len(data)
                self.feed(data)

            def feed(self, data: bytes) -> None:
                try:
                    self.parser.feed_data(data)
                except httptools.HttpParserError as exc:
                    self.logger.debug("unreadable HTTP request: %s", exc)
                    self.send_400_response(str(exc) or "Invalid HTTP request received.")
                except httptools.HttpParserUpgrade as exc:
                    self.read_past_upgrade(data[exc.args[0] :])

            def read_past_upgrade(self, rest: bytes) -> None:
                """llhttp stops at an Upgrade offer, taking the request as ended where its headers end.
                Nothing is upgraded here, so the request goes on: a fresh parser reads its body (framed
                by a preamble that says how, whose own request line goes nowhere) into the waiting
                request, then every later request on the connection."""
                framing = body_framing(self.headers)
                if framing is None:  # no body: what follows is the next request, for the same parser
                    if rest:
                        self.feed(rest)
                    return
                # on_message_complete was told the message ended at the offer: its body is still to come
                self.cycle.more_body = True
                self.parser = httptools.HttpRequestParser(_BodyThenRequests(self))
                with contextlib.suppress(AttributeError):  # httptools < 0.6.3 has no leniencies
                    self.parser.set_dangerous_leniencies(lenient_data_after_close=True)
                self.feed(b"PUT / HTTP/1.1\r\n" + framing + b"\r\n" + rest)

        return GuardedHttpToolsProtocol

    import h11
    from uvicorn.protocols.http import h11_impl
    from uvicorn.protocols.http.h11_impl import H11Protocol

    h11_impl.service_unavailable = at_capacity

    class CheckedConnection(h11.Connection):
        """h11, refusing what it would let through: Content-Length beside Transfer-Encoding (h11 lets
        chunked win, so the bytes after the chunks became a request of its own). What was refused, and
        why, is kept for the protocol's answer."""

        refusal: tuple[bytes, str] | None = None

        def next_event(self):
            try:
                event = super().next_event()
            except h11.RemoteProtocolError as exc:
                self.refusal = TOO_LARGE if exc.error_status_hint == 431 else None
                raise
            if type(event) is h11.Request:
                names = {name for name, _ in event.headers}
                if b"content-length" in names and b"transfer-encoding" in names:
                    self.refusal = CL_AND_TE
                    raise h11.RemoteProtocolError(CL_AND_TE[1], error_status_hint=400)
            return event

    class GuardedH11Protocol(Deadlines, H11Protocol):
        _seen_cycle = None

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.conn = CheckedConnection(h11.SERVER, max_header_bytes)

        def handle_events(self) -> None:
            super().handle_events()
            if self.cycle is not self._seen_cycle:
                self._seen_cycle = self.cycle
                self._cycle_started = self.loop.time()

        def send_400_response(self, msg: str) -> None:
            refusal = self.conn.refusal
            if refusal is TOO_LARGE:
                self.refuse(TOO_LARGE[0], TOO_LARGE[1].format(limit=max_header_bytes))
            elif refusal is not None:
                self.refuse(*refusal)
            else:
                super().send_400_response(msg)

    return GuardedH11Protocol


def _whole_reply_cycle(httptools_impl) -> type:
    """uvicorn's httptools request cycle, with a way to send a whole answer known at once."""
    base = httptools_impl.RequestResponseCycle
    if hasattr(base, "send_whole"):  # already ours (a second server in this process)
        return base
    status_lines = httptools_impl.STATUS_LINE
    from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

    class WholeReplyCycle(base):
        def send_whole(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> bool:
            """The answer (its status, the app's own fixed headers in lower case, its whole body) in one
            write, as uvicorn's two ASGI messages would send it, byte for byte: no message dicts, no
            header checks for headers the app wrote itself, one system call rather than two. -> False
            where uvicorn's own `send` must do it (a paused writer to wait for, a HEAD request, an
            answer already started); the caller then sends the messages.
            The access-log line, at the default log level, is uvicorn's own, with the same words."""
            if self.disconnected:
                return True  # as `send` does: a client gone is not an error
            if self.response_started or self.flow.write_paused:
                return False
            scope = self.scope
            if scope["method"] == "HEAD":
                return False
            self.response_started = True
            self.waiting_for_100_continue = False
            if self.access_log:
                self.access_logger.info(
                    '%s - "%s %s HTTP/%s" %d',
                    get_client_addr(scope),
                    scope["method"],
                    get_path_with_query_string(scope),
                    scope["http_version"],
                    status,
                )
            content = [status_lines[status]]
            for name, value in self.default_headers:
                content += (name.lower(), b": ", value, b"\r\n")
            closing = False
            for name, value in headers:
                if name == b"connection" and b"close" in value.lower():
                    self.keep_alive = False
                    closing = True
                content += (name, b": ", value, b"\r\n")
            content.append(b"content-length: %d\r\n" % len(body))
            if not self.keep_alive and not closing:
                content.append(b"connection: close\r\n")
            content += (b"\r\n", body)
            self.transport.write(b"".join(content))
            self.response_complete = True
            self.message_event.set()
            if not self.keep_alive:
                self.transport.close()
            self.on_response()
            return True

    return WholeReplyCycle


class _BodyThenRequests:
    """The callbacks of a parser started after an ignored Upgrade offer: first a preamble written by
    the protocol (a request line to drop, the body's framing), whose body goes to the request that made
    the offer; then the protocol's own callbacks, for every later request on the connection."""

    def __init__(self, protocol) -> None:
        self.protocol = protocol
        self.preamble = True

    def on_message_begin(self) -> None:
        if not self.preamble:
            self.protocol.on_message_begin()

    def on_url(self, url: bytes) -> None:
        if not self.preamble:
            self.protocol.on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.preamble:
            self.protocol.on_header(name, value)

    def on_headers_complete(self) -> None:
        if not self.preamble:
            self.protocol.on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self.protocol.on_body(body)

    def on_message_complete(self) -> None:
        self.preamble = False
        self.protocol.on_message_complete()


_sweeping: set[int] = set()


def _answer_slow_body(transport, cycle, body_timeout: float, slow_body: SlowBodyAnswer) -> None:
    """The app still waits for the body: answer for it (as `slow_body` says for the path), close the
    connection, and tell the app its client has gone."""
    cause = f"the request body did not arrive within {body_timeout:g} s"
    status, extra, body = slow_body(cycle.scope.get("path", ""), cause)
    head = b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\nConnection: close\r\n" + extra
    transport.write(head + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    transport.close()
    cycle.disconnected = True
    cycle.message_event.set()


def _ensure_sweep(
    loop, connections: set, header_timeout: float, body_timeout: float, slow_body: SlowBodyAnswer
) -> None:
    if id(loop) in _sweeping:
        return
    _sweeping.add(id(loop))

    def sweep() -> None:
        now = loop.time()
        for protocol in list(connections):
            transport = getattr(protocol, "transport", None)
            if transport is None or transport.is_closing():
                continue
            cycle = protocol.cycle
            if cycle is None or cycle.response_complete:
                if now - protocol._waiting_since > header_timeout:
                    transport.close()
            elif cycle.more_body and not cycle.disconnected and now - protocol._cycle_started > body_timeout:
                _answer_slow_body(transport, cycle, body_timeout, slow_body)
        if loop.is_closed():
            _sweeping.discard(id(loop))
            return
        loop.call_later(SWEEP_SECONDS, sweep)

    loop.call_later(SWEEP_SECONDS, sweep)
