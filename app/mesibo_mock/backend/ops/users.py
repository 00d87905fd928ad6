"""useradd, userset, usertoken, userdel and usersget (SPEC section 4), nested or in the flat /api.php form."""

from __future__ import annotations

import sqlite3

from mesibo_mock.backend.ops import (
    OpContext,
    OpDoc,
    address,
    boolean,
    flag,
    id_field,
    integer,
    name_field,
    obj,
    profile,
    string,
    uac,
)
from mesibo_mock.backend.ops.mesibo_keys import OP_EXTRAS, TOKEN_EXTRAS, USER_EXTRAS, flat_names, kept
from mesibo_mock.backend.reading import Fields, entity_changes
from mesibo_mock.errors import BADAPPID, MesiboError, both_uid_and_address, invalid_value, missing
from mesibo_mock.services import people
from mesibo_mock.values import describe

TOKEN_EXPIRY_DEFAULT = 525600  # minutes: one year
TOKEN_EXPIRY_MAX = 100 * TOKEN_EXPIRY_DEFAULT
USERSGET_MAX = 20


def useradd(ctx: OpContext, fields: Fields) -> dict:
    uid, address = _who(fields)
    if uid is not None:
        user = _existing(ctx, uid, None)
        address = user["address"]
    token_wanted = _token_request(fields)
    changes = _user_changes(ctx, fields)
    user = people.add_user(ctx.rt, ctx.app["id"], address, **changes)
    view = _short_view(user)
    if token_wanted is not None:
        view["token"] = people.issue_token(ctx.rt, user, *token_wanted, extras=_token_extras(fields))
    return {"user": view}


def userset(ctx: OpContext, fields: Fields) -> dict:
    """Its answer shows the user as usersget does (SPEC section 4)."""
    user = _existing(ctx, *_who(fields))
    changes = _user_changes(ctx, fields)
    fields.get("user.token")
    remove = fields.get("user.token.remove")  # flat: the form-mode PHP helper's `remove=1`
    user = people.update_user(ctx.rt, user, **changes)
    if remove:
        people.remove_tokens(ctx.rt, user)
    appids = people.newest_appids(ctx.rt, [user["id"]])
    return {"user": people.listed_view(user, appids.get(user["id"]), ctx.rt.clock.now())}


def usertoken(ctx: OpContext, fields: Fields) -> dict:
    user = _existing(ctx, *_who(fields))
    wanted = _token_request(fields, asked=True)
    token = people.issue_token(ctx.rt, user, *wanted, extras=_token_extras(fields))
    return {"user": {"uid": user["id"], "address": user["address"], "token": token, "appid": wanted[0]}}


def userdel(ctx: OpContext, fields: Fields) -> dict:
    user = _existing(ctx, *_who(fields))
    people.delete_user(ctx.rt, user)
    return {"user": {"uid": user["id"], "address": user["address"]}}


def usersget(ctx: OpContext, fields: Fields) -> dict:
    """Oldest first, at most 20; `userscount` says how many match in all."""
    pattern = fields.get("user.address")
    uid = fields.get("user.uid")
    count = fields.get("count", USERSGET_MAX)
    total, users = people.find_users(ctx.rt, ctx.app["id"], pattern, uid, min(count, USERSGET_MAX))
    appids = people.newest_appids(ctx.rt, [u["id"] for u in users])
    now = ctx.rt.clock.now()
    listed = [people.listed_view(u, appids.get(u["id"]), now) for u in users]
    return {"userscount": total, "count": len(listed), "users": listed}


# --- the shared rules -------------------------------------------------------------------------------
def _who(fields: Fields) -> tuple[int | None, str | None]:
    """A user is named by uid or by address, never both (SPEC section 2's BADREQ)."""
    fields.get("user")
    uid = fields.get("user.uid")
    address = fields.get("user.address")
    if uid is not None and address is not None:
        raise both_uid_and_address()
    if uid is None and address is None:
        raise missing("user.uid", "user.address")
    return uid, address


