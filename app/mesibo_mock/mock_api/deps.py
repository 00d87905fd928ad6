"""Shared dependencies of the /_mock routers: the runtime, an app by its token, bounded ids."""

# No `from __future__ import annotations`: FastAPI would have to eval() every annotation at start-up.

import sqlite3
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Path, Query, Request

from mesibo_mock.server.runtime import Runtime
from mesibo_mock.services import apps


async def get_runtime(request: Request) -> Runtime:  # async: a sync one would hop to a thread
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SQLITE_MAX_ID = 2**63 - 1
# Ids are SQLite integers: a larger number is a 422, not an overflow deep in the store.
RowId = Annotated[int, Path(ge=1, le=SQLITE_MAX_ID, description="the record's id")]
MAX_LIMIT = 1000
MAX_WAIT_SECONDS = 60.0


def id_query(description: str):
    """An optional id in the query string, bounded like every SQLite integer."""
    return Annotated[int | None, Query(ge=0, le=SQLITE_MAX_ID, description=description)]


def text_query(description: str, alias: str | None = None):
    return Annotated[str | None, Query(max_length=4096, description=description, alias=alias)]


def choice_query(*values: str, description: str):
    """An optional filter that takes one of a few words (anything else is a 422 naming them)."""
    return Annotated[Literal[values] | None, Query(description=description)]


# The query parameters the /_mock lists share, described once for /docs.
AfterId = id_query("only records with a larger id: to page, or to ask for what is new since a record seen")
BeforeId = id_query("only records with a smaller id: to page back")
TokenFilter = text_query("only records of the app with this token")
AddressFilter = text_query("only records of this user address")
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="at most this many records, newest first")]
Wait = Annotated[
    float,
    Query(
        ge=0,
        le=MAX_WAIT_SECONDS,
        description="seconds to wait (long-poll) until a record matches; 0 answers at once. "
        "Woken only by a new record that meets the other filters",
    ),
]
Count = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_LIMIT,
        description="with `wait`: answer once at least this many records match (at most `limit`); "
        "without it, as soon as one does",
    ),
]
PageSize = Annotated[
    int, Query(ge=1, le=10_000, description="at most this many, oldest first (then page with `after`)")
]


async def get_app(
    token: Annotated[str, Path(description="the app's token, as its backend calls send it")], rt: RuntimeDep
) -> sqlite3.Row:
    app = apps.by_token(rt, token)
    if app is None:
        raise HTTPException(404, f"no app with token {token!r}")
    return app


AppDep = Annotated[sqlite3.Row, Depends(get_app)]


async def long_poll(
    rt: Runtime,
    request: Request,
    wait: float,
    kind: str,
    filters: dict,
    query,
    count: int = 1,
    limit: int = 1,
):
    """Run `query` until it finds `count` records or `wait` seconds pass; woken only by new records of
    `kind` that meet `filters`, and only once enough of them have come. It ends early when its client
    has gone or the server is stopping."""
    if count > limit:
        raise HTTPException(
            422, f"'count' ({count}) must not be more than 'limit' ({limit}): the list could never hold them"
        )
    return await rt.waiters.poll(kind, filters, query, wait, lambda: client_gone(request), count)


async def client_gone(request: Request) -> None:
    """Returns when the server reports that the client has disconnected (no polling)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
