"""The request keys Mesibo's own backend reads, and where each belongs in the ops the emulator serves.

A field Mesibo reads is never a mistake, even where the emulator does not act on it: a team that sends
`user.permissions` or a token's platform keys does it right (SPEC section 11). Each op declares these
fields with `not_emulated(...)` in its OpDoc, so the one declaration drives the documentation, the
journal's note ("read by Mesibo, not emulated"), strict mode (which never counts them) and what is kept
(`kept`): a user's, a token's and a group's are kept as given and shown by /_mock's views.
"""

from __future__ import annotations

from typing import Any

from mesibo_mock.backend.ops import obj
from mesibo_mock.errors import bad_value
from mesibo_mock.values import as_stored_object, describe

# [real] The 2023 on-premise backend binary's request keys: one run of strings in it, next to its op
# table. Every key a request can carry is one of these.
BINARY_KEYS = tuple(
    [
        "perms",
        "validity",
        "members",
        "call",
        "admin",
        "webhook",
        "fcm",
        "onp",
        "op",
        "key",
        "id",
        "notify",
        "async",
        "delete",
        "remove",
        "pinned",
        "count",
        "full",
        "uid",
        "name",
        "address",
        "addr",
        "flag",
        "flags",
        "active",
        "appid",
        "device",
        "linkto",
        "linking",
        "linkexpiry",
        "package",
        "bundle",
        "android",
        "ios",
        "javascript",
        "js",
        "cpp",
        "python",
        "sfu",
        "live",
        "expiry",
        "session",
        "renew",
        "restrictions",
        "storage",
        "incoming",
        "outgoing",
        "groupcreate",
        "retention",
        "peers",
        "calls",
        "turn",
        "subscribe",
        "favorite",
        "pair",
        "block",
        "reset",
        "visibility",
        "update",
        "status",
        "info",
        "other",
        "image",
        "tn",
        "synctype",
        "gid",
        "send",
        "recv",
        "pub",
        "sub",
        "list",
    ]
)
# Keys of the ops the emulator does not implement (appadd, appset: an app's webhook, FCM key and
# on-premise flag): such an op is answered BADVALUE 501 whole, so its keys have no place to be read.
APP_OP_KEYS = ("webhook", "fcm", "onp", "key")
# A user's access token: the platforms and package it is for, and device linking [real: sent by public
# clients as user.token.{android, ios, package, device}; the rest of the group is in the binary's list].
TOKEN_KEYS = (
    "android",
    "ios",
    "javascript",
    "js",
    "cpp",
    "python",
    "package",
    "bundle",
    "device",
    "session",
    "linkto",
    "linking",
    "linkexpiry",
    "reset",
)
# A profile's keys (free: kept whole as given) [real: public clients send profile {name, image, info,
# update}; the binary reads status, tn, other and synctype beside them].
PROFILE_KEYS = ("name", "status", "image", "tn", "info", "other", "update", "synctype", "visibility")
# Rights and limits of a user or a group: their place is a `permissions` object.
RIGHT_KEYS = (
    "send",
    "recv",
    "pub",
    "sub",
    "list",
    "call",
    "calls",
    "sfu",
    "live",
    "turn",
    "peers",
    "storage",
    "incoming",
    "outgoing",
    "groupcreate",
    "retention",
    "subscribe",
    "favorite",
    "pair",
    "block",
    "visibility",
)
# Keys an op reads at its top level and the emulator does not act on: a member's or user's notification,
# an answer made asynchronously, a full listing.
OP_KEYS = ("notify", "async", "full")

NOTE = "is read by Mesibo, not emulated"
NOTE_KEPT = NOTE + ": kept as given (the /_mock views show it)"


def not_emulated(schema: dict, kept: bool = True) -> dict:
    """Mark a field's schema as read by Mesibo and not acted on by the emulator (kept as given, or not)."""
    marked = dict(schema)
    marked["x-not-emulated"] = "kept" if kept else "read"
    marked["description"] = (schema.get("description", "") + " (read by Mesibo, not emulated)").strip()
    return marked


def anything(description: str) -> dict:
    """A value of any JSON type: what Mesibo's binary takes there is not known."""
    return {"description": description}


# Rights and limits, on a user or a group. Its keys are the binary's: a right it reads is one of them,
# so a typo inside (`groupcraete`) is still found, and nothing Mesibo reads is ever called a mistake.
RIGHTS = obj(
    "rights and limits (send, recv, groupcreate, storage, calls, ...), kept as given",
    {key: anything(f"the {key} right or limit") for key in BINARY_KEYS},
)
ENTITY_EXTRAS = {
    "permissions": not_emulated(RIGHTS),
    "perms": not_emulated(RIGHTS | {"description": "the same as permissions, as the binary reads it"}),
    "validity": not_emulated(anything("how long it stays valid")),
    "pinned": not_emulated(anything("pinned first in lists (usersget and groupsget answer 0)")),
}
USER_EXTRAS = ENTITY_EXTRAS | {
    "restrictions": not_emulated(anything("restrictions on the user")),
}
GROUP_EXTRAS = ENTITY_EXTRAS | {
    "call": not_emulated(anything("a group call"), kept=False),
    "sfu": not_emulated(anything("a conference's media server"), kept=False),
    "live": not_emulated(anything("a live stream"), kept=False),
}
TOKEN_EXTRAS = {key: not_emulated(anything(f"the token's {key}")) for key in TOKEN_KEYS}
OP_EXTRAS = {key: not_emulated(anything(f"Mesibo's {key}"), kept=False) for key in OP_KEYS}


def flat_names(prefix: str, extras: dict) -> dict[str, str]:
    """The flat spellings of kept fields (`permissions=...` for `user.permissions`), as /api.php sends."""
    return {
        key: f"{prefix}.{key}" for key, schema in extras.items() if schema.get("x-not-emulated") == "kept"
    }


MAX_SCALAR = 1024  # a kept value that is not an object: a number, a boolean, text up to this long


def kept(fields, prefix: str, extras: dict) -> dict[str, Any]:
    """The kept fields among `extras` under `prefix` (`fields`: the op's reading.Fields), nested or flat
    as the op's OpDoc spells them, each bounded as a profile is: what the op stores beside what it
    emulates."""
    found: dict[str, Any] = {}
    for key, schema in extras.items():
        if schema.get("x-not-emulated") != "kept":
            continue
        path = f"{prefix}.{key}"
        value = fields.raw(path)
        if value is None or value == "":
            continue
        if isinstance(value, dict):
            found[key] = as_stored_object(path, value)
        elif isinstance(value, list) or (isinstance(value, str) and len(value) > MAX_SCALAR):
            raise bad_value(
                path,
                f"must be an object or a value of at most {MAX_SCALAR} characters, got {describe(value)}",
            )
        else:
            found[key] = value
    return found
