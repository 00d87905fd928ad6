"""Injected faults through /_mock/faults: every name, its real status and body, counts and targets."""

from __future__ import annotations

import pytest

from mesibo_mock.delivery.faults import FAULTS
from tests.e2e.test_delivery import HEX_TOKEN, only_record, upload

APNS = sorted(name for name, kind in FAULTS.items() if kind.service == "apn")
FCM = sorted(name for name, kind in FAULTS.items() if kind.service == "fcm")
EXPECTED_STATUS = {
    **dict.fromkeys(
        [
            "BadCollapseId",
            "BadDeviceToken",
            "BadExpirationDate",
            "BadMessageId",
            "BadPriority",
            "BadTopic",
            "DeviceTokenNotForTopic",
            "DuplicateHeaders",
            "IdleTimeout",
            "InvalidPushType",
            "MissingDeviceToken",
            "MissingTopic",
            "PayloadEmpty",
            "TopicDisallowed",
        ],
        400,
    ),
    **dict.fromkeys(
        [
            "BadCertificate",
            "BadCertificateEnvironment",
            "ExpiredProviderToken",
            "Forbidden",
            "InvalidProviderToken",
            "MissingProviderToken",
        ],
        403,
    ),
    "BadPath": 404,
    "MethodNotAllowed": 405,
    "Unregistered": 410,
    "ExpiredToken": 410,
    "PayloadTooLarge": 413,
    "TooManyProviderTokenUpdates": 429,
    "TooManyRequests": 429,
    "InternalServerError": 500,
    "ServiceUnavailable": 503,
    "Shutdown": 503,
    "INVALID_ARGUMENT": 400,
    "UNREGISTERED": 404,
    "SENDER_ID_MISMATCH": 403,
    "QUOTA_EXCEEDED": 429,
    "UNAVAILABLE": 503,
    "INTERNAL": 500,
    "THIRD_PARTY_AUTH_ERROR": 401,
}


@pytest.fixture
def app(mock):
    upload(mock, "fcm-service-account.json")
    upload(mock, "apns-development.p12")
    mock.backend("pushset", push={"ratelimit": False})
    mock.register_device("1", "android", push_token="fcm-1")
    mock.register_device("2", "ios", push_token=HEX_TOKEN, sandbox=True)
    return mock


def test_the_table_names_every_spec_error():
    assert set(FAULTS) == set(EXPECTED_STATUS)


@pytest.mark.parametrize("name", APNS)
def test_every_apns_reason_answers_with_its_real_status_and_body(app, name):
    app.inject_fault(name)
    record = only_record(app, "2")
    assert (record["status"], record["reason"]) == ("failed", name)
    assert record["response"]["status"] == EXPECTED_STATUS[name]
    body = record["response"]["body"]
    assert body["reason"] == name
    if EXPECTED_STATUS[name] == 410:
        assert isinstance(body["timestamp"], int)
    else:
        assert set(body) == {"reason"}
    assert record["request"] is not None  # the request was made; APNs refused it


