"""The backend's answer on httptools goes out in one write (server/guards.py `send_whole`): it must be
byte for byte what uvicorn's own two ASGI messages would have written, and leave the cycle in the
same state; where uvicorn's `send` has work of its own to do, `send_whole` declines."""

from __future__ import annotations

import asyncio
import logging

import pytest

pytest.importorskip("httptools")

from uvicorn.protocols.http import httptools_impl  # noqa: E402
from uvicorn.protocols.http.flow_control import FlowControl  # noqa: E402

from mesibo_mock.backend.replies import CLOSING_HEADERS, JSON_HEADERS  # noqa: E402
from mesibo_mock.server import guards  # noqa: E402

BODY = b'{"op":"pushtest","result":true}'
DEFAULT_HEADERS = [(b"date", b"Sun, 06 Dec 2026 15:00:00 GMT"), (b"server", b"uvicorn")]


class Transport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def cycle(cls, *, method="POST", keep_alive=True, access_log=False):
    transport = Transport()
    completed = []
    made = cls(
        scope={
            "type": "http",
            "method": method,
            "path": "/backend",
            "raw_path": b"/backend",
            "query_string": b"op=pushtest",
            "http_version": "1.1",
            "client": ("127.0.0.1", 5555),
            "headers": [],
        },
        transport=transport,
        flow=FlowControl(transport),
        logger=logging.getLogger("test"),
        access_logger=logging.getLogger("test.access"),
        access_log=access_log,
        default_headers=list(DEFAULT_HEADERS),
        message_event=asyncio.Event(),
        expect_100_continue=False,
        keep_alive=keep_alive,
        on_response=lambda: completed.append(True),
    )
    return made, transport, completed


@pytest.fixture(scope="module")
def whole_cycle():
    guards.guarded_protocol(1.0, 1.0, kind="httptools")  # binds uvicorn's cycle name to ours
    made = httptools_impl.RequestResponseCycle
    assert hasattr(made, "send_whole")
    return made


def uvicorns_own(status, headers, keep_alive=True, access_log=False):
    """What BackendApp sent before: two ASGI messages through uvicorn's send."""
    made, transport, completed = cycle(_base_cycle(), keep_alive=keep_alive, access_log=access_log)
    head = [*headers, (b"content-length", str(len(BODY)).encode())]

    async def send():
        await made.send({"type": "http.response.start", "status": status, "headers": head})
        await made.send({"type": "http.response.body", "body": BODY})

    asyncio.run(send())
    return made, transport, completed


def _base_cycle():
    cls = httptools_impl.RequestResponseCycle
    while hasattr(cls, "send_whole"):
        cls = cls.__base__
    return cls


@pytest.mark.parametrize(
    ("status", "headers", "keep_alive"),
    [
        (200, JSON_HEADERS, True),  # the common answer, kept alive
        (200, CLOSING_HEADERS, True),  # the backend asks to close
        (413, CLOSING_HEADERS, True),
        (200, JSON_HEADERS, False),  # HTTP/1.0, or the client asked to close: uvicorn adds the header
    ],
)
def test_one_write_is_byte_for_byte_uvicorns_two(whole_cycle, status, headers, keep_alive):
    theirs, their_transport, their_done = uvicorns_own(status, headers, keep_alive)
    ours, our_transport, our_done = cycle(whole_cycle, keep_alive=keep_alive)

    assert ours.send_whole(status, headers, BODY) is True

    assert len(our_transport.writes) == 1
    assert our_transport.writes[0] == b"".join(their_transport.writes)
    assert our_transport.closed == their_transport.closed == (not keep_alive or headers is CLOSING_HEADERS)
    for state in ("response_started", "response_complete", "keep_alive"):
        assert getattr(ours, state) == getattr(theirs, state), state
    assert ours.message_event.is_set() and our_done == their_done == [True]


def test_a_gone_client_gets_nothing_and_no_error(whole_cycle):
    ours, transport, done = cycle(whole_cycle)
    ours.disconnected = True
    assert ours.send_whole(200, JSON_HEADERS, BODY) is True
    assert transport.writes == [] and done == []


def test_the_access_log_line_is_uvicorns_own(whole_cycle, caplog):
    """At the default log level uvicorn writes an access line per call: send_whole writes the same one
    (same logger, words and values), and still answers in one write."""
    with caplog.at_level(logging.INFO, logger="test.access"):
        theirs, their_transport, _ = uvicorns_own(200, JSON_HEADERS, access_log=True)
        their_lines = [(r.name, r.msg, r.args) for r in caplog.records]
        caplog.clear()
        ours, our_transport, _ = cycle(whole_cycle, access_log=True)
        assert ours.send_whole(200, JSON_HEADERS, BODY) is True
        our_lines = [(r.name, r.msg, r.args) for r in caplog.records]
    assert our_lines == their_lines
    assert our_lines == [
        (
            "test.access",
            '%s - "%s %s HTTP/%s" %d',
            ("127.0.0.1:5555", "POST", "/backend?op=pushtest", "1.1", 200),
        )
    ]
    assert our_transport.writes == [b"".join(their_transport.writes)]


@pytest.mark.parametrize("case", ["head", "paused writer", "started"])
def test_declines_where_uvicorns_send_has_work_of_its_own(whole_cycle, case):
    ours, transport, done = cycle(whole_cycle, method="HEAD" if case == "head" else "POST")
    if case == "paused writer":
        ours.flow.pause_writing()
    if case == "started":
        ours.response_started = True
    assert ours.send_whole(200, JSON_HEADERS, BODY) is False
    assert transport.writes == [] and done == [] and not ours.response_complete
    assert ours.response_started == (case == "started")


class Server:
    """An ASGI `send` bound to an object, as uvicorn's is to its cycle (h11's offers no `send_whole`)."""

    def __init__(self) -> None:
        self.wholes: list[tuple] = []
        self.messages: list[dict] = []

    async def send(self, message):
        self.messages.append(message)


class WholeServer(Server):
    def __init__(self, takes_whole: bool) -> None:
        super().__init__()
        self.takes_whole = takes_whole

    def send_whole(self, status, headers, body):
        self.wholes.append((status, headers, body))
        return self.takes_whole


def test_backend_answers_in_one_write_where_the_server_offers_it_and_in_messages_otherwise():
    from mesibo_mock.backend.http import BackendApp
    from mesibo_mock.backend.replies import Reply

    async def handler(_request):
        return Reply(200, BODY, JSON_HEADERS)

    app = BackendApp(handler)
    scope = {"type": "http", "method": "POST", "path": "/backend", "headers": [], "query_string": b""}

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    started = {"type": "http.response.start", "status": 200}
    for takes_whole, wholes, messages in [(True, 1, 0), (False, 1, 2), (None, 0, 2)]:
        server = Server() if takes_whole is None else WholeServer(takes_whole)
        asyncio.run(app(scope, receive, server.send))
        assert len(server.wholes) == wholes and len(server.messages) == messages, takes_whole
        if wholes:
            assert server.wholes[0] == (200, JSON_HEADERS, BODY)
        if messages:
            assert server.messages[0].items() >= started.items()
            assert (b"content-length", str(len(BODY)).encode()) in server.messages[0]["headers"]
            assert server.messages[1]["body"] == BODY
