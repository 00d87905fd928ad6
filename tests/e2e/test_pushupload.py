"""pushupload through the real server: every accepted and refused credential, and no key ever shown."""

from __future__ import annotations

import datetime as dt
import json
import socket
from pathlib import Path

import pytest

from mesibo_mock import samples
from mesibo_mock.testing import MesiboMock
from tests.conftest import CREDS, cred, said


def upload(mock, filename: str | None, data: bytes | None, **fields) -> dict:
    form = {"op": "pushupload", "token": mock.app_token, **fields}
    files = {"file": (filename, data, "application/octet-stream")} if data is not None else None
    return mock.client.post("/backend", data=form, files=files).json()


def test_fcm_upload_by_extension(mock):
    body = upload(mock, "service-account.json", cred("fcm-service-account.json"))
    assert body["result"] is True
    assert body["push"] == {
        "type": "fcm",
        "project_id": "mesibo-mock-demo",
        "client_email": "firebase-adminsdk-demo@mesibo-mock-demo.iam.gserviceaccount.com",
    }
    assert mock.app()["credentials"]["fcm"] == {
        **{k: body["push"][k] for k in ("project_id", "client_email")},
        "source": "api",
    }


def test_fcm_reupload_replaces(mock):
    upload(mock, "a.json", cred("fcm-service-account.json"))
    upload(mock, "b.json", samples.fcm_service_account("second-project"))
    assert mock.app()["credentials"]["fcm"]["project_id"] == "second-project"


@pytest.mark.parametrize("type_value", ["fcm", "FCM", "Fcm"])
def test_type_overrides_the_extension_in_any_case(mock, type_value):
    body = upload(mock, "credentials.txt", cred("fcm-service-account.json"), type=type_value)
    assert body["result"] is True and body["push"]["type"] == "fcm"


def test_type_apn_overrides_a_json_extension(mock):
    body = upload(mock, "cert.json", cred("apns-development.p12"), type="APN")
    assert body["result"] is True and body["push"]["type"] == "apn"


@pytest.mark.parametrize("name", ["credentials.bin", "cert.pfx", "key.JSONX", "noextension"])
def test_unknown_extension_without_type_is_badvalue_type(mock, name):
    body = upload(mock, name, cred("fcm-service-account.json"))
    assert body["error"] == "BADVALUE" and body["properties"] == ["type"]


def test_extensions_are_recognised_in_any_case(mock):
    assert upload(mock, "SERVICE-ACCOUNT.JSON", cred("fcm-service-account.json"))["push"]["type"] == "fcm"


def test_bad_type_value_is_badvalue_type(mock):
    body = upload(mock, "x.json", cred("fcm-service-account.json"), type="gcm")
    assert body["error"] == "BADVALUE" and body["properties"] == ["type"]


def test_no_file_part_is_missingparams_file(mock):
    body = upload(mock, None, None)
    assert body["error"] == "MISSINGPARAMS" and body["properties"] == ["file"]


def test_file_part_without_a_name_is_missingparams_file(mock):
    # What a browser sends when no file was chosen: a part with filename="" and no content.
    boundary = "XyZ"
    raw = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="op"\r\n\r\npushupload\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="token"\r\n\r\n{mock.app_token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename=""\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n\r\n--{boundary}--\r\n"
    ).encode()
    body = mock.client.post(
        "/backend", content=raw, headers={"content-type": f"multipart/form-data; boundary={boundary}"}
    ).json()
    assert body["error"] == "MISSINGPARAMS" and body["properties"] == ["file"]


def test_file_given_as_plain_text_field_is_missingparams(mock):
    body = mock.client.post(
        "/backend", data={"op": "pushupload", "token": mock.app_token, "file": "x"}
    ).json()
    assert body["error"] == "MISSINGPARAMS"


def test_empty_named_file_is_badvalue_file(mock):
    body = upload(mock, "empty.json", b"")
    assert body["error"] == "BADVALUE" and body["properties"] == ["file"]


@pytest.mark.parametrize(
    "change, words",
    [
        ({"type": "user"}, "service_account"),
        ({"project_id": ""}, "project_id"),
        ({"client_email": None}, "client_email"),
        ({"token_uri": None}, "token_uri"),
        ({"private_key": "not a key"}, "PEM private key"),
    ],
)
def test_fcm_defects_are_badvalue_with_a_specific_cause(mock, change, words):
    account = json.loads(cred("fcm-service-account.json"))
    account.update(change)
    account = {k: v for k, v in account.items() if v is not None}
    body = upload(mock, "sa.json", json.dumps(account).encode())
    assert body["error"] == "BADVALUE" and body["properties"] == ["file"]
    assert words in said(mock)


def test_fcm_file_that_is_not_json(mock):
    body = upload(mock, "sa.json", b"\x00\x01binary")
    assert body["error"] == "BADVALUE" and "not valid JSON" in said(mock)


@pytest.mark.parametrize(
    "name, bundle, sandbox, production",
    [
        ("apns-development.p12", "com.example.app", True, False),
        ("apns-production.p12", "com.example.app", False, True),
        ("apns-universal.p12", "com.example.universal", True, True),
        ("apns-legacy-rc2.p12", "com.example.legacy", True, False),
        ("apns-cn-only.p12", "com.example.cnonly", True, False),
    ],
)
def test_apn_certificates_are_read(mock, name, bundle, sandbox, production):
    push = upload(mock, name, cred(name))["push"]
    assert push["type"] == "apn" and push["bundle"] == bundle
    assert (push["sandbox"], push["production"]) == (sandbox, production)
    assert push["expiry"].endswith("Z") and push["expiry"].startswith("2046-01-01")


