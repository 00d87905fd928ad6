"""Hardening, fourth round: what the attack on the third round's code found, each through the real server."""

from __future__ import annotations

import socket
import time
import zlib

import pytest

from mesibo_mock.testing import MesiboMock
from tests.e2e.test_growth_and_scale import peak_rss_mb
from tests.rawreceiver import RawReceiver

LINUX_ONLY = pytest.mark.skipif(not __import__("os").path.exists("/proc/self/status"), reason="reads /proc")


def endless_stream(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n%s\r\n" % (1 << 20, b"x" * (1 << 20))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # 1 MB at a time until the emulator hangs up
        conn.sendall(chunk)


def declared_ten_megabytes(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10485760\r\n\r\nMESIBO OK")
    conn.sendall(b" " * (10 << 20))


def gzip_bomb(conn: socket.socket) -> None:
    """About 200 KB of gzip that inflates to 200 MB, sent chunked (no length to refuse it by)."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * (1 << 20)
    bomb = b"".join(squeeze.compress(block) for _ in range(200)) + squeeze.flush()
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
    conn.sendall(head + b"%x\r\n%s\r\n0\r\n\r\n" % (len(bomb), bomb))


def gzipped_ok(conn: socket.socket) -> None:
    body = zlib.compress(b"MESIBO OK", 9, wbits=31)
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )


@LINUX_ONLY
@pytest.mark.parametrize(
    "answer, reason",
    [
        (endless_stream, "more than 65536 bytes"),
        (declared_ten_megabytes, "a body of 10485760 bytes"),
        (gzip_bomb, "more than 65536 bytes"),
        (gzipped_ok, "compressed (gzip)"),
    ],
    ids=["endless-stream", "declared-10MB", "gzip-bomb", "gzipped-ok"],
)
def test_a_receivers_answer_is_read_to_64kb_never_inflated_and_fails_the_attempt(answer, reason):
    with MesiboMock(subprocess=True, env={"WEBHOOK_TIMEOUT": "4"}) as mock, RawReceiver(answer) as receiver:
        before = peak_rss_mb(mock._proc.pid)
        mock.set_webhook(receiver.url, events=["user"])
        started = time.monotonic()
        mock.set_online("ann")
        first = wait_for_attempt(mock)
        assert not first["ok"] and reason in first["error"], first["error"]
        assert "MESIBO OK" in first["error"]  # says what Mesibo wants instead
        assert time.monotonic() - started < 3.5  # it did not wait for the whole answer or its deadline
        health = time.monotonic()
        assert mock.health()["status"] == "ok"
        assert time.monotonic() - health < 0.5
        assert peak_rss_mb(mock._proc.pid) - before < 40, "the answer was held or inflated"


def wait_for_attempt(mock: MesiboMock, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        attempts = mock.webhook_deliveries()
        if attempts:
            return attempts[-1]
        time.sleep(0.05)
    raise AssertionError("no webhook attempt")
