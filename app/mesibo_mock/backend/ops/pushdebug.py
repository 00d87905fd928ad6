"""pushdebug: open or end a debug window; in cloud mode 3 hours at most, one start per 8 hours."""

from __future__ import annotations

from mesibo_mock.backend.ops import OpContext, OpDoc, integer, obj
from mesibo_mock.services import apps, limits
from mesibo_mock.values import as_whole, optional

DEFAULT_DURATION = 10800


def handle(ctx: OpContext, fields: dict) -> dict:
    rt = ctx.rt
    raw = optional(fields, "push.duration")
    maximum = limits.most_debug_seconds(rt)
    duration = DEFAULT_DURATION if raw is None else as_whole("push.duration", raw, maximum=maximum)
    app = limits.set_debug_window(rt, ctx.app["token"], duration)
    return {"push": {"debug": apps.debug_view(rt, app)}}


DOCS = {
    "pushdebug": OpDoc(
        summary="Open a debug window (cloud: at most 3 hours, one start per 8 hours); duration 0 ends it",
        fields={
            "push": obj("the window", {"duration": integer("seconds; default 10800", minimum=0)}),
        },
        example={"push": {"duration": 1800}},
        answer={
            "push": {
                "debug": {
                    "active": True,
                    "start": "2026-11-27T10:00:00.000Z",
                    "end": "2026-11-27T10:30:00.000Z",
                    "next_allowed": "2026-11-27T18:00:00.000Z",
                }
            }
        },
        errors=("BADVALUE", "RATELIMITED"),
    )
}
