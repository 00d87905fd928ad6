"""Every mistake a newcomer makes gets a cause that names it (issue: quiet or misleading answers)."""

from __future__ import annotations

import json
import subprocess

from tests.conftest import cred, said


def upload(mock, name: str, content: bytes, **extra) -> dict:
    data = {"op": "pushupload", "token": mock.app_token, **extra}
    return mock.client.post("/backend", data=data, files={"file": (name, content)}).json()


def test_a_misspelt_pushset_key_is_ignored_and_diagnosed_in_the_journal_and_the_log(server):
    server.reset()
    before = server.logs()
    answer = server.backend("pushset", push={"sund": False, "sound": True})
    assert answer["result"] is True and answer["push"]["sound"] is True and "sund" not in answer["push"]
    assert (
        said(server)
        == "'push.sund' is not a field of pushset: ignored, as Mesibo ignores it (did you mean 'push.sound'?)"
    )
    line = next(line for line in server.logs()[len(before) :].splitlines() if "sund" in line)
    assert line.endswith(said(server))  # the same text ends the request's log line


def test_a_file_sent_as_a_form_field_says_so(mock):
    """curl -d file=@x.json sends the text '@x.json', not the file."""
    done = subprocess.run(
        ["curl", "-s", mock.backend_url, "-d", "op=pushupload", "-d", f"token={mock.app_token}",
         "-d", "file=@fixtures/creds/fcm-service-account.json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    body = json.loads(done.stdout)
    assert body["error"] == "MISSINGPARAMS" and body["properties"] == ["file"]
    assert "arrived as the text '@fixtures/creds/fcm-service-account.json'" in said(mock)
    assert "-F file=@path" in said(mock)


def test_a_p12_sent_as_fcm_says_it_is_an_apn_certificate(mock):
    body = upload(mock, "apns-development.p12", cred("apns-development.p12"), type="fcm")
    assert body["error"] == "BADVALUE" and body["properties"] == ["file"]
    assert "PKCS#12" in said(mock) and "type=apn" in said(mock)
    assert "codec" not in said(mock)


def test_google_services_json_is_recognised_as_the_wrong_file(mock):
    client_config = {
        "project_info": {"project_number": "1", "project_id": "demo", "storage_bucket": "demo.appspot.com"},
        "client": [{"client_info": {"mobilesdk_app_id": "1:1:android:1"}, "api_key": [{"current_key": "x"}]}],
        "configuration_version": "1",
    }
    body = upload(mock, "google-services.json", json.dumps(client_config).encode())
    assert body["error"] == "BADVALUE" and "google-services.json" in said(mock)
    assert "Service accounts" in said(mock) and "found null" not in said(mock)


def test_the_test_push_limit_names_its_setting_onprem_and_the_clock_and_the_clock_lifts_it():
    """After a few pushtests in cloud mode the limit answers RATELIMITED; the way out is in the
    journal and the log (Mesibo's envelope keeps Mesibo's own text)."""
    from mesibo_mock.errors import TESTPUSH_LIMIT_CAUSE
    from mesibo_mock.testing import MesiboMock

    with MesiboMock(subprocess=True, env={"TESTPUSH_LIMIT": "2/3600"}) as mock:
        mock.register_device("1", "android")
        assert [mock.backend("pushtest", push={"address": "1"})["result"] for _ in range(2)] == [True, True]
        before = mock.logs()
        answer = mock.backend("pushtest", push={"address": "1"})
        assert answer["error"] == "RATELIMITED" and answer["cause"] == TESTPUSH_LIMIT_CAUSE
        diagnosis = said(mock)
        assert "2 per 3600 s" in diagnosis and f"retry in {answer['retry_after']} s" in diagnosis
        for way_out in ("MESIBO_MOCK_TESTPUSH_LIMIT", "--mode onprem", "POST /_mock/clock"):
            assert way_out in diagnosis
        assert "MESIBO_MOCK_TESTPUSH_LIMIT" in mock.logs()[len(before) :]
        mock.advance(answer["retry_after"])  # the hint followed
        assert mock.backend("pushtest", push={"address": "1"})["result"] is True


def test_a_flat_address_on_pushtest_points_at_push_address(mock):
    mock.register_device("1", "android")
    for flat in ("address", "to"):
        answer = mock.client.post(
            "/backend", data={"op": "pushtest", "token": mock.app_token, flat: "1"}
        ).json()
        assert answer["error"] == "MISSINGPARAMS" and answer["properties"] == ["push"]
        assert f"'{flat}' is not a field of pushtest" in said(mock)
        assert "did you mean 'push.address'?" in said(mock)
    answer = mock.client.post(
        "/backend", data={"op": "pushtest", "token": mock.app_token, "push.address": "1"}
    )
    assert answer.json()["result"] is True


def test_a_service_account_renamed_p12_says_what_it_looks_like(mock):
    body = upload(mock, "renamed.p12", cred("fcm-service-account.json"))
    assert body["error"] == "BADVALUE" and body["properties"] == ["file"]
    assert "looks like an FCM service-account JSON" in said(mock) and "type=fcm" in said(mock)
