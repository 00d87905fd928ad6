"""Strict mode's rule, in one place: which journal notes are mistakes Mesibo would ignore silently (an
op that does not exist, a field no op reads...), and the text a test fails with. `GET /_mock/mistakes`
serves it; the pytest plugin and the Node and PHP clients read that route, so every language fails a
test for the same things, in the same words."""

from __future__ import annotations

from mesibo_mock.backend.fields import STRICT_KINDS

WEBHOOK = "webhook"  # a delivery the team's handler did not answer with MESIBO OK


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


def webhook_mistake(attempt) -> dict:
    """An attempt the app's webhook handler answered wrongly: Mesibo would retry it, and the same event
    would come again (a handler that forgets `MESIBO OK` fails silently otherwise)."""
    problem = f"the webhook handler {attempt['error']}: Mesibo retries it, so the same events come again"
    return {
        "request": None,
        "op": None,
        "kind": WEBHOOK,
        "field": None,
        "problem": problem,
        "hint": "answer HTTP 200 with the plain text MESIBO OK",
        "delivery": attempt["delivery_id"],
        "attempt": attempt["attempt"],
        "text": f"webhook delivery #{attempt['seq']} attempt {attempt['attempt']}: {problem}",
    }


def report(mistakes: list[dict]) -> str | None:
    """What a test fails with: a heading and one line per mistake; None when there is none."""
    if not mistakes:
        return None
    heading = (
        f"mesibo-mock strict mode: {len(mistakes)} backend call mistake(s) that Mesibo would ignore silently:"
    )
    return "\n".join([heading, *(f"  {m['text']}" for m in mistakes)])
