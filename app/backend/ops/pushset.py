"""pushset: change any subset of the seven push options; absent keys keep their value."""

from __future__ import annotations

from mesibo_mock.backend.ops import OpContext
from mesibo_mock.errors import BADVALUE, MesiboError
from mesibo_mock.services import apps
from mesibo_mock.values import as_bool, object_field


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
    return {"push": apps.set_options(ctx.rt, ctx.app, changes)}
