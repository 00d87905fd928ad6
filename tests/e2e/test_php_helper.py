"""Mesibo's own PHP helpers (mesibo/samples, backend-api/php: mesibohelper.php of 2022 and mesiboapi.php
of 2026), their eleven calls as they put them on the wire, answered as each helper expects.

The requests are rebuilt here from how the helpers build them, not copied: each helper function fills
a nested PHP array; MesiboAPI adds the app token and either POSTs it as JSON or, in the 2022 form mode,
flattens it to a query string of its leaf keys (a nested array contributes its own keys, `true` and
`false` become 1 and 0, null an empty value) sent with GET. Three quirks of the PHP code shape what
reaches the backend: MesiboMessage sends `flags` from an undefined variable (so null), MesiboEditMembers
attaches its members after copying the group into the request (so none are sent), and the permissions
block reaches only groupadd in JSON mode."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest


def flatten(parameters: dict, out: list[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    """The 2022 helper's form mode: every leaf under its own key, booleans as 1/0, null as empty."""
    out = [] if out is None else out
    for key, value in parameters.items():
        if isinstance(value, dict):
            flatten(value, out)
        elif value is True:
            out.append((key, "1"))
        elif value is False:
            out.append((key, "0"))
        else:
            out.append((key, "" if value is None else str(value)))
    return out


def api(mock, mode: str, parameters: dict) -> dict:
    """MesiboAPI: the token is added last, then JSON POSTed or sent as a GET query string."""
    parameters = {**parameters, "token": mock.app_token}
    if mode == "json":
        answer = mock.client.post("/backend/", json=parameters, headers={"content-type": "application/json"})
    else:
        answer = mock.client.get("/backend/?" + urlencode(flatten(parameters)))
    return answer.json()


# --- the helper functions, as their PHP builds the parameters ---------------------------------------------
def add_user(address, appid, session, expiry, flag):
    return {
        "op": "useradd",
        "user": {
            "address": address,
            "flags": flag,
            "token": {"appid": appid, "session": session, "expiry": expiry},
        },
    }


def delete_user(address):
    return {"op": "userdel", "user": {"address": address}}


def delete_token(address):
    return {"op": "userset", "user": {"address": address, "token": {"remove": True}}}


def create_group(mode, name, flags, start, duration, members, calls):
    group: dict = {"name": name, "flags": flags}
    if start:
        group["start"] = start
    group["duration"] = duration
    if members:
        m: dict = {"m": members}
        if mode == "json":  # `global $jsonapi` is declared in this function only
            m["permissions"] = {"send": True, "recv": True, "pub": True, "sub": True, "list": True}
        group["members"] = m
    if calls and mode == "json":
        group["call"] = calls
    return {"op": "groupadd", "group": group}


def set_group(gid, name, flags, members):
    group: dict = {"gid": gid, "name": name, "flags": flags}
    if members:
        group["members"] = {"m": members}  # no permissions: $jsonapi is not global here
    return {"op": "groupset", "group": group}


def delete_group(gid):
    return {"op": "groupdel", "group": {"gid": gid}}


def edit_members(gid, members, delete):
    # PHP copies $group into the request before $group['members'] is set: the members never go out.
    return {"op": "groupeditmembers", "group": {"gid": gid, "delete": delete}}


def get_members(gid):
    return {"op": "groupgetmembers", "group": {"gid": gid}}


def message(from_, to, gid, type_, expiry, flag, text, forced=0):
    # `$m['flags'] = $flags;` reads an undefined variable (the parameter is $flag): null
    return {
        "op": "message",
        "message": {
            "from": from_,
            "to": to,
            "gid": gid,
            "type": type_,
            "expiry": expiry,
            "flags": None,
            "forced": forced,
            "message": text,
        },
    }


# --- the 2026 mesiboapi.php (JSON only) -------------------------------------------------------------------
def otp_2026(address, tries, expiry, reuse):
    return {"op": "otp", "otp": {"address": address, "tries": tries, "expiry": expiry, "reuse": reuse}}


