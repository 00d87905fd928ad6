"""A webhook receiver that misbehaves on purpose, at the socket level: it reads a POST, then answers with
whatever bytes `answer(conn)` writes (an endless stream, a huge declared body, a gzip bomb)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable


class RawReceiver:
    def __init__(self, answer: Callable[[socket.socket], None]) -> None:
        self.answer = answer
        self.posts = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/hook"
        self._closed = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._closed:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            while len(body) < length:
                body += conn.recv(65536)
            self.posts += 1
            with contextlib.suppress(OSError):  # the emulator hung up: what a bounded read does
                self.answer(conn)

    def close(self) -> None:
        self._closed = True
        self.listener.close()

    def __enter__(self) -> RawReceiver:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
