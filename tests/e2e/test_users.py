"""SPEC section 4, users, through the real server: every op in its JSON form, in its flat /api.php query
form and form-encoded (with `addr=` and with `address=`, as Mesibo's form-mode PHP helper sends it), the
answers typed as the real backend types them, and the refusals by Mesibo's table."""

from __future__ import annotations

import pytest

from tests.conftest import flat_call

FORMS = ["query", "form"]


def flat(mock, op: str, form: str = "query", **params) -> dict:
    return flat_call(mock, op, form, **params)


# --- useradd ------------------------------------------------------------------------------------------
def test_useradd_by_address_issues_no_token_unless_asked(mock):
    user = mock.backend("useradd", user={"address": "123456", "name": "Ann"})["user"]
    # uid and address only [real: the legacy-form page's answer]; the name is kept all the same
    assert user == {"uid": user["uid"], "address": "123456"} and isinstance(user["uid"], int)
    assert mock.users()[0]["name"] == "Ann"


def test_useradd_with_a_token_object_issues_one(mock):
    user = mock.backend("useradd", user={"address": 123, "token": {"appid": "com.example.app"}})["user"]
    assert user["address"] == "123" and len(user["token"]) >= 16


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", ["addr", "address"])
def test_useradd_flat_with_appid_issues_a_token(mock, form, name):
    answer = flat(mock, "useradd", form, **{name: "123"}, appid="com.example.app", expiry="60", name="Ann")
    assert (
        answer["result"] is True
        and set(answer["user"]) == {"uid", "address", "token"}
        and answer["user"]["token"]
    )
    assert mock.users()[0]["name"] == "Ann"
    assert flat(mock, "useradd", form, **{name: "124"})["user"].get("token") is None
    assert [u["address"] for u in mock.backend("usersget")["users"]] == ["123", "124"]


def test_same_user_and_appid_get_the_same_token_until_it_expires_or_renew(mock):
    ask = {"address": "1", "token": {"appid": "com.example.app", "expiry": 60}}
    first = mock.backend("useradd", user=ask)["user"]["token"]
    assert mock.backend("useradd", user=ask)["user"]["token"] == first
    other_app = mock.backend("useradd", user={"address": "1", "token": {"appid": "com.example.other"}})
    assert other_app["user"]["token"] != first
    renewed = mock.backend("useradd", user={**ask, "token": {**ask["token"], "renew": True}})["user"]["token"]
    assert renewed != first
    assert mock.backend("useradd", user=ask)["user"]["token"] == renewed
    mock.advance(61 * 60)  # past the 60 minutes: a new one
    assert mock.backend("useradd", user=ask)["user"]["token"] != renewed


def test_useradd_by_uid_updates_that_user(mock):
    uid = mock.backend("useradd", user={"address": "7"})["user"]["uid"]
    again = mock.backend("useradd", user={"uid": uid, "name": "Renamed", "flag": 3, "active": False})["user"]
    assert again == {"uid": uid, "address": "7"}
    [user] = mock.backend("usersget")["users"]
    assert user["flag"] == 3 and user["active"] == 0


def test_useradd_takes_flags_as_the_php_helpers_send_it(mock):
    mock.backend("useradd", user={"address": "7", "flags": 5})
    assert mock.backend("usersget")["users"][0]["flag"] == 5


def test_useradd_existing_address_keeps_uid(mock):
    first = mock.backend("useradd", user={"address": "a1"})["user"]
    again = mock.backend("useradd", user={"address": "a1", "name": "Renamed"})["user"]
    assert again["uid"] == first["uid"] and mock.users()[0]["name"] == "Renamed"


def test_useradd_refusals(mock):
    body = mock.backend("useradd", user={"name": "x"})
    assert body["error"] == "MISSINGPARAMS" and body["properties"] == ["uid", "address"]
    body = mock.backend("useradd", user={"uid": 1, "address": "1"})
    assert body["error"] == "BADREQ" and body["properties"] == ["uid", "address"]
    body = mock.backend("useradd", user={"uid": 999})
    assert body["error"] == "INVALIDVALUE" and body["properties"] == ["uid"]
    body = mock.backend("useradd", user={"address": "1", "token": {"expiry": 60}})
    assert body["error"] == "MISSINGPARAMS" and body["properties"] == ["appid"]
    body = mock.backend("useradd", user={"address": "1", "token": {"appid": "x", "expiry": "soon"}})
    assert body["error"] == "BADVALUE" and body["properties"] == ["appid"]
    body = mock.backend("useradd", user={"address": "1", "token": {"appid": "com.x", "expiry": "soon"}})
    assert body["error"] == "BADVALUE" and body["properties"] == ["expiry"]
    assert mock.backend("usersget")["users"] == []  # nothing half-applied


def test_a_profile_nested_too_deep_is_refused_at_the_door(mock):
    profile: dict = {}
    node = profile
    for _ in range(20):
        node["x"] = {}
        node = node["x"]
    body = mock.backend("useradd", user={"address": "1", "profile": profile})
    assert body["error"] == "BADVALUE" and body["properties"] == ["profile"]


