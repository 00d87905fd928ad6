"""The recording file: one JSON object per line, the first describing the recording, then one per call.
What goes into it passes through one redactor first; a string still shaped like a Mesibo token after
that becomes a numbered placeholder, and the line says which field held it.

    {"format": "mesibo-mock-recording", "version": 1, "upstream", "started", "redaction", "warning", ...}
    {"seq": 1, "t": 0.0, "method", "path", "encoding", "fields", "answer": {"status", "content_type", "body"}}
    {"seq": 2, "t": 1.5, "method", "path", "encoding", "fields", "error": "timed out after 30 s"}
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from mesibo_mock.redaction import Secrets, call_secrets, redact_answer, redact_fields

FORMAT = "mesibo-mock-recording"
VERSION = 1
REDACTION_RULES = [
    "the app token, wherever and however it was sent, is a placeholder <app-token-N>",
    "users' access tokens in answers are placeholders <user-token-N>",
    "an uploaded or pasted file is kept as its name, type, size and SHA-256 only",
    "any PEM private-key block is replaced",
    "the same token is the same placeholder throughout the recording",
    "the app token inside a longer text, in base64 or percent-encoded, and as an object key, is its"
    " placeholder too",
    "a string still shaped like a Mesibo token (64 letters and digits, as secret scanners find them) is a"
    " placeholder <token-shaped-N>, and the line's notes name the field",
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
        # every app token of the recording, whole, inside a text, encoded, as a key
        secrets = Secrets(apps, apps)
        fields = redact_fields(fields, secrets, self._known_or_app, limit=None)  # replayed: kept whole
        if isinstance(answer, dict):
            answer = redact_answer(answer, secrets, self._known_or_user)
        elif isinstance(answer, str):
            answer = secrets.text(answer, self._known_or_app)
        return fields, answer

    def shapes(self, line: dict) -> list[str]:
        """Replace, in place, every string in the line (key or value) still shaped like a Mesibo token
        by a numbered placeholder, the same one for the same string throughout the recording (a file's
        SHA-256 aside: it is a digest of a file the recording does not hold); -> the fields that held one.
        A user's backend is never cut off because an address happens to be a SHA-256."""
        found: list[str] = []

        def text(value: str, path: str) -> str:
            if TOKEN_SHAPED.search(value) is None:
                return value
            found.append(path)
            return TOKEN_SHAPED.sub(lambda m: self._placeholder("token-shaped", m.group(0)), value)

        def walk(value: Any, path: str) -> Any:
            if isinstance(value, str):
                return text(value, path)
            if isinstance(value, dict):
                out = {}
                for key, item in value.items():
                    where = f"{path}.{key}" if path else str(key)
                    if key == "sha256" and isinstance(item, str):
                        out[key] = item
                        continue
                    out[text(key, where) if isinstance(key, str) else key] = walk(item, where)
                return out
            if isinstance(value, list):
                return [walk(item, f"{path}.{i}") for i, item in enumerate(value)]
            return value

        replaced = walk(line, "")
        line.clear()
        line.update(replaced)
        return found

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


def line_text(line: dict) -> str:
    """The line as it is written (after `Redactor.shapes`: nothing shaped like a token is left)."""
    return json.dumps(line, ensure_ascii=False, separators=(",", ":"), default=str)


@dataclass
class Recording:
    header: dict
    calls: list[dict]
    skipped: list[str] = field(default_factory=list)  # what was read past, and why (a line cut short)


# A recording is data, not a list of URLs: a call goes to one of the backend paths of the emulator verify
# replays against, with a method the backend takes, and nowhere else.
BACKEND_PATHS = ("/backend", "/backend/", "/api.php", "/mesiboapi", "/mesiboapi/")
METHODS = ("GET", "POST", "PUT", "DELETE")
ENCODINGS = ("json", "form", "multipart", "query", "unreadable")
MAX_T = 10 * 365 * 24 * 3600.0  # seconds into a recording: ten years is past any session
MAX_DEPTH = 64  # nesting of a line: a recorded call is a few levels deep


