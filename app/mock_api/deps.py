"""Shared dependencies of the /_mock routers: the runtime, the admin token, an app by its token."""

from __future__ import annotations

import hmac
import sqlite3
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, Request

from app.runtime import Runtime
from app.services import apps


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SQLITE_MAX_ID = 2**63 - 1
# Ids are SQLite integers: a larger number is a 422, not an overflow deep in the store.
RowId = Annotated[int, Path(ge=1, le=SQLITE_MAX_ID)]
AfterId = Annotated[int | None, Query(ge=0, le=SQLITE_MAX_ID)]


def require_admin(request: Request, rt: RuntimeDep) -> None:
    expected = rt.settings.admin_token
    if not expected:
        return
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    given = given.strip() if scheme.lower() == "bearer" else request.query_params.get("admin_token", "")
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(
            401,
            "this emulator needs 'Authorization: Bearer <MESIBO_MOCK_ADMIN_TOKEN>'",
            headers={"WWW-Authenticate": "Bearer"},
        )


def get_app(token: str, rt: RuntimeDep) -> sqlite3.Row:
    app = apps.by_token(rt, token)
    if app is None:
        raise HTTPException(404, f"no app with token {token!r}")
    return app


AppDep = Annotated[sqlite3.Row, Depends(get_app)]
