"""Fidelity round 4 (SPEC sections 2 and 4): member and admin rights, the group flags that change
delivery, groupsget as the binary answers it, uacset, usersget's cts, useradd's answer, TOKENBREACH, and
the journal filing a call under the app its token names. Through the real server."""

from __future__ import annotations

import httpx
import pytest

from mesibo_mock.testing import MesiboMock
from tests.conftest import flat_call

ONE_YEAR = 365 * 24 * 3600
ADMIN_OFF = dict.fromkeys(
    ("owner", "modify", "remove", "adduser", "remuser", "addadmin", "remadmin", "remowner"), 0
)


def users(mock, *addresses: str) -> None:
    for address in addresses:
        assert mock.backend("useradd", user={"address": address})["result"]


def rights_of(mock, gid: int) -> dict[str, dict]:
    answer = mock.backend("groupgetmembers", group={"gid": gid})
    return {m["address"]: m for m in answer["members"]}


# --- member rights and admin rights --------------------------------------------------------------------
def test_flat_rights_are_kept_and_answered_as_set(mock):
    users(mock, "a", "b")
    gid = mock.backend("groupadd", group={"name": "g"})["group"]["gid"]
    answer = flat_call(mock, "groupeditmembers", gid=gid, m="a", cs=0, cr=1, canpub=0, cansub=1, canlist=0)
    assert answer["result"] is True
    flat_call(mock, "groupeditmembers", gid=gid, m="b")  # every right 1 unless given
    got = rights_of(mock, gid)
    assert {k: got["a"][k] for k in ("cansend", "canrecv", "canpub", "cansub", "canlist")} == {
        "cansend": 0,
        "canrecv": 1,
        "canpub": 0,
        "cansub": 1,
        "canlist": 0,
    }
    assert got["a"]["permissions"] == {"send": 0, "recv": 1, "pub": 0, "sub": 1, "list": 0}
    assert got["b"]["permissions"] == {"send": 1, "recv": 1, "pub": 1, "sub": 1, "list": 1}
    assert got["a"]["admin"] == ADMIN_OFF


def test_json_permissions_and_admin_rights_in_groupadd_groupset_and_groupeditmembers(mock):
    users(mock, "owner", "helper", "guest")
    gid = mock.backend(
        "groupadd",
        group={
            "name": "g",
            "members": {"m": "owner", "admin": {"owner": 1, "modify": True, "remowner": 1}},
        },
    )["group"]["gid"]
    mock.backend(
        "groupset",
        group={
            "gid": gid,
            "members": {"m": "helper", "permissions": {"send": False, "list": 0}, "admin": {"adduser": 1}},
        },
    )
    mock.backend(
        "groupeditmembers",
        group={"gid": gid, "members": {"m": "guest", "permissions": {"recv": 0, "pub": 0, "sub": 0}}},
    )
    got = rights_of(mock, gid)
    assert got["owner"]["admin"] == ADMIN_OFF | {"owner": 1, "modify": 1, "remowner": 1}
    assert got["owner"]["permissions"] == {"send": 1, "recv": 1, "pub": 1, "sub": 1, "list": 1}
    assert got["helper"]["permissions"] == {"send": 0, "recv": 1, "pub": 1, "sub": 1, "list": 0}
    assert got["helper"]["admin"] == ADMIN_OFF | {"adduser": 1}
    assert got["guest"]["permissions"] == {"send": 1, "recv": 0, "pub": 0, "sub": 0, "list": 1}
    # adding a member again sets its rights to this call's
    mock.backend(
        "groupeditmembers", group={"gid": gid, "members": {"m": "owner", "permissions": {"send": 0}}}
    )
    again = rights_of(mock, gid)["owner"]
    assert again["cansend"] == 0 and again["admin"] == ADMIN_OFF
    # a member who cannot receive gets no message
    mock.register_device("guest")
    mock.send_message("owner", None, "hi", gid=gid)
    assert mock.pushes(address="guest") == []


def test_a_bad_right_is_badvalue_naming_it(mock):
    users(mock, "a")
    gid = mock.backend("groupadd", group={"name": "g"})["group"]["gid"]
    answer = mock.backend(
        "groupeditmembers", group={"gid": gid, "members": {"m": "a", "permissions": {"send": "maybe"}}}
    )
    assert answer["error"] == "BADVALUE" and answer["properties"] == ["send"]
    answer = mock.backend("groupeditmembers", group={"gid": gid, "members": {"m": "a", "admin": "all"}})
    assert answer["error"] == "BADVALUE" and answer["properties"] == ["admin"]