def add_user_2026(name, address, appid, expiry, otp):
    return {
        "op": "useradd",
        "user": {
            "name": name,
            "address": address,
            "otp": otp,
            "token": {"appid": appid, "expiry": expiry, "v2": True},
        },
    }


def no_mistakes(mock) -> None:
    """Every field the helpers send is read, or is a Mesibo parameter the emulator takes and ignores."""
    for entry in mock.requests(limit=1000):
        assert [n for n in entry["diagnosis"] if n["kind"] in ("unknown field", "unknown op")] == [], entry


@pytest.mark.parametrize("mode", ["json", "form"])
def test_the_2022_helpers_calls_are_answered_as_it_expects(mock, mode):
    mock.register_device("bob")
    answer = api(mock, mode, add_user("ann", "com.example.app", 1, 525600, 0))
    assert answer["result"] is True and answer["user"]["address"] == "ann" and answer["user"]["token"]
    assert api(mock, mode, add_user("cy", "com.example.app", 1, 60, 4))["result"] is True
    assert {u["address"]: u["flag"] for u in mock.backend("usersget")["users"]} == {
        "bob": 0,
        "ann": 0,
        "cy": 4,
    }

    answer = api(mock, mode, create_group(mode, "team", 0, 0, 3600, "ann,bob,cy,nobody", "call-1"))
    gid = answer["group"]["gid"]
    assert answer["result"] is True and isinstance(gid, int)
    members = api(mock, mode, get_members(gid))
    assert members["result"] is True and members["mcount"] == 3
    assert [m["address"] for m in members["members"]] == ["ann", "bob", "cy"]

    assert api(mock, mode, set_group(gid, "renamed", 0, ""))["result"] is True  # no members: none change
    assert api(mock, mode, get_members(gid))["mcount"] == 3
    assert mock.groups()[0]["name"] == "renamed"

    # the members never leave the helper: Mesibo's answer, and so the emulator's, is MISSINGPARAMS
    edited = api(mock, mode, edit_members(gid, "cy", True))
    assert (edited["result"], edited["error"], edited["properties"]) == (False, "MISSINGPARAMS", ["members"])

    sent = api(mock, mode, message("ann", "bob", 0, 0, 3600, 0, "hello Bob"))
    assert sent["result"] is True and isinstance(sent["mid"], int)
    assert [p["address"] for p in mock.pushes(mid=sent["mid"])] == ["bob"]
    to_group = api(mock, mode, message("ann", "", gid, 0, 3600, 0, "hello team", 1))
    assert to_group["result"] is True
    assert [r["address"] for r in mock.message(to_group["mid"])["recipients"]] == ["bob", "cy"]

    assert api(mock, mode, delete_token("ann"))["result"] is True
    assert {u["address"]: u["appid"] for u in mock.backend("usersget")["users"]}["ann"] == ""
    assert api(mock, mode, delete_group(gid))["result"] is True
    assert api(mock, mode, delete_user("cy"))["result"] is True
    assert [u["address"] for u in mock.backend("usersget")["users"]] == ["bob", "ann"]
    no_mistakes(mock)


def test_the_2026_helpers_calls_are_answered_as_it_expects(mock):
    answer = api(mock, "json", otp_2026("+15551234", 3, 300, False))
    assert answer["result"] is True and len(answer["otp"]) == 6 and answer["otp"].isdigit()
    answer = api(mock, "json", add_user_2026("Ann", "+15551234", "com.example.app", 525600, answer["otp"]))
    assert answer["result"] is True and answer["user"]["token"] and mock.users()[0]["name"] == "Ann"
    no_mistakes(mock)
    [entry] = mock.requests(op="useradd")
    ignored = {n["field"] for n in entry["diagnosis"] if n["kind"] == "not emulated"}
    assert ignored == {"user.otp", "user.token.v2"}  # taken and noted, never called mistakes
