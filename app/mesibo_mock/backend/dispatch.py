"""Fields -> envelope: the order of checks (payload, op, origin, token, the op's own fields) in one place."""

from __future__ import annotations

import inspect
import logging
import sqlite3
from typing import Any

from mesibo_mock.backend.ops import OpContext
from mesibo_mock.backend.registry import OPS
from mesibo_mock.errors import (
    AUTHFAIL,
    AUTHFAIL_CAUSE,
    BADORIGIN,
    BADORIGIN_CAUSE,
    BADREQ,
    BADVALUE,
    UNKNOWN_OP_CAUSE,
    MesiboError,
    envelope,
    missing,
)
from mesibo_mock.events.webhook import Outbox
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.services import apps
from mesibo_mock.store.db import disk_full

log = logging.getLogger("mesibo_mock.backend")
ASYNC_HANDLERS = frozenset(h for h in OPS.values() if inspect.iscoroutinefunction(h))
# Mesibo refuses the backend API from a phone: its key must never ship inside an app [real].
PHONE_MARKERS = ("Android", "Mobile")


async def dispatch(rt: Runtime, fields: dict, user_agent: str = "") -> tuple[int, dict]:
    """-> (HTTP status, envelope). Never raises. Handlers are plain functions; one that must wait
    for something outside the process (pushupload's parser) may be a coroutine."""
    op: Any = fields.get("op")
    request_id = fields.get("id")
    try:
        handler = _handler(op)
        if any(marker in user_agent for marker in PHONE_MARKERS):
            raise MesiboError(BADORIGIN, BADORIGIN_CAUSE)
        app = _authenticate(rt, fields.get("token"))
        if handler in ASYNC_HANDLERS:
            result = await handler(OpContext(rt, app, Outbox(rt)), fields)
        else:
            with rt.store.tx():  # one unit: an op that is refused half-way changes nothing
                result = handler(OpContext(rt, app, Outbox(rt)), fields)
        return 200, envelope(op, request_id, **result)
    except MesiboError as exc:
        return exc.http_status, envelope(op, request_id, error=exc)
    except sqlite3.Error as exc:
        if disk_full(exc):
            return 200, envelope(op, request_id, error=MesiboError(BADREQ, "database or disk is full"))
        log.exception("op %r failed in the store", op if isinstance(op, str) else None)
        return 200, envelope(op, request_id, error=MesiboError(BADREQ, f"the store failed: {exc}"))
    except Exception:  # a bug must still answer in the envelope, never a 5xx
        log.exception("op %r failed", op if isinstance(op, str) else None)
        return 200, envelope(op, request_id, error=MesiboError(BADREQ, "the request could not be processed"))


def _handler(op: Any):
    if op is None or op == "":
        raise missing("op")
    handler = OPS.get(op.strip()) if isinstance(op, str) else None
    if handler is None:
        raise MesiboError(BADVALUE, UNKNOWN_OP_CAUSE, ["op"], code=501)
    return handler


def _authenticate(rt: Runtime, token: Any):
    if isinstance(token, int) and not isinstance(token, bool):
        token = str(token)
    app = apps.by_token(rt, token.strip()) if isinstance(token, str) and token.strip() else None
    if app is None:
        raise MesiboError(AUTHFAIL, AUTHFAIL_CAUSE, ["token"])
    return app