# --- group flags -----------------------------------------------------------------------------------------
def test_flag_0x80_loops_a_members_message_back_to_its_sender(mock):
    users(mock, "ann", "bob")
    mock.register_device("ann", push_token="fcm-ann")
    mock.register_device("bob", push_token="fcm-bob")
    plain = mock.backend("groupadd", group={"name": "plain", "members": {"m": "ann,bob"}})["group"]["gid"]
    looped = mock.backend("groupadd", group={"name": "loop", "flag": 0x80, "members": {"m": "ann,bob"}})[
        "group"
    ]["gid"]
    mid = mock.send_message("ann", None, "one", gid=plain)
    assert [r["address"] for r in mock.message(mid)["recipients"]] == ["bob"]
    mid = mock.send_message("ann", None, "two", gid=looped)
    assert [r["address"] for r in mock.message(mid)["recipients"]] == ["ann", "bob"]
    assert sorted(p["address"] for p in mock.wait_for_pushes(2, mid=mid)) == ["ann", "bob"]


def test_flag_0x20_delivers_each_message_to_one_member_in_turn(mock):
    users(mock, "sender", "b", "c", "d", "mute")
    for address in ("b", "c", "d", "mute"):
        mock.register_device(address)
    mock.backend("pushset", push={"ratelimit": False})
    gid = mock.backend("groupadd", group={"name": "rr", "flag": 0x20, "members": {"m": "sender,b,c"}})[
        "group"
    ]["gid"]
    flat_call(mock, "groupeditmembers", gid=gid, m="mute", cr=0)  # cannot receive: never its turn
    flat_call(mock, "groupeditmembers", gid=gid, m="d")
    turns = []
    for i in range(5):
        mid = mock.send_message("sender", None, f"m{i}", gid=gid)
        view = mock.message(mid)
        assert view["recipients_total"] == 1
        turns.append(view["recipients"][0]["address"])
    assert turns == ["b", "c", "d", "b", "c"]  # oldest first, wrapping, never the sender


def test_a_sender_outside_the_group_or_without_send_right_is_noted(mock):
    users(mock, "in", "out", "muted")
    gid = mock.backend("groupadd", group={"name": "g", "members": {"m": "in"}})["group"]["gid"]
    flat_call(mock, "groupeditmembers", gid=gid, m="muted", cs=0)
    mock.send_message("out", None, "hello", gid=gid)
    [entry] = mock.requests(op="message", limit=1)
    assert any("is not a member of group" in n["problem"] for n in entry["diagnosis"])
    mock.send_message("muted", None, "hello", gid=gid)
    [entry] = mock.requests(op="message", limit=1)
    assert any("without the right to send" in n["problem"] for n in entry["diagnosis"])


# --- groupsget ---------------------------------------------------------------------------------------------
def test_groupsget_answers_seconds_left_sflags_and_filters(mock):
    mock.freeze()
    gids = {
        name: mock.backend("groupadd", group={"name": name, **extra})["group"]["gid"]
        for name, extra in (("Team A", {}), ("Team B", {"expiry": 3600}), ("Other", {}))
    }
    answer = mock.backend("groupsget")
    assert answer["groupscount"] == 3
    listed = {g["name"]: g for g in answer["groups"]}
    assert listed["Team A"]["ets"] == ONE_YEAR and listed["Team B"]["ets"] == 3600
    assert all(g["sflags"] == 263 for g in listed.values())
    mock.advance(100)
    assert {g["name"]: g["ets"] for g in mock.backend("groupsget")["groups"]}["Team B"] == 3500
    pattern = mock.backend("groupsget", name="Team*")
    assert pattern["groupscount"] == 2 and [g["name"] for g in pattern["groups"]] == ["Team A", "Team B"]
    exact = mock.backend("groupsget", group={"name": "Other"})
    assert exact["groupscount"] == 1 and exact["groups"][0]["gid"] == gids["Other"]
    one = flat_call(mock, "groupsget", gid=gids["Team A"])
    assert one["groupscount"] == 1 and one["groups"][0]["name"] == "Team A"
    assert mock.backend("groupsget", name="Nobody*")["groupscount"] == 0


def test_an_expired_group_answers_as_an_unknown_one_and_lists_with_ets_0(mock):
    users(mock, "a", "b")
    mock.freeze()
    gid = mock.backend("groupadd", group={"name": "short", "expiry": 60, "members": {"m": "a,b"}})["group"][
        "gid"
    ]
    assert mock.backend("groupgetmembers", group={"gid": gid})["mcount"] == 2
    mock.advance(61)
    for op, fields in (
        ("groupgetmembers", {"group": {"gid": gid}}),
        ("groupset", {"group": {"gid": gid, "name": "x"}}),
        ("groupeditmembers", {"group": {"gid": gid, "members": {"m": "a"}}}),
        ("message", {"message": {"from": "a", "gid": gid, "message": "late"}}),
    ):
        answer = mock.backend(op, **fields)
        assert answer["error"] == "INVALIDVALUE" and answer["properties"] == ["gid"], (op, answer)
    [listed] = mock.backend("groupsget")["groups"]
    assert listed["ets"] == 0
    # groupset with a new expiry starts it again from now
    gid2 = mock.backend("groupadd", group={"name": "renewed", "expiry": 60})["group"]["gid"]
    mock.advance(50)
    mock.backend("groupset", group={"gid": gid2, "expiry": 600})
    mock.advance(50)
    assert mock.backend("groupgetmembers", group={"gid": gid2})["result"] is True


