"""SPEC section 4, users: every op in its JSON form and in its flat /api.php form, through the real server."""

from __future__ import annotations

import pytest

APPID_CAUSE = "appid should be non-numeric and dotted (for example, com.example.xyz)"


def flat(mock, op: str, **params) -> dict:
    """The flat form older clients send to /api.php (PHP's http_build_query of the parameters)."""
    return mock.client.get("/api.php", params={"op": op, "token": mock.app_token, **params}).json()


# --- useradd ------------------------------------------------------------------------------------------
def test_useradd_by_address_issues_no_token_unless_asked(mock):
    user = mock.backend("useradd", user={"address": "123456", "name": "Ann"})["user"]
    assert isinstance(user["uid"], int) and user["address"] == "123456" and user["name"] == "Ann"
    assert "token" not in user


def test_useradd_with_a_token_object_issues_one(mock):
    user = mock.backend("useradd", user={"address": 123, "token": {"appid": "com.example.app"}})["user"]
    assert user["address"] == "123" and len(user["token"]) >= 16


def test_useradd_flat_with_appid_issues_a_token(mock):
    answer = flat(mock, "useradd", addr="123", appid="com.example.app", expiry="60", name="Ann", sig="x")
    assert answer["result"] is True and answer["user"]["name"] == "Ann" and answer["user"]["token"]
    assert flat(mock, "useradd", addr="124")["user"].get("token") is None


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
    assert again == {"uid": uid, "address": "7", "name": "Renamed"}
    [user] = mock.backend("usersget")["users"]
    assert user["flag"] == 3 and user["active"] is False


def test_useradd_existing_address_keeps_uid(mock):
    first = mock.backend("useradd", user={"address": "a1"})["user"]
    again = mock.backend("useradd", user={"address": "a1", "name": "Renamed"})["user"]
    assert again["uid"] == first["uid"] and again["name"] == "Renamed"


def test_useradd_refusals(mock):
    body = mock.backend("useradd", user={"name": "x"})
    assert body["error"] == "MISSINGPARAMS" and body["properties"] == ["uid", "address"]
    body = mock.backend("useradd", user={"uid": 1, "address": "1"})
    assert body["error"] == "BADREQ" and body["properties"] == ["uid", "address"]
    body = mock.backend("useradd", user={"uid": 999})
    assert body["error"] == "BADVALUE" and body["properties"] == ["uid"]
    body = mock.backend("useradd", user={"address": "1", "token": {"expiry": 60}})
    assert body["error"] == "MISSINGPARAMS" and body["properties"] == ["appid"]
    body = mock.backend("useradd", user={"address": "1", "token": {"appid": "x", "expiry": "soon"}})
    assert body["error"] == "BADVALUE" and body["properties"] == ["appid"]
    body = mock.backend("useradd", user={"address": "1", "token": {"appid": "com.x", "expiry": "soon"}})
    assert body["error"] == "BADVALUE" and body["properties"] == ["expiry"]
    assert mock.backend("usersget")["users"] == []  # nothing half-applied


@pytest.mark.parametrize("appid", ["123", "1.2.3", "nodots", "", 42])
def test_appid_must_be_dotted_and_non_numeric(mock, appid):
    body = mock.backend("useradd", user={"address": "1", "token": {"appid": appid}})
    if appid == "":
        assert body["error"] == "MISSINGPARAMS" and body["properties"] == ["appid"]
        return
    assert body["error"] == "BADVALUE" and body["code"] == 400 and body["properties"] == ["appid"]
    assert body["cause"] == APPID_CAUSE and body["action"] == "fix and send correct appid"


def test_appid_rule_in_the_flat_form_too(mock):
    body = flat(mock, "useradd", addr="1", appid="12345")
    assert body["error"] == "BADVALUE" and body["properties"] == ["appid"]


# --- userset, usertoken --------------------------------------------------------------------------------
def test_userset_json_and_flat(mock):
    uid = mock.backend("useradd", user={"address": "5"})["user"]["uid"]
    answer = mock.backend("userset", user={"uid": uid, "name": "Eve", "profile": {"status": "busy"}})
    assert answer["result"] is True and answer["user"]["profile"] == {"status": "busy"}
    assert flat(mock, "userset", addr="5", active="0", flag="9")["result"] is True
    [user] = mock.backend("usersget")["users"]
    assert (user["name"], user["active"], user["flag"], user["profile"]) == (
        "Eve",
        False,
        9,
        {"status": "busy"},
    )


def test_userset_removes_tokens(mock):
    mock.backend("useradd", user={"address": "5", "token": {"appid": "com.example.app"}})
    assert mock.backend("usersget")["users"][0]["appid"] == "com.example.app"
    mock.backend("userset", user={"address": "5", "token": {"remove": True}})
    assert mock.backend("usersget")["users"][0]["appid"] is None


def test_userset_refusals(mock):
    assert mock.backend("userset", user={"address": "ghost", "name": "x"})["error"] == "BADVALUE"
    assert mock.backend("userset", user={"name": "x"})["error"] == "MISSINGPARAMS"
    mock.backend("useradd", user={"address": "5"})
    body = mock.backend("userset", user={"address": "5", "profile": "text"})
    assert body["error"] == "BADVALUE" and body["properties"] == ["profile"]


