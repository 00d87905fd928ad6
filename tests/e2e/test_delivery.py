"""Fake delivery through the real server: routing, rendering, outcomes, payload limits."""

from __future__ import annotations

import datetime as dt

import pytest

from mesibo_mock import samples
from tests.conftest import cred, said

HEX_TOKEN = "a1" * 32


def upload(mock, name: str, data: bytes | None = None) -> dict:
    files = {"file": (name, data if data is not None else cred(name))}
    body = mock.client.post(
        "/backend", data={"op": "pushupload", "token": mock.app_token}, files=files
    ).json()
    assert body["result"] is True, body
    return body["push"]


@pytest.fixture
def app(mock):
    """An app with FCM and a development APN credential, and no throttling."""
    upload(mock, "fcm-service-account.json")
    upload(mock, "apns-development.p12")
    mock.backend("pushset", push={"ratelimit": False})
    return mock


def pushtest(mock, address: str, **push) -> dict:
    body = mock.backend("pushtest", push={"address": address, **push})
    assert body["result"] is True, body
    return body["push"]


def only_record(mock, address: str) -> dict:
    [result] = pushtest(mock, address)["results"]
    return mock.push(result["id"])


# --- FCM ----------------------------------------------------------------------------------------------
def test_android_background_is_a_data_only_fcm_v1_message(app):
    device = app.register_device("1", "android", push_token="fcm-token-1")
    record = only_record(app, "1")
    request, response = record["request"], record["response"]
    assert request["method"] == "POST"
    assert request["url"] == "https://fcm.googleapis.com/v1/projects/mesibo-mock-demo/messages:send"
    assert request["headers"]["Authorization"] == "Bearer [redacted]"
    message = request["body"]["message"]
    assert message["token"] == "fcm-token-1"
    assert "notification" not in message and message["data"]["source"] == "mesibo"
    assert all(isinstance(v, str) for v in message["data"].values())
    assert "collapse_key" not in message["android"] and "apns" not in message
    assert response["status"] == 200
    assert response["body"]["name"].startswith("projects/mesibo-mock-demo/messages/")
    assert (record["service"], record["platform"], record["push_type"], record["kind"]) == (
        "fcm",
        "android",
        "background",
        "test",
    )
    assert (record["status"], record["reason"], record["device"]) == ("sent", None, device["id"])


def test_alert_fcm_message_has_a_notification(app):
    app.backend("pushset", push={"background": False})
    app.register_device("1", "android")
    record = only_record(app, "1")
    assert record["push_type"] == "alert"
    assert set(record["request"]["body"]["message"]["notification"]) == {"title", "body"}


def test_collapse_sets_android_collapse_key(app):
    app.backend("pushset", push={"collapse": True})
    app.register_device("1", "android")
    assert only_record(app, "1")["request"]["body"]["message"]["android"]["collapse_key"]


def test_ios_through_fcm_when_iosfcm_is_on(app):
    app.backend("pushset", push={"iosfcm": True, "collapse": True})
    app.register_device("1", "ios", push_token="ios-fcm-token")
    record = only_record(app, "1")
    assert (record["service"], record["platform"], record["status"]) == ("fcm", "ios", "sent")
    apns_block = record["request"]["body"]["message"]["apns"]
    assert apns_block["headers"]["apns-push-type"] == "background"
    assert apns_block["headers"]["apns-priority"] == "5"
    assert apns_block["headers"]["apns-collapse-id"]
    assert apns_block["payload"]["aps"] == {"content-available": 1}


def test_no_fcm_credentials(mock):
    mock.register_device("1", "android")
    record = only_record(mock, "1")
    assert (record["status"], record["reason"], record["response"]) == ("failed", "NO_FCM_CREDENTIALS", None)
    # what would have been sent, as for a throttled push: a test reads the payload before any upload
    assert record["request"]["url"] == "https://fcm.googleapis.com/v1/projects/-/messages:send"
    assert record["request"]["body"]["message"]["token"] == record["push_token"]


