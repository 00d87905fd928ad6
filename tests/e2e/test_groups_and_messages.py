"""SPEC section 4, groups and messages, through the real server: every op in both forms, cascades, per-app
isolation, the pushes a message causes under each push option, online recipients, the /_mock views."""

from __future__ import annotations

import pytest

from tests.conftest import cred, flat_call


def flat(mock, op: str, token: str | None = None, form: str = "query", **params) -> dict:
    return flat_call(mock, op, form, token=token, **params)


def users(mock, *addresses: str, **fields) -> None:
    """Members and recipients are only existing, active users (SPEC section 4): make them first."""
    for address in addresses:
        assert mock.backend("useradd", user={"address": address, **fields})["result"] is True


def members_of(mock, gid: int) -> list[str]:
    return [m["address"] for m in mock.backend("groupgetmembers", gid=gid)["members"]]


def upload_fcm(mock) -> None:
    assert mock.upload_credential(cred("fcm-service-account.json"), "fcm")["result"] is True


def last_diagnosis(mock, op: str) -> list[dict]:
    return mock.requests(op=op, limit=1)[0]["diagnosis"]


# --- groups --------------------------------------------------------------------------------------------
def test_groupadd_json_with_members_who_are_active_users(mock):
    users(mock, "1", "2")
    users(mock, "4", active=False)
    answer = mock.backend("groupadd", group={"name": "team", "members": {"m": "1,2, 3,4"}})
    gid = answer["group"]["gid"]
    assert isinstance(gid, int) and answer == {"op": "groupadd", "result": True, "group": {"gid": gid}}
    assert members_of(mock, gid) == ["1", "2"]  # '3' is no user and '4' is not active: skipped
    assert {u["address"] for u in mock.users()} == {"1", "2", "4"}  # nobody was created
    [note] = last_diagnosis(mock, "groupadd")
    assert note["field"] == "group.members.m" and "'3', '4'" in note["problem"] and note["kind"] == "skipped"


@pytest.mark.parametrize("form", ["query", "form"])
def test_groupadd_flat_as_the_php_helper_sends_it_with_gid_0(mock, form):
    users(mock, "10", "11")
    answer = flat(mock, "groupadd", form=form, gid="0", name="php group", flag="0", m="10,11")
    gid = answer["group"]["gid"]
    assert gid > 0 and members_of(mock, gid) == ["10", "11"]
    assert [g["name"] for g in mock.backend("groupsget")["groups"]] == ["php group"]


def test_groupadd_needs_no_name(mock):
    answer = mock.backend("groupadd", group={"flag": 2})
    assert answer["result"] is True
    [group] = mock.backend("groupsget")["groups"]
    assert group["name"] == "" and group["flag"] == 2


def test_groupset_json_and_flat(mock):
    gid = mock.backend("groupadd", group={"name": "a"})["group"]["gid"]
    assert mock.backend("groupset", group={"gid": gid, "name": "b", "profile": {"image": "x.png"}})["result"]
    assert flat(mock, "groupset", gid=str(gid), active="0")["group"] == {"gid": gid}
    assert flat(mock, "groupset", form="form", gid=str(gid), flags="4")["group"] == {"gid": gid}
    [group] = mock.groups()
    assert (group["name"], group["active"], group["profile"], group["flag"]) == (
        "b",
        False,
        {"image": "x.png"},
        4,
    )
    body = mock.backend("groupset", gid=999, name="x")
    assert body["error"] == "INVALIDVALUE" and body["properties"] == ["gid"]
    assert mock.backend("groupset", name="x")["properties"] == ["gid"]


def test_groupset_with_an_empty_m_changes_no_members(mock):
    """The sample backend sends `m=` when the members are not being changed."""
    users(mock, "1", "2")
    gid = mock.backend("groupadd", group={"name": "a", "members": {"m": "1,2"}})["group"]["gid"]
    assert flat(mock, "groupset", gid=str(gid), name="renamed", m="")["result"] is True
    assert flat(mock, "groupset", form="form", gid=str(gid), m=" , ")["result"] is True
    assert members_of(mock, gid) == ["1", "2"]


