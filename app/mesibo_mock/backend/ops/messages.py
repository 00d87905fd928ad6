"""message: a text from one user to another or to a group, stored and pushed to every offline
recipient's devices (SPEC section 4); otp: a one-time code for an address."""

from __future__ import annotations

import secrets

from mesibo_mock.backend.ops import OpContext, OpDoc, boolean, integer, obj, string
from mesibo_mock.delivery import engine
from mesibo_mock.errors import BADREQ, MesiboError, bad_value, missing
from mesibo_mock.services import groups, messages, people
from mesibo_mock.values import as_address, as_bool, as_text, as_whole, pick, pick_id

MAX_MESSAGE_CHARS = 65536


def message(ctx: OpContext, fields: dict) -> dict:
    rt, app = ctx.rt, ctx.app
    body = pick(fields, "message")
    nested = body if isinstance(body, dict) else {}
    if body is not None and not isinstance(body, dict | str):
        raise bad_value("message", "must be an object (or the text itself)")

    def field(name: str, flat: str | None = None):
        value = nested.get(name)
        return fields.get(flat or name) if value is None else value

    raw_from = field("from")
    if raw_from in (None, ""):
        raise missing("message.from")
    sender = as_address("message.from", raw_from)
    raw_to = field("to")
    to = as_address("message.to", raw_to) if raw_to not in (None, "") else None
    gid = pick_id({"gid": field("gid")}, "gid")
    if to is None and gid is None:
        raise missing("message.to", "message.gid")
    if to is not None and gid is not None:
        raise MesiboError(
            BADREQ, "Both to and gid are specified", ["to", "gid"], action="Specify either to or gid"
        )
    text = (
        field("message", "msg")
        if isinstance(body, dict)
        else (body if body is not None else fields.get("msg"))
    )
    text = "" if text is None else as_text("message.message", text, max_length=MAX_MESSAGE_CHARS, empty=True)
    forced = field("forced") not in (None, "") and as_bool("message.forced", field("forced"))
    extra = {
        "type": _whole(field("type"), "message.type"),
        "expiry": _whole(field("expiry"), "message.expiry"),
        "flag": _whole(field("flag"), "message.flag"),
        "title": _text(field("title"), "message.title"),
        "url": _text(field("url"), "message.url"),
    }
    user = people.user_by_address(rt, app["id"], sender)
    if user is None and not forced:
        raise bad_value(
            "message.from", f"is not a user of this app: {sender!r} (send forced: true to allow it)"
        )
    if gid is not None and groups.by_gid(rt, app["id"], gid) is None:
        raise bad_value("message.gid", f"is not a group of this app: {gid}")
    mid = messages.record(
        rt,
        app,
        {"from_address": sender, "to_address": to, "gid": gid, "message": text}
        | {k: v for k, v in extra.items() if v is not None},
    )
    title = messages.push_title(extra["title"], user["name"] if user is not None else None, sender)
    rnd = engine.Round(rt, app, ctx.outbox)
    for device in messages.recipients_offline(rt, app["id"], to, gid, sender):
        rnd.add(device, "message", text, title=title, mid=mid)
    rnd.send()
    return {"message": {"mid": mid}}


def otp(ctx: OpContext, fields: dict) -> dict:
    raw = pick(fields, "otp.address", "addr")
    if raw in (None, ""):
        raise missing("otp.address")
    address = as_address("otp.address", raw)
    tries = _whole(pick(fields, "otp.tries", "tries"), "otp.tries") or 3
    expiry = _whole(pick(fields, "otp.expiry", "expiry"), "otp.expiry") or 600
    reuse = pick(fields, "otp.reuse", "reuse")
    now = ctx.rt.clock.now()
    if reuse not in (None, "") and as_bool("otp.reuse", reuse):
        current = ctx.rt.store.one(
            "SELECT code FROM otps WHERE app_id = ? AND address = ? AND expires > ? ORDER BY id DESC LIMIT 1",
            (ctx.app["id"], address, now),
        )
        if current is not None:
            return {"otp": current["code"]}
    code = f"{secrets.randbelow(10**6):06d}"
    ctx.rt.store.insert(
        "otps",
        {
            "app_id": ctx.app["id"],
            "address": address,
            "code": code,
            "tries": tries,
            "expires": now + expiry,
            "created": now,
        },
    )
    return {"otp": code}


def _whole(value, name: str) -> int | None:
    return None if value in (None, "") else as_whole(name, value, maximum=2**31 - 1)


def _text(value, name: str) -> str | None:
    return None if value in (None, "") else as_text(name, value, max_length=1024)


DOCS = {
    "message": OpDoc(
        summary="Send a message to a user or a group; every offline recipient's devices get a push",
        fields={
            "message": obj(
                "the message (flat: from, to, gid, msg, type, expiry, flag, forced, title, url)",
                {
                    "from": string("the sender's address"),
                    "to": string("the recipient's address (or gid)"),
                    "gid": integer("the recipient group (or to)", minimum=1),
                    "message": string("the text (flat: msg)"),
                    "type": integer("message type", minimum=0),
                    "expiry": integer("seconds", minimum=0),
                    "flag": integer("flags", minimum=0),
                    "forced": boolean("allow a sender that is not a user", False),
                    "title": string("the push's title; else the sender's name or address"),
                    "url": string("a link"),
                },
                ["from"],
            )
        },
        required=("message.from", "message.to"),
        flat={"from": "message.from", "to": "message.to", "gid": "message.gid", "msg": "message.message"},
        example={"message": {"from": "123456", "to": "654321", "message": "Hello Bob"}},
        answer={"message": {"mid": 1}},
        errors=("MISSINGPARAMS", "BADVALUE", "BADREQ"),
    ),
    "otp": OpDoc(
        summary="A one-time code for an address (reuse gives the unexpired one again)",
        fields={
            "otp": obj(
                "the code (flat: addr, tries, expiry, reuse)",
                {
                    "address": string("the address"),
                    "tries": integer("tries allowed; default 3", minimum=1),
                    "expiry": integer("seconds; default 600", minimum=1),
                    "reuse": boolean("give the unexpired code again", False),
                },
                ["address"],
            )
        },
        required=("otp.address",),
        flat={"addr": "otp.address"},
        example={"otp": {"address": "123456"}},
        answer={"otp": "482913"},
    ),
}