def read(path: str) -> Recording:
    """A recording, checked line by line before anything is replayed: RecordingError (one line naming
    the line and the field) for a file that is not one, of a newer format, or holding a call that is
    not a backend call. A last line cut short (a recorder killed mid-write) is skipped and said so."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise RecordingError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise RecordingError(f"{path} is not a mesibo-mock recording (not UTF-8 text)") from None
    numbered = [(n, line) for n, line in enumerate(text.split("\n"), start=1) if line.strip()]
    cut_short = bool(numbered) and not text.endswith("\n")
    parsed: list[tuple[int, Any]] = []
    skipped: list[str] = []
    for index, (number, line) in enumerate(numbered):
        try:
            parsed.append((number, _loads(line)))
        except ValueError as exc:
            if cut_short and index == len(numbered) - 1 and index > 0:
                skipped.append(f"line {number} is cut short (a recorder stopped mid-write?): skipped")
                break
            raise RecordingError(f"{path} line {number} is not JSON: {exc}") from None
    if not parsed or not isinstance(parsed[0][1], dict) or parsed[0][1].get("format") != FORMAT:
        raise RecordingError(f"{path} is not a mesibo-mock recording (its first line must describe one)")
    head = parsed[0][1]
    version = head.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version > VERSION or version < 1:
        raise RecordingError(
            f"{path} is a recording of format version {version!r}; this mesibo-mock reads version {VERSION}"
            " (upgrade mesibo-mock to verify it)"
        )
    started = head.get("started_epoch")
    if started is not None and not _finite(started, 0, 2**33):
        raise RecordingError(
            f"{path} line 1: 'started_epoch' must be a time in seconds, got {_shown(started)}"
        )
    for number, call in parsed[1:]:
        problem = call_problem(call)
        if problem is not None:
            raise RecordingError(f"{path} line {number}: {problem}")
    return Recording(head, [call for _, call in parsed[1:]], skipped)


def _loads(line: str) -> Any:
    """One line's JSON; ValueError for one that is not JSON or is nested past MAX_DEPTH (which would
    otherwise reach the interpreter's recursion limit)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in line:  # a cheap scan: brackets outside strings
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
        elif char in "]}":
            depth -= 1
    return json.loads(line)


def call_problem(call: Any) -> str | None:
    """What makes a line not a recorded backend call, naming the field; None when it is one."""
    if not isinstance(call, dict):
        return f"not a recorded call (a JSON object), got {_shown(call)}"
    if "fields" not in call or ("answer" not in call and "error" not in call):
        return "not a recorded call (fields and answer or error)"
    seq = call.get("seq", 0)
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < 2**53:
        return f"'seq' must be a whole number, got {_shown(seq)}"
    if not _finite(call.get("t", 0), 0, MAX_T):
        return f"'t' must be seconds from the recording's start (0 to {MAX_T:g}), got {_shown(call.get('t'))}"
    method = call.get("method", "POST")
    if method not in METHODS:
        return f"'method' must be one of {', '.join(METHODS)}, got {_shown(method)}"
    where = call.get("path", "/backend")
    if where not in BACKEND_PATHS:
        return (
            f"'path' must be one of the backend paths ({', '.join(BACKEND_PATHS)}), got {_shown(where)}:"
            " verify replays backend calls only, to the emulator it replays against"
        )
    if call.get("encoding", "json") not in ENCODINGS:
        return f"'encoding' must be one of {', '.join(ENCODINGS)}, got {_shown(call.get('encoding'))}"
    if not isinstance(call["fields"], dict):
        return f"'fields' must be an object, got {_shown(call['fields'])}"
    if "answer" in call:
        answer = call["answer"]
        if not isinstance(answer, dict):
            return f"'answer' must be an object, got {_shown(answer)}"
        status = answer.get("status")
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            return f"'answer.status' must be an HTTP status, got {_shown(status)}"
    elif not isinstance(call["error"], str):
        return f"'error' must be text, got {_shown(call['error'])}"
    return None


def _finite(value: Any, low: float, high: float) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high
    )  # NaN fails both comparisons


def _shown(value: Any) -> str:
    return json.dumps(value, default=str)[:60]
