"""Push credentials: parse uploaded FCM and APN files into metadata, keeping no private key."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


class CredentialError(ValueError):
    """The file is not a usable credential; the message says why, for a BADVALUE cause."""


class SamplesUnavailable(CredentialError):
    """The sample files could not be made here (the parser child failed): the emulator's trouble, not
    the caller's (503, not 422)."""


@dataclass(frozen=True)
class ParsedCredential:
    platform: str  # "fcm" | "apn"
    key_fingerprint: str
    project_id: str | None = None
    client_email: str | None = None
    bundle: str = ""
    sandbox: bool = False
    production: bool = False
    expiry: float | None = None
    topics: list[str] = field(default_factory=list)
    team_id: str | None = None


def expired(expiry: float) -> CredentialError:
    """An APN certificate past its expiry (by the emulator clock)."""
    from mesibo_mock.clock import iso

    return CredentialError(
        f"the APN certificate expired on {iso(expiry)}; create a new one in Apple's portal"
    )


def fingerprint(der_public_key: bytes) -> str:
    """Identify a key pair without keeping its secret half."""
    return "sha256:" + hashlib.sha256(der_public_key).hexdigest()[:32]


@dataclass(frozen=True)
class Sample:
    """A sample credential file, as `GET /_mock/samples/{name}` serves it: made by the function `maker` of
    credentials/samples.py (in the parser's child process: the server never loads `cryptography`)."""

    name: str
    platform: str  # what pushupload takes it as: "fcm" or "apn"
    maker: str
    media_type: str
    description: str


SAMPLES = {
    s.name: s
    for s in (
        Sample("fcm.json", "fcm", "fcm", "application/json", "a Firebase service-account key (FCM)"),
        Sample(
            "apn-development.p12",
            "apn",
            "apn_development",
            "application/x-pkcs12",
            "an APN push certificate for the sandbox (com.example.app)",
        ),
        Sample(
            "apn-production.p12",
            "apn",
            "apn_production",
            "application/x-pkcs12",
            "an APN push certificate for production only (com.example.app)",
        ),
        Sample(
            "apn-universal.p12",
            "apn",
            "apn_universal",
            "application/x-pkcs12",
            "an APN push certificate for both environments (com.example.app), as Apple issues today",
        ),
        Sample(
            "apn-expired.p12",
            "apn",
            "apn_expired",
            "application/x-pkcs12",
            "an APN push certificate that expired in 2020: pushupload refuses it",
        ),
        Sample(
            "apn-key.p8",
            "apn",
            "apn_key_p8",
            "application/pkcs8",
            "an APNs token-signing key (.p8): Mesibo takes a .p12 certificate, so pushupload refuses it",
        ),
    )
}
P8_REFUSED = (
    "is an APNs token-signing key (.p8), not a push certificate: Mesibo takes the certificate as a .p12"
    " file without a password"
)
# What "sample" means for each platform in POST /_mock/apps: the universal certificate serves a
# device of either environment.
DEFAULT_SAMPLE = {"fcm": "fcm.json", "apn": "apn-universal.p12"}
