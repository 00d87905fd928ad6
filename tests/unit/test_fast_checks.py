"""The hot path's shortcuts say exactly what the full walks they stand in for say: the unread-field
check (`Known.plain`) against the walk of `unread`, and redaction's "no secret anywhere" search against
the value-by-value walk."""

from __future__ import annotations

import random

import orjson
import pytest

from mesibo_mock.backend import fields as field_notes
from mesibo_mock.backend.registry import DOCS
from mesibo_mock.redaction import (
    FEW_EXACT,
    REDACTED,
    Secrets,
    call_secrets,
    redact_fields,
    redact_fields_as_json,
    redact_value,
)


def walked(op: str, fields: dict, monkeypatch) -> list[dict]:
    with monkeypatch.context() as patched:
        patched.setattr(field_notes, "_nothing_to_note", lambda _known, _node: False)
        return field_notes.unread(op, DOCS[op], fields)


def fields_for(known: field_notes.Known, rnd: random.Random) -> dict:
    """A call built from an op's own names (nested, flat, common) and a few strangers, each given a
    value of some shape: a text, a number, an object, an object of unknown or known keys, a list."""
    names = [*known.paths, *known.flat, *field_notes.COMMON, "bogus", "push.bogus", "x.y"]
    made: dict = {}
    for name in rnd.sample(names, rnd.randint(0, min(6, len(names)))):
        node, *parents = made, *name.split(".")[:-1]
        for parent in parents:
            inner = node.get(parent)
            node = node[parent] = inner if isinstance(inner, dict) else {}
        node[name.split(".")[-1]] = rnd.choice(["v", 1, {}, {"zz": 1}, {"address": "a"}, [1], None])
    if rnd.random() < 0.1:
        made[7] = "a key that is not text"
    return made


@pytest.mark.parametrize("op", sorted(DOCS))
def test_the_unread_shortcut_says_what_the_walk_says(op, monkeypatch):
    known = field_notes.known(op, DOCS[op])
    rnd = random.Random(op)
    plain = 0
    for _ in range(300):
        fields = fields_for(known, rnd)
        notes = field_notes.unread(op, DOCS[op], fields)
        assert notes == walked(op, fields, monkeypatch), fields
        plain += not notes
    assert plain  # the shortcut was taken too, not only the walk


def test_a_text_field_given_an_object_is_still_noted():
    """A field of no properties given an object: its keys are unknown, as the walk says."""
    notes = field_notes.unread(
        "pushtest", DOCS["pushtest"], {"op": "pushtest", "push": {"address": {"x": 1}}}
    )
    assert [n["field"] for n in notes] == ["push.address.x"]


def test_a_field_read_by_mesibo_is_noted_though_every_key_is_known():
    notes = field_notes.unread(
        "useradd", DOCS["useradd"], {"op": "useradd", "user": {"address": "a", "permissions": 1}}
    )
    assert [(n["field"], n["kind"]) for n in notes] == [("user.permissions", field_notes.NOT_EMULATED)]


OTHER = "f" * 44


@pytest.mark.parametrize(
    ("fields", "kept"),
    [
        ({"op": "x", "a": {"b": [OTHER]}}, {"op": "x", "a": {"b": [REDACTED]}}),  # deep in a list
        ({"op": "x", "a": f"  {OTHER} "}, {"op": "x", "a": REDACTED}),  # with spaces around
        ({"op": "x", OTHER: 1, "b": OTHER}, {"op": "x", OTHER: 1, "b": REDACTED}),  # a key is no value
    ],
)
def test_a_value_equal_to_a_secret_is_redacted_with_few_or_many_secrets(fields, kept):
    for exact in ({OTHER}, {OTHER, *(f"{i:044x}" for i in range(FEW_EXACT + 1))}):
        assert redact_fields(fields, Secrets(exact, ())) == kept, len(exact)


def test_a_secret_json_writes_escaped_is_still_found():
    secret = 'a"b\\c-secret'
    kept = redact_fields({"op": "x", "n": {"v": secret}}, Secrets({secret}, ()))
    assert kept == {"op": "x", "n": {"v": REDACTED}}


def test_fields_with_no_secret_are_kept_as_they_came():
    fields = {"op": "pushtest", "token": OTHER, "push": {"address": "ann", "n": [1, {"k": "v"}]}}
    kept = redact_fields(fields, Secrets({OTHER, "e" * 44}, (OTHER,)))
    assert kept == {**fields, "token": REDACTED}


SECRET = "s3cret-app-token-0123456789"
SHAPES = [
    {"op": "pushtest", "token": SECRET, "push": {"address": "ann"}},
    {"op": "pushtest", " Token ": SECRET, "push": {"address": "ann"}},  # another spelling
    {"op": "pushtest", "token": 12345678, "push": {"address": "ann"}},  # a number as its token
    {"op": "pushtest", "token": True, "push": {"address": "ann"}},
    {"op": "useradd", "token": SECRET, "user": {"address": "ann", "name": f"quotes {SECRET} inside"}},
    {"op": "useradd", "token": SECRET, "user": {"address": SECRET}},  # the token as a whole value
    {"op": "useradd", "token": SECRET, "user": {"name": "x" * 5000}},  # a text to cut
    {"op": "x", "token": SECRET, "k": "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----"},
    {"op": "x", "push": {"address": "ann"}},  # no token at all
    {"op": "x", "token": SECRET, SECRET: 1},  # the token as a key
]


@pytest.mark.parametrize("fields", SHAPES)
def test_the_json_shortcut_keeps_what_the_walk_keeps_and_writes_its_json(fields):
    """The journal's shortcut (redact_fields_as_json): the dict is what the slow way keeps (each value
    walked, the token replaced), and a JSON given is exactly that dict's."""
    secrets = Secrets({SECRET}, call_secrets(fields, SECRET))
    kept, blob = redact_fields_as_json(fields, secrets)
    tokens = [k for k in fields if isinstance(k, str) and k.strip().lower() == "token"]
    walk = redact_value(
        {k: v for k, v in fields.items() if k not in tokens}, secrets, lambda _s: REDACTED, 4096
    )
    assert {k: v for k, v in kept.items() if k not in tokens} == walk
    assert all(kept[k] == REDACTED for k in tokens)
    if SECRET not in fields:  # a key equal to a secret is renamed by the walk
        assert list(kept) == list(fields)  # in the call's order
    if blob is not None:
        assert blob == orjson.dumps(kept).decode()
        assert SECRET not in blob and "PRIVATE" not in blob


def test_the_json_shortcut_is_taken_for_a_plain_call_and_not_where_a_secret_hides():
    plain, quoting = SHAPES[0], SHAPES[4]
    assert redact_fields_as_json(plain, Secrets({SECRET}, (SECRET,)))[1] is not None
    assert redact_fields_as_json(quoting, Secrets({SECRET}, (SECRET,)))[1] is None


def test_a_call_without_a_token_is_kept_as_a_copy():
    fields = {"op": "x", "push": {"address": "ann"}}
    kept, _ = redact_fields_as_json(fields, Secrets((), ()))
    assert kept == fields and kept is not fields


@pytest.mark.parametrize("key", ["token", "Token", " TOKEN ", "tokeN\t", "toKen"])
def test_a_token_under_any_spelling_is_the_calls_secret(key):
    assert call_secrets({"op": "x", key: " abcd1234 "}) == ("abcd1234",)


@pytest.mark.parametrize("key", ["tok", "tokens", "op", "x" * 20 + "token"])
def test_other_keys_are_not_tokens(key):
    assert call_secrets({"op": "x", key: "abcd1234"}) == ()