def test_usertoken_json_and_flat(mock):
    uid = mock.backend("useradd", user={"address": "5"})["user"]["uid"]
    first = mock.backend("usertoken", user={"uid": uid, "token": {"appid": "com.example.app"}})["user"]
    assert first["uid"] == uid and first["token"]
    again = flat(mock, "usertoken", addr="5", appid="com.example.app")["user"]
    assert again["token"] == first["token"]
    assert mock.backend("usertoken", user={"uid": uid})["properties"] == ["appid"]
    assert mock.backend("usertoken", user={"address": "x", "token": {"appid": "a.b"}})["error"] == "BADVALUE"


# --- userdel -------------------------------------------------------------------------------------------
def test_userdel_by_uid_and_by_address_removes_devices_tokens_and_memberships(mock):
    uid = mock.backend("useradd", user={"address": "1", "token": {"appid": "com.example.app"}})["user"]["uid"]
    mock.register_device("1")
    mock.register_device("2")
    gid = mock.backend("groupadd", group={"name": "g", "members": {"m": "1,2"}})["group"]["gid"]
    assert mock.backend("userdel", user={"uid": uid})["result"] is True
    assert mock.devices("1") == []
    assert [m["address"] for m in mock.backend("groupgetmembers", gid=gid)["members"]] == ["2"]
    assert flat(mock, "userdel", addr="2")["result"] is True
    assert mock.backend("usersget")["users"] == []
    assert mock.backend("groupgetmembers", gid=gid)["members"] == []
    # a re-added address starts clean: no token of the old user comes back
    assert mock.backend("useradd", user={"address": "1"})["user"]["uid"] != uid
    assert mock.backend("usersget")["users"][0]["appid"] is None


def test_userdel_refusals(mock):
    assert mock.backend("userdel", user={})["error"] == "MISSINGPARAMS"
    body = mock.backend("userdel", user={"uid": 999})
    assert body["error"] == "BADVALUE" and body["properties"] == ["uid"]
    body = mock.backend("userdel", user={"address": "ghost"})
    assert body["error"] == "BADVALUE" and body["properties"] == ["address"]
    assert flat(mock, "userdel", uid="1", addr="x")["error"] == "BADREQ"


def test_deluser_is_not_an_op(mock):
    mock.backend("useradd", user={"address": "1"})
    body = flat(mock, "deluser", uid="1")
    assert body["error"] == "BADVALUE" and body["code"] == 501 and body["properties"] == ["op"]
    assert len(mock.backend("usersget")["users"]) == 1


# --- usersget ------------------------------------------------------------------------------------------
def test_usersget_answers_the_spec_fields_newest_first(mock):
    mock.backend("useradd", user={"address": "1", "name": "A", "token": {"appid": "com.example.app"}})
    mock.backend("useradd", user={"address": "2"})
    users = mock.backend("usersget")["users"]
    assert [u["address"] for u in users] == ["2", "1"]
    assert set(users[0]) == {
        "uid",
        "address",
        "name",
        "appid",
        "active",
        "online",
        "lastonline",
        "flag",
        "profile",
    }
    assert users[1]["appid"] == "com.example.app" and users[0]["appid"] is None
    assert users[1]["online"] is False and users[1]["lastonline"] is None


def test_usersget_filters_by_address_pattern_and_uid(mock):
    for address in ("alice", "alina", "bob", "Al*x"):
        mock.backend("useradd", user={"address": address})
    assert [u["address"] for u in flat(mock, "usersget", addr="al*")["users"]] == ["alina", "alice"]
    assert [u["address"] for u in mock.backend("usersget", addr="bob")["users"]] == ["bob"]
    assert len(mock.backend("usersget", addr="*")["users"]) == 4
    assert mock.backend("usersget", addr="b")["users"] == []
    assert [u["address"] for u in mock.backend("usersget", user={"address": "*b"})["users"]] == ["bob"]
    uid = mock.backend("usersget", addr="bob")["users"][0]["uid"]
    assert [u["address"] for u in flat(mock, "usersget", uid=str(uid))["users"]] == ["bob"]


def test_usersget_count_defaults_to_and_is_capped_at_20(mock):
    for i in range(25):
        mock.backend("useradd", user={"address": f"u{i}"})
    assert len(mock.backend("usersget")["users"]) == 20
    assert len(mock.backend("usersget", count=3)["users"]) == 3
    assert len(mock.backend("usersget", count=500)["users"]) == 20
    assert len(mock.backend("usersget", count=2**64)["users"]) == 20
    assert mock.backend("usersget", count="many")["properties"] == ["count"]


def test_online_state_shows_in_usersget(mock):
    mock.backend("useradd", user={"address": "1"})
    mock.freeze()
    mock.set_online("1", True)
    [user] = mock.backend("usersget")["users"]
    assert user["online"] is True and user["lastonline"] == mock.clock()["now"]
    mock.advance(60)
    mock.set_online("1", False)
    [user] = mock.backend("usersget")["users"]
    assert user["online"] is False and user["lastonline"] == mock.clock()["now"]
