"""SPEC section 11 at the socket: what real HTTP stacks send at their defaults is read whole on both
protocols (an h2c Upgrade offer, as Java's HttpClient sends on every http:// call), and what would let a
request be lost or smuggled is refused alike (a header section past its bound, Content-Length beside
Transfer-Encoding)."""

from __future__ import annotations

import json
import socket
import time

import pytest

from mesibo_mock.testing import MesiboMock

PROTOCOLS = ["httptools", "h11"]
TOKEN = "stack-token"
OFFER = (
    b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
    b"HTTP2-Settings: AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA\r\n"
)


@pytest.fixture(scope="module", params=PROTOCOLS)
def stack(request):
    with MesiboMock(
        subprocess=True,
        app_token=TOKEN,
        env={"MESIBO_MOCK_HTTP": request.param, "MESIBO_MOCK_MAX_HEADER_BYTES": "65536"},
    ) as mock:
        yield mock


def body_of(op: str, **fields) -> bytes:
    return json.dumps({"op": op, "token": TOKEN, **fields}).encode()


def request(body: bytes, extra: bytes = b"", chunked: bool = False) -> bytes:
    head = b"POST /backend HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + extra
    if chunked:
        half = len(body) // 2
        chunks = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (half, body[:half], len(body) - half, body[half:])
        return head + b"Transfer-Encoding: chunked\r\n\r\n" + chunks
    return head + b"Content-Length: %d\r\n\r\n" % len(body) + body


def connect(mock: MesiboMock) -> socket.socket:
    sock = socket.create_connection((mock.host, mock.port))
    sock.settimeout(10)
    return sock


def read_answers(sock: socket.socket, count: int) -> list[tuple[int, dict]]:
    """`count` HTTP answers (status, JSON body) read off the socket, each framed by its Content-Length."""
    buffer, answers = b"", []
    while len(answers) < count:
        while b"\r\n\r\n" not in buffer:
            data = sock.recv(65536)
            assert data, f"the connection closed after {len(answers)} answer(s): {buffer!r}"
            buffer += data
        head, _, buffer = buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        if status == 100:  # an interim answer to Expect: 100-continue
            continue
        length = next(
            int(v)
            for k, _, v in (line.partition(b":") for line in lines[1:])
            if k.lower() == b"content-length"
        )
        while len(buffer) < length:
            data = sock.recv(65536)
            assert data, "the connection closed in the middle of an answer"
            buffer += data
        answers.append((status, json.loads(buffer[:length])))
        buffer = buffer[length:]
    return answers


def closed_without_more(sock: socket.socket) -> bool:
    """The server closed the connection, and sent nothing more before it did."""
    sock.settimeout(5)
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_h2c_offer_is_ignored_and_the_body_read_whole(stack, chunked):
    sock = connect(stack)
    try:
        sock.sendall(request(body_of("useradd", user={"address": "java-1"}), OFFER, chunked=chunked))
        [(status, answer)] = read_answers(sock, 1)
        assert status == 200 and answer["result"] is True and answer["user"]["address"] == "java-1"
        # and the connection goes on, as HTTP/1.1: a second request on it is answered too
        sock.sendall(request(body_of("usersget", addr="java-1"), OFFER, chunked=chunked))
        [(_, listed)] = read_answers(sock, 1)
        assert [u["address"] for u in listed["users"]] == ["java-1"]
    finally:
        sock.close()


def test_pipelined_requests_after_an_h2c_offer_are_each_answered(stack):
    sock = connect(stack)
    try:
        calls = [
            request(body_of("useradd", user={"address": "pipe-1"}), OFFER),
            request(body_of("useradd", user={"address": "pipe-2"}), OFFER, chunked=True),
            request(body_of("usersget", addr="pipe-*")),
        ]
        sock.sendall(b"".join(calls))  # all at once, in one packet
        answers = read_answers(sock, 3)
        assert [a["result"] for _, a in answers] == [True, True, True]
        assert sorted(u["address"] for u in answers[2][1]["users"]) == ["pipe-1", "pipe-2"]
    finally:
        sock.close()


def test_a_body_that_follows_the_offer_in_later_packets_is_waited_for(stack):
    """Java sends the headers first and the body after: the body arrives in packets of its own."""
    body = body_of("useradd", user={"address": "late-body"})
    whole = request(body, OFFER + b"Expect: 100-continue\r\n")
    head, _, _ = whole.partition(b"\r\n\r\n")
    sock = connect(stack)
    try:
        sock.sendall(head + b"\r\n\r\n")
        time.sleep(0.2)  # the headers alone reach the server: what it does with them is the point
        for i in range(0, len(body), 7):
            sock.sendall(body[i : i + 7])
        [(status, answer)] = read_answers(sock, 1)
        assert status == 200 and answer["user"]["address"] == "late-body"
    finally:
        sock.close()


