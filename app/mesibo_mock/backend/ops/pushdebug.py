"""pushdebug: open or end a debug window; in cloud mode 3 hours at most, one start per 8 hours."""

from __future__ import annotations

from mesibo_mock.backend.ops import OpContext, OpDoc, integer, obj
from mesibo_mock.backend.reading import Fields
from mesibo_mock.errors import bad_value
from mesibo_mock.services import apps, limits

DEFAULT_DURATION = 10800


def handle(ctx: OpContext, fields: Fields) -> dict:
    rt = ctx.rt
    duration = fields.get("push.duration", DEFAULT_DURATION)
    if duration > limits.most_debug_seconds(rt):
        raise bad_value(
            "push.duration", f"must be at most {limits.most_debug_seconds(rt)} seconds, got {duration}"
        )
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
