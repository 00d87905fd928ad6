"""The recording file: one JSON object per line, the first describing the recording, then one per call.
What goes into it passes through one redactor first, and a line that still holds anything shaped like
a Mesibo token is never written.

    {"format": "mesibo-mock-recording", "version": 1, "upstream", "started", "redaction", "warning", ...}
    {"seq": 1, "t": 0.0, "method", "path", "encoding", "fields", "answer": {"status", "content_type", "body"}}
    {"seq": 2, "t": 1.5, "method", "path", "encoding", "fields", "error": "timed out after 30 s"}
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mesibo_mock.redaction import call_secrets, redact_answer, redact_fields

FORMAT = "mesibo-mock-recording"
VERSION = 1
REDACTION_RULES = [
    "the app token, wherever and however it was sent, is a placeholder <app-token-N>",
    "users' access tokens in answers are placeholders <user-token-N>",
    "an uploaded or pasted file is kept as its name, type, size and SHA-256 only",
    "any PEM private-key block is replaced",
    "the same token is the same placeholder throughout the recording",
    "a call whose line still holds a string shaped like a Mesibo token (64 letters and digits) is not"
    " written, and the recording stops",
]
WARNING = (
    "These calls were made against the real upstream: the users, groups and messages they made exist"
    " there, and each pushtest counted against Mesibo's test-push limit."
)
# What secret scanners find as a Mesibo token: 64 letters and digits, standing alone.
TOKEN_SHAPED = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])")
APP_TOKEN = re.compile(r"^<app-token-\d+>$")


class RecordingError(Exception):
    """A recording that cannot be read or written; the message says why, in one line."""


class TokenLeft(RecordingError):
    """A line still held something shaped like a Mesibo token after redaction."""


@dataclass
class Redactor:
    """Turns secrets into placeholders that keep their identity across the whole recording."""

    placeholders: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def _placeholder(self, kind: str, secret: str) -> str:
        found = self.placeholders.get(secret)
        if found is None:
            self.counts[kind] = self.counts.get(kind, 0) + 1
            found = self.placeholders[secret] = f"<{kind}-{self.counts[kind]}>"
        return found

    def app_token(self, secret: str) -> str:
        return self._placeholder("app-token", secret)

    def user_token(self, secret: str) -> str:
        return self._placeholder("user-token", secret)

    def call(self, fields: dict, answer: Any) -> tuple[dict, Any]:
        """The call's fields and its answer (a parsed JSON body, or text), fit to keep."""
        for secret in call_secrets(fields):
            self.app_token(secret)
        apps = {s for s, p in self.placeholders.items() if p.startswith("<app-token-")}
        fields = redact_fields(fields, apps, self._known_or_app, limit=None)  # replayed: kept whole
        if isinstance(answer, dict):
            answer = redact_answer(answer, apps, self._known_or_user)
        elif isinstance(answer, str):
            for secret in sorted(apps, key=len, reverse=True):
                answer = answer.replace(secret, self.placeholders[secret])
        return fields, answer

    def _known_or_app(self, secret: str) -> str:
        return self.placeholders.get(secret) or self.app_token(secret)

    def _known_or_user(self, secret: str) -> str:
        return self.placeholders.get(secret) or self.user_token(secret)


def header(upstream: str, started: str, started_epoch: float, version: str) -> dict:
    return {
        "format": FORMAT,
        "version": VERSION,
        "mesibo_mock": version,
        "upstream": upstream,
        "started": started,
        "started_epoch": started_epoch,
        "redaction": REDACTION_RULES,
        "warning": WARNING,
    }


def token_shaped(value: Any, path: str = "") -> str | None:
    """The path of the first string shaped like a Mesibo token in `value` (a file's SHA-256 aside)."""
    if isinstance(value, str):
        return path if TOKEN_SHAPED.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "sha256" and isinstance(item, str):
                continue
            found = token_shaped(item, f"{path}.{key}" if path else str(key))
            if found is not None:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = token_shaped(item, f"{path}.{i}")
            if found is not None:
                return found
    return None


def line_text(line: dict) -> str:
    """The line as it is written; TokenLeft (naming the field) when it still holds a token's shape."""
    left = token_shaped(line)
    if left is not None:
        raise TokenLeft(
            f"call #{line.get('seq')}: the field '{left}' still holds a string shaped like a Mesibo token"
            " (64 letters and digits) after redaction; nothing was written for this call and the recording"
            " stops. Tell the mesibo-mock maintainers which field it is"
        )
    return json.dumps(line, ensure_ascii=False, separators=(",", ":"), default=str)


@dataclass
class Recording:
    header: dict
    calls: list[dict]


def read(path: str) -> Recording:
    """A recording, checked: RecordingError for a file that is not one, or of a newer format."""
    try:
        with open(path, encoding="utf-8") as fh:
            lines = [line for line in fh if line.strip()]
    except OSError as exc:
        raise RecordingError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise RecordingError(f"{path} is not a mesibo-mock recording (not UTF-8 text)") from None
    parsed = list(_parse(path, lines))
    if not parsed or not isinstance(parsed[0], dict) or parsed[0].get("format") != FORMAT:
        raise RecordingError(f"{path} is not a mesibo-mock recording (its first line must describe one)")
    version = parsed[0].get("version")
    if not isinstance(version, int) or version > VERSION or version < 1:
        raise RecordingError(
            f"{path} is a recording of format version {version!r}; this mesibo-mock reads version {VERSION}"
            " (upgrade mesibo-mock to verify it)"
        )
    calls = parsed[1:]
    for number, call in enumerate(calls, start=2):
        if (
            not isinstance(call, dict)
            or "fields" not in call
            or ("answer" not in call and "error" not in call)
        ):
            raise RecordingError(f"{path} line {number}: not a recorded call (fields and answer or error)")
    return Recording(parsed[0], calls)


def _parse(path: str, lines: list[str]) -> Iterator[Any]:
    for number, text in enumerate(lines, start=1):
        try:
            yield json.loads(text)
        except ValueError as exc:
            raise RecordingError(f"{path} line {number} is not JSON: {exc}") from None