def test_groupeditmembers_adds_and_removes_json_and_flat(mock):
    users(mock, "1", "2", "3", "4")
    gid = mock.backend("groupadd", group={"name": "g"})["group"]["gid"]
    mock.backend("groupeditmembers", group={"gid": gid, "members": {"m": "1,2,3"}})
    mock.backend("groupeditmembers", group={"gid": gid, "members": {"m": "2", "remove": True}})
    assert members_of(mock, gid) == ["1", "3"]
    assert flat(mock, "groupeditmembers", gid=str(gid), m="4,1")["result"] is True  # adding twice keeps one
    assert members_of(mock, gid) == ["1", "3", "4"]
    assert flat(mock, "groupeditmembers", form="form", gid=str(gid), m="3,4", delete="1")["result"] is True
    assert members_of(mock, gid) == ["1"]
    # what Mesibo's 2022 PHP helper sends in JSON: group.delete
    mock.backend("groupeditmembers", group={"gid": gid, "delete": True, "members": {"m": "1"}})
    assert members_of(mock, gid) == []


def test_groupeditmembers_sets_cs_and_cr(mock):
    users(mock, "1", "2")
    gid = mock.backend("groupadd", group={"name": "g"})["group"]["gid"]
    flat(mock, "groupeditmembers", gid=str(gid), m="1", cs="0", cr="1")
    mock.backend("groupeditmembers", group={"gid": gid, "members": {"m": "2", "cr": False}})
    got = {
        m["address"]: (m["cansend"], m["canrecv"])
        for m in mock.backend("groupgetmembers", gid=gid)["members"]
    }
    assert got == {"1": (0, 1), "2": (1, 0)}


def test_a_refused_groupeditmembers_changes_no_membership(mock):
    users(mock, "1", "2", "3")
    gid = mock.backend("groupadd", group={"name": "g", "members": {"m": "1"}})["group"]["gid"]
    body = mock.backend("groupeditmembers", gid=gid, m="2,3", cs="maybe")
    assert body["error"] == "BADVALUE" and body["properties"] == ["cs"]
    assert members_of(mock, gid) == ["1"]
    body = mock.backend("groupeditmembers", gid=gid)
    assert body["error"] == "MISSINGPARAMS" and body["properties"] == ["members"]
    assert mock.backend("groupeditmembers", gid=gid, m=" , ")["properties"] == ["members"]
    body = mock.backend("groupeditmembers", gid=12345, m="1")
    assert body["error"] == "INVALIDVALUE" and body["properties"] == ["gid"]


MEMBER_KEYS = ["uid", "address", "cansend", "canrecv", "canpub", "cansub", "canlist", "permissions", "admin"]


@pytest.mark.parametrize("op", ["groupgetmembers", "groupmembers", "groupmembersget"])
def test_groupgetmembers_answers_the_real_member_keys(mock, op):
    users(mock, "1", "2", "3")
    gid = mock.backend("groupadd", group={"name": "g", "members": {"m": "1,2,3"}})["group"]["gid"]
    answer = flat(mock, op, gid=str(gid), count="2")
    assert list(answer) == ["op", "result", "gid", "mcount", "count", "members"]
    assert (answer["gid"], answer["mcount"], answer["count"]) == (gid, 3, 2)
    first = answer["members"][0]
    assert list(first) == MEMBER_KEYS and first["address"] == "1"  # oldest first
    assert first["permissions"] == {"send": 1, "recv": 1, "pub": 1, "sub": 1, "list": 1}
    assert first["admin"] == dict.fromkeys(
        ["owner", "modify", "remove", "adduser", "remuser", "addadmin", "remadmin", "remowner"], 0
    )
    assert mock.backend(op, group={"gid": gid})["count"] == 3


