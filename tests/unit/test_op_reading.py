"""Each op reads its fields from its OpDoc (backend/reading.py), and the declaration holds to what the
op reads: asking for an undeclared path is refused at once (UndeclaredField), and every declared field
is one the op does read. The second is shown by running each op in-process, once per declared field: its
example, plus that field with a value of its declared type; the union of what the op asked for must
cover every declared field (a field taken whole covers the keys declared inside it; a field Mesibo reads
and the emulator neither acts on nor keeps is exempt)."""

from __future__ import annotations

import asyncio
import copy

import pytest

from mesibo_mock.backend import reading
from mesibo_mock.backend.dispatch import dispatch
from mesibo_mock.backend.ops import OpDoc
from mesibo_mock.backend.parsing import UploadedFile
from mesibo_mock.backend.reading import Fields, UndeclaredField, declared
from mesibo_mock.backend.registry import DOCS
from mesibo_mock.credentials import samples
from mesibo_mock.lifecycle import build_runtime
from mesibo_mock.server.settings import Settings

TOKEN = "reading-token"


@pytest.fixture(scope="module")
def rt():
    runtime = build_runtime(Settings(db=":memory:", app_token=TOKEN, mode="onprem"))
    yield runtime
    runtime.store.close()


def call(rt, fields: dict) -> dict:
    return asyncio.run(dispatch(rt, {"token": TOKEN, **fields})).body


def fresh_ids(rt) -> dict:
    """What an id field is given: a user, a group (made anew each time: groupdel deletes its) and a UAC
    that exist."""
    uid = call(rt, {"op": "useradd", "user": {"address": "ann"}})["user"]["uid"]
    call(rt, {"op": "useradd", "user": {"address": "bob"}})
    gid = call(rt, {"op": "groupadd", "group": {"name": "g", "members": {"m": "ann"}}})["group"]["gid"]
    uac = call(rt, {"op": "uacset", "uac": {"id": 1, "name": "u", "update": 1}})
    if uac["result"] is False:  # the first time: made
        uac = call(rt, {"op": "uacset", "uac": {"id": 1, "name": "u"}})
    return {"uid": uid, "gid": gid, "uac": 1, "id": 1}


def sample(path: str, schema: dict, ids: dict):
    """A value of the field's declared type and form."""
    last = path.rsplit(".", 1)[-1]
    if schema.get("x-zero-absent") and last in ids:
        return ids[last]
    kind = schema.get("type")
    if kind == "integer":
        return max(schema.get("minimum", 0), 1)
    if kind == "boolean":
        return True
    if kind == "object":
        return {}
    if schema.get("x-address") or last in ("m", "to"):
        return "bob"
    if last == "appid":
        return "com.example.app"
    return "x"


def put(fields: dict, path: str, value) -> dict:
    node = fields
    parts = path.split(".")
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[parts[-1]] = value
    return fields


def base_of(op: str, doc: OpDoc, ids: dict) -> dict:
    fields = copy.deepcopy(doc.example)
    if isinstance(fields.get("group"), dict) and "gid" in fields["group"]:
        fields["group"]["gid"] = ids["gid"]
    if op == "pushupload":  # a file part, as multipart brings it
        fields["file"] = UploadedFile("fcm.json", samples.fcm(), "application/json")
    return fields


def asked_by(rt, op: str, fields: dict) -> set[str]:
    seen: set[str] = set()
    original = reading.Fields.__init__

    def recording(self, name, doc, raw):
        original(self, name, doc, raw)
        self.asked = seen  # every Fields this call makes records into one set

    reading.Fields.__init__ = recording
    try:
        call(rt, {"op": op, **fields})
    finally:
        reading.Fields.__init__ = original
    return seen


def exempt(path: str, schemas: dict) -> bool:
    """Read by Mesibo, and neither acted on nor kept by the emulator (only noted)."""
    return schemas[path].get("x-not-emulated") == "read"


@pytest.mark.parametrize("op", sorted(DOCS))
def test_every_field_an_op_declares_is_one_it_reads(rt, op):
    doc = DOCS[op]
    schemas, _ = declared(doc)
    ids = fresh_ids(rt)
    asked: set[str] = set()
    asked |= asked_by(rt, op, base_of(op, doc, ids))
    for path, schema in schemas.items():
        if exempt(path, schemas):
            continue
        ids = fresh_ids(rt)
        fields = put(base_of(op, doc, ids), path, sample(path, schema, ids))
        asked |= asked_by(rt, op, fields)

    def covered(path: str) -> bool:
        if path in asked or exempt(path, schemas):
            return True
        if any(other.startswith(path + ".") for other in asked):  # an object whose keys are read
            return True
        parent = path.rpartition(".")[0]  # a key declared inside a field the op takes whole
        while parent:
            if parent in asked and (schemas[parent].get("x-free") or schemas[parent].get("x-stored")):
                return True
            if schemas[parent].get("x-not-emulated") or "type" not in schemas[parent]:
                return parent in asked or exempt(parent, schemas)
            parent = parent.rpartition(".")[0]
        return False

    unread = sorted(path for path in schemas if not covered(path))
    assert not unread, f"{op} declares fields it never reads: {unread}"


def test_asking_for_an_undeclared_field_is_refused_at_once():
    fields = Fields("pushtest", DOCS["pushtest"], {"push": {"address": "1"}})
    assert fields.get("push.address") == "1" and fields.asked == {"push.address"}
    with pytest.raises(UndeclaredField, match="pushtest reads 'push.sound'"):
        fields.get("push.sound")


def test_a_field_is_read_by_its_declared_rule_nested_or_flat():
    fields = Fields("useradd", DOCS["useradd"], {"addr": 12345, "active": "no", "flags": "7", "uid": 0})
    assert fields.get("user.address") == "12345"  # an address: a number read as its text
    assert fields.get("user.active") is False  # a boolean in any accepted spelling
    assert fields.get("user.flag") == 7  # `flags`, a flat spelling of user.flag
    assert fields.get("user.uid") is None  # an id of 0 is absent
    nested_wins = Fields("useradd", DOCS["useradd"], {"user": {"address": "a"}, "addr": "b"})
    assert nested_wins.get("user.address") == "a"
    from mesibo_mock.errors import MesiboError

    with pytest.raises(MesiboError) as refused:
        Fields("useradd", DOCS["useradd"], {"user": {"flag": 2**31}}).get("user.flag")
    assert refused.value.properties == ["flag"]
