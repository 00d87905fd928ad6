"""A backend call that a backend fault (SPEC section 6) answers: after its delay, with a row of Mesibo's
error table, or a bare HTTP status as a proxy in front of Mesibo would send. It changes nothing."""

from __future__ import annotations

import asyncio

from mesibo_mock.backend.dispatch import unread_notes
from mesibo_mock.backend.replies import JSON_HEADERS, Reply, answer, record, refused_notes
from mesibo_mock.backend.request import Call
from mesibo_mock.errors import AUTHFAIL, BADREQ, BY_ERROR_NAME, TOKENBREACH, UNKNOWN_OP, MesiboError, envelope
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.services import apps


def call_op(fields: dict) -> str | None:
    op = fields.get("op")
    return op.strip() if isinstance(op, str) else None


def call_token(fields: dict) -> str | None:
    token = fields.get("token")
    return token.strip() if isinstance(token, str) else str(token) if isinstance(token, int) else None


PROXY_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1>"
    "</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


async def answer_fault(rt: Runtime, call: Call, fields: dict, fault) -> Reply | None:
    """A backend fault for this call: wait, then answer with its error row or HTTP status; None when
    it only delays (the call then goes on as usual). A faulted call changes nothing, and a delayed one
    that a reset overtook writes nothing into the fresh store: the pytest fixture resets between tests,
    and one test's call must not leak into the next."""
    generation = rt.generation
    if fault["delay"]:
        await asyncio.sleep(fault["delay"])
    if rt.generation != generation:
        exc = MesiboError(
            BADREQ,
            problems=[
                {
                    "problem": f"the store was reset while backend fault #{fault['id']} held this call for"
                    f" {fault['delay']:g} s: it changed nothing",
                    "kind": "fault",
                }
            ],
        )
        body = envelope(fields.get("op"), fields.get("id"), error=exc)
        notes = refused_notes(exc) + unread_notes(call_op(fields), fields)
        await record(rt, call, body, None, call_op(fields), notes, error=exc, fault=True)
        return answer(body, 200)
    if fault["http"] is None and fault["error"] is None:
        return None
    unread = unread_notes(call_op(fields), fields)  # a faulted call's typos count in strict mode too
    op = fields.get("op")
    app = apps.by_token(rt, call_token(fields) or "") if call_token(fields) else None
    note = {"problem": f"answered by backend fault #{fault['id']}: it changed nothing", "kind": "fault"}
    if fault["http"] is not None:
        status = fault["http"]
        page = PROXY_PAGE.format(status=status, reason=REASONS[status])
        await record(
            rt, call, {"http": status, "body": page}, app, call_op(fields), [note, *unread], fault=True
        )
        return Reply(status, page.encode(), [(b"content-type", b"text/html; charset=utf-8"), JSON_HEADERS[1]])
    row = BY_ERROR_NAME[fault["error"]]
    properties = {AUTHFAIL: ["token"], TOKENBREACH: ["token"], UNKNOWN_OP: ["op"]}.get(row)
    error = MesiboError(row, properties=properties)
    body = envelope(op, fields.get("id"), error=error)
    await record(rt, call, body, app, call_op(fields), [note, *unread], error=error, fault=True)
    return answer(body, 200)
