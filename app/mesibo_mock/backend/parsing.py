"""Any request encoding -> one nested dict of fields (SPEC section 2). Pure functions, no HTTP.

JSON bodies, form and multipart bodies and the query string all land in the same shape; flat keys
(`push.address`, `push[address]`) and JSON-text objects (`push={"address":"1"}`) become nesting.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson

from mesibo_mock.errors import BADPAYLOAD, MesiboError

_KEY_HEAD = re.compile(r"^([^.\[\]]+)")
_KEY_PART = re.compile(r"\.([^.\[\]]+)|\[([^\[\]]*)\]")
MAX_DEPTH = 16


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart body, read into memory (its size was capped before)."""

    filename: str
    content: bytes
    content_type: str | None = None

    def __repr__(self) -> str:  # never dump credential bytes into a log
        return f"UploadedFile({self.filename!r}, {len(self.content)} bytes)"


def bad_payload(cause: str) -> MesiboError:
    return MesiboError(BADPAYLOAD, cause)


def split_key(key: str) -> list[str]:
    """`push[token][appid]` or `push.token.appid` -> ['push', 'token', 'appid']; odd keys stay whole."""
    head = _KEY_HEAD.match(key)
    if not head:
        return [key]
    parts = [head.group(1)]
    pos = head.end()
    while pos < len(key):
        part = _KEY_PART.match(key, pos)
        if not part or part.group(0) == "[]":
            return [key]
        parts.append(part.group(1) if part.group(1) is not None else part.group(2))
        pos = part.end()
    return parts


def json_text_object(value: Any) -> Any:
    """A flat value holding a JSON object's text becomes that object."""
    if isinstance(value, str) and value[:1] == "{":
        try:
            parsed = loads_lenient(value)
        except ValueError:
            return value
        if isinstance(parsed, dict):
            return parsed
    return value


def nest(pairs: Iterable[tuple[str, Any]]) -> dict:
    """Flat (key, value) pairs -> nested dict; later pairs win, as in a query string, also where a
    value and nested fields are given for one name (`push=x&push.address=1`: the later one stands)."""
    result: dict = {}
    for key, value in pairs:
        parts = split_key(key)
        if len(parts) > MAX_DEPTH:
            raise bad_payload(f"field '{key}' is nested too deeply")
        node = result
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        leaf = parts[-1]
        value = json_text_object(value)
        if isinstance(node.get(leaf), dict) and isinstance(value, dict):
            node[leaf] = merge(node[leaf], value)
        else:
            node[leaf] = value
    return result


def merge(base: dict, over: dict) -> dict:
    """Deep merge; `over` wins (the body over the query string)."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(out.get(key), dict) and isinstance(value, dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def parse_query(query: bytes | str) -> dict:
    text = query.decode("latin-1") if isinstance(query, bytes) else query
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise bad_payload("the query string is not valid UTF-8 form encoding") from None
    return nest(pairs)


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400: no JSON answer could carry it back
        raise ValueError(f"{text} is out of range")
    return value


_STRICT = json.JSONDecoder(parse_constant=_no_constants, parse_float=_finite)  # made once, not per request
_CLOSERS = frozenset("}]")
_OPENERS = frozenset("{[,")
_SPACES = re.compile(r"\s*")


def without_trailing_commas(text: str) -> str | None:
    """The text with each comma that stands right before a `}` or `]` (whitespace between) removed,
    outside strings; None when it has none. A comma after `{`, `[` or another comma is left alone,
    so `[1,,]` and `{,}` stay invalid."""
    out: list[str] = []
    changed = False
    in_string = escaped = False
    last = ""  # the last character outside strings that is not whitespace
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
                last = '"'
            out.append(ch)
            continue
        if ch == '"':
            in_string = True
        elif ch == "," and last not in _OPENERS:
            after = _SPACES.match(text, i + 1).end()  # not a slice: a long body has many commas
            if text[after : after + 1] in _CLOSERS:
                changed = True
                last = ","  # a second comma before the same closer stays (and fails)
                continue
        if not ch.isspace():
            last = ch
        out.append(ch)
    return "".join(out) if changed else None


# orjson reads what the json module reads alike (strict JSON, floats correctly rounded, infinity refused),
# about three times as fast, except an integer past 64 bits, which it makes a float: a body with a run
# of 19 digits anywhere is left to the json module.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_WHOLE_DIGITS = b"0" * 19
# orjson also reads deeper nesting (1,024) than the json module (its recursion limit, and then "nested too
# deeply"), and what is read is walked by code that recurses: a body with this many brackets (surely
# no deeper) is the only kind it reads.
_SHALLOW = 500


def loads_lenient(text: str | bytes) -> Any:
    """JSON as Mesibo reads it: a trailing comma before `}` or `]` is accepted (the push documentation's
    own examples have one); nothing else beyond strict JSON (no single quotes, comments, bare keys or
    hex: no evidence says Mesibo takes them). NaN and Infinity are refused: they could not be echoed
    back as JSON. The strict parser takes every well-formed body (the hot path); only a body it refuses
    is looked at for trailing commas. Raises ValueError.
    """
    if (
        isinstance(text, bytes)
        and text.count(b"[") + text.count(b"{") < _SHALLOW
        and _WHOLE_DIGITS not in text.translate(_DIGITS_AS_ZERO)
    ):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass  # refused: the json module's reading (and its words for what is wrong)
    decoded = text.decode("utf-8") if isinstance(text, bytes) else text
    try:
        return _STRICT.decode(decoded)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except ValueError as strict_error:
        relaxed = without_trailing_commas(decoded) if "," in decoded else None
        if relaxed is None:
            raise
        try:
            return _STRICT.decode(relaxed)
        except RecursionError:
            raise ValueError("nested too deeply") from None
        except ValueError:
            raise strict_error from None


_KEY_COLON = re.compile(rb'"\s*:')


def duplicate_keys(body: bytes, parsed: dict) -> list[str]:
    """The dotted paths of keys a JSON body gives twice in one object (the parser keeps one value).
    Cheap when there is none: a key that came twice leaves fewer keys parsed than `":` in the text,
    and only then is the body read again, noting each object's keys."""
    if body.count(b":") <= _count_keys(parsed):  # every key has its colon: no more colons, no key twice
        return []
    if len(_KEY_COLON.findall(body)) <= _count_keys(parsed):
        return []
    found: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict:
        seen: dict[str, int] = {}
        for key, _ in items:
            seen[key] = seen.get(key, 0) + 1
        return {"\0dups": [k for k, n in seen.items() if n > 1], **dict(items)}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            found.extend(f"{prefix}{k}" for k in node.get("\0dups", ()))
            for key, value in node.items():
                if key != "\0dups":
                    walk(value, f"{prefix}{key}.")
        elif isinstance(node, list):
            for value in node:
                walk(value, prefix)

    try:
        walk(json.loads(body, object_pairs_hook=pairs), "")
    except ValueError:
        return []
    return found


