"""uacset (SPEC section 4): a User Access Control set, kept whole as Mesibo's own `uac.sh` sends it [real:
Mesibo's UAC page and its 2026 `uac.sh`]; users are given one by `useradd`/`userset` with `uac`."""

from __future__ import annotations

from mesibo_mock.backend.ops import OpContext, OpDoc, boolean, id_field, integer, obj, string
from mesibo_mock.backend.reading import Fields
from mesibo_mock.errors import BADREQ, MesiboError, bad_value, invalid_value
from mesibo_mock.services import uacs
from mesibo_mock.values import LARGEST_WHOLE

LARGEST_ID = LARGEST_WHOLE  # 2^63-1, SQLite's largest INTEGER


def uacset(ctx: OpContext, fields: Fields) -> dict:
    """`update` 0 with an id that exists, or 1 with one that does not, is refused [emu]; without an id
    the UAC gets the next free one. The answer names the id [emu shape]."""
    uac = fields.need("uac")
    uac_id = fields.get("uac.id")
    updating = fields.get("uac.update")
    exists = uac_id is not None and uacs.by_id(ctx.rt, ctx.app["id"], uac_id) is not None
    if updating is False and exists:
        raise MesiboError(
            BADREQ, f"UAC {uac_id} exists already: send update 1 to change it", ["uac.id"], field="uac.id"
        )
    if updating is True and not exists:
        raise MesiboError(
            BADREQ,
            f"there is no UAC {uac_id if uac_id is not None else '(no id given)'} to update",
            ["uac.id"],
            field="uac.id",
        )
    body = {k: v for k, v in uac.items() if k != "id"}
    size = len(uacs.as_json(body).encode("utf-8", "surrogatepass"))
    if size > uacs.MAX_BYTES:
        raise bad_value("uac", f"is {size} bytes as JSON: a UAC is at most {uacs.MAX_BYTES} bytes")
    if not exists and uacs.count(ctx.rt, ctx.app["id"]) >= uacs.MAX_PER_APP:
        raise bad_value("uac", f"the app has {uacs.MAX_PER_APP} UACs already, as many as it keeps")
    if uac_id is None:
        uac_id = uacs.next_id(ctx.rt, ctx.app["id"])
        if uac_id > LARGEST_ID:  # the largest id is taken: none is ever given twice
            raise bad_value("uac.id", f"no id is left after {LARGEST_ID}: give an id that is free")
    uacs.save(ctx.rt, ctx.app["id"], uac_id, body)
    return {"uac": {"id": uac_id}}


def assigned(ctx: OpContext, fields: Fields) -> int | None:
    """A user's `uac` (an id, nested or flat), checked: an id that names no UAC is INVALIDVALUE [emu: the
    field's name is in no readable source]; 0 or absent: none given."""
    uac_id = fields.get("user.uac")
    if uac_id is None:
        return None
    if uacs.by_id(ctx.rt, ctx.app["id"], uac_id) is None:
        raise invalid_value("uac", f"is not a UAC of this app: {uac_id} (make it with uacset)")
    return uac_id


FEATURES = "a feature group, kept whole (the emulator enforces none of it)"
DOCS = {
    "uacset": OpDoc(
        summary="Make or change a User Access Control set, kept whole; users get it with useradd's `uac`",
        fields={
            "uac": {"x-free": True}
            | obj(
                "the UAC, as Mesibo's uac.sh sends it (taken whole: no key of it is a mistake)",
                {
                    "id": id_field("its id; without one, the next free id"),
                    "name": string("a name for it"),
                    "update": boolean("1: change an existing UAC; 0: make a new one"),
                    "peers": obj("who its users may reach", {}),
                    "app": obj("app settings", {}),
                    **{
                        group: obj(FEATURES, {})
                        for group in (
                            "features",
                            "message",
                            "presence",
                            "call",
                            "conf",
                            "group",
                            "file",
                            "location",
                            "proximity_search",
                            "ratelimit",
                        )
                    },
                    **{
                        platform: integer(f"allowed on {platform}", minimum=0)
                        for platform in ("android", "ios", "web", "desktop")
                    },
                },
            )
        },
        required=("uac",),
        example={"uac": {"id": 1, "name": "free users", "update": 0, "presence": {"enabled": 0}}},
        answer={"uac": {"id": 1}},
        errors=("MISSINGPARAMS", "BADVALUE", "BADREQ"),
    )
}