def test_an_offer_on_a_request_without_a_body_leaves_the_connection_usable(stack):
    sock = connect(stack)
    try:
        query = f"op=usersget&token={TOKEN}".encode()
        get = b"GET /backend?" + query + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + OFFER + b"\r\n"
        sock.sendall(get + get)
        answers = read_answers(sock, 2)
        assert [a["op"] for _, a in answers] == ["usersget", "usersget"]
    finally:
        sock.close()


def test_an_offer_of_websocket_or_any_other_protocol_is_ignored_too(stack):
    sock = connect(stack)
    try:
        for offered in (b"websocket", b"TLS/1.2", b"foo/9"):
            extra = b"Connection: upgrade\r\nUpgrade: " + offered + b"\r\nSec-WebSocket-Version: 13\r\n"
            sock.sendall(request(body_of("usersget"), extra))
            [(status, answer)] = read_answers(sock, 1)
            assert status == 200 and answer["op"] == "usersget", offered
    finally:
        sock.close()


def test_headers_within_the_bound_are_served(stack):
    """60 KB of headers (h11's own bound was 16 KB) is within the 64 KiB both protocols take."""
    sock = connect(stack)
    try:
        filler = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"a" * 1000) for i in range(58))
        sock.sendall(request(body_of("usersget"), filler))
        [(status, answer)] = read_answers(sock, 1)
        assert status == 200 and answer["result"] is True
    finally:
        sock.close()


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))