def test_groupgetmembers_lists_at_most_20(mock):
    addresses = [f"u{i}" for i in range(25)]
    users(mock, *addresses)
    gid = mock.backend("groupadd", group={"members": {"m": ",".join(addresses)}})["group"]["gid"]
    answer = mock.backend("groupgetmembers", gid=gid)
    assert (answer["mcount"], answer["count"]) == (25, 20)
    assert mock.backend("groupgetmembers", gid=gid, count=500)["count"] == 20


def test_groupsget_answers_the_real_group_keys_ordered_by_name(mock):
    mock.freeze()
    created = int(mock.clock()["epoch"])
    b = mock.backend("groupadd", group={"name": "b", "expiry": 3600})["group"]["gid"]
    a1 = mock.backend("groupadd", group={"name": "a"})["group"]["gid"]
    a2 = flat(mock, "groupadd", name="a", expiryext="60")["group"]["gid"]
    answer = mock.backend("groupsget")
    assert list(answer) == ["op", "result", "groupscount", "count", "groups"]
    assert (answer["groupscount"], answer["count"]) == (3, 3)
    assert [g["gid"] for g in answer["groups"]] == [a2, a1, b]  # by name, then the newest gid first
    assert answer["groups"][2] == {
        "gid": b,
        "name": "b",
        "ats": created,
        "ets": 3600,  # the seconds left [real: `if(ets > unix_timestamp(), ets-unix_timestamp(), 0)`]
        "expiryext": 0,
        "type": 0,
        "flag": 0,
        "sflags": 263,  # [real: `ifnull(s.flags, 263)`]
        "pinned": 0,
    }
    assert answer["groups"][0]["expiryext"] == 60 and answer["groups"][0]["ets"] == 365 * 24 * 3600
    assert mock.backend("groupsget", count=1)["count"] == 1


def test_groupdel_removes_the_group_and_its_memberships(mock):
    users(mock, "1", "2")
    gid = mock.backend("groupadd", group={"name": "g", "members": {"m": "1,2"}})["group"]["gid"]
    assert flat(mock, "groupdel", gid=str(gid))["result"] is True
    assert mock.groups() == [] and mock.backend("groupsget")["groups"] == []
    assert mock.backend("groupgetmembers", gid=gid)["properties"] == ["gid"]
    assert {u["address"] for u in mock.users()} == {"1", "2"}  # the users stay
    gid = mock.backend("groupadd", group={"name": "h"})["group"]["gid"]
    assert mock.backend("groupdel", group={"gid": gid})["result"] is True  # as the PHP helper sends it


def test_groups_are_per_app(mock):
    other = mock.create_app("other", "other-token").token
    users(mock, "1")
    gid = mock.backend("groupadd", group={"name": "mine", "members": {"m": "1"}})["group"]["gid"]
    assert flat(mock, "groupsget", token=other)["groups"] == []
    assert flat(mock, "groupgetmembers", token=other, gid=str(gid))["error"] == "INVALIDVALUE"
    assert flat(mock, "groupdel", token=other, gid=str(gid))["error"] == "INVALIDVALUE"
    assert len(mock.groups()) == 1
    mock.client.delete(f"/_mock/apps/{other}")


def test_deleting_an_app_removes_its_groups(mock):
    other = mock.create_app("other", "other-token").token
    flat(mock, "groupadd", token=other, name="g", m="1")
    assert mock.client.delete(f"/_mock/apps/{other}").status_code == 204
    mock.create_app("other", "other-token")
    assert flat(mock, "groupsget", token=other)["groups"] == []


