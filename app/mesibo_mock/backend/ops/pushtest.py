"""pushtest: one fake push to every device of a user, under the cloud test-push limit."""

from __future__ import annotations

from mesibo_mock.backend.ops import OpContext, OpDoc, address, obj, string
from mesibo_mock.backend.reading import Fields
from mesibo_mock.delivery import engine
from mesibo_mock.errors import invalid_value
from mesibo_mock.services import limits, people


def handle(ctx: OpContext, fields: Fields) -> dict:
    rt, app = ctx.rt, ctx.app
    fields.need("push")
    address = fields.need("push.address")
    body = fields.get("push.message")
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
        limits.count_test_push(rt, app)
    rnd = engine.Round(rt, app, ctx.outbox)
    for device in devices:
        rnd.add(device, "test", body)
    return {"push": {"address": address, "results": rnd.send()}}


DOCS = {
    "pushtest": OpDoc(
        summary="One test push to every registered device of a user (rate-limited in cloud mode)",
        fields={
            "push": obj(
                "the test push",
                {
                    "address": address("the user's address", **{"x-aka": ["address", "addr", "to"]}),
                    "message": string(
                        "the notification text [emu]; a default text otherwise", maxLength=8192
                    ),
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
