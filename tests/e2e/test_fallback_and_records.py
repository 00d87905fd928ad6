"""The fallback option (moved by the clock, and in real time) and the push-record API."""

from __future__ import annotations

import threading
import time

import pytest

from mesibo_mock.testing import MesiboMock
from tests.e2e.test_delivery import upload


@pytest.fixture
def app(mock):
    upload(mock, "fcm-service-account.json")
    mock.backend("pushset", push={"ratelimit": False})
    mock.freeze(True)
    return mock


def test_silent_device_gets_an_alert_fallback_when_the_clock_passes_30s(app):
    app.register_device("1", "android", responds=False)
    first = app.backend("pushtest", push={"address": "1"})["push"]["results"][0]
    assert app.push(first["id"])["fallback_due"] is not None
    app.advance(29)
    assert app.pushes(kind="fallback") == []
    app.advance(1)  # the move itself makes the fallback, before the call returns
    [fallback] = app.pushes(kind="fallback")
    assert (fallback["push_type"], fallback["status"], fallback["device"]) == (
        "alert",
        "sent",
        first["device"],
    )
    assert "notification" in fallback["request"]["body"]["message"]
    assert app.push(first["id"])["fallback_due"] is None
    app.advance(3600)
    assert len(app.pushes(kind="fallback")) == 1  # exactly one


def test_a_push_that_failed_is_followed_by_a_fallback_too(mock):
    """The device never got it, so it does not answer: the alert follows all the same."""
    mock.freeze(True)
    mock.register_device("1", "android", responds=False)
    [result] = mock.backend("pushtest", push={"address": "1"})["push"]["results"]
    assert result["reason"] == "NO_FCM_CREDENTIALS"
    mock.advance(30)
    [fallback] = mock.pushes(kind="fallback")
    assert (fallback["push_type"], fallback["reason"]) == ("alert", "NO_FCM_CREDENTIALS")


def test_ack_cancels_the_fallback(app):
    app.register_device("1", "android", responds=False)
    push_id = app.backend("pushtest", push={"address": "1"})["push"]["results"][0]["id"]
    acked = app.ack(push_id)
    assert acked["acked"] is True and acked["fallback_due"] is None
    app.advance(60)
    assert app.pushes(kind="fallback") == []


@pytest.mark.parametrize(
    "options, responds",
    [
        ({}, True),  # a responding device
        ({"fallback": False}, False),  # the option off
        ({"background": False}, False),  # an alert push needs none
    ],
    ids=["responding-device", "fallback-off", "alert-push"],
)
def test_no_fallback(app, options, responds):
    if options:
        app.backend("pushset", push=options)
    app.register_device("1", "android", responds=responds)
    app.backend("pushtest", push={"address": "1"})
    app.advance(60)
    assert app.pushes(kind="fallback") == []


def test_fallback_seconds_setting_and_real_time_firing():
    """With a short wait the fallback comes by itself, on the server's own timer."""
    with MesiboMock(env={"FALLBACK_SECONDS": "0.3"}) as mock:
        upload(mock, "fcm-service-account.json")
        mock.register_device("1", "android", responds=False)
        mock.backend("pushtest", push={"address": "1"})
        [fallback] = mock.wait_for_pushes(kind="fallback", timeout=10)
        assert fallback["kind"] == "fallback"


def test_fallback_survives_a_restart(tmp_path):
    db = str(tmp_path / "f.db")
    with MesiboMock(subprocess=True, db=db) as mock:
        upload(mock, "fcm-service-account.json")
        mock.register_device("1", "android", responds=False)
        mock.backend("pushtest", push={"address": "1"})
    with MesiboMock(subprocess=True, db=db) as mock:
        mock.advance(31)
        assert len(mock.pushes(kind="fallback")) == 1


# --- the record API -----------------------------------------------------------------------------------
def test_records_have_every_field(app):
    app.register_device("1", "android")
    app.backend("pushtest", push={"address": "1"})
    [record] = app.pushes()
    assert {
        "id",
        "ts",
        "app",
        "address",
        "device",
        "platform",
        "service",
        "push_type",
        "kind",
        "status",
        "reason",
        "debug",
        "request",
        "response",
    } <= set(record)
    assert record["app"] == app.app_token and record["debug"] is False


def test_filters_after_limit_and_newest_first(app):
    upload(app, "apns-development.p12")
    app.register_device("1", "android", push_token="p1")
    app.register_device("2", "ios", push_token="ab" * 32, sandbox=True)
    app.register_device("3", "ios", push_token="not-hex", sandbox=True)
    for address in ("1", "2", "3", "1"):
        app.backend("pushtest", push={"address": address})
    everything = app.pushes()
    assert [p["id"] for p in everything] == sorted((p["id"] for p in everything), reverse=True)
    assert [p["address"] for p in everything] == ["1", "3", "2", "1"]
    assert {p["address"] for p in app.pushes(address="1")} == {"1"}
    assert {p["service"] for p in app.pushes(service="apn")} == {"apn"}
    assert [p["address"] for p in app.pushes(status="failed")] == ["3"]
    assert [p["address"] for p in app.pushes(push_token="p1")] == ["1", "1"]
    assert app.pushes(kind="fallback") == []
    assert len(app.pushes(token=app.app_token)) == 4 and app.pushes(token="other") == []
    assert [p["id"] for p in app.pushes(after=everything[2]["id"])] == [
        everything[0]["id"],
        everything[1]["id"],
    ]
    assert len(app.pushes(limit=1)) == 1


def test_bad_filters_are_422(mock):
    for params in ({"service": "sms"}, {"status": "lost"}, {"limit": 0}, {"wait": -1}, {"after": "x"}):
        assert mock.client.get("/_mock/pushes", params=params).status_code == 422, params


def test_wait_returns_as_soon_as_a_matching_record_exists(app):
    app.register_device("1", "android")
    box = {}

    def poll():
        started = time.monotonic()
        box["pushes"] = app.client.get("/_mock/pushes", params={"address": "1", "wait": 20}).json()["pushes"]
        box["took"] = time.monotonic() - started

    waiter = threading.Thread(target=poll)
    waiter.start()
    app.backend("pushtest", push={"address": "1"})
    waiter.join(timeout=25)
    assert len(box["pushes"]) == 1 and box["took"] < 15


def test_wait_gives_up_empty_when_nothing_comes(app):
    assert app.client.get("/_mock/pushes", params={"address": "nobody", "wait": 0.2}).json() == {"pushes": []}


def test_clear_pushes_by_app_and_all(app):
    app.register_device("1", "android")
    app.backend("pushtest", push={"address": "1"})
    other = app.create_app("o", "o-token").token
    app.register_device("1", "android", token=other)
    app.client.post("/backend", json={"op": "pushtest", "token": other, "push": {"address": "1"}})
    assert app.client.delete("/_mock/pushes", params={"token": other}).json() == {"deleted": 1}
    assert [p["app"] for p in app.pushes()] == [app.app_token]
    assert app.client.delete("/_mock/pushes").json() == {"deleted": 1}
    assert app.pushes() == []


def test_ids_keep_growing_after_a_clear(app):
    app.register_device("1", "android")
    app.backend("pushtest", push={"address": "1"})
    last = app.pushes()[0]["id"]
    app.clear_pushes()
    app.backend("pushtest", push={"address": "1"})
    assert app.pushes()[0]["id"] > last