# --- messages ------------------------------------------------------------------------------------------
def test_message_answers_mid_at_the_top_and_pushes_each_device(mock):
    upload_fcm(mock)
    users(mock, "ann", name="Ann")
    mock.register_device("bob", push_token="bob-1")
    mock.register_device("bob", push_token="bob-2")
    answer = mock.backend("message", message={"from": "ann", "to": "bob", "message": "hello Bob"})
    mid = answer["mid"]
    assert answer == {"op": "message", "result": True, "mid": mid} and isinstance(mid, int)
    record = mock.message(mid)
    pushes = mock.pushes(mid=mid)
    assert sorted(record["pushes"]) == sorted(p["id"] for p in pushes) and len(pushes) == 2
    assert {
        k: record[k] for k in ("from", "to", "gid", "type", "message", "expiry", "scheduled", "skipped")
    } == {
        "from": "ann",
        "to": ["bob"],
        "gid": None,
        "type": 0,
        "message": "hello Bob",
        "expiry": 365 * 24 * 3600,
        "scheduled": False,
        "skipped": [],
    }
    assert record["recipients"] == [
        {"address": "bob", "online": False, "pushes": sorted(p["id"] for p in pushes)}
    ]
    for push in pushes:
        assert push["kind"] == "message" and push["mid"] == mid and push["status"] == "sent"
        data = push["request"]["body"]["message"]["data"]  # background (the default): the text in the data
        assert data["body"] == "hello Bob" and data["title"] == "Ann" and data["mid"] == str(mid)
    assert mock.requests(limit=1)[0]["mid"] == mid


def test_to_is_a_list_reaching_exactly_its_active_users(mock):
    users(mock, "ann", "a", "b", "c")
    for address in ("a", "b", "c"):
        mock.register_device(address)
    mid = mock.backend("message", message={"from": "ann", "to": "a, b,nobody,c", "message": "all"})["mid"]
    record = mock.message(mid)
    assert [r["address"] for r in record["recipients"]] == ["a", "b", "c"]
    assert record["to"] == ["a", "b", "nobody", "c"] and record["skipped"] == ["nobody"]
    assert sorted(p["address"] for p in mock.pushes(mid=mid)) == ["a", "b", "c"]
    [note] = last_diagnosis(mock, "message")
    assert note["field"] == "message.to" and "'nobody'" in note["problem"]
    assert {u["address"] for u in mock.users()} == {"ann", "a", "b", "c"}


# The messaging page's own example, as it is: `to` and `gid` both, `flags` null, `forced` true.
DOC_MESSAGE = {
    "op": "message",
    "message": {
        "from": "me",
        "to": "you,she,he",
        "gid": 111,
        "type": 0,
        "expiry": 3600,
        "flags": None,
        "forced": True,
        "message": "This is my message",
    },
}


def test_the_documentations_messaging_example_is_accepted_as_it_is(mock):
    users(mock, "you", "she", "he")
    for _ in range(110):
        mock.backend("groupadd", group={"name": "filler"})
    gid = mock.backend("groupadd", group={"name": "the group", "members": {"m": "you,she,he"}})["group"][
        "gid"
    ]
    assert gid == 111
    answer = mock.client.post("/backend", json={**DOC_MESSAGE, "token": mock.app_token}).json()
    assert list(answer) == ["op", "result", "mid"] and answer["result"] is True
    record = mock.message(answer["mid"])
    assert record["gid"] == 111 and record["to"] is None and record["expiry"] == 3600  # both: the group
    assert [r["address"] for r in record["recipients"]] == ["you", "she", "he"]
    assert "me" in {u["address"] for u in mock.users()}  # forced: the sender was made a user


@pytest.mark.parametrize("form", ["query", "form"])
def test_message_flat_form(mock, form):
    mock.register_device("bob")
    users(mock, "ann")
    answer = flat(
        mock, "message", form=form, **{"from": "ann", "to": "bob", "msg": "hi", "type": "1", "sig": "x"}
    )
    assert answer["result"] is True and isinstance(answer["mid"], int)
    [record] = mock.messages()
    assert record["message"] == "hi" and record["type"] == 1 and len(record["pushes"]) == 1


