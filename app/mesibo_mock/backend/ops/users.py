"""useradd, userset, usertoken, userdel and usersget (SPEC section 4), nested or in the flat /api.php form."""

from __future__ import annotations

import sqlite3

from mesibo_mock.backend.ops import OpContext, OpDoc, boolean, integer, obj, string
from mesibo_mock.errors import BADVALUE, MesiboError, bad_value, both_uid_and_address, missing
from mesibo_mock.services import people
from mesibo_mock.values import (
    as_address,
    as_bool,
    as_whole,
    entity_fields,
    optional_object,
    pick,
    pick_id,
)

TOKEN_EXPIRY_DEFAULT = 525600  # minutes: one year
TOKEN_EXPIRY_MAX = 100 * TOKEN_EXPIRY_DEFAULT
USERSGET_MAX = 20
APPID_CAUSE = "appid should be non-numeric and dotted (for example, com.example.xyz)"
APPID_ACTION = "fix and send correct appid"


def useradd(ctx: OpContext, fields: dict) -> dict:
    uid, address = _who(fields)
    if uid is not None:
        user = _existing(ctx, uid, None)
        address = user["address"]
    token_wanted = _token_request(fields)
    user = people.add_user(ctx.rt, ctx.app["id"], address, **entity_fields(fields, "user"))
    view = _short_view(user)
    if token_wanted is not None:
        view["token"] = people.issue_token(ctx.rt, user, *token_wanted)
    return {"user": view}


def userset(ctx: OpContext, fields: dict) -> dict:
    user = _existing(ctx, *_who(fields))
    changes = entity_fields(fields, "user")
    token = optional_object(fields, "user.token")
    remove = token is not None and "remove" in token and as_bool("user.token.remove", token["remove"])
    with ctx.rt.store.tx():
        user = people.update_user(ctx.rt, user, **changes)
        if remove:
            people.remove_tokens(ctx.rt, user)
    return {"user": people.user_view(user)}


def usertoken(ctx: OpContext, fields: dict) -> dict:
    user = _existing(ctx, *_who(fields))
    wanted = _token_request(fields) or _token_request(fields, asked=True)
    return {"user": _short_view(user) | {"token": people.issue_token(ctx.rt, user, *wanted)}}


def userdel(ctx: OpContext, fields: dict) -> dict:
    user = _existing(ctx, *_who(fields))
    people.delete_user(ctx.rt, user)
    return {"user": {"uid": user["id"], "address": user["address"]}}


def usersget(ctx: OpContext, fields: dict) -> dict:
    pattern = pick(fields, "user.address", "addr")
    pattern = as_address("user.address", pattern) if pattern not in (None, "") else None
    uid = pick_id(fields, "user.uid", "uid")
    count = pick(fields, "count")
    count = (
        USERSGET_MAX if count in (None, "", 0, "0") else as_whole("count", count, minimum=1, maximum=10**30)
    )
    users = people.find_users(ctx.rt, ctx.app["id"], pattern, uid, min(count, USERSGET_MAX))
    appids = people.newest_appids(ctx.rt, [u["id"] for u in users])
    return {"users": [people.user_view(u, appids.get(u["id"])) for u in users]}


# --- the shared rules -------------------------------------------------------------------------------
def _who(fields: dict) -> tuple[int | None, str | None]:
    """A user is named by uid or by address, never both (SPEC section 2's BADREQ)."""
    user = pick(fields, "user")
    if user is not None and not isinstance(user, dict):
        raise bad_value("user", "must be an object")
    uid = pick_id(fields, "user.uid", "uid")
    raw_address = pick(fields, "user.address", "addr")
    address = as_address("user.address", raw_address) if raw_address not in (None, "") else None
    if uid is not None and address is not None:
        raise both_uid_and_address()
    if uid is None and address is None:
        raise missing("user.uid", "user.address")
    return uid, address


def _existing(ctx: OpContext, uid: int | None, address: str | None) -> sqlite3.Row:
    if uid is not None:
        user = people.user_by_uid(ctx.rt, ctx.app["id"], uid)
        if user is None:
            raise bad_value("user.uid", f"is not a user of this app: {uid}")
        return user
    user = people.user_by_address(ctx.rt, ctx.app["id"], address)
    if user is None:
        raise bad_value("user.address", f"is not a user of this app: {address!r}")
    return user


