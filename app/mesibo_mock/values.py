"""The rules for reading one field of a request: booleans, whole numbers, strings, addresses.

Each takes the dotted field name so that a refusal names it (SPEC section 2).
"""

from __future__ import annotations

from typing import Any

from mesibo_mock.errors import bad_value, missing

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


def pick(fields: dict, dotted: str, flat: str | None = None) -> Any:
    """A field in its nested form, else in its flat /api.php spelling (the nested one wins); None if absent.

    SPEC section 4: older clients send `addr=...&appid=...` where newer ones nest `user.address`.
    """
    value = get_path(fields, dotted)
    if value is ABSENT and flat is not None:
        value = fields.get(flat, ABSENT)
    return None if value is ABSENT else value


def pick_id(fields: dict, dotted: str, flat: str | None = None) -> int | None:
    """A uid, gid or mid: 0 and "" count as absent (Mesibo's PHP helpers send gid=0 for a new group)."""
    value = pick(fields, dotted, flat)
    if value is None or value == "" or value == 0 or value == "0":
        return None
    return as_whole(dotted, value, minimum=1)


def optional_object(fields: dict, dotted: str, flat: str | None = None) -> dict | None:
    value = pick(fields, dotted, flat)
    if value is not None and not isinstance(value, dict):
        raise bad_value(dotted, f"must be an object, got {describe(value)}")
    return value


LARGEST_FLAG = 2**31 - 1


def entity_fields(fields: dict, kind: str, *extra_whole: str) -> dict:
    """The fields users and groups share (`name`, `active`, `flag`, `profile`, and `extra_whole`
    numbers such as a group's `expiry`), nested under `kind` or flat, where given; each checked.
    An empty name clears it; other empty values count as absent."""
    out: dict = {}
    name = pick(fields, f"{kind}.name", "name")
    if name is not None:
        out["name"] = "" if name == "" else as_text(f"{kind}.name", name, max_length=256)
    active = pick(fields, f"{kind}.active", "active")
    if active not in (None, ""):
        out["active"] = as_bool(f"{kind}.active", active)
    for number in ("flag", *extra_whole):
        value = pick(fields, f"{kind}.{number}", number)
        if value not in (None, ""):
            out[number] = as_whole(f"{kind}.{number}", value, maximum=LARGEST_FLAG)
    profile = optional_object(fields, f"{kind}.profile")
    if profile is not None:
        out["profile"] = profile
    return out


def required(fields: dict, dotted: str) -> Any:
    value = get_path(fields, dotted)
    if value is ABSENT or value is None:
        raise missing(dotted)
    return value


def optional(fields: dict, dotted: str) -> Any:
    value = get_path(fields, dotted)
    return None if value is ABSENT else value


def object_field(fields: dict, name: str) -> dict:
    """A required nested object such as `push` or `user`."""
    value = required(fields, name)
    if not isinstance(value, dict):
        raise bad_value(name, f"must be an object, got {describe(value)}")
    return value


def describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"{shown!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