# --- users ------------------------------------------------------------------------------------------------
def test_useradd_answers_uid_address_and_the_token_asked_for_nothing_else(mock):
    plain = mock.backend("useradd", user={"address": "ann", "name": "Ann"})
    assert set(plain["user"]) == {"uid", "address"}
    with_token = mock.backend(
        "useradd", user={"address": "bob", "name": "Bob", "token": {"appid": "com.x.y"}}
    )
    assert set(with_token["user"]) == {"uid", "address", "token"}


def test_usersget_cts_is_0(mock):
    users(mock, "ann")
    mock.advance(10)
    [user] = mock.backend("usersget")["users"]
    assert user["cts"] == 0


# --- uacset ----------------------------------------------------------------------------------------------
UAC = {
    "id": 1,
    "name": "free users",
    "update": 0,
    "peers": {"all": 1},
    "android": 1,
    "ios": 1,
    "app": {"name": "demo"},
    "features": {"calls": 0, "e2ee": 1},
    "message": {"read_receipt": 0, "typing": 1, "max_size": 4096},
    "presence": {"online": 0},
    "call": {"video": 0},
    "conf": {"enabled": 0},
    "group": {"max_members": 50},
    "file": {"max_size": 1048576},
    "location": {"enabled": 1},
    "proximity_search": {"enabled": 0},
    "ratelimit": {"messages": 100},
}


def test_uacset_keeps_the_uac_whole_and_users_get_it_by_id(mock):
    answer = mock.backend("uacset", uac=UAC)
    assert answer == {"op": "uacset", "result": True, "uac": {"id": 1}}
    [listed] = mock.app()["uacs"]  # the app's view lists it; the whole is one GET away
    assert listed["id"] == 1 and listed["name"] == UAC["name"] and listed["bytes"] > 100
    kept = mock.client.get(f"/_mock/apps/{mock.app_token}/uacs/1").json()
    assert kept == {k: v for k, v in UAC.items()}
    assert mock.backend("useradd", user={"address": "ann", "uac": 1})["result"] is True
    flat_call(mock, "useradd", addr="bob", uac=1)
    assert {u["address"]: u["uac"] for u in mock.users()} == {"ann": 1, "bob": 1}
    unknown = mock.backend("userset", user={"address": "ann", "uac": 9})
    assert unknown["error"] == "INVALIDVALUE" and unknown["properties"] == ["uac"]
    # strict mode does not flag the UAC's own keys, nor a user's uac
    assert mock.mistakes() == []


def test_uacset_update_rules_and_a_new_id_when_none_is_given(mock):
    assert mock.backend("uacset", uac=UAC)["result"]
    again = mock.backend("uacset", uac=UAC)  # update 0 with an id that exists
    assert again["error"] == "BADREQ" and again["properties"] == ["id"]
    missing = mock.backend("uacset", uac=UAC | {"id": 7, "update": 1})  # update 1 with one that does not
    assert missing["error"] == "BADREQ" and missing["properties"] == ["id"]
    changed = mock.backend("uacset", uac=UAC | {"update": 1, "name": "paid"})
    assert changed["uac"] == {"id": 1} and mock.app()["uacs"][0]["name"] == "paid"
    fresh = mock.backend("uacset", uac={"name": "no id"})
    assert fresh["uac"] == {"id": 2}
    assert mock.backend("uacset")["error"] == "MISSINGPARAMS"