def _token_request(fields: dict, asked: bool = False) -> tuple[str, int, bool] | None:
    """(appid, expiry in minutes, renew) when a token is asked for: a `user.token` object or a flat
    `appid`; None otherwise (useradd issues no token then)."""
    token = optional_object(fields, "user.token")
    if token is None and "appid" not in fields and not asked:
        return None
    token = token or {}
    appid = token.get("appid", fields.get("appid"))
    if appid in (None, ""):
        raise missing("appid")
    if not isinstance(appid, str) or "." not in appid or appid.replace(".", "").isdigit():
        raise MesiboError(BADVALUE, APPID_CAUSE, ["appid"], action=APPID_ACTION)
    expiry = token.get("expiry", fields.get("expiry"))
    minutes = (
        TOKEN_EXPIRY_DEFAULT
        if expiry in (None, "")
        else as_whole("user.token.expiry", expiry, minimum=1, maximum=TOKEN_EXPIRY_MAX)
    )
    renew = token.get("renew", fields.get("renew"))
    return appid.strip(), minutes, renew not in (None, "") and as_bool("user.token.renew", renew)


def _short_view(user: sqlite3.Row) -> dict:
    return {"uid": user["id"], "address": user["address"], "name": user["name"]}


USER_NAMED = {
    "uid": integer("the user's uid (flat: uid)", minimum=1),
    "address": string("the user's address (flat: addr)"),
}
TOKEN = obj(
    "ask for an access token (flat: appid, expiry, renew)",
    {
        "appid": string("the app's id, dotted and non-numeric, such as com.example.app"),
        "expiry": integer("minutes; default one year", minimum=1),
        "renew": boolean("a new token even if an unexpired one exists", False),
    },
    ["appid"],
)
USER_FIELDS = {
    "name": string("display name (flat: name)"),
    "active": boolean("active (flat: active)", True),
    "flag": integer("flags (flat: flag)", minimum=0),
    "profile": obj("profile: name, status, image, ...", {}),
}
USER_ANSWER = {
    "uid": 1,
    "address": "123456",
    "name": "Ann",
    "appid": "com.example.app",
    "active": True,
    "online": False,
    "lastonline": None,
    "flag": 0,
    "profile": {"status": "busy"},
}
FLAT = {"addr": "user.address", "uid": "user.uid", "name": "user.name", "appid": "user.token.appid"}
DOCS = {
    "useradd": OpDoc(
        summary="Add a user, or update one by address or uid; a token only when asked for",
        fields={"user": obj("the user", USER_NAMED | USER_FIELDS | {"token": TOKEN})},
        required=("user.address",),
        flat=FLAT | {"expiry": "user.token.expiry", "active": "user.active", "flag": "user.flag"},
        example={"user": {"address": "123456", "name": "Ann", "token": {"appid": "com.example.app"}}},
        answer={"user": {"uid": 1, "address": "123456", "name": "Ann", "token": "5f0c9a..."}},
        errors=("MISSINGPARAMS", "BADVALUE", "BADREQ"),
    ),
    "userset": OpDoc(
        summary="Change a user's name, active, flag or profile; user.token.remove removes its tokens",
        fields={
            "user": obj(
                "the user, by uid or address",
                USER_NAMED | USER_FIELDS | {"token": obj("", {"remove": boolean("remove every token")})},
            )
        },
        required=("user.address",),
        flat=FLAT,
        example={"user": {"address": "123456", "profile": {"status": "busy"}}},
        answer={"user": USER_ANSWER},
        errors=("MISSINGPARAMS", "BADVALUE", "BADREQ"),
    ),
    "usertoken": OpDoc(
        summary="Issue an access token to a user (the same one again while unexpired, unless renew)",
        fields={"user": obj("the user, by uid or address", USER_NAMED | {"token": TOKEN})},
        required=("user.address", "user.token.appid"),
        flat=FLAT | {"expiry": "user.token.expiry"},
        example={"user": {"address": "123456", "token": {"appid": "com.example.app"}}},
        answer={"user": {"uid": 1, "address": "123456", "name": "Ann", "token": "5f0c9a..."}},
        errors=("MISSINGPARAMS", "BADVALUE", "BADREQ"),
    ),
    "userdel": OpDoc(
        summary="Delete a user with its devices, tokens and group memberships",
        fields={"user": obj("the user, by uid or address", USER_NAMED)},
        required=("user.address",),
        flat={"addr": "user.address", "uid": "user.uid"},
        example={"user": {"address": "654321"}},
        answer={"user": {"uid": 2, "address": "654321"}},
        errors=("MISSINGPARAMS", "BADVALUE", "BADREQ"),
    ),
    "usersget": OpDoc(
        summary="List users, newest first: by exact address or a * pattern, by uid; at most 20",
        fields={
            "addr": string("an address, or a pattern where * matches any run of characters"),
            "uid": integer("a uid", minimum=1),
            "count": integer("how many; default and maximum 20", minimum=1),
        },
        flat={"addr": "user.address", "uid": "user.uid"},
        example={"addr": "1234*", "count": 20},
        answer={"users": [USER_ANSWER]},
        errors=("BADVALUE",),
    ),
}
