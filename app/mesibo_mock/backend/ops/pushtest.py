"""pushtest: one fake push to every device of a user, under the cloud test-push limit."""

from __future__ import annotations

import math

from mesibo_mock.backend.ops import OpContext, OpDoc, obj, string
from mesibo_mock.delivery import engine
from mesibo_mock.errors import RATELIMITED, MesiboError, invalid_value
from mesibo_mock.services import people
from mesibo_mock.values import as_address, as_text, object_field, optional, required


def handle(ctx: OpContext, fields: dict) -> dict:
    rt, app = ctx.rt, ctx.app
    object_field(fields, "push")
    address = as_address("push.address", required(fields, "push.address"))
    message = optional(fields, "push.message")
    body = as_text("push.message", message, max_length=8192) if message is not None else None
    # The dispatcher runs every op as one unit of work: the limit is checked and counted in it.
    devices = people.devices_of_user(rt, app["id"], address)
    if not devices:
        if people.user_by_address(rt, app["id"], address) is None:
            raise invalid_value("push.address", f"is not a user of this app: {address!r}")
        raise invalid_value(
            "push.address",
            f"names a user with no registered device: {address!r}",
        )
    if rt.cloud:
        _count_against_limit(ctx)
    rnd = engine.Round(rt, app, ctx.outbox)
    for device in devices:
        rnd.add(device, "test", body)
    return {"push": {"address": address, "results": rnd.send()}}


def _count_against_limit(ctx: OpContext) -> None:
    """Check and count in one transaction, so concurrent calls cannot both take the last slot."""
    rt, app = ctx.rt, ctx.app
    now = rt.clock.now()
    count, window = rt.settings.testpush_count, rt.settings.testpush_window
    recent = rt.store.all(
        "SELECT ts FROM testpushes WHERE app_id = ? AND ts > ? ORDER BY ts", (app["id"], now - window)
    )
    if len(recent) >= count:
        oldest_counted = recent[len(recent) - count]["ts"] if count else now
        retry = max(1, math.ceil(oldest_counted + window - now))
        raise MesiboError(
            RATELIMITED,
            problems=[
                {
                    "problem": f"the test-push limit is reached: {count} per {window:g} s per app in cloud mode"
                    f" (retry in {retry} s)",
                    "hint": f"raise it with MESIBO_MOCK_TESTPUSH_LIMIT (e.g. 1000/{window:g}), run with --mode"
                    ' onprem (no limit), or move the emulator clock (POST /_mock/clock {"advance": '
                    f"{retry}}})",
                }
            ],
            retry_after=retry,
        )
    rt.store.insert("testpushes", {"app_id": app["id"], "ts": now})


DOCS = {
    "pushtest": OpDoc(
        summary="One test push to every registered device of a user (rate-limited in cloud mode)",
        fields={
            "push": obj(
                "the test push",
                {
                    "address": string("the user's address", **{"x-aka": ["address", "addr", "to"]}),
                    "message": string("the notification text [emu]; a default text otherwise"),
                },
                ["address"],
            )
        },
        required=("push.address",),
        example={"push": {"address": "123456"}},
        answer={
            "push": {
                "address": "123456",
                "results": [
                    {
                        "id": 1,
                        "service": "fcm",
                        "platform": "android",
                        "status": "sent",
                        "reason": None,
                        "device": 1,
                    }
                ],
            }
        },
        errors=("MISSINGPARAMS", "BADVALUE", "INVALIDVALUE", "RATELIMITED"),
    )
}