def test_group_message_reaches_members_with_cr_but_not_the_sender(mock):
    for address in ("ann", "bob", "cy", "dan"):
        mock.register_device(address)
    gid = mock.backend("groupadd", group={"name": "g", "members": {"m": "ann,bob,cy"}})["group"]["gid"]
    mock.backend("groupeditmembers", gid=gid, m="cy", cr=False)
    # the PHP helper sends an empty `to` for a group message
    answer = flat(mock, "message", **{"from": "ann", "to": "", "gid": str(gid), "msg": "to all"})
    mid = answer["mid"]
    assert sorted(p["address"] for p in mock.pushes(mid=mid)) == ["bob"]
    assert mock.message(mid)["gid"] == gid and mock.message(mid)["to"] is None


def test_online_recipients_get_no_push(mock):
    for address in ("ann", "bob", "cy"):
        mock.register_device(address)
    gid = mock.backend("groupadd", group={"name": "g", "members": {"m": "ann,bob,cy"}})["group"]["gid"]
    mock.set_online("bob", True)
    mid = mock.send_message("ann", gid=gid, message="hi")
    assert [p["address"] for p in mock.pushes(mid=mid)] == ["cy"]
    assert {r["address"]: r["online"] for r in mock.message(mid)["recipients"]} == {"bob": True, "cy": False}
    mid = mock.send_message("ann", "bob", "direct")
    assert mock.pushes(mid=mid) == [] and mock.message(mid)["pushes"] == []
    mock.set_online("bob", False)
    mid = mock.send_message("ann", "bob", "again")
    assert [p["address"] for p in mock.pushes(mid=mid)] == ["bob"]


def test_message_refusals_leave_no_record_and_no_push(mock):
    mock.register_device("bob")
    users(mock, "ann", "off")
    mock.backend("userset", user={"address": "off", "active": False})
    cases = [
        ({"to": "bob", "message": "x"}, "MISSINGPARAMS", ["from"]),
        ({"from": "ann", "message": "x"}, "MISSINGPARAMS", ["to"]),
        ({"from": "ann", "to": "bob"}, "MISSINGPARAMS", ["message"]),
        ({"from": "ann", "to": "bob", "message": ""}, "MISSINGPARAMS", ["message"]),
        ({"from": "ghost", "to": "bob", "message": "x"}, "INVALIDVALUE", ["uid", "from"]),
        ({"from": "ann", "gid": 999, "message": "x"}, "INVALIDVALUE", ["gid"]),
        ({"from": "ann", "to": "nobody,off", "message": "x"}, "INVALIDVALUE", ["to"]),
        ({"from": "ann", "to": "bob", "message": "x", "expiry": "later"}, "BADVALUE", ["expiry"]),
        ({"from": "ann", "to": "bob", "message": "x", "when": -5}, "BADVALUE", ["when"]),
        ({"from": "ann", "to": "bob", "message": {"nested": 1}}, "BADVALUE", ["message"]),
    ]
    for message, error, properties in cases:
        body = mock.backend("message", message=message)
        assert (body["error"], body["properties"]) == (error, properties), message
    assert mock.messages() == [] and mock.pushes() == []


def test_a_url_without_text_is_a_message(mock):
    users(mock, "ann", "bob")
    mid = mock.backend(
        "message", message={"from": "ann", "to": "bob", "url": "https://x/y.png", "title": "Pic"}
    )["mid"]
    assert mock.message(mid)["url"] == "https://x/y.png"


def test_forced_creates_a_sender_that_is_not_a_user(mock):
    mock.register_device("bob")
    body = mock.backend("message", message={"from": "system", "to": "bob", "message": "x"})
    assert body["error"] == "INVALIDVALUE" and body["properties"] == ["uid", "from"]
    assert mock.backend("message", message={"from": "system", "to": "bob", "message": "x", "forced": True})[
        "result"
    ]
    assert "system" in {u["address"] for u in mock.users()}
    assert mock.backend("message", message={"from": "system", "to": "bob", "message": "y"})["result"]
    assert [m["message"] for m in mock.messages()] == ["y", "x"]