def test_apn_topics_come_from_apples_extension(mock):
    push = upload(mock, "dev.p12", cred("apns-development.p12"))["push"]
    assert push["topics"] == ["com.example.app", "com.example.app.voip", "com.example.app.complication"]
    assert push["team_id"] == "ABCDE12345"


@pytest.mark.parametrize(
    "name, words",
    [
        ("apns-password.p12", "password-protected"),
        ("apns-expired.p12", "expired"),
        ("fcm-service-account.json", "looks like an FCM service-account JSON"),
    ],
)
def test_apn_refusals_say_which(mock, name, words):
    body = upload(mock, "cert.p12", cred(name))
    assert body["error"] == "BADVALUE" and body["properties"] == ["file"]
    assert words in said(mock)


def test_apn_expiry_is_judged_by_the_emulator_clock(mock):
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    data = samples.apn_p12("com.example.soon", not_after=soon)
    mock.advance(31 * 86400)
    body = upload(mock, "soon.p12", data)
    assert body["error"] == "BADVALUE" and "expired" in said(mock)
    mock.real_time()
    assert upload(mock, "soon.p12", data)["result"] is True


def test_several_apn_credentials_keyed_by_bundle_and_reupload_replaces(mock):
    upload(mock, "a.p12", cred("apns-development.p12"))
    upload(mock, "b.p12", cred("apns-universal.p12"))
    upload(mock, "c.p12", cred("apns-production.p12"))  # same bundle as a.p12: replaces it
    apn = {c["bundle"]: c for c in mock.app()["credentials"]["apn"]}
    assert sorted(apn) == ["com.example.app", "com.example.universal"]
    assert apn["com.example.app"]["production"] is True and apn["com.example.app"]["sandbox"] is False


def test_api_upload_takes_precedence_over_seed(tmp_path):
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        "apps:\n  - name: s\n    token: seeded\n"
        f"    credentials: {{fcm: {CREDS / 'fcm-service-account.json'}, apn: [{CREDS / 'apns-development.p12'}]}}\n"
    )
    with MesiboMock(subprocess=True, seed=seed, app_token="seeded") as mock:
        assert mock.app()["credentials"]["fcm"]["source"] == "seed"
        upload(mock, "other.json", samples.fcm_service_account("api-project"))
        upload(mock, "prod.p12", cred("apns-production.p12"))
        creds = mock.app()["credentials"]
        assert creds["fcm"] == {
            "project_id": "api-project",
            "client_email": creds["fcm"]["client_email"],
            "source": "api",
        }
        [apn] = creds["apn"]
        assert apn["source"] == "api" and apn["production"] is True


@pytest.fixture(scope="module")
def small_limit():
    with MesiboMock(subprocess=True, env={"MAX_UPLOAD_BYTES": "2600"}, log_level="debug") as mock:
        yield mock


def test_upload_over_the_limit_is_413_badpayload(small_limit):
    big = cred("apns-universal.p12")  # 2715 bytes
    assert len(big) > 2600
    response = small_limit.client.post(
        "/backend",
        data={"op": "pushupload", "token": small_limit.app_token},
        files={"file": ("big.p12", big)},
    )
    assert response.status_code == 413
    assert response.json()["error"] == "BADPAYLOAD"
    under = cred("apns-cn-only.p12")
    assert len(under) < 2600
    assert upload(small_limit, "cn.p12", under)["result"] is True


def test_huge_upload_is_refused_before_it_is_read(small_limit):
    """Declare 100 MB, send 1 KB: the 413 arrives without the server waiting for the rest."""
    with socket.create_connection((small_limit.host, small_limit.port), timeout=5) as conn:
        conn.sendall(
            b"POST /backend HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            b"Content-Length: 100000000\r\n\r\n" + b"x" * 1024
        )
        answer = b""
        while b"}" not in answer:  # headers and body may arrive in separate segments
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413")
    assert b"BADPAYLOAD" in answer


def test_private_keys_never_appear_in_responses_views_or_logs(small_limit):
    small_limit.reset()
    account = samples.fcm_service_account("secret-check")
    key_lines = json.loads(account)["private_key"].splitlines()[1:4]
    p12 = cred("apns-cn-only.p12")
    seen = [
        small_limit.client.post(
            "/backend",
            data={"op": "pushupload", "token": small_limit.app_token},
            files={"file": ("sa.json", account)},
        ).text,
        small_limit.client.post(
            "/backend",
            data={"op": "pushupload", "token": small_limit.app_token},
            files={"file": ("c.p12", p12)},
        ).text,
        small_limit.client.get(f"/_mock/apps/{small_limit.app_token}").text,
        small_limit.client.get("/_mock/apps").text,
        small_limit.logs(),
    ]
    for text in seen:
        assert "PRIVATE KEY" not in text
        for line in key_lines:
            assert line not in text
    assert "secret-check" in seen[2]  # the redacted view still identifies the credential


def test_credentials_are_parsed_outside_the_server_process(mock):
    """The server never loads OpenSSL's bindings: files are parsed by a short-lived child."""
    assert upload(mock, "dev.p12", cred("apns-development.p12"))["result"] is True
    assert upload(mock, "sa.json", cred("fcm-service-account.json"))["result"] is True
    maps = Path(f"/proc/{mock._proc.pid}/maps").read_text()
    assert "cryptography" not in maps


def test_a_slow_upload_does_not_hold_up_other_requests(mock):
    """The parser runs in a child process while the server keeps answering."""
    import threading

    answers = []
    uploader = threading.Thread(
        target=lambda: answers.append(upload(mock, "dev.p12", cred("apns-development.p12")))
    )
    uploader.start()
    assert mock.backend("usersget")["result"] is True
    uploader.join(timeout=30)
    assert answers[0]["result"] is True
