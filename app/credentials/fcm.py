"""FCM service-account JSON: check its fields and load its private key."""

from __future__ import annotations

import json

from cryptography.hazmat.primitives import serialization

from mesibo_mock.credentials import CredentialError, ParsedCredential, fingerprint

REQUIRED = ("project_id", "private_key", "client_email", "token_uri")


def parse_fcm(data: bytes) -> ParsedCredential:
    try:
        account = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CredentialError(f"the FCM file is not valid JSON ({_short(exc)})") from None
    if not isinstance(account, dict):
        raise CredentialError("the FCM file must be a JSON object (a service-account key)")
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
