"""message: a text from one user to another or to a group, stored and pushed to every offline
recipient's devices (SPEC section 4); otp: a one-time code for an address."""

from __future__ import annotations

from mesibo_mock.backend.ops import OpContext, OpDoc, address, boolean, flag, id_field, integer, obj, string
from mesibo_mock.backend.ops.mesibo_keys import OP_EXTRAS
from mesibo_mock.backend.reading import Fields
from mesibo_mock.delivery import fanout
from mesibo_mock.errors import bad_value, invalid_value, missing
from mesibo_mock.services import groups, messages, otps, people
from mesibo_mock.values import as_address, describe

MAX_MESSAGE_CHARS = 65536
MAX_TO = 10_000  # addresses in one `to` list [emu]
ONE_YEAR = 365 * 24 * 3600
LARGEST_WHEN = 10 * ONE_YEAR


def message(ctx: OpContext, fields: Fields) -> dict:
    """`to` (a comma-separated list) or `gid`; with both it is a group message. Recipients are the
    active users named; the rest are skipped. `when` schedules it on the emulator clock."""
    rt, app = ctx.rt, ctx.app
    body = fields.raw("message")  # the message object, or (flat) the text itself
    if body is not None and not isinstance(body, dict | str):
        raise bad_value("message", f"must be an object (or the text itself), got {describe(body)}")
    sender = fields.get("message.from")
    if sender is None:
        raise missing("from")
    to = _to_list(fields.raw("message.to"))
    gid = fields.get("message.gid")
    if to is None and gid is None:
        raise missing("to")
    text = body if isinstance(body, str) else fields.get("message.message", "")
    url = fields.get("message.url")
    if not text and not url:
        raise missing("message")
    forced = fields.get("message.forced", False)
    flag = fields.get("message.flag")
    if flag is None:
        flag = fields.get("message.flags")
    when = fields.get("message.when", 0)
    values = {
        "type": fields.get("message.type"),
        "flag": flag,
        "title": fields.get("message.title"),
        "url": url,
        "expiry": fields.get("message.expiry", ONE_YEAR),
    }
    group = groups.by_gid(rt, app["id"], gid) if gid is not None else None
    if gid is not None and group is None:
        raise invalid_value("message.gid", f"is not a group of this app (or it has expired): {gid}", ["gid"])
    if people.user_by_address(rt, app["id"], sender) is None:
        if not forced:
            raise invalid_value(
                "message.from",
                f"is not a user of this app: {sender!r} (send forced: true to create it)",
                ["uid", "from"],
            )
        people.add_user(rt, app["id"], sender)  # as useradd would [real: "creating `from` user"]
        ctx.note(f"{sender!r} was not a user: created, since forced is true", field="message.from")
    skipped: list[str] = []
    if group is not None:
        if to:
            ctx.note("is not used: a message with a gid goes to the group", field="message.to")
        to = None
        _note_sender_rights(ctx, group, sender)
    else:
        active = groups.active_users(rt, app["id"], to)
        skipped = [a for a in to if a not in active]
        if skipped:
            ctx.note(
                f"skipped {len(skipped)} of {len(to)}: {', '.join(repr(a) for a in skipped[:10])}"
                f"{' and more' if len(skipped) > 10 else ''} (recipients must be existing, active users of the app)",
                field="message.to",
                kind="skipped",
            )
        if len(skipped) == len(to):
            raise invalid_value("message.to", "names no active user of this app", ["to"])
    now = rt.clock.now()
    mid = messages.record(
        rt,
        app,
        {"from_address": sender, "to": to, "gid": gid, "message": text, "skipped": skipped, "ts": now + when}
        | ({"last_member": groups.newest_membership(rt, group)} if group is not None else {})
        | {k: v for k, v in values.items() if v is not None}
        | ({"scheduled": True, "pending": True} if when > 0 else {}),
    )
    ctx.mid = mid
    if when > 0:
        ctx.note(f"scheduled: delivered when the emulator clock reaches now + {when} s", field="message.when")
        rt.wake_timers.set()
    elif fanout.deliver(rt, app, messages.by_mid(rt, mid), ctx.outbox):
        rt.wake_timers.set()  # a large group: the scheduler delivers the rest in batches
    return {"mid": mid}