def _existing(ctx: OpContext, uid: int | None, address: str | None) -> sqlite3.Row:
    """An unknown uid or address names nothing: INVALIDVALUE [real]."""
    if uid is not None:
        user = people.user_by_uid(ctx.rt, ctx.app["id"], uid)
        if user is None:
            raise invalid_value("user.uid", f"is not a user of this app: {uid}")
        return user
    user = people.user_by_address(ctx.rt, ctx.app["id"], address)
    if user is None:
        raise invalid_value("user.address", f"is not a user of this app: {address!r}")
    return user


def _token_request(fields: Fields, asked: bool = False) -> tuple[str, int, bool] | None:
    """(appid, expiry in minutes, renew) when a token is asked for: a `user.token` object or a flat
    `appid`; None otherwise (useradd issues no token then)."""
    token = fields.get("user.token")
    if token is None and not fields.given("user.token.appid") and not asked:
        return None
    appid = fields.raw("user.token.appid")
    if appid in (None, ""):
        raise missing("appid")
    if not isinstance(appid, str) or "." not in appid or appid.replace(".", "").isdigit():
        raise MesiboError(
            BADAPPID, f"is {describe(appid)}: not dotted, or all digits", ["appid"], field="appid"
        )
    minutes = fields.get("user.token.expiry", TOKEN_EXPIRY_DEFAULT)
    renew = fields.get("user.token.renew", False)
    return appid.strip(), minutes, renew


def _user_changes(ctx: OpContext, fields: Fields) -> dict:
    """What useradd and userset change of a user: its own fields, its UAC, and the fields Mesibo reads
    that are kept as given (permissions, validity, ...)."""
    changes = entity_changes(fields, "user") | _uac(ctx, fields)
    extras = kept(fields, "user", USER_EXTRAS)
    if extras:
        changes["extras"] = extras
    return changes


def _token_extras(fields: Fields) -> dict:
    """A token's platform keys (android, ios, package, device, ...), kept with it as given."""
    return kept(fields, "user.token", TOKEN_EXTRAS)


def _uac(ctx: OpContext, fields: Fields) -> dict:
    uac_id = uac.assigned(ctx, fields)
    return {} if uac_id is None else {"uac": uac_id}


def _short_view(user: sqlite3.Row) -> dict:
    """useradd's answer: the uid and address, nothing else [real: the legacy-form page's answer]."""
    return {"uid": user["id"], "address": user["address"]}


