"""What the backend paths answer, written straight to the ASGI server, and what is journaled and logged
for a call that went no further than the door (an unreadable body, a fault, a refused loop)."""

from __future__ import annotations

import contextlib
import logging
from typing import NamedTuple

from mesibo_mock.backend import journal
from mesibo_mock.backend.dispatch import notes_text
from mesibo_mock.backend.fields import is_mistake
from mesibo_mock.backend.request import Call
from mesibo_mock.errors import BADPAYLOAD, MesiboError, envelope
from mesibo_mock.server.guards import plain_slow_body_answer
from mesibo_mock.server.responses import dumps
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.store.db import StoreError

log = logging.getLogger("mesibo_mock.backend")
# /mesiboapi is where Mesibo's on-premise web server mounts the same backend [real].
PATHS = ("/backend", "/backend/", "/api.php", "/mesiboapi", "/mesiboapi/")
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Authorization",
    "Access-Control-Max-Age": "86400",
}


class Reply(NamedTuple):
    """An answer as it is sent: written straight to the ASGI server, no response object between."""

    status: int
    body: bytes
    headers: list[tuple[bytes, bytes]]


JSON_HEADERS = [(b"content-type", b"application/json"), (b"access-control-allow-origin", b"*")]
CLOSING_HEADERS = [*JSON_HEADERS, (b"connection", b"close")]  # 413: the body was left unread


def answer(body: dict, status: int, close: bool = False) -> Reply:
    return answered(dumps(body), status, close)


def answered(body: bytes, status: int, close: bool = False) -> Reply:
    """An answer whose bytes are made already."""
    return Reply(status, body, CLOSING_HEADERS if status == 413 or close else JSON_HEADERS)


PREFLIGHT = Reply(204, b"", [(k.lower().encode(), v.encode()) for k, v in PREFLIGHT_HEADERS.items()])


def bad_http_answer(cause: str) -> bytes:
    """What a request the HTTP parser cannot read gets (with HTTP 400): Mesibo's BADPAYLOAD envelope."""
    return dumps(envelope(None, error=MesiboError(BADPAYLOAD, cause)))


def slow_body_answer(path: str, cause: str) -> tuple[bytes, bytes, bytes]:
    """A body that never came: the envelope on the backend's paths, a plain 408 elsewhere."""
    if path in PATHS:
        body = dumps(envelope(None, error=MesiboError(BADPAYLOAD, cause)))
        return b"200 OK", b"Access-Control-Allow-Origin: *\r\n", body
    return plain_slow_body_answer(path, cause)


def refused_notes(exc: MesiboError) -> list[dict]:
    return [{**problem, "kind": "refused"} for problem in exc.problems]


async def record(
    rt: Runtime,
    call: Call,
    body: dict,
    app,
    op: str | None,
    notes: list[dict],
    *,
    error: MesiboError | None = None,
    fault: bool = False,
) -> None:
    """Journal a call that went no further than the door (or a fault), commit, and log it."""
    notes = call.notes + notes
    with rt.store.deferred():
        journal.write(
            rt,
            path=call.path,
            encoding=call.encoding,
            user_agent=call.user_agent,
            fields=call.fields,
            answer=body,
            app=app,
            op=op,
            notes=notes,
            pushes=[],
            mid=None,
            fault=fault,
        )
    with contextlib.suppress(StoreError):
        await rt.store.flush()
    log_call(call.path, op, app, error, notes)


def log_call(path: str, op: str | None, app, error: MesiboError | None, notes: list[dict]) -> None:
    """One line for a call that was refused or has something to say: Mesibo's error, then the
    emulator's own explanation (what the envelope never carries). A likely mistake (a field no op
    reads, an op that does not exist) or a refusal with a way out (the test-push limit) is a warning,
    so that it shows even in quiet logs."""
    level = logging.WARNING if any(is_mistake(n) or "hint" in n for n in notes) else logging.INFO
    if not log.isEnabledFor(level):
        return
    result = f"{error.error} {error.code}" if error is not None else "ok"
    who = f" app={app['name']}" if app is not None else ""
    text = notes_text(notes)
    log.log(level, "%s op=%s%s -> %s%s", path, op or "-", who, result, f": {text}" if text else "")
