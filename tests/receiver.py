"""A real local HTTP receiver for webhook tests: records every POST, answers as told."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, port: int = 0) -> None:
        self.requests: list[dict] = []
        self.arrived = 0  # POSTs whose body was read, answered or not (a held one counts)
        self.statuses: list[int] = []  # answers to give, in order; then `default_status`
        self.default_status = 200
        self.ok_body = b"MESIBO OK"  # what a 2xx answer carries
        self.hold = threading.Event()  # cleared: handlers wait (a slow receiver)
        self.hold.set()
        self.hang_seconds = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                receiver.arrived += 1
                receiver.hold.wait(30)
                if receiver.hang_seconds:
                    time.sleep(receiver.hang_seconds)
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "json": json.loads(body)}
                )
                status = receiver.statuses.pop(0) if receiver.statuses else receiver.default_status
                payload = receiver.ok_body if status < 300 else b"no"
                try:
                    self.send_response(status)
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"receiver got {len(self.requests)} request(s), expected {count}")
            time.sleep(0.01)
        return self.requests
