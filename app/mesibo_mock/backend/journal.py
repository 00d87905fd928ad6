"""The request journal (SPEC section 6): every call to the backend paths, with what was read, the answer
as sent, what it caused and the emulator's diagnosis.

An entry is written in the same transaction, and so the same group commit, as the call's own work: on
the hot path it costs one prepared INSERT. The app token and file contents never reach it.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from mesibo_mock.clock import iso
from mesibo_mock.redaction import Secrets, call_secrets, redact_answer, redact_fields_as_json, redact_notes
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.services import apps, records

# Notes that make an entry "diagnosed": something was refused, ignored by mistake or skipped.
DIAGNOSED_KINDS = frozenset(
    {
        "refused",
        "unknown field",
        "unknown op",
        "duplicate key",
        "not implemented",
        "skipped",
        "webhook",
        "tokenbreach",
        "throttled",
    }
)


def _text(value: str | None) -> str | None:
    """A column of text: a lone surrogate (sent as "\\ud800") is kept escaped, since SQLite stores UTF-8."""
    if value is None or value.isascii():
        return value
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def _json(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # a number past 64 bits, a lone surrogate: the json module writes those, escaped
        import json

        return json.dumps(value, default=str)


def write(
    rt: Runtime,
    *,
    path: str,
    encoding: str,
    user_agent: str,
    fields: dict,
    answer: dict,
    app: sqlite3.Row | None,
    op: str | None,
    notes: list[dict],
    pushes: list[int],
    mid: int | None,
    fault: bool = False,
    answer_json: bytes | None = None,
) -> None:
    """Write one entry with the next commit (the call's own group commit). `answer_json`: the answer's
    bytes as they will be sent, if made already; kept as they are when there is nothing to redact."""
    diagnosed = bool(notes) and any(note.get("kind") in DIAGNOSED_KINDS for note in notes)
    app_token = app["token"] if app is not None else None
    own = call_secrets(fields, app_token, rt.settings.admin_token)
    if notes:  # a note may quote a value: never the call's own secrets, never a key
        notes = redact_notes(notes, own)
    result = bool(answer.get("result"))
    # any app's token as a whole value; the call's own also inside a text, encoded, or as a key
    secrets = Secrets(apps.known_secrets(rt), own)
    kept, kept_fields = redact_fields_as_json(fields, secrets)
    if kept_fields is None:
        kept_fields = _json(kept)
    redacted = redact_answer(answer)
    kept_answer = answer_json.decode() if answer_json is not None and redacted is answer else _json(redacted)
    kept_notes = _json(notes) if notes else "[]"
    row = (
        rt.clock.now(),
        app["id"] if app is not None else None,
        app_token,
        (op if op.isascii() else _text(op)) if isinstance(op, str) else None,
        encoding,
        path if path.isascii() else _text(path),
        user_agent[:300] if user_agent.isascii() else _text(user_agent[:300]),
        kept_fields,
        kept_answer,
        1 if result else 0,  # flags as 0 and 1: an int binds as it is, a bool through sqlite3's adapters
        kept_notes,
        1 if diagnosed else 0,
        _json(pushes) if pushes else "[]",
        mid,
        1 if fault else 0,
        len(kept_fields) + len(kept_answer) + len(kept_notes),
    )
    announced = ({"app_token": app_token, "op": op, "result": result, "diagnosed": diagnosed},)
    # Written with the next group commit, all the calls of the moment in one executemany; long-polls
    # are woken once it is in.
    records.append_call(rt, row, lambda: rt.records_changed("requests", announced))


def _loads(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # kept escaped by the json module (a lone surrogate)
        import json

        return json.loads(text)


LISTED_BYTES = 8 * 1024  # a list shows an entry's fields or answer past this as a summary


def summary(text: str, entry_id: int) -> Any:
    """A large part of an entry, as a list shows it: its start and size; the whole is one GET away."""
    return {"summary": text[:300], "bytes": len(text), "whole": f"/_mock/requests/{entry_id}"}


def view(row: sqlite3.Row, listed: bool = False) -> dict:
    """An entry; `listed`: as a list shows it, with fields and answer past LISTED_BYTES summarised (one
    refresh of a list of a hundred 1 MB calls must not fetch 100 MB)."""

    def part(name: str) -> Any:
        text = row[name]
        return summary(text, row["id"]) if listed and len(text) > LISTED_BYTES else _loads(text)

    entry = {
        "id": row["id"],
        "ts": iso(row["ts"]),
        "app": row["app_token"],
        "op": row["op"],
        "encoding": row["encoding"],
        "path": row["path"],
        "user_agent": row["user_agent"],
        "fields": part("fields"),
        "answer": part("answer"),
        "diagnosis": _loads(row["diagnosis"]),
        "pushes": orjson.loads(row["pushes"]),
    }
    if row["mid"] is not None:
        entry["mid"] = row["mid"]
    if row["fault"]:
        entry["fault"] = True
    return entry
