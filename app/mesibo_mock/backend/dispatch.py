"""Fields -> envelope: the order of checks (payload, op, origin, token, the op's own fields) in one place.

What the emulator can say beyond Mesibo's fixed texts (why a field was refused, what was skipped) is
collected as the call's `notes` and travels to the log line and the request journal, never into the
envelope.
"""

from __future__ import annotations

import difflib
import inspect
import logging
import re
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from mesibo_mock.backend import fields as field_notes
from mesibo_mock.backend.ops import OpContext
from mesibo_mock.backend.reading import Fields
from mesibo_mock.backend.registry import DOCS, OPS, REAL_OPS_NOT_IMPLEMENTED
from mesibo_mock.errors import (
    AUTHFAIL,
    BADORIGIN,
    BADREQ,
    TOKENBREACH,
    UNKNOWN_OP,
    MesiboError,
    envelope,
    missing,
)
from mesibo_mock.events.outbox import Outbox
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.services import apps
from mesibo_mock.store.disk import disk_full

log = logging.getLogger("mesibo_mock.backend")
ASYNC_HANDLERS = frozenset(h for h in OPS.values() if inspect.iscoroutinefunction(h))
# Mesibo refuses the backend API from a phone: its key must never ship inside an app. The binary
# searches the User-Agent without regard to letter case [real].
PHONE_MARKERS = ("android", "mobile")
PHONE = re.compile("|".join(PHONE_MARKERS), re.IGNORECASE | re.ASCII)  # as str.lower() finds them
INTERNAL_ERROR = "internal error"  # a note kind: a bug of the emulator, never the caller's mistake


@dataclass
class Outcome:
    """One backend call, answered: the HTTP status, the envelope, and what the emulator adds."""

    status: int
    body: dict
    op: str | None
    app: sqlite3.Row | None = None
    error: MesiboError | None = None
    notes: list[dict] = field(default_factory=list)  # the diagnosis: [{"field"?, "problem", "hint"?}]
    outbox: Outbox | None = None
    mid: int | None = None


async def dispatch(rt: Runtime, fields: dict, user_agent: str = "", client: str | None = None) -> Outcome:
    """Never raises. Handlers are plain functions; one that must wait for something outside the
    process (pushupload's parser) may be a coroutine."""
    op: Any = fields.get("op")
    name = op.strip() if isinstance(op, str) else None
    request_id = fields.get("id")
    app = None
    ctx: OpContext | None = None
    try:
        handler = _handler(op)
        if PHONE.search(user_agent) is not None:
            raise MesiboError(BADORIGIN, f"the User-Agent {user_agent[:80]!r} looks like a phone's")
        app = _authenticate(rt, fields.get("token"))
        ctx = OpContext(rt, app, Outbox(rt))
        guard_sources(ctx, client)
        read = Fields(name, DOCS[name], fields)  # its fields, as its OpDoc declares them
        if handler in ASYNC_HANDLERS:
            result = await handler(ctx, read)
            with rt.store.tx():
                ctx.outbox.flush()
        else:
            with rt.store.tx():  # one unit: an op that is refused half-way changes nothing
                result = handler(ctx, read)
                ctx.outbox.flush()
        notes = ctx.notes + ctx.outbox.notes + unread_notes(name, fields)
        return Outcome(
            200, envelope(op, request_id, **result), name, app, notes=notes, outbox=ctx.outbox, mid=ctx.mid
        )
    except MesiboError as exc:
        error = exc
    except sqlite3.Error as exc:
        if disk_full(exc):
            log.warning("op %r refused: database or disk is full (free some space)", name)
            error = MesiboError(BADREQ, "database or disk is full")
        else:
            log.exception("op %r failed in the store", name)
            error = MesiboError(BADREQ, f"the store failed: {exc}")
    except Exception:  # a bug must still answer in the envelope, never a 5xx
        log.exception("op %r failed", name)
        error = MesiboError(
            BADREQ,
            problems=[
                {"problem": "the emulator failed on this request (see its log)", "kind": INTERNAL_ERROR}
            ],
        )
    notes = [{**p, "kind": p.get("kind", "refused")} for p in error.problems]
    if ctx is not None:
        notes = ctx.notes + notes
    notes += unread_notes(name, fields)
    if app is None:  # refused before its token was checked: still filed under the app it names
        app = app_named(rt, fields.get("token"))
    return Outcome(error.http_status, envelope(op, request_id, error=error), name, app, error, notes)


