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
