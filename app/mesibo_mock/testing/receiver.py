"""A local webhook receiver for users' tests: it answers `MESIBO OK`, as Mesibo wants, and records every
POST, so a test can point an app's webhook at it and assert on what its own backend would receive.

    with MesiboMock() as m, m.webhook_receiver() as hook:
        m.set_online("123")
        [event] = hook.wait_for_events(type="user")
        assert event["status"] == "online"
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

OK = b"MESIBO OK"
MAX_BODY = 1 << 20  # a POST past 1 MiB is answered 413, unread: a test's receiver never holds more


class WebhookReceiver:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, path: str = "/mesibo-webhook") -> None:
        self.posts: list[dict] = []  # every POST body, as JSON, in the order received
        self._lock = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                try:
                    length = int(self.headers.get("content-length") or 0)
                except ValueError:
                    length = -1
                if not 0 <= length <= MAX_BODY:
                    self.send_error(413 if length > MAX_BODY else 400)
                    self.close_connection = True
                    return
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {"unreadable": raw[:200].decode("utf-8", "replace")}
                with receiver._lock:
                    receiver.posts.append(body)
                    receiver._lock.notify_all()
                self.send_response(200)
                self.send_header("content-type", "text/plain")
                self.send_header("content-length", str(len(OK)))
                self.end_headers()
                self.wfile.write(OK)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.url = f"http://{host}:{self._server.server_address[1]}{path}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="mesibo-webhook", daemon=True)
        self._thread.start()

    def __enter__(self) -> WebhookReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def events(self, type: str | None = None) -> list[dict]:
        """Every event received, oldest first; `type`: only user, message or push events."""
        with self._lock:
            found = [event for post in self.posts for event in post.get("events", [])]
        return [e for e in found if type is None or e.get("type") == type]

    def wait_for_events(self, count: int = 1, type: str | None = None, timeout: float = 10.0) -> list[dict]:
        """Block until at least `count` matching events have arrived; -> them, oldest first."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = self.events(type)
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"the webhook received {len(found)} {type or ''} event(s), expected {count}"
                    )
                self._lock.wait(left)

    def clear(self) -> None:
        with self._lock:
            self.posts.clear()
