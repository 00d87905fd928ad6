"""Shared dependencies of the /_mock routers: the runtime, an app by its token, bounded ids."""

# No `from __future__ import annotations`: FastAPI would have to eval() every annotation at start-up.

import sqlite3
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, Request

from mesibo_mock.server.runtime import Runtime
from mesibo_mock.services import apps


async def get_runtime(request: Request) -> Runtime:  # async: a sync one would hop to a thread
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SQLITE_MAX_ID = 2**63 - 1
# Ids are SQLite integers: a larger number is a 422, not an overflow deep in the store.
RowId = Annotated[int, Path(ge=1, le=SQLITE_MAX_ID)]
AfterId = Annotated[int | None, Query(ge=0, le=SQLITE_MAX_ID)]


async def get_app(token: str, rt: RuntimeDep) -> sqlite3.Row:
    app = apps.by_token(rt, token)
    if app is None:
        raise HTTPException(404, f"no app with token {token!r}")
    return app


AppDep = Annotated[sqlite3.Row, Depends(get_app)]
