"""What may be kept of a backend call: the one place that decides (the journal, the log, `record`).

Redaction goes by what a value is, not only by the name it came under: a top-level `token` however it
is spelt or nested (`Token`, `token[x]`), any string equal to a secret the caller names (the app's
token, the admin token), the call's own secrets inside a longer string, in base64 (at any alignment) or
percent-encoded, in object keys as well as values, a user's token in an answer, every uploaded or pasted
`file` (kept as its name, type, size and SHA-256), and any PEM private-key block wherever it sits, key or
value. Pure functions.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from collections.abc import Callable, Collection
from typing import Any
from urllib.parse import quote, quote_plus

import orjson

REDACTED = "[redacted]"
KEY_REDACTED = "[redacted private key]"
# A PEM private-key block: RSA, EC, PKCS#8, encrypted, OpenSSH... With its END line, or to the end of
# the text when it was cut short. `\s` and the JSON escape `\n` may sit inside (a key pasted as text).
PEM_KEY = re.compile(
    r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END[A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.S
)
KEY_MARK = "PRIVATE KEY-----"
FIELD_LIMIT = 4096  # characters of one value the journal keeps; past this it is cut, its size noted

Placeholder = Callable[[str], str]  # a secret's text -> what stands for it


def _always_redacted(_secret: str) -> str:
    return REDACTED


def holds_key(text: str) -> bool:
    return KEY_MARK in text and PEM_KEY.search(text) is not None


def scrub(text: str) -> str:
    """The text with every PEM private-key block replaced."""
    return PEM_KEY.sub(KEY_REDACTED, text) if KEY_MARK in text else text


def cut(text: str, limit: int = FIELD_LIMIT) -> str:
    """A value past `limit` characters keeps its start and says how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... [cut: {len(text)} characters in all]"


def scrub_fields(fields: dict) -> dict:
    """A call's fields with every key block replaced before any op sees them, so that none can keep
    one (a user's name, a message, a UAC). The `file` field stays as sent: pushupload reads it, and
    the journal keeps only its summary."""

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return scrub(value)
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return {k: v if k == "file" else walk(v) for k, v in fields.items()}


def file_summary(value: Any) -> dict:
    """A `file` field as it may be kept: name, type, size, SHA-256 and how it arrived (a file part, or
    text or an object where a file was expected), never its content."""
    content = getattr(value, "content", None)
    if isinstance(content, bytes):
        name, kind, ctype = (
            getattr(value, "filename", "") or None,
            "file",
            getattr(value, "content_type", None),
        )
    else:
        if isinstance(value, str):
            content, kind = value.encode("utf-8", "surrogatepass"), "text"
        else:
            import json

            content, kind = json.dumps(value, sort_keys=True, default=str).encode(), "object"
        name, ctype = None, None
    return {
        "name": name,
        "type": ctype,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "kind": kind,
    }


def _is_token_name(key: str) -> bool:
    """`token` in any case, spaces around: a key of 5 to 15 characters."""
    return key == "token" or (4 < len(key) < 16 and key.strip().lower() == "token")


MIN_ENCODED = 12  # a secret shorter than this is looked for as itself only: its encodings match too much


