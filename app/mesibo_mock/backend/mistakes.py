"""Strict mode's rule, in one place: which journal notes are mistakes Mesibo would ignore silently (an
op that does not exist, a field no op reads...), and the text a test fails with. `GET /_mock/mistakes`
serves it; the pytest plugin and the Node and PHP clients read that route, so every language fails a
test for the same things, in the same words."""

from __future__ import annotations

from mesibo_mock.backend.fields import STRICT_KINDS


def mistakes_of(entry_id: int, op: str | None, diagnosis: list[dict]) -> list[dict]:
    """The notes of one journal entry that strict mode fails a test for, each with its line of text."""
    found = []
    for note in diagnosis:
        if note.get("kind") not in STRICT_KINDS:
            continue
        where = f"'{note['field']}' " if note.get("field") else ""
        hint = f" ({note['hint']})" if note.get("hint") else ""
        found.append(
            {
                "request": entry_id,
                "op": op,
                "kind": note["kind"],
                "field": note.get("field"),
                "problem": note["problem"],
                "hint": note.get("hint"),
                "text": f"request #{entry_id} {op or '-'}: {where}{note['problem']}{hint}",
            }
        )
    return found


def report(mistakes: list[dict]) -> str | None:
    """What a test fails with: a heading and one line per mistake; None when there is none."""
    if not mistakes:
        return None
    heading = (
        f"mesibo-mock strict mode: {len(mistakes)} backend call mistake(s) that Mesibo would ignore silently:"
    )
    return "\n".join([heading, *(f"  {m['text']}" for m in mistakes)])
