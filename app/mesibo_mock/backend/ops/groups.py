"""groupadd, groupset, groupdel, groupeditmembers, groupgetmembers (and its two other spellings) and
groupsget (SPEC section 4), nested (`group.members.m`) or flat (`gid=...&m=...`)."""

from __future__ import annotations

import sqlite3

from mesibo_mock.backend.ops import OpContext, OpDoc, boolean, integer, obj, string
from mesibo_mock.errors import bad_value, missing
from mesibo_mock.services import groups
from mesibo_mock.values import (
    as_address,
    as_bool,
    as_whole,
    describe,
    entity_fields,
    optional_object,
    pick,
    pick_id,
)

MAX_MEMBERS_PER_CALL = 10_000


def groupadd(ctx: OpContext, fields: dict) -> dict:
    """`gid` (even 0, as Mesibo's PHP helper sends it) is ignored: a new group gets a new one."""
    _group_object(fields)
    if pick(fields, "group.name", "name") in (None, ""):
        raise missing("group.name")
    gid = groups.create(ctx.rt, ctx.app["id"], **entity_fields(fields, "group", "expiry"))
    group = groups.by_gid(ctx.rt, ctx.app["id"], gid)
    _apply_members(ctx, group, fields)
    return {"group": {"gid": gid}}


def groupset(ctx: OpContext, fields: dict) -> dict:
    group = _existing(ctx, fields)
    groups.update(ctx.rt, group, **entity_fields(fields, "group", "expiry"))
    _apply_members(ctx, group, fields)
    return {"group": {"gid": group["id"]}}


def groupdel(ctx: OpContext, fields: dict) -> dict:
    group = _existing(ctx, fields)
    groups.delete(ctx.rt, group)
    return {"group": {"gid": group["id"]}}


def groupeditmembers(ctx: OpContext, fields: dict) -> dict:
    group = _existing(ctx, fields)
    if _member_list(fields) is None:
        raise missing("group.members.m")
    _apply_members(ctx, group, fields)
    return {"group": {"gid": group["id"]}}


def groupgetmembers(ctx: OpContext, fields: dict) -> dict:
    group = _existing(ctx, fields)
    count = pick(fields, "group.count", "count")
    limit = None if count in (None, "", 0, "0") else as_whole("count", count, minimum=1, maximum=10**30)
    members = [groups.member_view(row) for row in groups.members(ctx.rt, group, min(limit or 10**9, 10**9))]
    return {"gid": group["id"], "count": len(members), "members": members}


def groupsget(ctx: OpContext, fields: dict) -> dict:
    rows = groups.list_groups(ctx.rt, ctx.app["id"])
    return {"groups": [{"gid": r["id"], "name": r["name"], "members": r["member_count"]} for r in rows]}


# --- the shared rules -------------------------------------------------------------------------------
def _group_object(fields: dict) -> None:
    group = pick(fields, "group")
    if group is not None and not isinstance(group, dict):
        raise bad_value("group", "must be an object")


def _existing(ctx: OpContext, fields: dict) -> sqlite3.Row:
    _group_object(fields)
    gid = pick_id(fields, "group.gid", "gid")
    if gid is None:
        raise missing("gid")
    group = groups.by_gid(ctx.rt, ctx.app["id"], gid)
    if group is None:
        raise bad_value("gid", f"is not a group of this app: {gid}")
    return group


def _member_list(fields: dict) -> list[str] | None:
    """`m`: addresses, comma-separated (or a JSON list); None when not given."""
    members = optional_object(fields, "group.members")
    raw = (members or {}).get("m", fields.get("m"))
    if raw is None:
        return None
    if isinstance(raw, str):
        items = [part.strip() for part in raw.split(",")]
    elif isinstance(raw, list):
        items = raw
    elif isinstance(raw, int) and not isinstance(raw, bool):
        items = [raw]
    else:
        raise bad_value("group.members.m", f"must be comma-separated addresses, got {describe(raw)}")
    addresses = [as_address("group.members.m", item) for item in items if item not in ("", None)]
    if not addresses:
        raise bad_value("group.members.m", "names no address")
    if len(addresses) > MAX_MEMBERS_PER_CALL:
        raise bad_value("group.members.m", f"names more than {MAX_MEMBERS_PER_CALL} addresses")
    return list(dict.fromkeys(addresses))