def test_fcm_payload_limit_is_4096_bytes(app):
    app.register_device("1", "android")
    record = only_record_with(app, "1", message="x" * 4100)
    assert (record["status"], record["reason"]) == ("failed", "INVALID_ARGUMENT")
    assert record["response"]["status"] == 400
    assert record["response"]["body"]["error"]["details"][0]["errorCode"] == "INVALID_ARGUMENT"
    assert only_record_with(app, "1", message="x" * 3000)["status"] == "sent"


def only_record_with(mock, address: str, **push) -> dict:
    [result] = pushtest(mock, address, **push)["results"]
    return mock.push(result["id"])


# --- APNs ---------------------------------------------------------------------------------------------
def test_ios_sandbox_device_goes_to_the_sandbox_host(app):
    app.register_device("1", "ios", push_token=HEX_TOKEN, sandbox=True)
    record = only_record(app, "1")
    request, response = record["request"], record["response"]
    assert request["url"] == f"https://api.sandbox.push.apple.com/3/device/{HEX_TOKEN}"
    assert request["headers"] == {
        "apns-topic": "com.example.app",
        "apns-push-type": "background",
        "apns-priority": "5",
    }
    assert request["body"] == {"aps": {"content-available": 1}}
    assert response["status"] == 200 and response["body"] == ""
    assert len(response["headers"]["apns-id"]) == 36
    assert (record["service"], record["status"]) == ("apn", "sent")


def test_alert_aps_with_and_without_sound(app):
    app.backend("pushset", push={"background": False})
    app.register_device("1", "ios", push_token=HEX_TOKEN, sandbox=True)
    record = only_record(app, "1")
    assert record["request"]["headers"]["apns-push-type"] == "alert"
    assert record["request"]["headers"]["apns-priority"] == "10"
    aps = record["request"]["body"]["aps"]
    assert set(aps["alert"]) == {"title", "body"} and "sound" not in aps
    app.backend("pushset", push={"sound": True})
    assert only_record(app, "1")["request"]["body"]["aps"]["sound"] == "default"


def test_apns_collapse_id_only_when_collapse_is_on(app):
    app.register_device("1", "ios", push_token=HEX_TOKEN, sandbox=True)
    assert "apns-collapse-id" not in only_record(app, "1")["request"]["headers"]
    app.backend("pushset", push={"collapse": True})
    assert only_record(app, "1")["request"]["headers"]["apns-collapse-id"]


def test_voip_topic_type_and_priority(app):
    app.register_device("1", "ios", push_token=HEX_TOKEN, sandbox=True, voip=True)
    record = only_record(app, "1")
    headers = record["request"]["headers"]
    assert headers["apns-topic"] == "com.example.app.voip"
    assert headers["apns-push-type"] == "voip" and headers["apns-priority"] == "10"
    assert record["push_type"] == "voip" and record["status"] == "sent"


def test_production_device_with_development_certificate_is_bad_environment(app):
    app.register_device("1", "ios", push_token=HEX_TOKEN, sandbox=False)
    record = only_record(app, "1")
    assert record["request"]["url"].startswith("https://api.push.apple.com/3/device/")
    assert record["response"]["status"] == 403
    assert record["response"]["body"] == {"reason": "BadCertificateEnvironment"}
    assert (record["status"], record["reason"]) == ("failed", "BadCertificateEnvironment")


def test_forceprod_sends_sandbox_builds_to_production(app):
    upload(app, "apns-universal.p12")
    app.backend("pushset", push={"forceprod": True})
    app.register_device("1", "ios", push_token=HEX_TOKEN, sandbox=True, appid="com.example.universal")
    record = only_record(app, "1")
    assert record["request"]["url"] == f"https://api.push.apple.com/3/device/{HEX_TOKEN}"
    assert record["status"] == "sent"
    app.register_device("2", "ios", push_token="b2" * 32, sandbox=True)  # development-only certificate
    assert only_record(app, "2")["reason"] == "BadCertificateEnvironment"


