"""FCM service-account JSON: check its fields and load its private key."""

from __future__ import annotations

import json

from cryptography.hazmat.primitives import serialization

from mesibo_mock.credentials import CredentialError, ParsedCredential, fingerprint

REQUIRED = ("project_id", "private_key", "client_email", "token_uri")


def parse_fcm(data: bytes) -> ParsedCredential:
    if data[:1] == b"\x30":  # DER: a SEQUENCE, as every PKCS#12 file begins
        raise CredentialError(
            "the FCM file is binary, like a PKCS#12 (.p12) certificate, which is an APN credential:"
            " send it with type=apn (or without type), or upload the service-account .json for FCM"
        )
    try:
        account = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise CredentialError("the FCM file is not text: a service-account key is a JSON file") from None
    except ValueError as exc:
        raise CredentialError(f"the FCM file is not valid JSON ({_short(exc)})") from None
    if not isinstance(account, dict):
        raise CredentialError("the FCM file must be a JSON object (a service-account key)")
    if "project_info" in account and "client" in account:
        raise CredentialError(
            "this is google-services.json, the Android app's Firebase client configuration, not a"
            " service-account key: in the Firebase console open Project settings > Service accounts >"
            " Generate new private key, and upload that file"
        )
    if account.get("type") != "service_account":
        found = account.get("type")
        raise CredentialError(
            f'the FCM file must have "type": "service_account", found {json.dumps(found)}'
            " (download the key from Firebase > Project settings > Service accounts)"
        )
    for name in REQUIRED:
        value = account.get(name)
        if not isinstance(value, str) or not value.strip():
            raise CredentialError(f'the FCM file has no "{name}" (a non-empty string is required)')
    try:
        key = serialization.load_pem_private_key(account["private_key"].encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise CredentialError(
            f'the FCM file\'s "private_key" is not a PEM private key ({_short(exc)})'
        ) from None
    except Exception:  # cryptography raises UnsupportedAlgorithm for exotic keys
        raise CredentialError('the FCM file\'s "private_key" uses an unsupported key type') from None
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return ParsedCredential(
        platform="fcm",
        key_fingerprint=fingerprint(public),
        project_id=account["project_id"].strip(),
        client_email=account["client_email"].strip(),
    )


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]