def _member_flag(fields: dict, name: str) -> bool:
    members = optional_object(fields, "group.members") or {}
    value = members.get(name, fields.get(name))
    return True if value in (None, "") else as_bool(f"group.members.{name}", value)


def _apply_members(ctx: OpContext, group: sqlite3.Row, fields: dict) -> None:
    """Add (or, with `delete` / `group.members.remove`, remove) the members `m` names. Every field is
    checked before anything changes."""
    addresses = _member_list(fields)
    if addresses is None:
        return
    members = optional_object(fields, "group.members") or {}
    remove = members.get("remove", members.get("delete", fields.get("delete")))
    removing = remove not in (None, "") and as_bool("group.members.remove", remove)
    cs, cr = _member_flag(fields, "cs"), _member_flag(fields, "cr")
    if removing:
        groups.remove_members(ctx.rt, group, addresses)
    else:
        groups.add_members(ctx.rt, group, addresses, cs, cr)


GROUP_FIELDS = {
    "name": string("the group's name (flat: name)"),
    "flag": integer("flags (flat: flag)", minimum=0),
    "active": boolean("active (flat: active)", True),
    "expiry": integer("expiry (flat: expiry)", minimum=0),
    "profile": obj("profile", {}),
}
MEMBERS = obj(
    "members (flat: m, delete, cs, cr)",
    {
        "m": string("addresses, comma-separated"),
        "remove": boolean("remove these members instead of adding them (flat: delete)", False),
        "cs": boolean("can send", True),
        "cr": boolean("can receive", True),
    },
)
GID = {"gid": integer("the group's gid (also flat gid)", minimum=1)}
MEMBERS_ANSWER = [
    {"uid": 1, "address": "123456", "cs": True, "cr": True},
    {"uid": 2, "address": "654321", "cs": True, "cr": True},
]
DOCS = {
    "groupadd": OpDoc(
        summary="Make a group, with members; a gid of 0 (as PHP helpers send) is ignored",
        fields={"group": obj("the group", GROUP_FIELDS | {"members": MEMBERS}, ["name"])},
        required=("group.name",),
        flat={"name": "group.name", "m": "group.members.m"},
        example={"group": {"name": "Team", "members": {"m": "123456,654321"}}},
        answer={"group": {"gid": 1}},
    ),
    "groupset": OpDoc(
        summary="Change a group's fields (and add members)",
        fields={"group": obj("the group", GID | GROUP_FIELDS | {"members": MEMBERS})},
        required=("group.gid",),
        flat={"gid": "group.gid", "name": "group.name"},
        example={"group": {"gid": 1, "name": "Team A"}},
        answer={"group": {"gid": 1}},
    ),
    "groupdel": OpDoc(
        summary="Delete a group and its memberships",
        fields=GID,
        required=("gid",),
        example={"gid": 1},
        answer={"group": {"gid": 1}},
    ),
    "groupeditmembers": OpDoc(
        summary="Add members to a group, or remove them (delete=1 / group.members.remove)",
        fields={"group": obj("the group", GID | {"members": MEMBERS})},
        required=("group.gid", "group.members.m"),
        flat={"gid": "group.gid", "m": "group.members.m", "delete": "group.members.remove"},
        example={"group": {"gid": 1, "members": {"m": "777", "cr": False}}},
        answer={"group": {"gid": 1}},
    ),
    "groupgetmembers": OpDoc(
        summary="A group's members (also spelt groupmembers and groupmembersget)",
        fields=GID | {"count": integer("at most this many", minimum=1)},
        required=("gid",),
        example={"gid": 1},
        answer={"gid": 1, "count": 2, "members": MEMBERS_ANSWER},
    ),
    "groupsget": OpDoc(
        summary="Every group of the app with its number of members",
        fields={},
        example={},
        answer={"groups": [{"gid": 1, "name": "Team", "members": 2}]},
        errors=(),
    ),
}
DOCS["groupmembers"] = DOCS["groupmembersget"] = DOCS["groupgetmembers"]
