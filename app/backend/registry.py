"""Op name -> handler. Adding an op is one module in ops/ and one line here."""

from __future__ import annotations

from collections.abc import Callable

from mesibo_mock.backend.ops import pushdebug, pushset, pushtest, pushupload, users

Handler = Callable[..., dict]

OPS: dict[str, Handler] = {
    "pushupload": pushupload.handle,
    "pushset": pushset.handle,
    "pushtest": pushtest.handle,
    "pushdebug": pushdebug.handle,
    "useradd": users.useradd,
    "userset": users.userset,
    "usertoken": users.usertoken,
    "userdel": users.userdel,
    "usersget": users.usersget,
}
