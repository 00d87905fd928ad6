"""Any request encoding -> one nested dict of fields (SPEC section 2). Pure functions, no HTTP.

JSON bodies, form and multipart bodies and the query string all land in the same shape; flat keys
(`push.address`, `push[address]`) and JSON-text objects (`push={"address":"1"}`) become nesting.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from mesibo_mock.errors import BADPAYLOAD, NOT_JSON_CAUSE, MesiboError

_KEY_HEAD = re.compile(r"^([^.\[\]]+)")
_KEY_PART = re.compile(r"\.([^.\[\]]+)|\[([^\[\]]*)\]")
MAX_DEPTH = 16
MAX_JSON_DEPTH = 64


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
    """Flat (key, value) pairs -> nested dict; later pairs win, as in a query string."""
    result: dict = {}
    for key, value in pairs:
        parts = split_key(key)
        if len(parts) > MAX_DEPTH:
            raise bad_payload(f"field '{key}' is nested too deeply")
        node = result
        for i, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif not isinstance(child, dict):
                where = ".".join(parts[: i + 1])
                raise bad_payload(f"field '{key}' conflicts with the value given for '{where}'")
            node = child
        leaf = parts[-1]
        value = json_text_object(value)
        if isinstance(node.get(leaf), dict) and isinstance(value, dict):
            node[leaf] = merge(node[leaf], value)
        elif isinstance(node.get(leaf), dict) and not isinstance(value, dict):
            raise bad_payload(f"field '{key}' conflicts with nested fields given for it")
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


def _refuse_non_finite(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError("NaN and Infinity are not valid JSON")
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


_STRICT = json.JSONDecoder(parse_constant=_no_constants, parse_float=_finite)  # made once, not per request


def loads_lenient(text: str | bytes) -> Any:
    """JSON as Mesibo reads it: a trailing comma before `}` or `]` is accepted (the push documentation's
    own examples have one). NaN and Infinity are refused: they could not be echoed back as JSON.

    The standard parser takes every well-formed body (the hot path); only what it refuses is given to
    pyjson5, a JSON5 parser written in Cython, which accepts trailing commas without any editing of
    the text. Raises ValueError.
    """
    try:
        return _STRICT.decode(text.decode("utf-8") if isinstance(text, bytes) else text)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except ValueError as strict_error:
        if isinstance(strict_error, UnicodeDecodeError):
            raise
        import pyjson5

        try:
            decoded = text.decode("utf-8") if isinstance(text, bytes) else text
            value = pyjson5.decode(decoded, maxdepth=MAX_JSON_DEPTH)
        except (pyjson5.Json5Exception, UnicodeDecodeError, RecursionError):
            raise strict_error from None
        _refuse_non_finite(value)
        return value


def parse_json_object(body: bytes) -> dict:
    """A body that is not a JSON object gets Mesibo's own words (SPEC section 2)."""
    try:
        value = loads_lenient(body)
    except ValueError:
        raise bad_payload(NOT_JSON_CAUSE) from None
    if not isinstance(value, dict):
        raise bad_payload(NOT_JSON_CAUSE)
    return value


def looks_like_json(body: bytes) -> bool:
    return body.lstrip()[:1] in (b"{", b"[")


def parse_form(body: bytes) -> dict:
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise bad_payload(NOT_JSON_CAUSE) from None
    return nest(pairs)


def parse_body(body: bytes, content_type: str | None) -> dict:
    """Non-multipart bodies. JSON is recognised whatever the Content-Type says."""
    if not body.strip():
        return {}
    kind = media_type(content_type)
    if kind == "application/json" or kind.endswith("+json") or looks_like_json(body):
        return parse_json_object(body)
    return parse_form(body)


def is_multipart(content_type: str | None) -> bool:
    return media_type(content_type) == "multipart/form-data"
