"""/_mock answers every refusal as short JSON with a 4xx status (503 when the disk is full): never a
traceback, never a copy of the input."""

from __future__ import annotations

import logging
import sqlite3

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError

from mesibo_mock.server.responses import json_response
from mesibo_mock.store.db import StoreError
from mesibo_mock.store.disk import disk_full

log = logging.getLogger("mesibo_mock")
MAX_ERRORS = 10
MAX_TEXT = 200


def _short(text: object) -> str:
    text = str(text)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "..."


def install(api: FastAPI) -> None:
    @api.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError):
        """FastAPI's own answer copies the whole input back, however large: this one names the fields."""
        errors = [
            {
                "loc": [_short(p) for p in err.get("loc", ())],
                "msg": _short(err.get("msg", "")),
                "type": err.get("type"),
            }
            for err in exc.errors()[:MAX_ERRORS]
        ]
        return json_response({"detail": errors}, 422)

    @api.exception_handler(UnicodeEncodeError)
    async def not_unicode(_request: Request, _exc: UnicodeEncodeError):
        return json_response({"detail": "text must be valid Unicode (a lone surrogate is not)"}, 422)

    @api.exception_handler(OverflowError)
    async def overflow(_request: Request, exc: OverflowError):
        return json_response({"detail": f"a number is out of range: {_short(exc)}"}, 422)

    @api.exception_handler(StoreError)
    async def store_failed(_request: Request, exc: StoreError):
        return json_response({"detail": _short(exc)}, 503)

    @api.exception_handler(sqlite3.OperationalError)
    async def sqlite_failed(_request: Request, exc: sqlite3.OperationalError):
        if disk_full(exc):
            return json_response({"detail": "database or disk is full"}, 503)
        log.error("store error: %s", exc)
        return json_response({"detail": f"the store failed: {_short(exc)}"}, 503)
