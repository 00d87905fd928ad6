"""Every mistake a newcomer makes gets a cause that names it (issue: quiet or misleading answers)."""

from __future__ import annotations

import json
import subprocess

from tests.conftest import cred


def upload(mock, name: str, content: bytes, **extra) -> dict:
    data = {"op": "pushupload", "token": mock.app_token, **extra}
    return mock.client.post("/backend", data=data, files={"file": (name, content)}).json()


def test_a_misspelt_pushset_key_is_ignored_and_logged_with_the_known_keys(server):
    server.reset()
    before = server.logs()
    answer = server.backend("pushset", push={"sund": False, "sound": True})
    assert answer["result"] is True and answer["push"]["sound"] is True and "sund" not in answer["push"]
    line = next(line for line in server.logs()[len(before) :].splitlines() if "sund" in line)
    assert "WARNING" in line and "'sund'" in line
    for key in ("background", "fallback", "ratelimit", "collapse", "sound", "forceprod", "iosfcm"):
        assert key in line


def test_a_file_sent_as_a_form_field_says_so(mock):
    """curl -d file=@x.json sends the text '@x.json', not the file."""
    done = subprocess.run(
        ["curl", "-s", mock.backend_url, "-d", "op=pushupload", "-d", f"token={mock.app_token}",
         "-d", "file=@fixtures/creds/fcm-service-account.json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    body = json.loads(done.stdout)
    assert body["error"] == "MISSINGPARAMS" and body["properties"] == ["file"]
    assert "arrived as the text '@fixtures/creds/fcm-service-account.json'" in body["cause"]
    assert "-F file=@path" in body["cause"]


def test_a_p12_sent_as_fcm_says_it_is_an_apn_certificate(mock):
    body = upload(mock, "apns-development.p12", cred("apns-development.p12"), type="fcm")
    assert body["error"] == "BADVALUE" and body["properties"] == ["file"]
    assert "PKCS#12" in body["cause"] and "type=apn" in body["cause"]
    assert "codec" not in body["cause"]


def test_google_services_json_is_recognised_as_the_wrong_file(mock):
    client_config = {
        "project_info": {"project_number": "1", "project_id": "demo", "storage_bucket": "demo.appspot.com"},
        "client": [{"client_info": {"mobilesdk_app_id": "1:1:android:1"}, "api_key": [{"current_key": "x"}]}],
        "configuration_version": "1",
    }
    body = upload(mock, "google-services.json", json.dumps(client_config).encode())
    assert body["error"] == "BADVALUE" and "google-services.json" in body["cause"]
    assert "Service accounts" in body["cause"] and "found null" not in body["cause"]
