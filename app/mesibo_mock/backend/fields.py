"""Which fields of a request no op reads, and the name that was probably meant.

Mesibo ignores a field it does not know, and so does the emulator; but it says so in the request
journal, because a typo (`push.sounds`, `message.text`, `members=`) would otherwise ship silently.
What an op reads is what its OpDoc documents (its nested fields, its flat names, and the Mesibo
parameters it takes without using), so the hints cannot drift from the documentation that
/openapi.json shows. Pure functions over the OpDoc and the parsed fields.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from mesibo_mock.backend.ops import OpDoc
from mesibo_mock.backend.ops.mesibo_keys import NOTE, NOTE_KEPT

COMMON = frozenset({"op", "token", "id"})  # every request's own fields


@dataclass(frozen=True)
class Known:
    """What one op reads: every dotted path its schema documents (objects whose properties are free,
    such as a profile, end the walk), its flat names, the names a mistake often takes (`x-aka`), and
    the parameters it ignores."""

    paths: frozenset[str]
    free: frozenset[str]  # objects taken whole
    flat: dict[str, str]
    aka: dict[str, str]  # mistaken name -> the path meant
    ignored: frozenset[str]
    not_emulated: dict[str, str]  # path -> "kept" or "read": read by Mesibo, not acted on here
    # key -> the keys known inside it (a dict, empty for a field of no properties) or LEAF (taken
    # whole): what a call with nothing to note may hold; no field Mesibo reads that the emulator does
    # not act on is among them
    plain: dict


LEAF: dict = {}  # a known field whose value, whatever it is, is not looked into


_KNOWN: dict[str, Known] = {}


def known(op: str, doc: OpDoc) -> Known:
    """Made once per op, from its OpDoc."""
    found = _KNOWN.get(op)
    if found is None:
        found = _KNOWN[op] = _known(doc)
    return found


def _known(doc: OpDoc) -> Known:
    paths: set[str] = set()
    free: set[str] = set()
    aka: dict[str, str] = {}
    not_emulated: dict[str, str] = {}

    def walk(prefix: str, properties: dict) -> None:
        for name, schema in properties.items():
            path = f"{prefix}{name}"
            paths.add(path)
            if schema.get("x-not-emulated"):
                not_emulated[path] = schema["x-not-emulated"]
            for other in schema.get("x-aka", ()):
                aka.setdefault(other, path)
            if schema.get("type") == "object":
                inner = schema.get("properties") or {}
                if inner and not schema.get("x-free"):
                    walk(path + ".", inner)
                else:
                    free.add(path)
            elif "type" not in schema:  # a value of any type: an object there is taken whole
                free.add(path)

    walk("", doc.fields)
    ignored = {path: "read" for path in doc.ignored}
    not_emulated = ignored | not_emulated
    return Known(
        frozenset(paths),
        frozenset(free),
        dict(doc.flat),
        aka,
        frozenset(doc.ignored),
        not_emulated,
        _plain_tree(paths, free, doc.flat, not_emulated),
    )


def _plain_tree(paths: set[str], free: set[str], flat: dict[str, str], not_emulated: dict) -> dict:
    """`Known.plain`, from the same paths as the walk of `unread` reads them: a top-level common or
    flat name is a leaf; a path with properties is looked into, unless it is taken whole."""
    tree: dict = {}
    for path in sorted(paths, key=lambda p: p.count(".")):
        *parents, name = path.split(".")
        node = tree
        for parent in parents:
            node = node.get(parent)
            if node is None or node is LEAF:
                break
        else:
            if path not in not_emulated:
                node[name] = LEAF if path in free else {}
    for name in (*COMMON, *flat):
        if name in flat and flat[name] in not_emulated:
            tree.pop(name, None)
        else:
            tree[name] = LEAF
    return tree


def _nothing_to_note(known_keys: dict, node: dict) -> bool:
    """Whether every key of `node` is one `unread` lets pass without a note: one dict lookup a key,
    where the walk builds each dotted path (the common case, on every call, costs that little)."""
    for key, value in node.items():
        inner = known_keys.get(key) if type(key) is str else None
        if inner is None:
            return False
        if inner is not LEAF and isinstance(value, dict) and not _nothing_to_note(inner, value):
            return False
    return True


def unread(op: str, doc: OpDoc, fields: dict) -> list[dict]:
    """A note for every field of `fields` that `op` does not read: `{"field", "problem", "hint"?, "kind":
    "unknown field"}`; and, without calling it a mistake, one for each field Mesibo reads that the
    emulator does not act on (`"kind": "not emulated"`), whose own keys are checked in turn."""
    k = known(op, doc)
    if _nothing_to_note(k.plain, fields):
        return []
    notes: list[dict] = []

    def not_emulated(field: str, how: str) -> None:
        notes.append({"field": field, "problem": NOTE_KEPT if how == "kept" else NOTE, "kind": NOT_EMULATED})

    def visit(prefix: str, node: dict) -> None:
        for key, value in node.items():
            if not isinstance(key, str):
                continue
            path = f"{prefix}{key}"
            if not prefix and (key in COMMON or key in k.flat):
                if key in k.flat and k.flat[key] in k.not_emulated:
                    not_emulated(key, k.not_emulated[k.flat[key]])
                continue
            how = k.not_emulated.get(path)
            if how is not None:
                not_emulated(path, how)
            if path in k.paths:
                if isinstance(value, dict) and path not in k.free:
                    visit(path + ".", value)
            elif how is None:
                notes.append(_unknown(op, k, prefix, key, path))

    visit("", fields)
    return notes


def _unknown(op: str, k: Known, prefix: str, key: str, path: str) -> dict:
    note = {
        "field": path,
        "problem": f"is not a field of {op}: ignored, as Mesibo ignores it",
        "kind": UNKNOWN_FIELD,
    }
    hint = _meant(k, prefix, key)
    if hint:
        note["hint"] = f"did you mean {hint}?"
    return note


def _meant(k: Known, prefix: str, key: str) -> str | None:
    """The documented name closest to `key`: one a mistake often takes (x-aka), else the most similar
    name at the same level (the flat names too, at the top)."""
    path = k.aka.get(key) or k.aka.get(key.lower())
    if path is None:
        level = [p[len(prefix) :] for p in k.paths if p.startswith(prefix) and "." not in p[len(prefix) :]]
        candidates = level + (list(k.flat) if not prefix else [])
        by_lower = {c.lower(): c for c in candidates}
        close = difflib.get_close_matches(key.lower(), list(by_lower), n=1, cutoff=0.6)
        if not close:
            return None
        name = by_lower[close[0]]
        if not prefix and name in k.flat:
            return f"'{name}'"
        path = prefix + name
    flat = [f for f, nested in k.flat.items() if nested == path]
    if not prefix and flat:
        return f"'{flat[0]}' (nested: '{path}')"
    return f"'{path}'"


UNKNOWN_FIELD = "unknown field"
NOT_EMULATED = "not emulated"  # a field Mesibo reads and the emulator does not act on: never a mistake
UNKNOWN_OP = "unknown op"
DUPLICATE_KEY = "duplicate key"  # a JSON key given twice: one value is dropped, silently
STRICT_KINDS = frozenset({UNKNOWN_FIELD, UNKNOWN_OP, DUPLICATE_KEY})


def is_mistake(note: dict) -> bool:
    """Whether a note is one strict mode fails a test for: an unknown op or a field no op reads."""
    return note.get("kind") in STRICT_KINDS
