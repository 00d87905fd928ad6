"""pushset: change any subset of the seven push options; absent keys keep their value."""

from __future__ import annotations

from mesibo_mock.backend.ops import OpContext, OpDoc, boolean, obj
from mesibo_mock.backend.reading import Fields
from mesibo_mock.errors import BADVALUE, MesiboError
from mesibo_mock.services import apps


def handle(ctx: OpContext, fields: Fields) -> dict:
    given = fields.need("push")
    changes: dict[str, bool] = {}
    bad: list[MesiboError] = []
    for key in apps.OPTION_DEFAULTS:  # each bad value named, all at once
        if key not in given:  # absent keys keep their value: only what was sent is read
            continue
        try:
            value = fields.get(f"push.{key}")
        except MesiboError as exc:
            bad.append(exc)
            continue
        if value is not None:
            changes[key] = value
    if bad:
        names = [name for exc in bad for name in exc.properties or []]
        raise MesiboError(BADVALUE, properties=names, problems=[p for exc in bad for p in exc.problems])
    # Keys that are not options are ignored, as Mesibo ignores them; the journal names each one.
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