def _note_sender_rights(ctx: OpContext, group, sender: str) -> None:
    """Who may send to a group from the backend is not pinned down by any source, so any active user
    may [emu]; the journal says when the sender is not a member, or may not send."""
    membership = groups.membership(ctx.rt, group, sender)
    if membership is None:
        ctx.note(f"{sender!r} is not a member of group {group['id']}: delivered anyway", field="message.from")
    elif not membership["cs"]:
        ctx.note(
            f"{sender!r} is a member of group {group['id']} without the right to send: delivered anyway",
            field="message.from",
        )


def _to_list(raw) -> list[str] | None:
    """`to`: addresses, comma-separated (or a JSON list); None when absent or empty (Mesibo's PHP
    helper sends `to=` for a group message)."""
    if raw in (None, ""):
        return None
    items = raw.split(",") if isinstance(raw, str) else raw if isinstance(raw, list) else [raw]
    addresses = [
        as_address("message.to", item) for item in items if item not in (None, "") and str(item).strip()
    ]
    if len(addresses) > MAX_TO:
        raise bad_value("message.to", f"names more than {MAX_TO} addresses (use a group)")
    return list(dict.fromkeys(addresses)) or None


def otp(ctx: OpContext, fields: Fields) -> dict:
    address = fields.need("otp.address")
    tries = fields.get("otp.tries", 3)
    expiry = fields.get("otp.expiry", 600)
    reuse = fields.get("otp.reuse", False)
    code = otps.issue(ctx.rt, ctx.app["id"], address, tries, expiry, reuse)
    return {"otp": code}


DOCS = {
    "message": OpDoc(
        summary="Send a message to users or a group; the offline recipients' devices get a push",
        fields={
            "message": obj(
                "the message (flat: from, to, gid, msg, type, expiry, when, flag, forced, title, url)",
                {
                    "from": address("the sender's address; it must be a user unless forced"),
                    "to": string(
                        "recipients' addresses, comma-separated (or gid)",
                        **{"x-aka": ["address", "recipients"]},
                    ),
                    "gid": id_field("the recipient group (or to); with both, the group"),
                    "message": string(
                        "the text (flat: msg), kept as sent",
                        maxLength=MAX_MESSAGE_CHARS,
                        **{"x-aka": ["text", "body", "content", "msg"], "x-free-text": True, "x-empty": True},
                    ),
                    "type": flag("message type"),
                    "expiry": integer(
                        "seconds; default one year; 0: online recipients only",
                        minimum=0,
                        maximum=100 * ONE_YEAR,
                    ),
                    "when": integer(
                        "deliver after this many seconds (on the emulator clock)",
                        minimum=0,
                        maximum=LARGEST_WHEN,
                    ),
                    "flag": flag("flags"),
                    "flags": flag("the same as flag, as Mesibo's page and helpers send it"),
                    "forced": boolean("create the sender as a user if it is not one", False),
                    "title": string("the push's title; else the sender's name or address"),
                    "url": string("a file URL"),
                },
                ["from"],
            )
        }
        | OP_EXTRAS,
        required=("message.from", "message.to", "message.message"),
        flat={
            "from": "message.from",
            "to": "message.to",
            "gid": "message.gid",
            "msg": "message.message",
            "type": "message.type",
            "expiry": "message.expiry",
            "when": "message.when",
            "flag": "message.flag",
            "flags": "message.flag",
            "forced": "message.forced",
            "title": "message.title",
            "url": "message.url",
        },
        example={"message": {"from": "123456", "to": "654321", "message": "Hello Bob"}},
        answer={"mid": 1},
        errors=("MISSINGPARAMS", "BADVALUE", "INVALIDVALUE"),
    ),
    "otp": OpDoc(
        summary="A one-time code for an address (reuse gives the unexpired one again)",
        fields={
            "otp": obj(
                "the code (flat: addr, tries, expiry, reuse)",
                {
                    "address": address("the address"),
                    "tries": integer(
                        "tries allowed; default 3", minimum=1, maximum=2**31 - 1, **{"x-zero-absent": True}
                    ),
                    "expiry": integer(
                        "seconds; default 600", minimum=1, maximum=2**31 - 1, **{"x-zero-absent": True}
                    ),
                    "reuse": boolean("give the unexpired code again", False),
                },
                ["address"],
            )
        },
        required=("otp.address",),
        flat={
            "addr": "otp.address",
            "address": "otp.address",
            "tries": "otp.tries",
            "expiry": "otp.expiry",
            "reuse": "otp.reuse",
        },
        example={"otp": {"address": "123456"}},
        answer={"otp": "482913"},
    ),
}
