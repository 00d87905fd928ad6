"""What a test fails with, as the server says it for every language: strict mode's findings (GET
/_mock/mistakes) and a failed test's report (GET /_mock/report), the backend calls it made, oldest
first, each with what was sent, Mesibo's answer and the emulator's diagnosis."""

from __future__ import annotations

import json

import orjson

from mesibo_mock.backend import journal
from mesibo_mock.backend.mistakes import mistakes_of, report, webhook_mistake
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.services import apps, records, webhooks


def _by_app(rt: Runtime, token: str | None) -> dict:
    # by the app's number, which is indexed; the token too, for entries of an app deleted since
    app = apps.by_token(rt, token) if token is not None else None
    return {"app_token": token, "app_id": app["id"] if app is not None else None}


def find_mistakes(
    rt: Runtime, token: str | None, after: int | None, limit: int, seen: tuple[int, int] | None = None
) -> list[dict]:
    """The calls' mistakes (after journal id `after`), then the webhook attempts the team's handler
    answered wrongly since that call (by the emulator clock), each with its line of text. `seen` (a
    journal id and an attempt id, as `seen_mark` gave them) leaves out what a test has read already."""
    after_attempt = None
    if seen is not None:
        after, after_attempt = max(after or 0, seen[0]), seen[1]
    rows = records.diagnosed_calls(rt, _by_app(rt, token), after, limit)
    found = [m for r in rows for m in mistakes_of(r["id"], r["op"], orjson.loads(r["diagnosis"]))]
    since = None
    if after:
        anchor = records.call(rt, after)
        since = anchor["ts"] if anchor is not None else None
    wrong = webhooks.answered_wrongly(rt, token, since, after_attempt, limit)
    return found + [webhook_mistake(a) for a in wrong]


def seen_mark(rt: Runtime) -> str:
    """Where the findings end now, `journal id:attempt id`: a test that read them passes it back as
    `seen`, and only what came after counts (a finding a test expects fails it not)."""
    return f"{records.newest_call_id(rt)}:{webhooks.newest_attempt_id(rt)}"


def parse_seen(text: str) -> tuple[int, int]:
    journal_id, _, attempt_id = text.partition(":")
    return int(journal_id), int(attempt_id)


def failure_report(rt: Runtime, token: str | None, after: int | None, limit: int) -> str:
    """The text a client prints for a failed test: its calls, then what strict mode would fail it for."""
    calls = records.calls(rt, _by_app(rt, token), after, None, limit)
    text = describe_calls([journal.view(r) for r in reversed(calls)])
    if len(calls) == limit:
        text = f"(the last {limit} calls)\n" + text
    strict = report(find_mistakes(rt, token, after, 10_000))
    return text + ("\n" + strict if strict else "") + "\n"


def describe_calls(entries: list[dict]) -> str:
    """The calls (journal entries as /_mock shows them), oldest first; "(none)" when there were none."""
    lines = []
    for entry in entries:
        answer = entry["answer"]
        if not isinstance(answer, dict):  # a list shows a large one summarised
            answer = {"summary": answer}
        result = (
            "ok"
            if answer.get("result")
            else f"{answer.get('error')} {answer.get('code')}"
            if "error" in answer
            else "faulted"
        )
        lines.append(
            f"#{entry['id']} {entry['path']} op={entry['op'] or '-'} ({entry['encoding']}) -> {result}"
        )
        lines.append(f"    sent:   {json.dumps(entry['fields'], ensure_ascii=False)[:2000]}")
        lines.append(f"    answer: {json.dumps(answer, ensure_ascii=False)[:2000]}")
        for note in entry["diagnosis"]:
            where = f"'{note['field']}' " if note.get("field") else ""
            hint = f" ({note['hint']})" if note.get("hint") else ""
            lines.append(f"    note:   [{note['kind']}] {where}{note['problem']}{hint}")
    return "\n".join(lines) if lines else "(none)"
