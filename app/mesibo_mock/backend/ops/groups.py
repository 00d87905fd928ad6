"""groupadd, groupset, groupdel, groupeditmembers, groupgetmembers (and its two other spellings) and
groupsget (SPEC section 4), nested (`group.members.m`) or flat (`gid=...&m=...`)."""

from __future__ import annotations

import sqlite3

from mesibo_mock.backend.ops import (
    OpContext,
    OpDoc,
    boolean,
    flag,
    id_field,
    integer,
    name_field,
    obj,
    profile,
    string,
)
from mesibo_mock.backend.ops.mesibo_keys import GROUP_EXTRAS, OP_EXTRAS, flat_names, kept
from mesibo_mock.backend.reading import Fields, entity_changes
from mesibo_mock.errors import MISSINGPARAMS, MesiboError, bad_value, invalid_value, missing
from mesibo_mock.services import groups
from mesibo_mock.values import as_address, describe

MAX_MEMBERS_PER_CALL = 10_000
LIST_MAX = 20  # groupgetmembers and groupsget: default and most listed at once


def groupadd(ctx: OpContext, fields: Fields) -> dict:
    """`gid` (even 0, as Mesibo's PHP helper sends it) is ignored: a new group gets a new one. The
    name is optional [real: "name = Group Name [Optional]"]."""
    fields.get("group")
    changes = _group_changes(fields)
    addresses = _member_list(fields)  # every field is checked before anything changes
    gid = groups.create(ctx.rt, ctx.app["id"], **changes)
    _apply_members(ctx, groups.by_gid(ctx.rt, ctx.app["id"], gid), fields, addresses)
    return {"group": {"gid": gid}}


def groupset(ctx: OpContext, fields: Fields) -> dict:
    """An absent or empty `m` changes no members (the sample backend sends `m=` then)."""
    group = _existing(ctx, fields)
    changes = _group_changes(fields)
    addresses = _member_list(fields)
    groups.update(ctx.rt, group, **changes)
    _apply_members(ctx, group, fields, addresses)
    return {"group": {"gid": group["id"]}}


def groupdel(ctx: OpContext, fields: Fields) -> dict:
    group = _existing(ctx, fields)
    groups.delete(ctx.rt, group)
    return {"group": {"gid": group["id"]}}


def groupeditmembers(ctx: OpContext, fields: Fields) -> dict:
    group = _existing(ctx, fields)
    addresses = _member_list(fields)
    if not addresses:
        raise MesiboError(
            MISSINGPARAMS, "no members named: 'm' (or group.members.m) is absent or empty", ["members"]
        )
    _apply_members(ctx, group, fields, addresses)
    return {"group": {"gid": group["id"]}}


def groupgetmembers(ctx: OpContext, fields: Fields) -> dict:
    """Oldest member first; `mcount` is every member, `count` those listed (at most 20)."""
    group = _existing(ctx, fields)
    limit = _count(fields)
    listed = [groups.listed_member(row) for row in groups.members(ctx.rt, group, limit)]
    return {
        "gid": group["id"],
        "mcount": groups.member_count(ctx.rt, group),
        "count": len(listed),
        "members": listed,
    }


def groupsget(ctx: OpContext, fields: Fields) -> dict:
    """By name, then newest gid first; `groupscount` is every group that matches the filters (a name,
    exact or a `*` pattern; a gid), `count` those listed (at most 20)."""
    fields.get("group")
    name = fields.get("group.name") or None
    gid = fields.get("group.gid")
    total, rows = groups.list_groups(ctx.rt, ctx.app["id"], _count(fields), name, gid)
    now = ctx.rt.clock.now()
    listed = [groups.listed_group(row, now) for row in rows]
    return {"groupscount": total, "count": len(listed), "groups": listed}


# --- the shared rules -------------------------------------------------------------------------------
def _group_changes(fields: Fields) -> dict:
    """What groupadd and groupset change of a group: its own fields, and the fields Mesibo reads that
    are kept as given (permissions, pinned, ...)."""
    changes = entity_changes(fields, "group", "expiry", "expiryext")
    extras = kept(fields, "group", GROUP_EXTRAS)
    if extras:
        changes["extras"] = extras
    return changes


def _count(fields: Fields) -> int:
    """At most this many listed: `group.count` where the op declares it, else `count`; default and
    most LIST_MAX."""
    count = fields.get("group.count") if fields.declares("group.count") else None
    if count is None:
        count = fields.get("count", LIST_MAX)
    return min(count, LIST_MAX)


def _existing(ctx: OpContext, fields: Fields) -> sqlite3.Row:
    """An unknown gid names nothing: INVALIDVALUE [real: every gid lookup in the binary raises it]."""
    fields.get("group")
    gid = fields.get("group.gid")
    if gid is None:
        raise missing("gid")
    group = groups.by_gid(ctx.rt, ctx.app["id"], gid)
    if group is None:
        raise invalid_value("gid", f"is not a group of this app: {gid}")
    return group


