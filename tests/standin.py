"""A stand-in for the real Mesibo in record tests: it keeps every request exactly as it came (method,
target, headers, body bytes) and answers what the test told it, per op or by default."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

Answer = tuple[int, dict[str, str], bytes]


class StandIn:
    def __init__(self) -> None:
        self.received: list[dict] = []
        self.answer: Callable[[dict], Answer] = self.envelope
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                request = {
                    "method": self.command,
                    "target": self.path,
                    "headers": [(k.lower(), v) for k, v in self.headers.items()],
                    "body": body,
                }
                stand_in.received.append(request)
                status, headers, payload = stand_in.answer(request)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _any  # noqa: N815

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/backend"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def envelope(request: dict) -> Answer:
        """Mesibo's shape for whatever op came (read from the query or a JSON body)."""
        op = parse_qs(urlsplit(request["target"]).query).get("op", [None])[0]
        if op is None:
            try:
                op = json.loads(request["body"]).get("op")
            except (ValueError, AttributeError):
                op = None
        return 200, {"content-type": "application/json"}, json.dumps({"op": op, "result": True}).encode()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def slow(seconds: float) -> Callable[[dict], Answer]:
    def answer(request: dict) -> Answer:
        time.sleep(seconds)
        return StandIn.envelope(request)

    return answer
