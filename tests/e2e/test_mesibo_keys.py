"""SPEC section 11: every field Mesibo's own backend reads is accepted in its place, noted "read by Mesibo,
not emulated", kept where a later view shows it, and never counted by strict mode; a typo of one is still
a mistake, with the name meant."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from mesibo_mock.backend.fields import NOT_EMULATED, known
from mesibo_mock.backend.ops.mesibo_keys import APP_OP_KEYS, BINARY_KEYS, PROFILE_KEYS, RIGHT_KEYS, TOKEN_KEYS
from mesibo_mock.backend.registry import DOCS

DOCS_PAGE = Path(__file__).resolve().parents[2] / "docs" / "backend.md"


def call(mock, op: str, **fields) -> dict:
    return httpx.post(mock.backend_url, json={"op": op, "token": mock.app_token, **fields}).json()


def notes_of(mock, op: str) -> list[dict]:
    [entry] = mock.requests(op=op, limit=1)
    return entry["diagnosis"]


PERMISSIONS = {
    "send": 1,
    "recv": 1,
    "groupcreate": 0,
    "storage": 100,
    "calls": 1,
    "block": 0,
    "visibility": 1,
}
EVERY_USER_KEY = {
    "address": "ann",
    "name": "Ann",
    "active": True,
    "flag": 0,
    "token": {"appid": "com.example.app", "expiry": 60, "renew": False, **{k: 1 for k in TOKEN_KEYS}},
    "permissions": PERMISSIONS,
    "perms": {"pub": 1, "sub": 1, "list": 1},
    "validity": 30,
    "pinned": 1,
    "restrictions": {"incoming": 0, "outgoing": 1},
    "profile": {key: "x" for key in PROFILE_KEYS},
}


def test_a_useradd_with_every_key_mesibo_reads_in_its_place_is_no_mistake(mock):
    answer = call(mock, "useradd", user=EVERY_USER_KEY, notify=1, id=7, **{"async": 0})
    assert answer["result"] is True and answer["id"] == 7
    assert mock.mistakes() == []
    noted = {n["field"] for n in notes_of(mock, "useradd") if n["kind"] == NOT_EMULATED}
    assert noted == {
        *(f"user.token.{k}" for k in TOKEN_KEYS),
        "user.permissions",
        "user.perms",
        "user.validity",
        "user.pinned",
        "user.restrictions",
        "notify",
        "async",
    }
    assert all(
        n["problem"].startswith("is read by Mesibo, not emulated")
        for n in notes_of(mock, "useradd")
        if n["kind"] == NOT_EMULATED
    )


def test_what_mesibo_reads_of_a_user_and_its_token_is_kept_and_shown(mock):
    call(mock, "useradd", user=EVERY_USER_KEY)
    call(mock, "userset", user={"address": "ann", "validity": 60, "permissions": {"send": 0}})
    [user] = mock.users()
    assert user["permissions"] == {"send": 0}  # a key given again replaces its value whole
    assert user["validity"] == 60 and user["pinned"] == 1 and user["perms"] == {"pub": 1, "sub": 1, "list": 1}
    assert user["profile"] == {key: "x" for key in PROFILE_KEYS}
    [token] = user["tokens"]
    assert token["appid"] == "com.example.app" and {k: token[k] for k in TOKEN_KEYS} == dict.fromkeys(
        TOKEN_KEYS, 1
    )
    # the same token again (unexpired, no renew) takes the platform keys given now
    call(mock, "usertoken", user={"address": "ann", "token": {"appid": "com.example.app", "android": 0}})
    assert mock.users()[0]["tokens"][0]["android"] == 0


def test_the_flat_form_takes_profile_permissions_and_a_tokens_platform_keys(mock):
    fields = {
        "op": "useradd",
        "token": mock.app_token,
        "addr": "flat-ann",
        "appid": "com.example.app",
        "android": "1",
        "package": "com.example.app",
        "profile": json.dumps({"name": "Flat", "image": "f.png"}),
        "permissions": json.dumps({"send": 1}),
    }
    assert httpx.post(mock.backend_url.replace("/backend", "/api.php"), data=fields).json()["result"] is True
    assert mock.mistakes() == []
    [user] = mock.users()
    assert user["profile"] == {"name": "Flat", "image": "f.png"} and user["permissions"] == {"send": 1}
    assert user["tokens"][0]["android"] == "1" and user["tokens"][0]["package"] == "com.example.app"


def test_a_groups_permissions_and_pinned_are_kept_and_its_call_keys_noted(mock):
    call(mock, "useradd", user={"address": "m1"})
    gid = call(
        mock,
        "groupadd",
        group={
            "name": "team",
            "permissions": {"send": 1, "pub": 0},
            "pinned": 1,
            "call": 1,
            "sfu": 0,
            "live": 1,
            "profile": {"name": "Team", "image": "t.png"},
            "members": {"m": "m1", "permissions": {"send": 1, "recv": 1}},
        },
        notify=1,
    )["group"]["gid"]
    call(mock, "groupset", gid=gid, profile={"status": "open"}, group={"validity": 5})
    call(mock, "groupeditmembers", gid=gid, m="m1", notify=0, **{"async": 1})
    assert mock.mistakes() == []
    [group] = mock.groups()
    assert group["permissions"] == {"send": 1, "pub": 0} and group["pinned"] == 1 and group["validity"] == 5
    assert group["profile"] == {"status": "open"}
    noted = {n["field"] for n in notes_of(mock, "groupadd") if n["kind"] == NOT_EMULATED}
    assert noted == {"group.permissions", "group.pinned", "group.call", "group.sfu", "group.live", "notify"}


@pytest.mark.parametrize(
    ("op", "fields", "typo", "meant"),
    [
        (
            "useradd",
            {"user": {"address": "a", "permisions": {"send": 1}}},
            "user.permisions",
            "user.permissions",
        ),
        (
            "useradd",
            {"user": {"address": "a", "token": {"appid": "com.example.app", "andriod": 1}}},
            "user.token.andriod",
            "user.token.android",
        ),
        (
            "groupadd",
            {"group": {"name": "g", "permisions": {"send": 1}}},
            "group.permisions",
            "group.permissions",
        ),
        (
            "useradd",
            {"user": {"address": "a", "permissions": {"groupcraete": 1}}},
            "user.permissions.groupcraete",
            "user.permissions.groupcreate",
        ),
    ],
)
def test_a_typo_of_a_key_mesibo_reads_is_still_a_mistake_with_the_name_meant(mock, op, fields, typo, meant):
    call(mock, op, **fields)
    [mistake] = mock.mistakes()
    assert mistake["field"] == typo and mistake["hint"] == f"did you mean '{meant}'?"


def test_every_key_of_the_binarys_list_has_a_place_in_some_op():
    """Each key is declared in some op's fields (its last name), is a right (its place: a permissions
    object, which every user and group op declares), is a profile's (kept whole), or belongs to the app
    ops the emulator answers 501. The keys a permissions object takes do not count as declared: each has
    to have a place of its own."""
    declared = set()
    for op, doc in DOCS.items():
        for path in known(op, doc).paths:
            if ".permissions." not in path and ".perms." not in path:
                declared.add(path.rsplit(".", 1)[-1])
        declared.update(doc.flat)
    declared.update({"op", "token", "id"})
    for op in ("useradd", "userset", "groupadd", "groupset"):
        assert {"user.permissions", "group.permissions"} & known(op, DOCS[op]).paths, op
    homeless = set(BINARY_KEYS) - declared - set(RIGHT_KEYS) - set(PROFILE_KEYS) - set(APP_OP_KEYS)
    assert not homeless, homeless


def not_emulated_paths(op: str) -> list[str]:
    k = known(op, DOCS[op])
    return sorted(path for path in k.not_emulated if path not in DOCS[op].ignored)


def test_docs_backend_lists_the_fields_read_by_mesibo_and_not_emulated_per_op():
    """The table in docs/backend.md is the declarations', op by op: the docs cannot drift from the code."""
    text = DOCS_PAGE.read_text()
    section = text[text.index("## Fields Mesibo reads that the emulator does not act on") :]
    rows = dict(re.findall(r"^\| `(\w+)` \| (.+) \|$", section, re.M))
    for op in sorted({op for op in DOCS if not_emulated_paths(op)}):
        assert op in rows, op
        listed = re.findall(r"`([\w.]+)`", rows[op])
        assert listed == not_emulated_paths(op), op