@pytest.mark.parametrize("appid", ["123", "1.2.3", "nodots", "", 42])
def test_appid_must_be_dotted_and_non_numeric(mock, appid):
    body = mock.backend("useradd", user={"address": "1", "token": {"appid": appid}})
    if appid == "":
        assert body["error"] == "MISSINGPARAMS" and body["properties"] == ["appid"]
        return
    assert body["error"] == "BADVALUE" and body["code"] == 400 and body["properties"] == ["appid"]
    assert body["cause"].startswith("appid should be non-numeric and dotted (for example, com.example.xyz).")
    assert body["cause"].endswith("pass the same app id to the setAppName API function")
    assert body["action"] == "fix and send correct appid"


@pytest.mark.parametrize("form", FORMS)
def test_appid_rule_in_the_flat_forms_too(mock, form):
    body = flat(mock, "useradd", form, address="1", appid="12345")
    assert body["error"] == "BADVALUE" and body["properties"] == ["appid"]


# --- userset, usertoken --------------------------------------------------------------------------------
def test_userset_answers_the_user_as_usersget_lists_it(mock):
    uid = mock.backend("useradd", user={"address": "5", "token": {"appid": "com.example.app"}})["user"]["uid"]
    answer = mock.backend("userset", user={"uid": uid, "name": "Eve", "profile": {"status": "busy"}})
    [listed] = mock.backend("usersget")["users"]
    assert answer["user"] == listed and listed["name"] == "Eve" and listed["appid"] == "com.example.app"


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", ["addr", "address"])
def test_userset_flat(mock, form, name):
    mock.backend("useradd", user={"address": "5"})
    assert flat(mock, "userset", form, **{name: "5"}, active="0", flag="9", name="Eve")["result"] is True
    [user] = mock.backend("usersget")["users"]
    assert (user["name"], user["active"], user["flag"]) == ("Eve", 0, 9)


def test_userset_removes_tokens(mock):
    mock.backend("useradd", user={"address": "5", "token": {"appid": "com.example.app"}})
    assert mock.backend("usersget")["users"][0]["appid"] == "com.example.app"
    assert mock.backend("userset", user={"address": "5", "token": {"remove": True}})["user"]["appid"] == ""
    assert mock.backend("usersget")["users"][0]["appid"] == ""


def test_userset_refusals(mock):
    body = mock.backend("userset", user={"address": "ghost", "name": "x"})
    assert body["error"] == "INVALIDVALUE" and body["properties"] == ["address"]
    assert mock.backend("userset", user={"name": "x"})["error"] == "MISSINGPARAMS"
    mock.backend("useradd", user={"address": "5"})
    body = mock.backend("userset", user={"address": "5", "profile": "text"})
    assert body["error"] == "BADVALUE" and body["properties"] == ["profile"]


def test_usertoken_answers_uid_address_token_and_appid(mock):
    uid = mock.backend("useradd", user={"address": "5"})["user"]["uid"]
    first = mock.backend("usertoken", user={"uid": uid, "token": {"appid": "com.example.app"}})["user"]
    assert first == {"uid": uid, "address": "5", "token": first["token"], "appid": "com.example.app"}
    assert mock.backend("usertoken", user={"uid": uid})["properties"] == ["appid"]
    body = mock.backend("usertoken", user={"address": "x", "token": {"appid": "a.b"}})
    assert body["error"] == "INVALIDVALUE" and body["properties"] == ["address"]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", ["addr", "address"])
def test_usertoken_flat(mock, form, name):
    mock.backend("useradd", user={"address": "5"})
    first = mock.backend("usertoken", user={"address": "5", "token": {"appid": "com.example.app"}})["user"]
    again = flat(mock, "usertoken", form, **{name: "5"}, appid="com.example.app")["user"]
    assert again["token"] == first["token"] and again["appid"] == "com.example.app"


# --- userdel -------------------------------------------------------------------------------------------
def test_userdel_removes_devices_tokens_and_memberships(mock):
    uid = mock.backend("useradd", user={"address": "1", "token": {"appid": "com.example.app"}})["user"]["uid"]
    mock.register_device("1")
    mock.register_device("2")
    gid = mock.backend("groupadd", group={"name": "g", "members": {"m": "1,2"}})["group"]["gid"]
    assert mock.backend("groupgetmembers", gid=gid)["mcount"] == 2
    assert mock.backend("userdel", user={"uid": uid})["result"] is True
    assert mock.devices("1") == []
    members = mock.backend("groupgetmembers", gid=gid)
    # the membership itself is gone, not only hidden by the join on users
    assert [m["address"] for m in members["members"]] == ["2"] and members["mcount"] == 1
    assert flat(mock, "userdel", "form", address="2")["result"] is True
    assert mock.backend("usersget")["userscount"] == 0
    members = mock.backend("groupgetmembers", gid=gid)
    assert members["members"] == [] and members["mcount"] == 0
    [group] = mock.groups()
    assert group["members"] == []
    # a re-added address starts clean: no token of the old user comes back
    assert mock.backend("useradd", user={"address": "1"})["user"]["uid"] != uid
    assert mock.backend("usersget")["users"][0]["appid"] == ""


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", ["addr", "address"])
def test_userdel_flat(mock, form, name):
    mock.backend("useradd", user={"address": "9"})
    assert flat(mock, "userdel", form, **{name: "9"}) == {
        "op": "userdel",
        "result": True,
        "user": {"uid": 1, "address": "9"},
    }