def _member_list(fields: Fields) -> list[str] | None:
    """`m`: addresses, comma-separated (or a JSON list); None when absent or empty."""
    fields.get("group.members")
    raw = fields.raw("group.members.m")
    if raw is None:
        return None
    if isinstance(raw, str):
        items = raw.split(",")
    elif isinstance(raw, list):
        items = raw
    elif isinstance(raw, int) and not isinstance(raw, bool):
        items = [raw]
    else:
        raise bad_value("group.members.m", f"must be comma-separated addresses, got {describe(raw)}")
    addresses = [
        as_address("group.members.m", item) for item in items if item not in ("", None) and str(item).strip()
    ]
    if len(addresses) > MAX_MEMBERS_PER_CALL:
        raise bad_value("group.members.m", f"names more than {MAX_MEMBERS_PER_CALL} addresses")
    return list(dict.fromkeys(addresses)) or None


def _rights(fields: Fields) -> groups.Rights:
    """The rights of this call's members: JSON `members.permissions` {send, recv, pub, sub, list} and
    `members.admin` {owner, modify, ...}, or the flat cs/cr/canpub/cansub/canlist (each 1 unless given
    0) [real: the binary reads these keys; Mesibo's API playground sends the flat ones]."""
    fields.get("group.members.permissions")
    granted = {}
    for column, name, flat in groups.PERMISSIONS:
        value = fields.get(f"group.members.permissions.{name}")
        if value is None:
            value = fields.get(f"group.members.{flat}")
        granted[column] = True if value is None else value
    fields.get("group.members.admin")
    bits = 0
    for i, right in enumerate(groups.ADMIN_RIGHTS):
        if fields.get(f"group.members.admin.{right}"):
            bits |= 1 << i
    return groups.Rights(**granted, admin=bits)


def _apply_members(ctx: OpContext, group: sqlite3.Row, fields: Fields, addresses: list[str] | None) -> None:
    """Add (or, with `group.members.remove`, or where the op takes it flat `delete` or JSON
    `group.delete`, remove) the members `m` names. Addresses that are not active users are skipped, and
    the journal says which."""
    if not addresses:
        return
    removing = fields.get("group.members.remove")
    if removing is None and fields.declares("group.delete"):
        removing = fields.get("group.delete")
    if removing:
        groups.remove_members(ctx.rt, group, addresses)
        return
    skipped = groups.add_members(ctx.rt, group, addresses, _rights(fields))
    if skipped:
        ctx.note(
            f"skipped {len(skipped)} of {len(addresses)}: {_listed(skipped)} (members must be existing, active "
            "users of the app)",
            field="group.members.m",
            kind="skipped",
        )


def _listed(addresses: list[str], shown: int = 10) -> str:
    text = ", ".join(repr(a) for a in addresses[:shown])
    return text + (f" and {len(addresses) - shown} more" if len(addresses) > shown else "")