def test_a_scheduled_message_is_delivered_when_the_clock_passes_when(mock):
    upload_fcm(mock)
    users(mock, "ann")
    mock.register_device("bob")
    mock.freeze()
    mid = mock.backend("message", message={"from": "ann", "to": "bob", "message": "later", "when": 600})[
        "mid"
    ]
    record = mock.message(mid)
    assert record["scheduled"] is True and record["pushes"] == [] and record["recipients"] == []
    assert mock.pushes(mid=mid) == []
    mock.advance(599)
    assert mock.pushes(mid=mid) == [] and mock.message(mid)["scheduled"] is True
    mock.advance(2)
    [push] = mock.pushes(mid=mid)
    assert push["status"] == "sent" and mock.message(mid)["scheduled"] is False


def test_expiry_0_reaches_online_recipients_only(mock):
    users(mock, "ann")
    mock.register_device("bob")
    mock.register_device("cy")
    mock.set_online("cy", True)
    mid = mock.backend(
        "message", message={"from": "ann", "to": "bob,cy", "message": "now or never", "expiry": 0}
    )["mid"]
    assert mock.pushes(mid=mid) == []
    assert {r["address"]: r["online"] for r in mock.message(mid)["recipients"]} == {"bob": False, "cy": True}


def test_no_fallback_for_a_message_whose_expiry_has_passed(mock):
    users(mock, "ann")
    mock.register_device("bob", responds=False)
    mid = mock.backend("message", message={"from": "ann", "to": "bob", "message": "soon gone", "expiry": 10})[
        "mid"
    ]
    assert len(mock.pushes(mid=mid)) == 1
    mock.advance(31)  # the fallback would come now, but the message expired after 10 s
    assert mock.pushes(kind="fallback") == []


def test_message_pushes_never_count_against_the_test_push_limit(mock):
    mock.register_device("bob")
    mock.backend("useradd", user={"address": "ann"})
    mock.backend("pushset", push={"ratelimit": False})
    for i in range(15):
        mock.send_message("ann", "bob", f"m{i}")
    assert mock.backend("pushtest", push={"address": "bob"})["result"] is True
    assert len(mock.pushes(kind="message")) == 15


def test_message_alert_carries_the_text_and_sound(mock):
    upload_fcm(mock)
    mock.backend("pushset", push={"background": False})
    mock.register_device("bob")
    mock.backend("useradd", user={"address": "ann"})
    mid = mock.send_message("ann", "bob", "look here", title="Subject")
    [push] = mock.pushes(mid=mid)
    message = push["request"]["body"]["message"]
    assert push["push_type"] == "alert"
    assert message["notification"] == {"title": "Subject", "body": "look here"}


def test_message_to_ios_through_apns_with_collapse_and_sound(mock):
    assert mock.upload_credential(cred("apns-development.p12"), "apn")["result"] is True
    mock.backend("pushset", push={"background": False, "collapse": True, "sound": True})
    mock.register_device("bob", platform="ios", sandbox=True)
    mock.backend("useradd", user={"address": "ann", "name": "Ann"})
    mid = mock.send_message("ann", "bob", "hi")
    [push] = mock.pushes(mid=mid)
    request = push["request"]
    assert push["service"] == "apn" and push["status"] == "sent"
    assert request["headers"]["apns-collapse-id"] == "mesibo"
    assert request["body"]["aps"] == {"alert": {"title": "Ann", "body": "hi"}, "sound": "default"}
    assert request["body"]["mesibo"] == {"kind": "message", "mid": mid}


