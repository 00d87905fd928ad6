"""Deadlines and caps against slow or hostile clients (a development tool still must not be wedged), on
either of uvicorn's HTTP/1.1 protocols (httptools, or h11 where httptools will not install).

- Request headers must arrive within MESIBO_MOCK_HEADER_TIMEOUT seconds of the connection opening
  (or of the previous answer, on a kept-alive connection): a slowloris connection is closed.
- A request body must arrive within MESIBO_MOCK_BODY_TIMEOUT seconds of the request's start.
- At most MESIBO_MOCK_MAX_CONNECTIONS connections at once (beyond: 503), below the file limit, which
  is raised to its hard ceiling at start so that the cap, not EMFILE, is what a flood meets.
"""

from __future__ import annotations

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


def guarded_protocol(
    header_timeout: float,
    body_timeout: float,
    slow_body: SlowBodyAnswer = plain_slow_body_answer,
    kind: str = "h11",
    bad_http: Callable[[str], bytes] = plain_bad_http,
) -> type:
    """uvicorn's HTTP/1.1 protocol (`kind`: httptools or h11) with deadlines for the request headers
    and body. No timer per request: each connection notes when it began waiting, and one sweep per loop
    looks at every connection twice a second. A connection still waiting for headers past the deadline
    is closed; a request whose body is still coming past its deadline is answered for (as `slow_body`
    says) and told its client has gone (so /backend answers BADPAYLOAD). Both protocols keep the same
    state (`cycle`, `response_complete`, `more_body`), so one sweep serves both."""

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

        def send_400_response(self, msg: str) -> None:
            """A request the HTTP parser cannot read (an unknown method name, broken framing) gets JSON,
            as every answer does (`bad_http` says what), never uvicorn's plain text."""
            body = bad_http(f"the request is not HTTP this server can read: {msg}")
            head = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\naccess-control-allow-origin: *\r\n"
            self.transport.write(
                head + b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
            )
            self.transport.close()

    if kind == "httptools":
        from uvicorn.protocols.http import httptools_impl
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        # uvicorn answers past `limit_concurrency` with this module-level app (plain text): no hook
        # of the protocol reaches it, so the name is bound to ours
        httptools_impl.service_unavailable = at_capacity

        class GuardedHttpToolsProtocol(Deadlines, HttpToolsProtocol):
            def on_headers_complete(self) -> None:
                super().on_headers_complete()
                self._cycle_started = self.loop.time()  # the body's deadline runs from here

        return GuardedHttpToolsProtocol

    from uvicorn.protocols.http import h11_impl
    from uvicorn.protocols.http.h11_impl import H11Protocol

    h11_impl.service_unavailable = at_capacity

    class GuardedH11Protocol(Deadlines, H11Protocol):
        _seen_cycle = None

        def handle_events(self) -> None:
            super().handle_events()
            if self.cycle is not self._seen_cycle:
                self._seen_cycle = self.cycle
                self._cycle_started = self.loop.time()

    return GuardedH11Protocol


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