def _count_keys(node: Any) -> int:
    """Keys at any depth; a plain loop that calls itself only for containers (it runs on every call)."""
    count = 0
    if isinstance(node, dict):
        count = len(node)
        node = node.values()
    elif not isinstance(node, list):
        return 0
    for value in node:
        if isinstance(value, dict | list):
            count += _count_keys(value)
    return count


NOT_JSON = "the body is not a JSON object"


def parse_json_object(body: bytes) -> dict:
    """A body that is not a JSON object: BADPAYLOAD (the log and the journal say where it broke)."""
    try:
        value = loads_lenient(body)
    except ValueError as exc:
        raise bad_payload(f"{NOT_JSON}: {_short(exc)}") from None
    if not isinstance(value, dict):
        raise bad_payload(f"{NOT_JSON}: it is {type(value).__name__ if value is not None else 'null'}")
    return value


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) <= 160 else text[:157] + "..."


def looks_like_json(body: bytes) -> bool:
    return body.lstrip()[:1] in (b"{", b"[")


def parse_form(body: bytes) -> dict:
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise bad_payload("the body is neither JSON nor form fields (key=value&...) in UTF-8") from None
    return nest(pairs)


def body_encoding(body: bytes, content_type: str | None) -> str:
    """How a request's fields came: json, form, multipart, or (no body) the query string."""
    kind = media_type(content_type)
    if kind == "multipart/form-data":
        return "multipart"
    if not body or body.isspace():
        return "query"
    if kind == "application/json" or kind.endswith("+json") or looks_like_json(body):
        return "json"
    return "form"


def parse_body(body: bytes, content_type: str | None) -> dict:
    """Non-multipart bodies. JSON is recognised whatever the Content-Type says."""
    encoding = body_encoding(body, content_type)
    if encoding == "query":
        return {}
    if encoding == "json":
        return parse_json_object(body)
    return parse_form(body)


def is_multipart(content_type: str | None) -> bool:
    return media_type(content_type) == "multipart/form-data"


COMPRESSIONS = {"gzip": 31, "x-gzip": 31, "deflate": zlib.MAX_WBITS}  # Content-Encoding -> zlib's wbits


def inflate(body: bytes, encoding: str, limit: int) -> bytes:
    """A body sent with Content-Encoding gzip or deflate (raw deflate too, as some clients send it),
    inflated to at most `limit` + 1 bytes: a caller that gets more than `limit` knows the body is past
    it, and a bomb is never inflated whole. ValueError when the encoding is not one of those or the data
    is not what it says."""
    kind = encoding.strip().lower()
    if kind in ("", "identity"):
        return body
    wbits = COMPRESSIONS.get(kind)
    if wbits is None:
        raise ValueError(f"the body's Content-Encoding {encoding.strip()!r} is not gzip or deflate")
    for bits in (wbits, -zlib.MAX_WBITS) if kind == "deflate" else (wbits,):
        try:
            return zlib.decompressobj(bits).decompress(body, limit + 1)
        except zlib.error as exc:
            error = exc
    raise ValueError(f"the body is not the {kind} data its Content-Encoding says: {error}")