def _base64_cores(secret: bytes) -> set[str]:
    """The part of a secret's base64 that does not depend on the bytes around it, at each of the three
    alignments it can have inside a longer encoded text; in both alphabets (standard, URL-safe)."""
    cores = set()
    n = len(secret)
    for k in range(3):  # the secret starts k bytes into a 3-byte group
        text = base64.b64encode(b"\0" * k + secret + b"\0\0").decode()
        first = -(-8 * k // 6)  # the first character all of whose 6 bits are the secret's
        last = (8 * (k + n) - 6) // 6  # the last such character
        core = text[first : last + 1]
        cores.update({core, core.translate(str.maketrans("+/", "-_"))})
    return cores


@functools.lru_cache(maxsize=256)
def secret_pattern(secrets: frozenset[str]) -> tuple[re.Pattern, dict[str, str]] | None:
    """One pattern finding each secret in a longer text (as itself, percent-encoded, or in base64),
    and the secret each form it finds stands for."""
    forms: dict[str, str] = {}
    for secret in sorted(secrets):
        if len(secret) >= MIN_ENCODED:
            for form in (quote(secret, safe=""), quote_plus(secret)):
                forms.setdefault(form, secret)
            for form in _base64_cores(secret.encode("utf-8", "surrogatepass")):
                forms.setdefault(form, secret)
        forms[secret] = secret
    forms.pop("", None)
    if not forms:
        return None
    pattern = re.compile("|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)))
    return pattern, forms


@functools.lru_cache(maxsize=256)
def _pattern_of(within: tuple[str, ...]) -> tuple[re.Pattern, dict[str, str]] | None:
    return secret_pattern(frozenset(s.strip() for s in within if len(s.strip()) >= 4))


class Secrets:
    """What one call's redaction looks for: `exact`, values that are a secret whole (every app's token:
    a set, so a server with many apps pays nothing per value); `within`, the call's own few secrets,
    looked for inside longer texts and in their encodings too."""

    __slots__ = ("exact", "found")

    def __init__(self, exact: Collection[str] = (), within: Collection[str] = ()) -> None:
        self.exact = exact
        self.found = _pattern_of(tuple(within))

    def text(self, value: str, placeholder: Placeholder) -> str:
        if value in self.exact or value.strip() in self.exact:
            return placeholder(value.strip())
        if self.found is not None:
            pattern, forms = self.found
            if pattern.search(value) is not None:
                value = pattern.sub(lambda m: placeholder(forms[m.group(0)]), value)
        return scrub(value)


def _as_secrets(secrets: Collection[str] | Secrets) -> Secrets:
    return secrets if isinstance(secrets, Secrets) else Secrets(secrets, ())


def _nothing_hidden(value: Any, found: Secrets, limit: int | None) -> str | None:
    """`value` laid out as JSON, if it surely needs no more than its whole values checked: it is plain
    data (no file part), shorter than `limit` (no text to cut), holds no key block, and none of the
    call's secrets inside a text, encoded or as a key; else None. One C pass, where walking every key
    and text would cost a call each."""
    try:
        blob = orjson.dumps(value, default=_refuse, option=orjson.OPT_NON_STR_KEYS).decode()
    except (TypeError, orjson.JSONEncodeError):  # a file part, a number past 64 bits: the full walk
        return None
    if limit is not None and len(blob) >= limit:
        return None
    if "PRIVATE" in blob:  # a key block, in any JSON escaping
        return None
    return blob if found.found is None or found.found[0].search(blob) is None else None


FEW_EXACT = 16  # whole-value secrets looked for in the JSON at once; past this many, value by value
_JSON_ESCAPED = re.compile(r'["\\\x00-\x1f\x7f-\U0010ffff]')


def _no_exact_secret(blob: str, exact: Collection[str]) -> bool:
    """Whether no secret of `exact` appears anywhere in `blob` (the JSON of the values), so that none
    can be a whole value: a few substring searches, where the walk calls itself for every value. A
    secret that JSON would write escaped, or too many secrets, leave it to the walk."""
    if len(exact) > FEW_EXACT:
        return False
    for secret in exact:  # noqa: SIM110 (a loop: all() of a generator costs more, on every call)
        if secret in blob or not _written_as_is(secret):
            return False
    return True


@functools.lru_cache(maxsize=1024)
def _written_as_is(secret: str) -> bool:
    return _JSON_ESCAPED.search(secret) is None


def _refuse(value: Any) -> Any:
    raise TypeError(type(value).__name__)


def _exact_only(value: Any, exact: Collection[str], placeholder: Placeholder) -> Any:
    """The walk when nothing can hide inside a text: a whole value equal to a secret is replaced."""
    if isinstance(value, str):
        return placeholder(value.strip()) if value in exact or value.strip() in exact else value
    if isinstance(value, dict):
        return {k: _exact_only(v, exact, placeholder) for k, v in value.items()}
    if isinstance(value, list):
        return [_exact_only(v, exact, placeholder) for v in value]
    return value


def redact_value(
    value: Any, secrets: Collection[str] | Secrets, placeholder: Placeholder, limit: int | None
) -> Any:
    """Secrets replaced (whole, within, encoded), key blocks scrubbed and long text cut, in values and in
    object keys alike; walked to any depth."""
    found = _as_secrets(secrets)

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            text = found.text(node, placeholder)
            return text if limit is None else cut(text, limit)
        if isinstance(node, dict):
            out: dict = {}
            for key, item in node.items():
                if isinstance(key, str):
                    key = found.text(key, placeholder)
                    while key in out:  # two keys that redact alike: both kept
                        key += "'"
                out[key] = walk(item)
            return out
        if isinstance(node, list):
            return [walk(item) for item in node]
        if isinstance(getattr(node, "content", None), bytes):  # a file part anywhere
            return file_summary(node)
        return node

    return walk(value)


def redact_fields(
    fields: dict,
    secrets: Collection[str] | Secrets = (),
    placeholder: Placeholder = _always_redacted,
    limit: int | None = FIELD_LIMIT,
) -> dict:
    """What was read, fit to keep. A top-level `token`, under any spelling and of any type, is the app's
    (a user's token request is `user.token`); the secrets are every other place a token can hide."""
    return redact_fields_as_json(fields, secrets, placeholder, limit)[0]


def redact_fields_as_json(
    fields: dict,
    secrets: Collection[str] | Secrets = (),
    placeholder: Placeholder = _always_redacted,
    limit: int | None = FIELD_LIMIT,
) -> tuple[dict, str | None]:
    """`redact_fields`, and its JSON when the shortcut wrote it already (None otherwise): the common
    call (no file, nothing secret beyond its token) is laid out once, its token's value replaced, and
    that JSON, searched and found clean, is what the journal keeps."""
    found = _as_secrets(secrets)
    tokens = [k for k in fields if type(k) is str and _is_token_name(k)]
    if "file" not in fields:
        kept = (
            {k: _token_kept(v, placeholder) if k in tokens else v for k, v in fields.items()}
            if tokens
            else dict(fields)  # a copy, as every other way out makes: a caller may change what it gets
        )
        blob = _nothing_hidden(kept, found, limit)
        if blob is not None and _no_exact_secret(blob, found.exact):
            return kept, blob
    rest = (
        {k: v for k, v in fields.items() if k not in tokens and k != "file"}
        if tokens or "file" in fields
        else fields
    )
    blob = _nothing_hidden(rest, found, limit)
    out: dict = {}
    for key, value in fields.items():
        if blob is not None and key in rest:
            out[key] = _exact_only(value, found.exact, placeholder)
        elif key in tokens:
            out[key] = _token_kept(value, placeholder)
        elif key == "file":
            out[key] = file_summary(value)
        else:
            kept = redact_value({key: value}, found, placeholder, limit)
            out.update(kept)
    return out, None


def _token_kept(value: Any, placeholder: Placeholder) -> str:
    """What stands for the app token a call sent."""
    if isinstance(value, str | int) and not isinstance(value, bool):
        return placeholder(str(value).strip())
    return REDACTED


def call_secrets(fields: dict, *known: str | None) -> tuple[str, ...]:
    """The secrets one call could quote: what it sent as its token, under any spelling, and `known`."""
    sent = [
        str(v).strip()
        for k, v in fields.items()
        # the common spelling first; a key of another length cannot be one
        if k == "token" or (type(k) is str and 4 < len(k) < 16 and _is_token_name(k))
    ]
    return tuple(
        [s for s in (*sent, *known) if isinstance(s, str) and len(s) >= 4 and s not in ("True", "False")]
    )


def redact_text(text: str, secrets: Collection[str]) -> str:
    """Free text (a diagnosis, a log line) with each secret it quotes, in any encoding, and every key
    block replaced."""
    return Secrets((), secrets).text(text, _always_redacted)


def redact_notes(notes: list[dict], secrets: Collection[str]) -> list[dict]:
    return [{k: redact_text(v, secrets) if isinstance(v, str) else v for k, v in n.items()} for n in notes]


def redact_answer(
    answer: dict, secrets: Collection[str] | Secrets = (), placeholder: Placeholder = _always_redacted
) -> dict:
    """An envelope fit to keep: a user's access token (useradd, usertoken) replaced."""
    user = answer.get("user")
    if isinstance(user, dict) and isinstance(user.get("token"), str) and user["token"]:
        answer = {**answer, "user": {**user, "token": placeholder(user["token"])}}
    users = answer.get("users")
    if isinstance(users, list) and any(isinstance(u, dict) and u.get("token") for u in users):
        answer = {
            **answer,
            "users": [
                {**u, "token": placeholder(u["token"])} if isinstance(u, dict) and u.get("token") else u
                for u in users
            ],
        }
    if secrets:
        answer = redact_value(answer, secrets, placeholder, None)
    return answer