GROUP_FIELDS = {
    "name": name_field("the group's name, optional (flat: name)"),
    "flag": flag("flags (flat: flag)"),
    "flags": flag("the same as flag, as Mesibo's PHP helpers send it"),
    "active": boolean("active (flat: active)", True),
    "expiry": flag("seconds from creation (flat: expiry)"),
    "expiryext": flag("seconds the expiry moves on with activity (flat: expiryext)"),
    "profile": profile("profile (kept as given; flat: profile)"),
} | GROUP_EXTRAS
COUNT = integer(
    "at most this many; default and maximum 20", minimum=1, maximum=10**30, **{"x-zero-absent": True}
)
MEMBERS = obj(
    "members (flat: m, delete, cs, cr, canpub, cansub, canlist)",
    {
        "m": string(
            "addresses, comma-separated; only existing, active users become members",
            **{"x-aka": ["members", "addresses", "users"]},
        ),
        "remove": boolean("remove these members instead of adding them (flat: delete)", False),
        "cs": boolean("can send", True),
        "cr": boolean("can receive", True),
        "canpub": boolean("can publish (a group call)", True),
        "cansub": boolean("can subscribe", True),
        "canlist": boolean("can list the members", True),
        "permissions": obj(
            "the members' rights (1 or 0, or booleans), each 1 unless given",
            {name: boolean(f"{name} right", True) for name in ("send", "recv", "pub", "sub", "list")},
        ),
        "admin": obj(
            "the members' admin rights, each 0 unless given",
            {right: boolean(f"the {right} admin right", False) for right in groups.ADMIN_RIGHTS},
        ),
    },
)
GID = {"gid": id_field("the group's gid (also flat gid)")}
# Parameters Mesibo's own helpers send that the emulator takes and does not use.
GROUP_IGNORED = (
    "group.start",
    "group.duration",
    "start",
    "duration",
)
RIGHTS_FLAT = {flat: f"group.members.{flat}" for _column, _name, flat in groups.PERMISSIONS}
GROUP_FLAT = {
    "gid": "group.gid",
    "name": "group.name",
    "flag": "group.flag",
    "flags": "group.flag",
    "active": "group.active",
    "expiry": "group.expiry",
    "expiryext": "group.expiryext",
    "m": "group.members.m",
    "profile": "group.profile",
    **RIGHTS_FLAT,
    **flat_names("group", GROUP_EXTRAS),
}
MEMBER_ANSWER = groups.listed_member(
    {"uid": 1, "address": "123456", "cs": 1, "cr": 1, "canpub": 1, "cansub": 1, "canlist": 1, "admin": 1}
)
DOCS = {
    "groupadd": OpDoc(
        summary="Make a group, with members (existing, active users); a gid of 0 (as PHP helpers send) is "
        "ignored",
        fields={"group": obj("the group", GROUP_FIELDS | {"members": MEMBERS})} | OP_EXTRAS,
        flat={k: v for k, v in GROUP_FLAT.items() if k != "gid"},
        ignored=(*GROUP_IGNORED, "gid", "group.gid"),
        example={"group": {"name": "Team", "members": {"m": "123456,654321"}}},
        answer={"group": {"gid": 1}},
        errors=("BADVALUE",),
    ),
    "groupset": OpDoc(
        summary="Change a group's fields (and add members; an empty m changes none)",
        fields={"group": obj("the group", GID | GROUP_FIELDS | {"members": MEMBERS})} | OP_EXTRAS,
        required=("group.gid",),
        flat=GROUP_FLAT,
        ignored=GROUP_IGNORED,
        example={"group": {"gid": 1, "name": "Team A"}},
        answer={"group": {"gid": 1}},
        errors=("MISSINGPARAMS", "BADVALUE", "INVALIDVALUE"),
    ),
    "groupdel": OpDoc(
        summary="Delete a group and its memberships",
        fields={"group": obj("the group", GID)} | OP_EXTRAS,
        required=("group.gid",),
        flat={"gid": "group.gid"},
        example={"group": {"gid": 1}},
        answer={"group": {"gid": 1}},
        errors=("MISSINGPARAMS", "BADVALUE", "INVALIDVALUE"),
    ),
    "groupeditmembers": OpDoc(
        summary="Add members to a group, or remove them (flat delete=1, group.delete or group.members.remove)",
        fields={
            "group": obj(
                "the group",
                GID
                | {"members": MEMBERS, "delete": boolean("remove the members instead (flat: delete)", False)},
            )
        }
        | OP_EXTRAS,
        required=("group.gid", "group.members"),
        flat={
            "gid": "group.gid",
            "m": "group.members.m",
            "delete": "group.delete",
            **RIGHTS_FLAT,
        },
        ignored=GROUP_IGNORED,
        example={"group": {"gid": 1, "members": {"m": "654321", "cr": False}}},
        answer={"group": {"gid": 1}},
        errors=("MISSINGPARAMS", "BADVALUE", "INVALIDVALUE"),
    ),
    "groupgetmembers": OpDoc(
        summary="A group's members, oldest first, at most 20 (also spelt groupmembers and groupmembersget)",
        fields={
            "group": obj("the group", GID | {"count": COUNT}),
            "count": COUNT,
        }
        | OP_EXTRAS,
        required=("group.gid",),
        flat={"gid": "group.gid"},
        example={"group": {"gid": 1}},
        answer={"gid": 1, "mcount": 1, "count": 1, "members": [MEMBER_ANSWER]},
        errors=("MISSINGPARAMS", "BADVALUE", "INVALIDVALUE"),
    ),
    "groupsget": OpDoc(
        summary="The app's groups by name, at most 20, with how many match: a name (exact, or a * pattern), a gid",
        fields={
            "count": COUNT,
            "group": obj(
                "which groups (also flat: name, gid)",
                {
                    "name": string(
                        "a name exactly, or a pattern where * matches any run of characters", maxLength=256
                    ),
                    "gid": id_field("one group"),
                },
            ),
        }
        | OP_EXTRAS,
        flat={"name": "group.name", "gid": "group.gid"},
        example={"name": "Team*"},
        answer={
            "groupscount": 1,
            "count": 1,
            "groups": [
                {
                    "gid": 1,
                    "name": "Team",
                    "ats": 1795000000,
                    "ets": 31536000,
                    "expiryext": 0,
                    "type": 0,
                    "flag": 0,
                    "sflags": 263,
                    "pinned": 0,
                }
            ],
        },
        errors=("BADVALUE",),
    ),
}
DOCS["groupmembers"] = DOCS["groupmembersget"] = DOCS["groupgetmembers"]
