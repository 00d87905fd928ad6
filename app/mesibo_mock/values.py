"""The rules for reading one field of a request: booleans, whole numbers, strings, addresses.

Each takes the dotted field name so that a refusal names it (SPEC section 2).
"""

from __future__ import annotations

from typing import Any

from mesibo_mock.errors import bad_value
from mesibo_mock.redaction import holds_key

TRUE_WORDS = {"true", "yes", "1"}
FALSE_WORDS = {"false", "no", "0"}
ABSENT = object()
LARGEST_WHOLE = 2**63 - 1  # SQLite's INTEGER


def get_path(fields: dict, dotted: str, default: Any = ABSENT) -> Any:
    node: Any = fields
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def as_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise bad_value(name, f"must be a boolean (true/false, 1/0, yes/no), got {describe(value)}")


def as_whole(name: str, value: Any, *, minimum: int = 0, maximum: int = LARGEST_WHOLE) -> int:
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        number = int(value.strip())
    if number is None:
        raise bad_value(name, f"must be a whole number, got {describe(value)}")
    if not minimum <= number <= maximum:
        raise bad_value(name, f"must be between {minimum} and {maximum}, got {number}")
    return number


def as_text(name: str, value: Any, *, max_length: int = 1024, empty: bool = False) -> str:
    """A string (a number becomes its text). `empty`: free text, kept as sent, which may be ""."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise bad_value(name, f"must be a string, got {describe(value)}")
    text = str(value) if empty else str(value).strip()
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # "\ud800" in JSON: no store, page or answer could carry it
            raise bad_value(name, "is not valid Unicode text (it holds a lone surrogate)") from None
    if not text and not empty:
        raise bad_value(name, "must not be empty")
    if len(text) > max_length:
        raise bad_value(name, f"must be at most {max_length} characters")
    return text


def as_address(name: str, value: Any) -> str:
    """Addresses are strings; a number is stored as its decimal text (SPEC section 4)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return as_text(name, value, max_length=256)


LARGEST_FLAG = 2**31 - 1


MAX_STORED_DEPTH = 8  # a profile is a few levels at most; a deeper one is refused at the door
MAX_STORED_BYTES = 16 * 1024


def as_stored_object(name: str, value: Any) -> dict:
    """An object the emulator keeps (a user's or group's profile): bounded in depth and size, so
    that every page and answer that shows it later can."""
    if not isinstance(value, dict):
        raise bad_value(name, f"must be an object, got {describe(value)}")
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_STORED_DEPTH:
            raise bad_value(name, f"is nested more than {MAX_STORED_DEPTH} levels deep")
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    import json

    try:
        size = len(json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    except (TypeError, ValueError):
        raise bad_value(name, "cannot be stored as JSON") from None
    if size > MAX_STORED_BYTES:
        raise bad_value(name, f"is larger than {MAX_STORED_BYTES} bytes as JSON")
    return value


def describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        if holds_key(value):
            return "a string holding a PEM private key (not shown)"
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"{shown!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