def test_a_megabyte_of_headers_is_refused_at_the_bound_with_memory_flat(stack):
    pid = stack._proc.pid
    before = rss_kib(pid)
    for _ in range(3):
        sock = connect(stack)
        try:
            sock.sendall(b"POST /backend HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            sent = 0
            try:
                while sent < 1024 * 1024:
                    sock.sendall(b"X-Big: " + b"b" * 8185 + b"\r\n")
                    sent += 8194
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server stopped reading: refused before the megabyte was in
            answer = b""
            try:
                while chunk := sock.recv(65536):
                    answer += chunk
            except ConnectionResetError:
                pass
        finally:
            sock.close()
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 431"), answer[:200]
        assert b"content-type: application/json" in head.lower()
        assert json.loads(body)["result"] is False  # Mesibo's envelope; the log says why
    assert rss_kib(pid) - before < 8 * 1024, (before, rss_kib(pid))  # flat: no megabyte per connection
    assert stack.health()["status"] == "ok"


def test_a_header_section_just_past_the_bound_is_refused_without_waiting_for_its_end(stack):
    """The bound, not the 10 s header deadline, ends it: the answer comes while the section is open."""
    sock = connect(stack)
    try:
        started = time.monotonic()
        sock.sendall(b"GET /_mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"c" * (65 * 1024))
        answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
        assert time.monotonic() - started < 5
    finally:
        sock.close()


@pytest.mark.parametrize("te", [b"chunked", b"gzip, chunked"])
def test_content_length_beside_transfer_encoding_is_refused_and_nothing_after_it_answered(stack, te):
    smuggled = b"GET /_mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    body = body_of("usersget")
    chunks = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    attack = (
        b"POST /backend HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\nTransfer-Encoding: %s\r\n\r\n" % (len(chunks), te) + chunks + smuggled
    )
    sock = connect(stack)
    try:
        sock.sendall(attack)
        [(status, answer)] = read_answers(sock, 1)
        assert status == 400 and answer["result"] is False and answer["error"] == "BADPAYLOAD"
        assert closed_without_more(sock)  # the smuggled health check got no answer
    finally:
        sock.close()


def test_expect_100_continue_gets_its_interim_answer_then_the_body_is_read(stack):
    """PHP's curl waits for `100 Continue` before a body past 1 KB: it must come, and the body after."""
    body = body_of("useradd", user={"address": "expecting", "profile": {"status": "x" * 2000}})
    head, _, _ = request(body, b"Expect: 100-continue\r\n").partition(b"\r\n\r\n")
    sock = connect(stack)
    try:
        sock.sendall(head + b"\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 100 Continue\r\n")
        sock.sendall(body)
        [(status, answer)] = read_answers(sock, 1)
        assert status == 200 and answer["user"]["address"] == "expecting"
    finally:
        sock.close()


def test_an_http_1_0_request_is_answered_and_closed(stack):
    body = body_of("usersget")
    sock = connect(stack)
    try:
        sock.sendall(b"POST /backend HTTP/1.0\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        [(status, answer)] = read_answers(sock, 1)
        assert status == 200 and answer["op"] == "usersget"
        assert closed_without_more(sock)
    finally:
        sock.close()


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compressed_body_is_read_inflated(stack, encoding):
    import zlib

    body = body_of("useradd", user={"address": f"zipped-{encoding}"})
    packed = zlib.compressobj(wbits=31 if encoding == "gzip" else 15)
    data = packed.compress(body) + packed.flush()
    sock = connect(stack)
    try:
        sock.sendall(request(data, b"Content-Encoding: " + encoding.encode() + b"\r\n"))
        [(status, answer)] = read_answers(sock, 1)
        assert status == 200 and answer["user"]["address"] == f"zipped-{encoding}"
    finally:
        sock.close()


def test_a_compressed_body_that_is_not_what_it_says_is_badpayload(stack):
    sock = connect(stack)
    try:
        sock.sendall(request(b"this is not gzip", b"Content-Encoding: gzip\r\n"))
        [(status, answer)] = read_answers(sock, 1)
        assert status == 200 and answer["error"] == "BADPAYLOAD"
    finally:
        sock.close()


def test_a_gzip_bomb_is_refused_at_the_upload_limit_without_being_inflated_whole(stack):
    import zlib

    packed = zlib.compressobj(wbits=31)
    bomb = packed.compress(b'{"op":"usersget","x":"' + b"0" * (200 * 1024 * 1024)) + packed.flush()
    sock = connect(stack)
    try:
        sock.sendall(request(bomb, b"Content-Encoding: gzip\r\n"))
        [(status, answer)] = read_answers(sock, 1)
        assert status == 413 and answer["error"] == "BADPAYLOAD"
    finally:
        sock.close()


def test_keep_alive_requests_one_after_another_share_a_connection(stack):
    sock = connect(stack)
    try:
        for i in range(5):
            sock.sendall(request(body_of("useradd", user={"address": f"kept-{i}"})))
            [(status, answer)] = read_answers(sock, 1)
            assert status == 200 and answer["user"]["address"] == f"kept-{i}"
    finally:
        sock.close()


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_ninth_large_body_at_once_is_refused_unread_while_a_small_call_still_goes_through(stack, framing):
    """At most eight large bodies (past 64 KiB, or of unknown length: chunked) are held at once; a ninth is
    answered BADREQ in the envelope and dropped as it comes, and a small call is never held back. Nine
    uploads each send their headers and a first part of their body, and wait: whichever the server reads
    last is refused (journaled at once), whatever order it reads them in."""
    part = b"x" * 1024
    head = b"POST /backend?op=pushupload&token=" + TOKEN.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if framing == "chunked":
        head += b"Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
        first, rest = b"%x\r\n%s\r\n" % (len(part), part), b"0\r\n\r\n"
    else:
        head += b"Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n" % (200 * 1024)
        first, rest = part, b"y" * (200 * 1024 - len(part))
    stack.clear_requests(all_apps=True)
    uploads = [connect(stack) for _ in range(9)]
    try:
        for sock in uploads:
            sock.sendall(head + first)
        deadline = time.monotonic() + 20  # waits for an event (the refusal's entry), no more
        while not (refusals := [e for e in stack.requests(all_apps=True) if _says_busy(e)]):
            assert time.monotonic() < deadline, "no upload of the nine was refused"
            time.sleep(0.02)
        small = connect(stack)  # meanwhile, a small call is answered
        small.sendall(request(body_of("pushset", push={"sound": True})))
        [(status, answered)] = read_answers(small, 1)
        assert status == 200 and answered["op"] == "pushset" and answered["result"] is True
        for sock in uploads:
            sock.sendall(rest)
        answers = [read_answers(sock, 1)[0] for sock in uploads]
        # the refused one is answered in the envelope, its body dropped; the eight were read whole (and
        # found not to be a body the backend takes)
        errors = sorted(a["error"] for _, a in answers)
        assert len(refusals) == 1 and errors == ["BADPAYLOAD"] * 8 + ["BADREQ"]
        small.close()
    finally:
        for sock in uploads:
            sock.close()


def _says_busy(entry: dict) -> bool:
    return any("8 large bodies (uploads) are being read" in n.get("problem", "") for n in entry["diagnosis"])
