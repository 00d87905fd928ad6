"""useradd, userdel (alias deluser) and usersget, with the flat legacy parameters of /api.php."""

from __future__ import annotations

from mesibo_mock.backend.ops import OpContext
from mesibo_mock.errors import BADREQ, MesiboError, bad_value, missing
from mesibo_mock.services import people
from mesibo_mock.values import ABSENT, as_address, as_text, as_whole, get_path, optional

# Older clients send flat parameters; each stands for a nested field (SPEC section 4).
LEGACY = {
    "addr": "user.address",
    "appid": "user.token.appid",
    "expiry": "user.token.expiry",
    "name": "user.name",
    "uid": "user.uid",
}


def user_field(fields: dict, dotted: str):
    value = get_path(fields, dotted)
    if value is ABSENT:
        for flat, nested in LEGACY.items():
            if nested == dotted and flat in fields:
                return fields[flat]
        return None
    return value


def useradd(ctx: OpContext, fields: dict) -> dict:
    _user_object(fields)
    raw_address = user_field(fields, "user.address")
    if raw_address is None:
        raise missing("user.address")
    address = as_address("user.address", raw_address)
    name = user_field(fields, "user.name")
    appid = user_field(fields, "user.token.appid")
    expiry = user_field(fields, "user.token.expiry")
    user = people.add_user(
        ctx.rt,
        ctx.app["id"],
        address,
        name=as_text("user.name", name, max_length=256) if name not in (None, "") else None,
        appid=as_text("user.token.appid", appid, max_length=256) if appid is not None else None,
        expiry=as_whole("user.token.expiry", expiry) if expiry is not None else None,
    )
    return {"user": people.user_view(user, with_token=True)}


def userdel(ctx: OpContext, fields: dict) -> dict:
    _user_object(fields)
    uid, address = user_field(fields, "user.uid"), user_field(fields, "user.address")
    if uid is None and address is None:
        raise missing("user.uid", "user.address")
    if uid is not None and address is not None:
        raise MesiboError(BADREQ, "give either 'user.uid' or 'user.address', not both")
    if uid is not None:
        user = people.user_by_uid(ctx.rt, ctx.app["id"], as_whole("user.uid", uid, minimum=1))
        if user is None:
            raise bad_value("user.uid", f"is not a user of this app: {uid}")
    else:
        address = as_address("user.address", address)
        user = people.user_by_address(ctx.rt, ctx.app["id"], address)
        if user is None:
            raise bad_value("user.address", f"is not a user of this app: {address!r}")
    people.delete_user(ctx.rt, user)
    return {"user": people.user_view(user)}


def usersget(ctx: OpContext, fields: dict) -> dict:
    return {"users": [people.user_view(u) for u in people.list_users(ctx.rt, ctx.app["id"])]}


def _user_object(fields: dict) -> None:
    user = optional(fields, "user")
    if user is not None and not isinstance(user, dict):
        raise bad_value("user", "must be an object")
