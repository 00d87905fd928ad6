"""pushset: change any subset of the seven push options; absent keys keep their value."""

from __future__ import annotations

import logging

from mesibo_mock.backend.ops import OpContext, OpDoc, boolean, obj
from mesibo_mock.errors import BADVALUE, MesiboError
from mesibo_mock.services import apps
from mesibo_mock.values import as_bool, object_field

log = logging.getLogger("mesibo_mock.backend")


def handle(ctx: OpContext, fields: dict) -> dict:
    push = object_field(fields, "push")
    changes: dict[str, bool] = {}
    bad: list[MesiboError] = []
    for key in apps.OPTION_DEFAULTS:
        if key in push:
            try:
                changes[key] = as_bool(f"push.{key}", push[key])
            except MesiboError as exc:
                bad.append(exc)
    if bad:
        names = [name for exc in bad for name in exc.properties or []]
        raise MesiboError(BADVALUE, "; ".join(exc.cause for exc in bad), names)
    unknown = [key for key in push if key not in apps.OPTION_DEFAULTS]
    if unknown:  # Mesibo ignores them, and so does the answer; the log says what was ignored
        log.warning(
            "pushset (app %s) ignored unknown push option(s) %s; the options are %s",
            ctx.app["name"],
            ", ".join(repr(k) for k in unknown),
            ", ".join(apps.OPTION_DEFAULTS),
        )
    return {"push": apps.set_options(ctx.rt, ctx.app, changes)}


OPTION_TEXT = {
    "background": "background (data) pushes; alerts otherwise",
    "fallback": "an alert follows a background push the device did not answer",
    "ratelimit": "throttle pushes to one device (MESIBO_MOCK_PUSH_INTERVAL)",
    "collapse": "collapse notifications (collapse key / apns-collapse-id)",
    "sound": "alert sound on iOS",
    "forceprod": "send sandbox builds to the APNs production host",
    "iosfcm": "route iOS devices through FCM",
}
DOCS = {
    "pushset": OpDoc(
        summary="Set any subset of the seven push options; absent keys keep their value",
        fields={
            "push": obj(
                "the options to change",
                {k: boolean(OPTION_TEXT[k], default) for k, default in apps.OPTION_DEFAULTS.items()},
            )
        },
        required=("push",),
        example={"push": {"background": True, "collapse": False, "sound": False, "forceprod": False}},
        answer={"push": dict(apps.OPTION_DEFAULTS)},
    )
}
