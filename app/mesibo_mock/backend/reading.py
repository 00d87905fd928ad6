"""An op's fields, read as its OpDoc declares them (DESIGN.md, "One place per rule").

Each op receives its call's fields as `Fields`: asked for a dotted path it declares, `get` answers the
value nested or in one of its flat spellings (the nested one wins), read by the rule its schema names
(values.py's: a whole number within the schema's bounds, a boolean in any accepted spelling, text, an
address, an id where 0 counts as absent, an object, a profile kept within bounds), or None when it is
absent; a value of the wrong type or form is BADVALUE naming the field. Asking for a path the OpDoc does
not declare is a bug (UndeclaredField): so the documentation, the unread-field diagnosis and the reading
are one declaration and cannot disagree. The op body keeps only the behaviour.
"""

from __future__ import annotations

from typing import Any

from mesibo_mock.backend.ops import OpDoc
from mesibo_mock.errors import bad_value, missing
from mesibo_mock.values import (
    ABSENT,
    LARGEST_WHOLE,
    as_address,
    as_bool,
    as_stored_object,
    as_text,
    as_whole,
    describe,
    get_path,
)


class UndeclaredField(AssertionError):
    """An op asked for a field its OpDoc does not declare: the declaration is the one source."""


_DECLARED: dict[int, tuple[dict[str, dict], dict[str, tuple[str, ...]]]] = {}


def declared(doc: OpDoc) -> tuple[dict[str, dict], dict[str, tuple[str, ...]]]:
    """Every declared path with its schema (an object's own path too), and each path's flat names; made
    once per OpDoc."""
    found = _DECLARED.get(id(doc))
    if found is None:
        found = _DECLARED[id(doc)] = _declared(doc)
    return found


def _declared(doc: OpDoc) -> tuple[dict[str, dict], dict[str, tuple[str, ...]]]:
    schemas: dict[str, dict] = {}

    def walk(prefix: str, properties: dict) -> None:
        for name, schema in properties.items():
            path = f"{prefix}{name}"
            schemas[path] = schema
            inner = schema.get("properties") if schema.get("type") == "object" else None
            if inner:  # a free object's declared keys too (it takes others without a note)
                walk(path + ".", inner)

    walk("", doc.fields)
    flat: dict[str, list[str]] = {}
    for name, path in doc.flat.items():
        flat.setdefault(path, []).append(name)
    return schemas, {path: tuple(names) for path, names in flat.items()}


class Fields:
    """One call's fields for one op; `asked` is every path the op has read."""

    __slots__ = ("op", "raw_fields", "schemas", "flat", "asked")

    def __init__(self, op: str, doc: OpDoc, fields: dict) -> None:
        self.op = op
        self.raw_fields = fields
        self.schemas, self.flat = declared(doc)
        self.asked: set[str] = set()

    def schema(self, path: str) -> dict:
        found = self.schemas.get(path)
        if found is None:
            raise UndeclaredField(f"{self.op} reads {path!r}, which its OpDoc does not declare")
        self.asked.add(path)
        return found

    def raw(self, path: str) -> Any:
        """The value as sent, nested or flat; None when absent (JSON null too)."""
        self.schema(path)
        return self._value(path)

    def _value(self, path: str) -> Any:
        node: Any = self.raw_fields
        if "." not in path:
            node = node.get(path)
        else:
            for part in path.split("."):
                node = node.get(part) if type(node) is dict else None
                if node is None:
                    break
        if node is None and path in self.flat:
            for name in self.flat[path]:
                node = self.raw_fields.get(name)
                if node is not None:
                    break
        return node

    def get(self, path: str, default: Any = None) -> Any:
        """The value read by its schema's rule; `default` when absent (null and "" count as absent,
        and 0 too for an id)."""
        schema = self.schemas.get(path)
        if schema is None:
            raise UndeclaredField(f"{self.op} reads {path!r}, which its OpDoc does not declare")
        self.asked.add(path)
        value = self._value(path)
        if value is None or (value == "" and not schema.get("x-empty")):
            return default
        kind = schema.get("type")
        if kind == "boolean":
            return value if value is True or value is False else as_bool(path, value)
        if kind == "integer":
            if schema.get("x-zero-absent") and value in (0, "0"):
                return default
            return as_whole(
                path, value, minimum=schema.get("minimum", 0), maximum=schema.get("maximum", LARGEST_WHOLE)
            )
        if kind == "string":
            if schema.get("x-address"):
                return as_address(path, value)
            if value == "":
                return ""
            free = bool(schema.get("x-free-text"))  # kept as sent, spaces and all
            return as_text(path, value, max_length=schema.get("maxLength", 1024), empty=free)
        if kind == "object":
            if not isinstance(value, dict):
                raise bad_value(path, f"must be an object, got {describe(value)}")
            return as_stored_object(path, value) if schema.get("x-stored") else value
        return value

    def declares(self, path: str) -> bool:
        """Whether the op's OpDoc declares the path (a helper shared by ops reads what each declares)."""
        return path in self.schemas

    def need(self, path: str) -> Any:
        """The value, which must be there (MISSINGPARAMS naming it otherwise)."""
        value = self.get(path)
        if value is None:
            raise missing(path)
        return value

    def given(self, path: str) -> bool:
        """Whether the call gave the field at all (even as null or empty)."""
        self.schema(path)
        if get_path(self.raw_fields, path) is not ABSENT:
            return True
        return any(name in self.raw_fields for name in self.flat.get(path, ()))

    def to_dict(self) -> dict:
        """The fields as they came, for a helper that takes them whole (the journal, kept extras)."""
        return self.raw_fields


LARGEST_FLAG = 2**31 - 1


def entity_changes(fields: Fields, kind: str, *extra_whole: str) -> dict:
    """What users and groups share: `name` (an empty one clears it), `active`, `flag` (or `flags`, as
    Mesibo's PHP helpers send it), `profile`, and `extra_whole` numbers such as a group's `expiry`,
    nested under `kind` or flat, each read by its rule; only what was given."""
    out: dict = {}
    name = fields.get(f"{kind}.name")
    if name is not None:
        out["name"] = name
    active = fields.get(f"{kind}.active")
    if active is not None:
        out["active"] = active
    flag = fields.get(f"{kind}.flag")
    if flag is None:
        flag = fields.get(f"{kind}.flags")
    if flag is not None:
        out["flag"] = flag
    for number in extra_whole:
        value = fields.get(f"{kind}.{number}")
        if value is not None:
            out[number] = value
    profile = fields.get(f"{kind}.profile")
    if profile is not None:
        out["profile"] = profile
    return out