def unread_notes(name: str | None, fields: dict) -> list[dict]:
    """The fields the op does not read (a diagnosis must never cost the call its answer)."""
    if name not in DOCS:
        return []
    try:
        return field_notes.unread(name, DOCS[name], fields)
    except Exception:
        log.exception("the field check of %r failed", name)
        return []


def _handler(op: Any):
    if op is None or op == "":
        raise missing("op")
    handler = OPS.get(op.strip()) if isinstance(op, str) else None
    if handler is None:
        raise MesiboError(UNKNOWN_OP, problems=[unknown_op_note(op)], properties=["op"])
    return handler


def unknown_op_note(op: Any) -> dict:
    """What the journal says of an op the emulator does not answer: a real one it lacks, or the
    closest real names."""
    if not isinstance(op, str):
        return {"field": "op", "problem": f"must be a string, got {type(op).__name__}", "kind": "refused"}
    name = op.strip()
    if name in REAL_OPS_NOT_IMPLEMENTED:
        return {
            "field": "op",
            "problem": f"names a real Mesibo op this emulator does not implement: {name!r}",
            "kind": "not implemented",
        }
    note = {"field": "op", "problem": f"names no Mesibo op: {name[:60]!r}", "kind": field_notes.UNKNOWN_OP}
    close = closest_ops(name)
    if close:
        note["hint"] = "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    return note


def closest_ops(name: str) -> list[str]:
    """The real ops a mistyped one most likely meant: the same letters in another order first
    (`deluser` -> `userdel`), then the most similar spellings."""
    real = [*OPS, *sorted(REAL_OPS_NOT_IMPLEMENTED)]
    lowered = name.lower()
    same_letters = [op for op in real if sorted(op) == sorted(lowered) and op != lowered]
    similar = difflib.get_close_matches(lowered, real, n=3, cutoff=0.6)
    return list(dict.fromkeys(same_letters + similar))[:3]


def app_named(rt: Runtime, token: Any):
    """The app a call's token names, or None; it authenticates nothing (the journal files by it)."""
    if isinstance(token, int) and not isinstance(token, bool):
        token = str(token)
    return apps.by_token(rt, token.strip()) if isinstance(token, str) and token.strip() else None


def _authenticate(rt: Runtime, token: Any):
    app = app_named(rt, token)
    if app is None:
        problem = "no token was sent" if token in (None, "") else "no app has this token"
        raise MesiboError(AUTHFAIL, problem, ["token"], field="token")
    return app


def guard_sources(ctx: OpContext, client: str | None) -> None:
    """TOKENBREACH [real: Mesibo disables an app whose backend API is called from more than five IP
    addresses]: in cloud mode, a call from one address more than the limit disables the app, and every
    call with its token is then refused. From the fourth address on the journal says how many there
    are: a backend scaled to six pods would get its app disabled."""
    rt, app = ctx.rt, ctx.app
    limit = rt.settings.tokenbreach_addresses
    if app["disabled"]:
        raise MesiboError(
            TOKENBREACH,
            f"the app is disabled ({app['disabled']}): lift it with PUT /_mock/apps/"
            '{token} {"disabled": false}, a reset, or by deleting the app',
            ["token"],
            field="token",
        )
    count = apps.note_source(rt, app, client)
    if count is None:
        return
    breach = rt.cloud and limit and count > limit
    if count < apps.NOTED_FROM and not breach:
        return
    ctx.note(
        f"the app's token has now been used from {count} source addresses ({client} is new)"
        + (
            ": Mesibo disables an app called from more than "
            f"{limit}, so this call and every later one answer TOKENBREACH"
            if breach
            else ""
        ),
        field="token",
        hint=None
        if breach
        else (
            f"Mesibo disables an app whose backend is called from more than {limit or 5} addresses:"
            " a backend scaled to that many pods (or NAT addresses) would be cut off"
        ),
        kind="tokenbreach",
    )
    if breach:
        apps.set_disabled(rt, app, "TOKENBREACH")
        raise MesiboError(
            TOKENBREACH, f"the app was disabled: called from {count} addresses", ["token"], field="token"
        )


def notes_text(notes: list[dict]) -> str:
    """The diagnosis in one line, as the log and a test report show it."""
    parts = []
    for note in notes:
        text = f"'{note['field']}' {note['problem']}" if note.get("field") else note["problem"]
        if note.get("hint"):
            text += f" ({note['hint']})"
        parts.append(text)
    return "; ".join(parts)