def test_uacset_as_a_shell_script_sends_it_with_curl(mock, tmp_path):
    """uac.sh's way: a JSON body built in the shell and POSTed with curl, the answer checked."""
    import json
    import subprocess

    script = tmp_path / "uac.sh"
    script.write_text(
        "#!/bin/sh\nset -e\n"
        f"body=$(cat <<'EOF'\n{json.dumps({'op': 'uacset', 'token': '__T__', 'uac': UAC})}\nEOF\n)\n"
        'body=$(printf "%s" "$body" | sed "s/__T__/$TOKEN/")\n'
        'answer=$(curl -s -X POST "$URL" -H "Content-Type: application/json" -d "$body")\n'
        'echo "$answer"\necho "$answer" | grep -q \'"result":true\'\n'
    )
    done = subprocess.run(
        ["sh", str(script)],
        env={"PATH": "/usr/bin:/bin", "URL": mock.backend_url, "TOKEN": mock.app_token},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert mock.app()["uacs"][0]["name"] == "free users"


# --- TOKENBREACH --------------------------------------------------------------------------------------------
def call_from(mock: MesiboMock, address: str, op: str = "usersget", token: str | None = None) -> dict:
    """A backend call from another source address on loopback (127.0.0.N)."""
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(transport=transport) as client:
        return client.post(mock.backend_url, json={"op": op, "token": token or mock.app_token}).json()


def test_a_sixth_source_address_disables_the_app_until_lifted(mock):
    for n in range(1, 6):
        assert call_from(mock, f"127.0.0.{n}")["result"] is True
    notes = [n for e in mock.requests(limit=10) for n in e["diagnosis"] if n["kind"] == "tokenbreach"]
    assert [n["problem"].split(" (")[0] for n in reversed(notes)] == [
        "the app's token has now been used from 4 source addresses",
        "the app's token has now been used from 5 source addresses",
    ]
    assert "six pods" not in notes[0].get("hint", "") and "would be cut off" in notes[0]["hint"]
    breach = call_from(mock, "127.0.0.6")
    assert breach["result"] is False and breach["error"] == "TOKENBREACH"
    assert (
        breach["code"] == 401 and breach["properties"] == ["token"] and "five IP addresses" in breach["cause"]
    )
    assert call_from(mock, "127.0.0.1")["error"] == "TOKENBREACH"  # every later call, from anywhere
    view = mock.app()
    assert view["disabled"] == "TOKENBREACH" and len(view["addresses"]) == 6
    lifted = mock.client.put(f"/_mock/apps/{mock.app_token}", json={"disabled": False}).json()
    assert lifted["disabled"] is None and lifted["addresses"] == []
    assert call_from(mock, "127.0.0.7")["result"] is True


def test_a_reset_or_a_deleted_app_lifts_it_and_true_disables(mock):
    assert (
        mock.client.put(f"/_mock/apps/{mock.app_token}", json={"disabled": True}).json()["disabled"]
        == "TOKENBREACH"
    )
    assert mock.backend("usersget")["error"] == "TOKENBREACH"
    mock.reset()
    assert mock.backend("usersget")["result"] is True
    other = mock.create_app("other", token="other-token").token
    mock.client.put(f"/_mock/apps/{other}", json={"disabled": True})
    mock.delete_app(other)
    mock.create_app("other", token=other)
    assert call_from(mock, "127.0.0.1", token=other)["result"] is True


@pytest.mark.parametrize(
    "mode, env, disabled",
    [
        ("onprem", {}, False),
        ("cloud", {"TOKENBREACH_ADDRESSES": "0"}, False),
        ("cloud", {"TOKENBREACH_ADDRESSES": "2"}, True),
    ],
)
def test_the_limit_is_set_by_the_environment_and_onprem_never_disables(mode, env, disabled):
    with MesiboMock(mode=mode, env=env, subprocess=True) as mock:
        answers = [call_from(mock, f"127.0.0.{n}") for n in range(1, 8)]
        if disabled:
            assert [a.get("error") for a in answers[:3]] == [None, None, "TOKENBREACH"]
        else:
            assert all(a["result"] for a in answers)
            assert mock.app()["disabled"] is None
            notes = [n for e in mock.requests(limit=10) for n in e["diagnosis"] if n["kind"] == "tokenbreach"]
            assert len(notes) == 4  # the 4th to the 7th address, noted all the same


# --- the journal files by app ---------------------------------------------------------------------------------
def test_a_call_refused_before_its_token_was_checked_is_filed_under_its_app(mock):
    mock.client.post("/backend", json={"op": "nosuchop", "token": mock.app_token})
    mock.client.post(
        "/backend", json={"op": "usersget", "token": mock.app_token}, headers={"user-agent": "Android"}
    )
    mock.client.post(
        f"/backend?token={mock.app_token}", content=b"{broken", headers={"content-type": "application/json"}
    )
    mock.client.post("/backend", json={"op": "nosuchop", "token": "no-such-app"})
    mine = mock.requests(token=mock.app_token, limit=10)
    assert [e["answer"].get("error") for e in mine] == ["BADPAYLOAD", "BADORIGIN", "BADVALUE"]
    assert all(e["app"] == mock.app_token for e in mine)
    [stray] = mock.requests(op="nosuchop", limit=10, all_apps=True)[:1]
    assert stray["app"] is None