def test_credential_is_chosen_by_bundle_id_or_topic(app):
    upload(app, "apns-production.p12", samples.apn_p12("com.other.app", sandbox=False, production=True))
    app.register_device("1", "ios", push_token=HEX_TOKEN, sandbox=False, appid="com.other.app")
    app.register_device("2", "ios", push_token="c3" * 32, sandbox=True, appid="com.example.app.complication")
    app.register_device("3", "ios", push_token="d4" * 32, sandbox=True, appid="com.unknown.app")
    assert only_record(app, "1")["status"] == "sent"
    assert only_record(app, "2")["status"] == "sent"  # found through the certificate's topics
    record = only_record(app, "3")
    assert (record["status"], record["reason"], record["response"]) == ("failed", "NO_APN_CREDENTIALS", None)
    assert record["request"]["url"].endswith("/3/device/" + "d4" * 32) and "aps" in record["request"]["body"]


def test_expired_credential_is_bad_certificate(app):
    upload(
        app,
        "soon.p12",
        samples.apn_p12("com.soon.app", not_after=dt.datetime.now(dt.UTC) + dt.timedelta(days=2)),
    )
    app.register_device("1", "ios", push_token=HEX_TOKEN, sandbox=True, appid="com.soon.app")
    app.advance(3 * 86400)
    record = only_record(app, "1")
    assert record["response"]["status"] == 403 and record["response"]["body"] == {"reason": "BadCertificate"}


def test_non_hex_token_is_bad_device_token(app):
    app.register_device("1", "ios", push_token="not-hex-at-all", sandbox=True)
    record = only_record(app, "1")
    assert record["response"]["status"] == 400 and record["response"]["body"] == {"reason": "BadDeviceToken"}
    assert "apns-id" in record["response"]["headers"]


def test_apns_payload_limits_4096_and_5120_for_voip(app):
    app.register_device("1", "ios", push_token=HEX_TOKEN, sandbox=True, voip=True)
    app.register_device("2", "ios", push_token="e5" * 32, sandbox=True)
    app.backend("pushset", push={"background": False})
    text = "y" * 4500
    voip = only_record_with(app, "1", message=text)
    alert = only_record_with(app, "2", message=text)
    assert voip["status"] == "sent"
    assert (alert["status"], alert["reason"], alert["response"]["status"]) == (
        "failed",
        "PayloadTooLarge",
        413,
    )
    too_big = only_record_with(app, "1", message="z" * 5200)
    assert too_big["reason"] == "PayloadTooLarge"


def test_pushtest_lists_one_result_per_device(app):
    a = app.register_device("9", "android")
    i = app.register_device("9", "ios", push_token=HEX_TOKEN, sandbox=True)
    push = pushtest(app, "9")
    assert push["address"] == "9"
    assert [
        (r["device"], r["service"], r["platform"], r["status"], r["reason"]) for r in push["results"]
    ] == [
        (a["id"], "fcm", "android", "sent", None),
        (i["id"], "apn", "ios", "sent", None),
    ]
    assert all(isinstance(r["id"], int) for r in push["results"])


def test_pushtest_unknown_user_or_no_device_is_invalidvalue(app):
    body = app.backend("pushtest", push={"address": "nobody"})
    assert body["error"] == "INVALIDVALUE" and body["properties"] == ["address"]
    assert "is not a user of this app" in said(app)
    app.backend("useradd", user={"address": "lonely"})
    body = app.backend("pushtest", push={"address": "lonely"})
    assert body["error"] == "INVALIDVALUE" and body["properties"] == ["address"]
    assert "no registered device" in said(app)
    assert app.backend("pushtest", push={})["properties"] == ["address"]


def test_each_push_is_logged_as_one_readable_line():
    from mesibo_mock.testing import MesiboMock

    with MesiboMock(subprocess=True, log_level="info") as mock:
        mock.register_device("321", "android")
        mock.backend("pushtest", push={"address": "321"})
        lines = [line for line in mock.logs().splitlines() if "push #1 " in line]
    assert len(lines) == 1
    for part in (
        "app=default",
        "address=321",
        "service=fcm",
        "type=background",
        "status=failed",
        "reason=NO_FCM_CREDENTIALS",
    ):
        assert part in lines[0]
