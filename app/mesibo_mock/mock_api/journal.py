"""/_mock/requests and /_mock/mistakes: the request journal, and what strict mode fails a test for."""

# No `from __future__ import annotations`: FastAPI would have to eval() every annotation at start-up.
# Route handlers carry no `-> dict` annotation on purpose: FastAPI would build a response model for
# each at import time, which alone cost 50 ms of start-up.

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse

from mesibo_mock.backend import journal
from mesibo_mock.backend.mistakes import report
from mesibo_mock.backend.report import failure_report, find_mistakes, parse_seen, seen_mark
from mesibo_mock.mock_api.deps import (
    AfterId,
    BeforeId,
    Count,
    Limit,
    RowId,
    RuntimeDep,
    TokenFilter,
    Wait,
    long_poll,
    text_query,
)
from mesibo_mock.server.responses import json_response
from mesibo_mock.services import apps, records

router = APIRouter(prefix="/_mock")


# --- the request journal, backend faults --------------------------------------------------------------
@router.get("/requests", tags=["requests"])
async def list_requests(
    request: Request,
    rt: RuntimeDep,
    token: TokenFilter = None,
    op: text_query("only calls of this op (as sent, so a misspelt op can be found)") = None,
    result: Annotated[bool | None, Query(description="only calls answered with this result")] = None,
    diagnosed: Annotated[
        bool | None,
        Query(description="true: only calls refused, with fields no op reads, or with recipients skipped"),
    ] = None,
    after: AfterId = None,
    before: BeforeId = None,
    limit: Limit = 100,
    wait: Wait = 0,
    count: Count = 1,
):
    """Every call to the backend paths, newest first (`after`/`before`: ids, to page): what was read (the app token and file contents
    redacted), the answer as sent, the pushes and message it caused, and the emulator's diagnosis.
    `diagnosed=true`: only calls refused, with fields no op reads, or with recipients skipped."""
    filters = {"app_token": token, "op": op, "result": result, "diagnosed": diagnosed}
    app = apps.by_token(rt, token) if token is not None else None
    # by the app's number, which is indexed; the token too, for entries of an app deleted since
    by_app = {"app_id": app["id"] if app is not None else None, "app_token": token}

    def query():
        return [
            journal.view(r, listed=True)
            for r in records.calls(rt, {**filters, **by_app}, after, before, limit)
        ]

    return json_response(
        {"requests": await long_poll(rt, request, wait, "requests", filters, query, count, limit)}
    )


@router.get("/requests/{entry_id}", tags=["requests"])
async def get_request(entry_id: RowId, rt: RuntimeDep):
    """One journal entry."""
    row = records.call(rt, entry_id)
    if row is None:
        raise HTTPException(404, f"no journal entry {entry_id}")
    return json_response(journal.view(row))


@router.delete("/requests", tags=["requests"])
async def clear_requests(rt: RuntimeDep, token: text_query("only this app's journal entries") = None):
    """Empty the journal (of one app with `token`)."""
    return json_response({"deleted": records.clear(rt, "journal", token)})


@router.get("/mistakes", tags=["requests"])
async def list_mistakes(
    rt: RuntimeDep,
    token: TokenFilter = None,
    after: AfterId = None,
    limit: Annotated[
        int, Query(ge=1, le=10_000, description="at most this many journal entries looked at")
    ] = 10_000,
    seen: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9]{1,19}:[0-9]{1,19}$",
            description="an earlier answer's `seen`: leave out what was found up to then (a test read it)",
        ),
    ] = None,
):
    """What strict mode fails a test for, oldest first: every backend call (of the app with `token`,
    after journal id `after`) that sent an op that does not exist or a field no op reads, and every
    webhook attempt its handler did not answer with MESIBO OK, each with its one-line text; `report`,
    the text a test fails with (null when there is nothing); and `seen`, where these findings end (a
    client passes it back once a test has read them, so a finding a test expects does not fail it).
    The pytest plugin and the Node, PHP and Java clients all read this route."""
    mark = seen_mark(rt)
    found = find_mistakes(rt, token, after, limit, parse_seen(seen) if seen else None)
    return json_response({"mistakes": found, "report": report(found), "seen": mark})


@router.get("/report", tags=["requests"], response_class=PlainTextResponse)
async def get_failure_report(
    rt: RuntimeDep,
    token: TokenFilter = None,
    after: AfterId = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="at most this many calls, the newest")] = 200,
):
    """What a failed test's report shows (the pytest plugin, the PHPUnit trait, the Node hook and the
    JUnit extension print it): each backend call of the app with `token` after journal id `after`,
    oldest first, with what was sent, Mesibo's answer and the emulator's diagnosis; then what strict
    mode would fail the test for."""
    return PlainTextResponse(failure_report(rt, token, after, limit))
