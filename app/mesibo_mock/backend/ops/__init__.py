"""One module per backend op. Each handler takes (OpContext, Fields: its call's fields read as its OpDoc
declares them) and returns the response fields; each module also declares its ops (OpDoc), next to the
code that acts on them."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from mesibo_mock.server.runtime import Runtime


@dataclass
class OpContext:
    rt: Runtime
    app: sqlite3.Row
    outbox: Any = None  # events.webhook.Outbox: where the pushes and events the op causes go
    notes: list[dict] = field(default_factory=list)  # what the journal adds: [{"field"?, "problem", "hint"?}]
    mid: int | None = None  # the message the op sent, for the journal

    def note(
        self, problem: str, field: str | None = None, hint: str | None = None, kind: str = "info"
    ) -> None:
        note = {"field": field} if field else {}
        note["problem"] = problem
        if hint:
            note["hint"] = hint
        note["kind"] = kind
        self.notes.append(note)


@dataclass(frozen=True)
class OpDoc:
    """What /openapi.json says of an op. `required` names the fields (dotted, nested form) whose absence
    the op refuses with MISSINGPARAMS; tests/e2e/test_openapi.py removes each from `example` and checks
    that the server names it, and sends every example, so the documentation cannot drift from the code."""

    summary: str
    fields: dict  # JSON Schema properties of the op's own fields, nested form
    example: dict  # the op's fields in an example request (besides op and token)
    answer: dict  # the fields of the example's answer (besides op and result)
    required: tuple[str, ...] = ()
    flat: dict[str, str] = field(default_factory=dict)  # flat /api.php name -> nested path
    errors: tuple[str, ...] = ("MISSINGPARAMS", "BADVALUE")
    # Parameters Mesibo takes (its helpers and pages send them) that the emulator accepts and does not
    # use: dotted nested paths or flat names. The journal notes them without calling them mistakes.
    ignored: tuple[str, ...] = ()


def string(description: str, **extra) -> dict:
    return {"type": "string", "description": description, **extra}


def boolean(description: str, default: bool | None = None) -> dict:
    schema: dict = {"type": "boolean", "description": description}
    if default is not None:
        schema["default"] = default
    return schema


def integer(description: str, **extra) -> dict:
    return {"type": "integer", "description": description, **extra}


def id_field(description: str) -> dict:
    """A uid, gid or mid: a whole number from 1; 0 and "" count as absent (Mesibo's PHP helpers send
    gid=0 for a new group)."""
    return {"type": "integer", "description": description, "minimum": 1, "x-zero-absent": True}


def address(description: str, **extra) -> dict:
    """A user's address: text (a number is read as its decimal text), at most 256 characters."""
    return {"type": "string", "description": description, "maxLength": 256, "x-address": True, **extra}


FLAG_MAX = 2**31 - 1


def flag(description: str) -> dict:
    return {"type": "integer", "description": description, "minimum": 0, "maximum": FLAG_MAX}


def name_field(description: str) -> dict:
    """A display name: text up to 256 characters; an empty one clears it."""
    return {"type": "string", "description": description, "maxLength": 256, "x-empty": True}


def profile(description: str) -> dict:
    """An object kept as given, bounded in depth and size (values.as_stored_object)."""
    return {"type": "object", "description": description, "properties": {}, "x-stored": True}


def obj(description: str, properties: dict, required: list[str] | None = None) -> dict:
    schema: dict = {"type": "object", "description": description, "properties": properties}
    if required:
        schema["required"] = required
    return schema
