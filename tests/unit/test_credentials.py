"""Credential parsing, straight from bytes (the HTTP cases are in tests/e2e/test_pushupload.py)."""

import datetime as dt
import json
import time

import pytest

from mesibo_mock import samples
from mesibo_mock.credentials import CredentialError
from mesibo_mock.credentials.apn import parse_apn
from mesibo_mock.credentials.fcm import parse_fcm
from tests.conftest import cred


def test_fcm_sample_parses():
    parsed = parse_fcm(cred("fcm-service-account.json"))
    assert parsed.project_id == "mesibo-mock-demo"
    assert parsed.client_email.endswith(".iam.gserviceaccount.com")
    assert parsed.key_fingerprint.startswith("sha256:")


def _account(**changes):
    account = json.loads(cred("fcm-service-account.json"))
    account.update(changes)
    return json.dumps({k: v for k, v in account.items() if v is not None}).encode()


@pytest.mark.parametrize(
    "data, words",
    [
        (b"not json", "not valid JSON"),
        (b"[1]", "JSON object"),
        (_account(type="authorized_user"), '"type": "service_account"'),
        (_account(project_id=None), '"project_id"'),
        (_account(project_id="  "), '"project_id"'),
        (_account(private_key=None), '"private_key"'),
        (_account(client_email=None), '"client_email"'),
        (_account(token_uri=None), '"token_uri"'),
        (
            _account(private_key="-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
            "PEM private key",
        ),
    ],
)
def test_fcm_defects_each_have_their_own_cause(data, words):
    with pytest.raises(CredentialError) as exc:
        parse_fcm(data)
    assert words in str(exc.value)


def test_apn_development_certificate():
    parsed = parse_apn(cred("apns-development.p12"), time.time())
    assert (parsed.bundle, parsed.sandbox, parsed.production) == ("com.example.app", True, False)
    assert parsed.topics == ["com.example.app", "com.example.app.voip", "com.example.app.complication"]
    assert parsed.team_id == "ABCDE12345"


def test_apn_universal_certificate_has_both_environments():
    parsed = parse_apn(cred("apns-universal.p12"), time.time())
    assert parsed.sandbox and parsed.production


def test_apn_bundle_falls_back_to_common_name():
    parsed = parse_apn(cred("apns-cn-only.p12"), time.time())
    assert parsed.bundle == "com.example.cnonly"
    assert parsed.topics == []


def test_apn_legacy_rc2_export_loads():
    parsed = parse_apn(cred("apns-legacy-rc2.p12"), time.time())
    assert parsed.bundle == "com.example.legacy"


def test_apn_expiry_is_judged_by_the_given_clock():
    data = samples.apn_p12(not_after=dt.datetime.now(dt.UTC) + dt.timedelta(days=2))
    parse_apn(data, time.time())
    with pytest.raises(CredentialError, match="expired"):
        parse_apn(data, time.time() + 3 * 86400)


@pytest.mark.parametrize(
    "name, words",
    [
        ("apns-password.p12", "password-protected"),
        ("apns-expired.p12", "expired"),
        ("fcm-service-account.json", "not a PKCS#12"),
    ],
)
def test_apn_refusals_say_which(name, words):
    with pytest.raises(CredentialError, match=words):
        parse_apn(cred(name), time.time())


def test_apn_with_3des_password_is_password_protected():
    with pytest.raises(CredentialError, match="password-protected"):
        parse_apn(samples.apn_p12(password=b"pw", legacy=True), time.time())