USER_NAMED = {
    "uid": id_field("the user's uid (flat: uid)"),
    "address": address("the user's address (flat: addr or address)", **{"x-aka": ["addr", "phone", "email"]}),
}
TOKEN = obj(
    "ask for an access token (flat: appid, expiry, renew)",
    {
        "appid": string("the app's id, dotted and non-numeric, such as com.example.app"),
        "expiry": integer(
            "minutes; default one year", minimum=1, maximum=TOKEN_EXPIRY_MAX, **{"x-zero-absent": True}
        ),
        "renew": boolean("a new token even if an unexpired one exists", False),
    }
    | TOKEN_EXTRAS,
    ["appid"],
)
USER_FIELDS = {
    "name": name_field("display name (flat: name)"),
    "active": boolean("active (flat: active)", True),
    "flag": flag("flags (flat: flag)"),
    "flags": flag("the same as flag, as Mesibo's PHP helpers send it"),
    "profile": profile("profile: name, status, image, ... (kept as given; flat: profile)"),
    "uac": id_field("the id of a UAC made with uacset (flat: uac)"),
} | USER_EXTRAS
# Parameters Mesibo's own helpers send that the emulator takes and does not use.
USER_IGNORED = (
    "user.token.v2",
    "user.otp",
    "otp",
    "v2",
    "sig",
)
LISTED_USER = {
    "uid": 1,
    "address": "123456",
    "name": "Ann",
    "ipaddr": "",
    "lastonline": 0,
    "active": 1,
    "pinned": 0,
    "online": 1,
    "flag": 0,
    "token": "",
    "cts": 0,
    "appid": "com.example.app",
}
FLAT = {
    "uid": "user.uid",
    "addr": "user.address",
    "address": "user.address",
    "name": "user.name",
    "active": "user.active",
    "flag": "user.flag",
    "flags": "user.flag",
    "appid": "user.token.appid",
    "expiry": "user.token.expiry",
    "renew": "user.token.renew",
    "uac": "user.uac",
    "profile": "user.profile",
    **flat_names("user", USER_EXTRAS),
    **flat_names("user.token", TOKEN_EXTRAS),
}
NAMED_FLAT = {k: FLAT[k] for k in ("uid", "addr", "address")}
DOCS = {
    "useradd": OpDoc(
        summary="Add a user, or update one by address or uid; a token only when asked for",
        fields={"user": obj("the user", USER_NAMED | USER_FIELDS | {"token": TOKEN})} | OP_EXTRAS,
        required=("user.address",),
        flat=FLAT,
        ignored=USER_IGNORED,
        example={"user": {"address": "123456", "name": "Ann", "token": {"appid": "com.example.app"}}},
        answer={"user": {"uid": 1, "address": "123456", "token": "5f0c9a..."}},
        errors=("MISSINGPARAMS", "BADVALUE", "INVALIDVALUE", "BADREQ"),
    ),
    "userset": OpDoc(
        summary="Change a user's name, active, flag or profile; user.token.remove removes its tokens; "
        "answers the user as usersget lists it",
        fields={
            "user": obj(
                "the user, by uid or address",
                USER_NAMED | USER_FIELDS | {"token": obj("", {"remove": boolean("remove every token")})},
            )
        }
        | OP_EXTRAS,
        required=("user.address",),
        flat={k: v for k, v in FLAT.items() if not v.startswith("user.token.")}
        | {"remove": "user.token.remove"},
        ignored=USER_IGNORED,
        example={"user": {"address": "123456", "profile": {"status": "busy"}}},
        answer={"user": LISTED_USER},
        errors=("MISSINGPARAMS", "BADVALUE", "INVALIDVALUE", "BADREQ"),
    ),
    "usertoken": OpDoc(
        summary="Issue an access token to a user (the same one again while unexpired, unless renew)",
        fields={"user": obj("the user, by uid or address", USER_NAMED | {"token": TOKEN})} | OP_EXTRAS,
        required=("user.address", "user.token.appid"),
        flat=NAMED_FLAT | {k: v for k, v in FLAT.items() if v.startswith("user.token.")},
        ignored=USER_IGNORED,
        example={"user": {"address": "123456", "token": {"appid": "com.example.app"}}},
        answer={"user": {"uid": 1, "address": "123456", "token": "5f0c9a...", "appid": "com.example.app"}},
        errors=("MISSINGPARAMS", "BADVALUE", "INVALIDVALUE", "BADREQ"),
    ),
    "userdel": OpDoc(
        summary="Delete a user with its devices, tokens and group memberships",
        fields={"user": obj("the user, by uid or address", USER_NAMED)} | OP_EXTRAS,
        required=("user.address",),
        flat=NAMED_FLAT,
        ignored=("appid", "sig"),
        example={"user": {"address": "654321"}},
        answer={"user": {"uid": 2, "address": "654321"}},
        errors=("MISSINGPARAMS", "BADVALUE", "INVALIDVALUE", "BADREQ"),
    ),
    "usersget": OpDoc(
        summary="List users, oldest first: by exact address or a * pattern, by uid; at most 20",
        fields={
            "user": obj("which users", USER_NAMED),
            "count": integer(
                "how many; default and maximum 20", minimum=1, maximum=10**30, **{"x-zero-absent": True}
            ),
        }
        | OP_EXTRAS,
        flat=NAMED_FLAT,
        example={"addr": "1234*", "count": 20},
        answer={"userscount": 1, "count": 1, "users": [LISTED_USER]},
        errors=("BADVALUE",),
    ),
}
