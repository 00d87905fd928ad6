"""pushdebug: open or end a debug window; in cloud mode 3 hours at most, one start per 8 hours."""

from __future__ import annotations

import math

from mesibo_mock.backend.ops import OpContext, OpDoc, integer, obj
from mesibo_mock.errors import RATELIMITED, MesiboError
from mesibo_mock.services import apps
from mesibo_mock.values import as_whole, optional

DEFAULT_DURATION = 10800


def handle(ctx: OpContext, fields: dict) -> dict:
    rt = ctx.rt
    raw = optional(fields, "push.duration")
    maximum = apps.DEBUG_MAX_SECONDS if rt.cloud else apps.ONPREM_DEBUG_MAX_SECONDS
    duration = DEFAULT_DURATION if raw is None else as_whole("push.duration", raw, maximum=maximum)
    with rt.store.tx():
        app = apps.by_token(rt, ctx.app["token"])
        now = rt.clock.now()
        if duration == 0:
            if apps.debug_active(app, now):
                rt.store.update("apps", app["id"], {"debug_end": now})
        else:
            last_start = app["debug_start"]
            if rt.cloud and last_start is not None and now < last_start + apps.DEBUG_EVERY_SECONDS:
                retry = max(1, math.ceil(last_start + apps.DEBUG_EVERY_SECONDS - now))
                raise MesiboError(
                    RATELIMITED,
                    problems=[
                        {
                            "problem": f"a debug window may start only once every 8 hours in cloud mode (retry in {retry} s)",
                            "hint": "run with --mode onprem (no such limit), or move the emulator clock",
                        }
                    ],
                    retry_after=retry,
                )
            rt.store.update("apps", app["id"], {"debug_start": now, "debug_end": now + duration})
        app = apps.by_token(rt, ctx.app["token"])
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
