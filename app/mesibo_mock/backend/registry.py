"""Op name -> handler, and op name -> its documentation. Adding an op is one module in ops/ and one
line here."""

from __future__ import annotations

from collections.abc import Callable

from mesibo_mock.backend.ops import (
    OpDoc,
    groups,
    messages,
    pushdebug,
    pushset,
    pushtest,
    pushupload,
    uac,
    users,
)

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
    "uacset": uac.uacset,
    "groupadd": groups.groupadd,
    "groupset": groups.groupset,
    "groupdel": groups.groupdel,
    "groupeditmembers": groups.groupeditmembers,
    "groupgetmembers": groups.groupgetmembers,
    "groupmembers": groups.groupgetmembers,
    "groupmembersget": groups.groupgetmembers,
    "groupsget": groups.groupsget,
    "message": messages.message,
    "otp": messages.otp,
}

# The real backend's op table has these too; their fields are not known, so the emulator answers them as
# it answers any op it does not implement (BADVALUE 501), and the journal says which they are.
REAL_OPS_NOT_IMPLEMENTED = frozenset({"usersync", "appadd", "appset", "appget", "appstats", "version"})

DOCS: dict[str, OpDoc] = {
    **pushupload.DOCS,
    **pushset.DOCS,
    **pushtest.DOCS,
    **pushdebug.DOCS,
    **users.DOCS,
    **uac.DOCS,
    **groups.DOCS,
    **messages.DOCS,
}
