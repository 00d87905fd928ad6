"""/_mock: apps, devices, clock, reset, list shapes, errors."""

from __future__ import annotations

import datetime as dt

from tests.conftest import DEFAULT_OPTIONS


def test_health(mock):
    body = mock.client.get("/_mock/health").json()
    assert body["status"] == "ok" and body["mode"] == "cloud" and body["version"]


def test_apps_list_create_get_delete(mock):
    created = mock.client.post("/_mock/apps", json={"name": "second", "token": "tok-2"})
    assert created.status_code == 201
    assert created.json() == {
        "name": "second",
        "token": "tok-2",
        "push": DEFAULT_OPTIONS,
        "credentials": {"fcm": None, "apn": []},
        "debug": None,
        "webhook": None,
        "disabled": None,
        "addresses": [],
        "uacs": [],
    }
    assert [a["token"] for a in mock.apps()] == [mock.app_token, "tok-2"]
    assert mock.app("tok-2")["name"] == "second"
    assert mock.client.delete("/_mock/apps/tok-2").status_code == 204
    assert mock.client.get("/_mock/apps/tok-2").status_code == 404


def test_app_created_without_token_gets_a_random_one(mock):
    token = mock.client.post("/_mock/apps", json={"name": "r"}).json()["token"]
    assert len(token) >= 32
    assert mock.backend("usersget")["result"] is True


def test_duplicate_app_token_is_409(mock):
    response = mock.client.post("/_mock/apps", json={"name": "again", "token": mock.app_token})
    assert response.status_code == 409 and "detail" in response.json()


def test_bad_app_body_is_422(mock):
    assert mock.client.post("/_mock/apps", json={"name": "", "token": "x"}).status_code == 422
    assert mock.client.post("/_mock/apps", json={"name": "n", "token": "sp ace"}).status_code == 422
    assert (
        mock.client.post(
            "/_mock/apps", content=b"{nope", headers={"content-type": "application/json"}
        ).status_code
        == 422
    )


def test_register_device_creates_user_and_returns_id(mock):
    response = mock.client.post(
        f"/_mock/apps/{mock.app_token}/devices",
        json={
            "address": 555,
            "platform": "iOS",
            "appid": "com.example.app",
            "push_token": "ab" * 32,
            "voip": True,
            "sandbox": True,
        },
    )
    assert response.status_code == 201
    device = response.json()
    assert device["address"] == "555" and device["platform"] == "ios" and device["voip"] is True
    assert device["sandbox"] is True and device["responds"] is True and isinstance(device["id"], int)
    assert [u["address"] for u in mock.backend("usersget")["users"]] == ["555"]


def test_register_same_push_token_updates_the_device(mock):
    first = mock.register_device("1", push_token="same", responds=True)
    second = mock.register_device("2", push_token="same", responds=False)
    assert second["id"] == first["id"]
    assert second["address"] == "2" and second["responds"] is False
    assert len(mock.devices()) == 1


def test_list_devices_by_address_and_delete(mock):
    a = mock.register_device("1")
    mock.register_device("2")
    assert [d["id"] for d in mock.devices("1")] == [a["id"]]
    assert mock.client.delete(f"/_mock/apps/{mock.app_token}/devices/{a['id']}").status_code == 204
    assert mock.client.delete(f"/_mock/apps/{mock.app_token}/devices/{a['id']}").status_code == 404
    assert [d["address"] for d in mock.devices()] == ["2"]


def test_bad_device_bodies_are_422(mock):
    url = f"/_mock/apps/{mock.app_token}/devices"
    assert (
        mock.client.post(
            url, json={"address": "1", "platform": "windows", "appid": "a", "push_token": "t"}
        ).status_code
        == 422
    )
    assert mock.client.post(url, json={"address": "1", "platform": "ios"}).status_code == 422
    assert (
        mock.client.post(
            "/_mock/apps/nope/devices",
            json={"address": "1", "platform": "ios", "appid": "a", "push_token": "t"},
        ).status_code
        == 404
    )


def test_clock_advance_set_freeze_real(mock):
    start = dt.datetime.fromisoformat(mock.clock()["now"].replace("Z", "+00:00"))
    moved = dt.datetime.fromisoformat(mock.advance(7200)["now"].replace("Z", "+00:00"))
    assert 7199 <= (moved - start).total_seconds() <= 7260
    frozen = mock.freeze(True)
    assert frozen["frozen"] is True and mock.clock()["now"] == frozen["now"]
    assert mock.set_clock("2031-05-06T07:08:09Z")["now"] == "2031-05-06T07:08:09.000Z"
    assert mock.advance(1)["now"] == "2031-05-06T07:08:10.000Z"
    back = mock.real_time()
    assert back["frozen"] is False and abs(back["offset"]) < 5


def test_clock_refuses_bad_bodies(mock):
    assert mock.client.post("/_mock/clock", json={}).status_code == 422
    assert mock.client.post("/_mock/clock", json={"advance": 1, "freeze": True}).status_code == 422
    assert mock.client.post("/_mock/clock", json={"set": "yesterday"}).status_code == 422
    assert mock.client.post("/_mock/clock", json={"advance": -5}).status_code == 422
    assert mock.client.post("/_mock/clock", json={"real": False}).status_code == 422


def test_clock_drives_timestamps(mock):
    mock.freeze(True)
    mock.set_clock("2030-01-02T03:04:05Z")
    mock.backend("pushset", push={"ratelimit": False})
    mock.register_device("1")
    mock.backend("pushtest", push={"address": "1"})
    assert mock.pushes()[0]["ts"] == "2030-01-02T03:04:05.000Z"


def test_reset_wipes_everything_and_recreates_the_default_app(mock):
    mock.create_app("other", "other-token")
    mock.register_device("1")
    mock.backend("pushset", push={"sound": True})
    mock.advance(1000)
    body = mock.client.post("/_mock/reset", json={}).json()
    assert body["app_token"] == mock.app_token
    assert [a["token"] for a in mock.apps()] == [mock.app_token]
    assert mock.devices() == [] and mock.app()["push"]["sound"] is False
    assert abs(mock.clock()["offset"]) < 5


def test_unknown_push_record_is_404(mock):
    assert mock.client.get("/_mock/pushes/999999").status_code == 404
    assert mock.client.post("/_mock/pushes/999999/ack", json={}).status_code == 404


def test_list_shapes_are_wrapped(mock):
    for path, key in [
        ("/_mock/apps", "apps"),
        (f"/_mock/apps/{mock.app_token}/devices", "devices"),
        ("/_mock/pushes", "pushes"),
        ("/_mock/faults", "faults"),
        ("/_mock/webhooks", "deliveries"),
    ]:
        assert isinstance(mock.client.get(path).json()[key], list), path