def test_apns_background_message_carries_its_text_beside_aps(mock):
    assert mock.upload_credential(cred("apns-development.p12"), "apn")["result"] is True
    mock.register_device("bob", platform="ios", sandbox=True)
    mock.backend("useradd", user={"address": "ann"})
    mid = mock.send_message("ann", "bob", "quiet")
    [push] = mock.pushes(mid=mid)
    body = push["request"]["body"]
    assert body["aps"] == {"content-available": 1}
    assert body["mesibo"] == {"kind": "message", "title": "ann", "body": "quiet", "mid": mid}


def test_message_pushes_are_throttled_by_ratelimit(mock):
    upload_fcm(mock)
    mock.register_device("bob")
    mock.backend("useradd", user={"address": "ann"})
    first = mock.send_message("ann", "bob", "1")
    second = mock.send_message("ann", "bob", "2")
    assert mock.pushes(mid=first)[0]["status"] == "sent"
    assert mock.pushes(mid=second)[0]["status"] == "throttled"
    mock.advance(6)
    third = mock.send_message("ann", "bob", "3")
    assert mock.pushes(mid=third)[0]["status"] == "sent"


def test_message_pushes_get_injected_faults(mock):
    upload_fcm(mock)
    mock.register_device("bob")
    mock.backend("useradd", user={"address": "ann"})
    mock.inject_fault("UNREGISTERED", address="bob")
    [push] = mock.pushes(mid=mock.send_message("ann", "bob", "x"))
    assert push["status"] == "failed" and push["reason"] == "UNREGISTERED" and push["injected"] is True


def test_a_silent_device_gets_a_fallback_alert_with_the_message(mock):
    upload_fcm(mock)
    mock.register_device("bob", responds=False)
    mock.backend("useradd", user={"address": "ann"})
    mid = mock.send_message("ann", "bob", "are you there")
    [push] = mock.pushes(mid=mid)
    mock.advance(31)
    [fallback] = mock.pushes(kind="fallback")
    assert fallback["mid"] == mid and fallback["follows"] == push["id"] and fallback["push_type"] == "alert"
    notification = fallback["request"]["body"]["message"]["notification"]
    assert notification == {"title": "ann", "body": "are you there"}
    assert sorted(mock.message(mid)["pushes"]) == [push["id"], fallback["id"]]


def test_no_fallback_for_a_message_when_fallback_is_off(mock):
    mock.register_device("bob", responds=False)
    mock.backend("useradd", user={"address": "ann"})
    mock.backend("pushset", push={"fallback": False})
    mock.send_message("ann", "bob", "x")
    mock.advance(31)
    assert mock.pushes(kind="fallback") == []


def test_messages_api_filters_after_limit_and_long_poll(mock):
    users(mock, "ann", "bob")
    gid = mock.backend("groupadd", group={"name": "g", "members": {"m": "ann,bob"}})["group"]["gid"]
    first = mock.send_message("ann", "bob", "1")
    mock.send_message("bob", "ann", "2")
    third = mock.send_message("ann", gid=gid, message="3")
    assert [m["mid"] for m in mock.messages(from_="ann")] == [third, first]
    assert [m["mid"] for m in mock.messages(to="ann")] == [first + 1]
    assert [m["mid"] for m in mock.messages(gid=gid)] == [third]
    assert [m["mid"] for m in mock.messages(after=first, limit=1)] == [third]
    assert mock.messages(token="no-such-app") == []
    assert mock.client.get("/_mock/messages/9999").status_code == 404
    assert mock.client.get("/_mock/messages", params={"limit": 0}).status_code == 422
    empty = mock.client.get("/_mock/messages", params={"after": third, "wait": 0.2}).json()
    assert empty == {"messages": []}
    assert mock.wait_for_messages(from_="bob")[0]["message"] == "2"