def test_userdel_refusals(mock):
    assert mock.backend("userdel", user={})["error"] == "MISSINGPARAMS"
    body = mock.backend("userdel", user={"uid": 999})
    assert body["error"] == "INVALIDVALUE" and body["properties"] == ["uid"]
    body = mock.backend("userdel", user={"address": "ghost"})
    assert body["error"] == "INVALIDVALUE" and body["properties"] == ["address"]
    assert flat(mock, "userdel", uid="1", addr="x")["error"] == "BADREQ"


def test_deluser_is_not_an_op(mock):
    mock.backend("useradd", user={"address": "1"})
    body = flat(mock, "deluser", uid="1")
    assert body["error"] == "BADVALUE" and body["code"] == 501 and body["properties"] == ["op"]
    assert len(mock.backend("usersget")["users"]) == 1
    [entry] = mock.requests(op="deluser")
    assert entry["diagnosis"][0]["hint"] == "did you mean 'userdel'?"


# --- usersget ------------------------------------------------------------------------------------------
LISTED_KEYS = [
    "uid",
    "address",
    "name",
    "ipaddr",
    "lastonline",
    "active",
    "pinned",
    "online",
    "flag",
    "token",
    "cts",
    "appid",
]


def test_usersget_answers_the_real_keys_oldest_first_with_counts(mock):
    mock.freeze()
    mock.backend("useradd", user={"address": "1", "name": "A", "token": {"appid": "com.example.app"}})
    mock.backend("useradd", user={"address": "2"})
    answer = mock.backend("usersget")
    assert list(answer) == ["op", "result", "userscount", "count", "users"]
    assert (answer["userscount"], answer["count"]) == (2, 2)
    first, second = answer["users"]
    assert list(first) == LISTED_KEYS
    assert [first["address"], second["address"]] == ["1", "2"]
    assert first == {
        "uid": first["uid"],
        "address": "1",
        "name": "A",
        "ipaddr": "",
        "lastonline": 0,
        "active": 1,
        "pinned": 0,
        "online": 0,
        "flag": 0,
        "token": "",
        "cts": 0,  # [real: the binary selects `0 cts`]
        "appid": "com.example.app",
    }
    assert second["appid"] == "" and second["name"] == ""
    mock.advance(90)
    assert mock.backend("usersget")["users"][0]["lastonline"] == 90  # never online: seconds since created


def test_usersget_filters_by_address_pattern_and_uid(mock):
    for address in ("alice", "alina", "bob", "Al*x"):
        mock.backend("useradd", user={"address": address})
    assert [u["address"] for u in flat(mock, "usersget", addr="al*")["users"]] == ["alice", "alina"]
    assert [u["address"] for u in flat(mock, "usersget", "form", address="al*")["users"]] == [
        "alice",
        "alina",
    ]
    assert [u["address"] for u in mock.backend("usersget", addr="bob")["users"]] == ["bob"]
    assert len(mock.backend("usersget", addr="*")["users"]) == 4
    assert mock.backend("usersget", addr="b")["users"] == []
    assert [u["address"] for u in mock.backend("usersget", user={"address": "*b"})["users"]] == ["bob"]
    uid = mock.backend("usersget", addr="bob")["users"][0]["uid"]
    assert [u["address"] for u in flat(mock, "usersget", uid=str(uid))["users"]] == ["bob"]


def test_usersget_count_defaults_to_and_is_capped_at_20(mock):
    for i in range(25):
        mock.backend("useradd", user={"address": f"u{i}"})
    answer = mock.backend("usersget")
    assert (answer["userscount"], answer["count"], len(answer["users"])) == (25, 20, 20)
    assert answer["users"][0]["address"] == "u0"
    assert len(mock.backend("usersget", count=3)["users"]) == 3
    assert mock.backend("usersget", count=3)["userscount"] == 25
    assert len(mock.backend("usersget", count=500)["users"]) == 20
    assert len(mock.backend("usersget", count=2**64)["users"]) == 20
    assert mock.backend("usersget", count="many")["properties"] == ["count"]


def test_online_state_shows_in_usersget_as_integers_and_seconds(mock):
    mock.backend("useradd", user={"address": "1"})
    mock.freeze()
    mock.set_online("1", True)
    [user] = mock.backend("usersget")["users"]
    assert user["online"] == 1 and user["lastonline"] == 0
    mock.advance(60)
    mock.set_online("1", False)
    mock.advance(45)
    [user] = mock.backend("usersget")["users"]
    assert user["online"] == 0 and user["lastonline"] == 45