@pytest.mark.parametrize("name", FCM)
def test_every_fcm_error_code_answers_with_its_real_status_and_body(app, name):
    app.inject_fault(name)
    record = only_record(app, "1")
    assert (record["status"], record["reason"]) == ("failed", name)
    error = record["response"]["body"]["error"]
    assert record["response"]["status"] == EXPECTED_STATUS[name] == error["code"]
    assert error["message"] and error["status"]
    assert error["details"] == [
        {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": name}
    ]


def test_unknown_fault_name_is_422(mock):
    response = mock.client.post("/_mock/faults", json={"error": "Gremlins"})
    assert response.status_code == 422 and "Gremlins" in response.json()["detail"]
    assert mock.client.get("/_mock/faults").json()["faults"] == []


def test_a_fault_applies_only_to_its_own_service(app):
    app.inject_fault("TooManyRequests")
    assert only_record(app, "1")["status"] == "sent"  # FCM push: untouched
    assert only_record(app, "2")["reason"] == "TooManyRequests"


def test_count_defaults_to_one(app):
    fault = app.inject_fault("INTERNAL")
    assert fault["count"] == 1
    assert only_record(app, "1")["reason"] == "INTERNAL"
    assert only_record(app, "1")["status"] == "sent"
    assert app.client.get("/_mock/faults").json()["faults"] == []


def test_count_n_then_success(app):
    app.inject_fault("UNAVAILABLE", count=2)
    assert [only_record(app, "1")["reason"] for _ in range(3)] == ["UNAVAILABLE", "UNAVAILABLE", None]


def test_null_count_lasts_until_removed(app):
    assert app.inject_fault("QUOTA_EXCEEDED", count=None)["count"] is None
    assert [only_record(app, "1")["reason"] for _ in range(4)] == ["QUOTA_EXCEEDED"] * 4
    assert app.client.delete("/_mock/faults").json()["deleted"] == 1
    assert only_record(app, "1")["status"] == "sent"


def test_fault_by_push_token(app):
    app.register_device("1", "android", push_token="fcm-other")
    app.inject_fault("INTERNAL", push_token="fcm-other", count=None)
    push = app.backend("pushtest", push={"address": "1"})["push"]
    by_device = {app.push(r["id"])["push_token"]: r["reason"] for r in push["results"]}
    assert by_device == {"fcm-1": None, "fcm-other": "INTERNAL"}


def test_fault_by_address(app):
    app.register_device("3", "android", push_token="fcm-3")
    app.inject_fault("INTERNAL", address="3", count=None)
    assert only_record(app, "1")["status"] == "sent"
    assert only_record(app, "3")["reason"] == "INTERNAL"


def test_fault_by_app_token(app):
    app.create_app("other", "other-app")
    app.inject_fault("INTERNAL", token="other-app", count=None)
    assert only_record(app, "1")["status"] == "sent"
    app.inject_fault("SENDER_ID_MISMATCH", token=app.app_token)
    assert only_record(app, "1")["reason"] == "SENDER_ID_MISMATCH"


def test_faults_are_listed_and_deleted_one_by_one(app):
    first = app.inject_fault("Shutdown", address="2")
    app.inject_fault("INTERNAL")
    listed = app.client.get("/_mock/faults").json()["faults"]
    assert [(f["error"], f["service"], f["address"]) for f in listed] == [
        ("Shutdown", "apn", "2"),
        ("INTERNAL", "fcm", None),
    ]
    assert app.client.delete(f"/_mock/faults/{first['id']}").status_code == 204
    assert [f["error"] for f in app.client.get("/_mock/faults").json()["faults"]] == ["INTERNAL"]


def test_a_fault_applies_even_without_credentials(mock):
    mock.register_device("1", "android", push_token="fcm-1")
    mock.register_device("2", "ios", push_token=HEX_TOKEN, sandbox=True)
    mock.inject_fault("UNREGISTERED")
    mock.inject_fault("Unregistered")
    fcm_record, apn_record = only_record(mock, "1"), only_record(mock, "2")
    assert (fcm_record["reason"], fcm_record["response"]["status"]) == ("UNREGISTERED", 404)
    assert fcm_record["request"]["url"] == "https://fcm.googleapis.com/v1/projects/-/messages:send"
    assert (apn_record["reason"], apn_record["response"]["status"]) == ("Unregistered", 410)


def test_a_fault_is_checked_before_the_throttle(app):
    app.backend("pushset", push={"ratelimit": True})
    app.freeze(True)
    assert only_record(app, "1")["status"] == "sent"
    assert only_record(app, "1")["status"] == "throttled"
    app.inject_fault("INTERNAL")
    assert only_record(app, "1")["reason"] == "INTERNAL"


def test_fault_is_checked_before_built_in_checks(app):
    app.register_device("4", "ios", push_token="not-hex", sandbox=True)
    app.inject_fault("ServiceUnavailable")
    assert only_record(app, "4")["reason"] == "ServiceUnavailable"
    assert only_record(app, "4")["reason"] == "BadDeviceToken"


@pytest.mark.parametrize(
    "name, address", [("Unregistered", "2"), ("ExpiredToken", "2"), ("UNREGISTERED", "1")]
)
def test_unregistered_invalidates_the_device_until_it_registers_again(app, name, address):
    app.inject_fault(name)
    assert only_record(app, address)["reason"] == name
    again = only_record(app, address)
    assert (again["status"], again["reason"]) == ("failed", name)
    assert app.devices(address)[0]["invalid"] == name
    device = app.devices(address)[0]
    app.register_device(
        address, device["platform"], push_token=device["push_token"], sandbox=device["sandbox"]
    )
    assert app.devices(address)[0]["invalid"] is None
    assert only_record(app, address)["status"] == "sent"