def test_message_pushes_reach_the_webhook(mock):
    hook = mock.webhook_receiver(events=["push"])
    mock.register_device("bob")
    users(mock, "ann")
    mid = mock.send_message("ann", "bob", "hooked")
    [event] = hook.wait_for_events(type="push")
    assert event["push"]["kind"] == "message" and event["push"]["mid"] == mid


def test_otp_json_and_flat_and_shown_in_mock(mock):
    code = mock.backend("otp", otp={"address": "1"})["otp"]
    assert len(code) == 6 and code.isdigit()
    again = flat(mock, "otp", addr="1", reuse="1")["otp"]
    assert again == code
    otps = mock.client.get("/_mock/otps", params={"token": mock.app_token}).json()["otps"]
    assert [o["otp"] for o in otps] == [code] and otps[0]["address"] == "1"
    assert mock.backend("otp")["properties"] == ["address"]


def test_users_and_groups_views_in_mock(mock):
    mock.backend("useradd", user={"address": "1", "token": {"appid": "com.example.app"}})
    users(mock, "2")
    gid = mock.backend("groupadd", group={"name": "g", "members": {"m": "1,2"}})["group"]["gid"]
    [group] = mock.groups()
    assert group["gid"] == gid and [m["address"] for m in group["members"]] == ["1", "2"]
    listed = {u["address"]: u for u in mock.users()}
    assert listed["1"]["tokens"][0]["appid"] == "com.example.app" and listed["1"]["tokens"][0]["expires"]
    assert listed["2"]["tokens"] == []
    assert (
        mock.client.put(f"/_mock/apps/{mock.app_token}/users/1/online", json={"online": "x"}).status_code
        == 422
    )
    assert mock.client.put("/_mock/apps/nope/users/1/online", json={"online": True}).status_code == 404


def test_message_pushes_follow_iosfcm_and_forceprod(mock):
    upload_fcm(mock)
    assert mock.upload_credential(cred("apns-universal.p12"), "apn")["result"] is True
    mock.backend("useradd", user={"address": "ann"})
    mock.register_device("bob", platform="ios", sandbox=True, appid="com.example.universal")
    mid = mock.send_message("ann", "bob", "via apns")
    [push] = mock.pushes(mid=mid)
    assert push["service"] == "apn" and push["request"]["url"].startswith(
        "https://api.sandbox.push.apple.com"
    )
    mock.backend("pushset", push={"forceprod": True, "ratelimit": False})
    [push] = mock.pushes(mid=mock.send_message("ann", "bob", "to production"))
    assert push["request"]["url"].startswith("https://api.push.apple.com/3/device/")
    mock.backend("pushset", push={"iosfcm": True})
    [push] = mock.pushes(mid=mock.send_message("ann", "bob", "via fcm"))
    assert push["service"] == "fcm" and push["platform"] == "ios"
    assert push["request"]["body"]["message"]["apns"]["payload"]["mesibo"]["body"] == "via fcm"


def test_the_seed_gives_users_names_and_makes_groups(tmp_path):
    from mesibo_mock.testing import MesiboMock

    seed = tmp_path / "seed.yaml"
    seed.write_text(
        "apps:\n"
        "  - name: demo\n"
        "    token: seeded\n"
        "    users: [{address: '1', name: Ann}, {address: '2', name: Bob}]\n"
        "    groups:\n"
        "      - name: Team\n"
        "        members: ['1', {address: '2', cr: false}, '3']\n"
    )
    with MesiboMock(seed=seed, app_token="seeded") as mock:
        names = {u["address"]: u["name"] for u in mock.backend("usersget")["users"]}
        assert names == {"1": "Ann", "2": "Bob"}  # '3' is no user: skipped, as groupadd skips it
        [group] = mock.groups()
        assert group["name"] == "Team"
        assert [(m["address"], m["cr"]) for m in group["members"]] == [("1", True), ("2", False)]
        mock.reset()  # a reset applies the seed again, once
        assert [g["name"] for g in mock.groups()] == ["Team"]
